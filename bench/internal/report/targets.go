package report

import (
	"fmt"
	"slices"

	"github.com/solocron/solocron/bench/internal/firing"
)

type firingRatio = firing.Ratio

// Target is one pass/fail row. Performance targets are not Enforced in
// smoke mode (CI machines are noisy); correctness targets always are.
type Target struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Limit    float64 `json:"limit"`
	Unit     string  `json:"unit"`
	Pass     bool    `json:"pass"`
	Enforced bool    `json:"enforced"`
}

// takeoverLimits are the p99 targets per engine, in ms.
var takeoverLimits = map[string]float64{"file": 20, "postgres": 50}

const (
	maxCPURatio     = 1.25
	maxJitterRatio  = 1.25
	maxStandbyCore  = 0.1 // % of one core
	firingTargetLib = "robfig"
)

// Judge fills in r.Targets from r's figures.
func (r *Report) Judge() {
	perf := !r.Smoke
	add := func(name string, value, limit float64, unit string, enforced bool) {
		r.Targets = append(r.Targets, Target{Name: name, Value: value, Limit: limit, Unit: unit, Pass: value <= limit, Enforced: enforced})
	}
	if f := r.Firing; f != nil && len(f.Ratios) > 0 {
		n := slices.MaxFunc(f.Ratios, func(a, b firingRatio) int { return a.Jobs - b.Jobs }).Jobs
		if x, ok := f.FindRatio(firingTargetLib, n); ok {
			add(fmt.Sprintf("firing: CPU per firing at %d jobs, solocron/robfig", n), x.CPUPerFiring, maxCPURatio, "x", perf)
			add(fmt.Sprintf("firing: jitter p99 at %d jobs, solocron/robfig", n), x.JitterP99, maxJitterRatio, "x", perf)
		}
	}
	for _, row := range r.Takeover {
		if limit, ok := takeoverLimits[row.Engine]; ok && row.Error == "" {
			add(fmt.Sprintf("takeover: %s, %d standbys, p99 after SIGKILL", row.Engine, row.Standbys), row.Kill.P99, limit, "ms", perf)
		}
	}
	for _, row := range r.Standby {
		if row.Error == "" {
			add(fmt.Sprintf("standby: %s, share of a core", row.Engine), row.CorePct, maxStandbyCore, "%", perf)
		}
	}
	for _, row := range r.Chaos {
		add(fmt.Sprintf("chaos: %s, ticks run twice", row.Engine), float64(row.Twice), 0, "ticks", true)
		add(fmt.Sprintf("chaos: %s, ticks lost", row.Engine), float64(row.Lost), 0, "ticks", perf)
	}
}

// Failed lists the enforced targets that were missed.
func (r *Report) Failed() []Target {
	var failed []Target
	for _, t := range r.Targets {
		if t.Enforced && !t.Pass {
			failed = append(failed, t)
		}
	}
	return failed
}
