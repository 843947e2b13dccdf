package report

import (
	"testing"

	"github.com/solocron/solocron/bench/internal/chaos"
	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/stats"
	"github.com/solocron/solocron/bench/internal/takeover"
)

func sample(smoke bool) *Report {
	return &Report{
		Smoke: smoke,
		Firing: &firing.Result{Ratios: []firing.Ratio{
			{Jobs: 1, Versus: "robfig", CPUPerFiring: 9, JitterP99: 9},
			{Jobs: 10000, Versus: "robfig", CPUPerFiring: 1.3, JitterP99: 1.0},
			{Jobs: 10000, Versus: "gocron", CPUPerFiring: 0.1, JitterP99: 0.1},
		}},
		Takeover: []takeover.Row{{Engine: "file", Standbys: 1, Kill: stats.Summary{P99: 12}}},
		Chaos:    []chaos.Row{{Engine: "file", Counts: chaos.Counts{Twice: 1}}},
	}
}

func TestJudgeUsesTheLargestNAndRobfig(t *testing.T) {
	r := sample(false)
	r.Judge()
	want := map[string]bool{
		"firing: CPU per firing at 10000 jobs, solocron/robfig": false,
		"firing: jitter p99 at 10000 jobs, solocron/robfig":     true,
		"takeover: file, 1 standbys, p99 after SIGKILL":         true,
		"chaos: file, ticks run twice":                          false,
		"chaos: file, ticks lost":                               true,
	}
	if len(r.Targets) != len(want) {
		t.Fatalf("targets = %+v, want %d", r.Targets, len(want))
	}
	for _, tg := range r.Targets {
		if pass, ok := want[tg.Name]; !ok || pass != tg.Pass || !tg.Enforced {
			t.Errorf("target %+v: want pass=%v, enforced", tg, pass)
		}
	}
	if len(r.Failed()) != 2 {
		t.Errorf("Failed() = %+v, want the CPU and duplicate targets", r.Failed())
	}
}

func TestSmokeEnforcesOnlyDuplicates(t *testing.T) {
	r := sample(true)
	r.Judge()
	failed := r.Failed()
	if len(failed) != 1 || failed[0].Name != "chaos: file, ticks run twice" {
		t.Fatalf("smoke Failed() = %+v, want only the chaos duplicate", failed)
	}
}
