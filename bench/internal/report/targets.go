package report

import (
	"fmt"
	"math"
	"slices"

	"github.com/solocron/solocron/bench/internal/chaos"
	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/member"
	"github.com/solocron/solocron/bench/internal/takeover"
)

type (
	firingRatio = firing.Ratio
	takeoverRow = takeover.Row
)

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

// Targets are ratios to a peer or a floor measured in the same run, so
// that a regression cannot hide in a slow or noisy machine's figures.
const (
	firingTargetJobs = 10000 // the N the firing targets are judged at (the largest N when absent)
	firingTargetLib  = "robfig"
	maxCPURatio      = 0.8
	maxJitterRatio   = 0.75
	// Takeover after SIGKILL, p99: at most this many times the bare lock's
	// p99 at the same K, plus a slack in ms.
	maxKillVsFloor = 2.0
	// After Stop: the standby leads before Stop returns or within this.
	maxStopMs = 1.0
)

// takeoverFloors names the bare-lock floor of each engine and the slack
// allowed above twice its p99 (a lease row to write for PostgreSQL).
var takeoverFloors = map[string]struct {
	floor string
	slack float64
}{
	"file":     {member.RawFlock, 0},
	"postgres": {member.RawPostgres, 2},
}

// standbyLimits are an idle standby's limits per engine: share of one core
// (%) and wakeups per second (0: not judged).
var standbyLimits = map[string]struct{ corePct, wakeups float64 }{
	"file":     {0.02, 0},
	"postgres": {0.02, 0},
	"redis":    {0.03, 5},
}

// Judge fills in r.Targets from r's figures.
func (r *Report) Judge() {
	perf := !r.Smoke
	add := func(name string, value, limit float64, unit string, enforced bool) {
		r.Targets = append(r.Targets, Target{Name: name, Value: value, Limit: limit, Unit: unit, Pass: value <= limit, Enforced: enforced})
	}
	if f := r.Firing; f != nil && len(f.Ratios) > 0 {
		n := firingTargetJobs
		if _, ok := f.FindRatio(firingTargetLib, n); !ok {
			n = slices.MaxFunc(f.Ratios, func(a, b firingRatio) int { return a.Jobs - b.Jobs }).Jobs
		}
		if x, ok := f.FindRatio(firingTargetLib, n); ok {
			add(fmt.Sprintf("firing: CPU per firing at %d jobs, solocron/robfig", n), x.CPUPerFiring, maxCPURatio, "x", perf)
			add(fmt.Sprintf("firing: jitter p99 at %d jobs, solocron/robfig", n), x.JitterP99, maxJitterRatio, "x", perf)
		}
	}
	for _, row := range r.Takeover {
		if row.Error != "" {
			continue
		}
		if f, ok := takeoverFloors[row.Engine]; ok {
			if floor, ok := r.takeoverRow(f.floor, row.Standbys); ok && floor.Kill.Count > 0 {
				limit := maxKillVsFloor*floor.Kill.P99 + f.slack
				add(fmt.Sprintf("takeover: %s, %d standbys, p99 after SIGKILL (limit: %gx %s p99 %.2f ms + %g ms)",
					row.Engine, row.Standbys, maxKillVsFloor, f.floor, floor.Kill.P99, f.slack), row.Kill.P99, limit, "ms", perf)
			}
		}
		if _, floor := isFloor(row.Engine); !floor && row.Stop.Count > 0 {
			add(fmt.Sprintf("takeover: %s, %d standbys, p99 after Stop returned", row.Engine, row.Standbys), row.Stop.P99, maxStopMs, "ms", perf)
		}
	}
	for _, row := range r.Standby {
		lim, ok := standbyLimits[row.Engine]
		if row.Error != "" || !ok {
			continue
		}
		add(fmt.Sprintf("standby: %s, share of a core", row.Engine), row.CorePct, lim.corePct, "%", perf)
		if lim.wakeups > 0 {
			add(fmt.Sprintf("standby: %s, wakeups", row.Engine), row.WakeupsPS, lim.wakeups, "/s", perf)
		}
	}
	for _, row := range r.Chaos {
		name, exactly := row.Name(), row.Variant == chaos.Variant
		add(fmt.Sprintf("chaos: %s, ticks run twice", name), float64(row.Twice), 0, "ticks", true)
		// An at-most-once job may lose a tick by design; an exactly-once
		// effect may not.
		add(fmt.Sprintf("chaos: %s, ticks lost", name), float64(row.Lost), 0, "ticks", perf || exactly)
		if exactly {
			add(fmt.Sprintf("chaos: %s, counter minus effects", name), math.Abs(float64(row.Counter)-float64(row.Runs)), 0, "runs", true)
			add(fmt.Sprintf("chaos: %s, aimed kills not followed by one effect from the right term", name), float64(row.AimedWrong), 0, "kills", true)
		}
	}
}

// takeoverRow finds engine's row at k standbys.
func (r *Report) takeoverRow(engine string, k int) (takeoverRow, bool) {
	for _, row := range r.Takeover {
		if row.Engine == engine && row.Standbys == k && row.Error == "" {
			return row, true
		}
	}
	return takeoverRow{}, false
}

// isFloor reports whether engine is a bare-lock floor, not an engine.
func isFloor(engine string) (string, bool) {
	for e, f := range takeoverFloors {
		if f.floor == engine {
			return e, true
		}
	}
	return "", false
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
