package report

import (
	"slices"
	"testing"

	"github.com/solocron/solocron/bench/internal/chaos"
	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/standby"
	"github.com/solocron/solocron/bench/internal/stats"
	"github.com/solocron/solocron/bench/internal/takeover"
)

func sample(smoke bool) *Report {
	return &Report{
		Smoke: smoke,
		Firing: &firing.Result{Ratios: []firing.Ratio{
			{Jobs: 1, Versus: "robfig", CPUPerFiring: 9, JitterP99: 9},
			{Jobs: 10000, Versus: "robfig", CPUPerFiring: 0.9, JitterP99: 0.5},
			{Jobs: 10000, Versus: "gocron", CPUPerFiring: 0.1, JitterP99: 0.1},
			{Jobs: 100000, Versus: "robfig", CPUPerFiring: 0.1, JitterP99: 0.1},
		}},
		Takeover: []takeover.Row{
			{Engine: "flock-raw", Standbys: 1, Kill: stats.Summary{Count: 10, P99: 5}},
			{Engine: "file", Standbys: 1, Kill: stats.Summary{Count: 10, P99: 12}, Stop: stats.Summary{Count: 10, P99: 0.5}},
			{Engine: "postgres-raw", Standbys: 1, Kill: stats.Summary{Count: 10, P99: 5}},
			{Engine: "postgres", Standbys: 1, Kill: stats.Summary{Count: 10, P99: 11.5}, Stop: stats.Summary{Count: 10, P99: 3}},
		},
		Standby: []standby.Row{{Engine: "redis", Idle: standby.Idle{CorePct: 0.02, WakeupsPS: 6}}},
		Chaos:   []chaos.Row{{Engine: "file", Counts: chaos.Counts{Twice: 1}}},
	}
}

func TestJudgeUsesRatiosToPeersAndFloorsOfTheSameRun(t *testing.T) {
	r := sample(false)
	r.Judge()
	want := map[string]bool{
		"firing: CPU per firing at 10000 jobs, solocron/robfig":                                         false,
		"firing: jitter p99 at 10000 jobs, solocron/robfig":                                             true,
		"takeover: file, 1 standbys, p99 after SIGKILL (limit: 2x flock-raw p99 5.00 ms + 0 ms)":        false,
		"takeover: file, 1 standbys, p99 after Stop returned":                                           true,
		"takeover: postgres, 1 standbys, p99 after SIGKILL (limit: 2x postgres-raw p99 5.00 ms + 2 ms)": true,
		"takeover: postgres, 1 standbys, p99 after Stop returned":                                       false,
		"standby: redis, share of a core":                                                               true,
		"standby: redis, wakeups":                                                                       false,
		"chaos: file, ticks run twice":                                                                  false,
		"chaos: file, ticks lost":                                                                       true,
	}
	if len(r.Targets) != len(want) {
		t.Fatalf("targets = %+v, want %d", r.Targets, len(want))
	}
	for _, tg := range r.Targets {
		if pass, ok := want[tg.Name]; !ok || pass != tg.Pass || !tg.Enforced {
			t.Errorf("target %+v: want pass=%v, enforced", tg, pass)
		}
	}
	if len(r.Failed()) != 5 {
		t.Errorf("Failed() = %+v, want 5", r.Failed())
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

// The exactly-once variant loses no tick by design: a lost one fails even
// in smoke mode, as do a counter that differs from the effects and an
// aimed kill whose tick was not done once.
func TestExactlyOnceChaosEnforcesLostTicks(t *testing.T) {
	r := &Report{Smoke: true, Chaos: []chaos.Row{{Engine: "postgres", Variant: chaos.Variant,
		Counts: chaos.Counts{Runs: 10, Lost: 1}, Counter: 11, AimedWrong: 1}}}
	r.Judge()
	var failed []string
	for _, tg := range r.Failed() {
		failed = append(failed, tg.Name)
	}
	want := []string{"chaos: postgres tx, ticks lost", "chaos: postgres tx, counter minus effects",
		"chaos: postgres tx, aimed kills not followed by one effect from the right term"}
	if !slices.Equal(failed, want) {
		t.Fatalf("smoke Failed() = %q, want %q", failed, want)
	}
}
