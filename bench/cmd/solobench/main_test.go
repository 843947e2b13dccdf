package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/solocron/solocron/bench/internal/chaos"
	"github.com/solocron/solocron/bench/internal/engine"
	"github.com/solocron/solocron/bench/internal/proc"
	"github.com/solocron/solocron/bench/internal/report"
)

// TestMain lets the test binary serve as the harness's children: they
// re-execute os.Executable() with the hidden child subcommand.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == proc.ChildArg {
		os.Exit(child(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

// TestEveryScenarioRuns runs every scenario with tiny settings through the
// real child processes and checks that each produced figures.
func TestEveryScenarioRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes for about 20 s")
	}
	code, r, out := runReport(t, "all -smoke -json -engines file -jobs 10 -warmup 500ms -kills 3 -stops 2 -standbys 1 -standby-dur 1s -chaos-dur 4s")
	if code == 2 || len(r.Errors) > 0 {
		t.Fatalf("harness broke (exit %d): %v\n%s", code, r.Errors, out.String())
	}
	if r.Firing == nil || len(r.Firing.Measures) != 3 || len(r.Firing.Ratios) != 2 {
		t.Errorf("firing: want 3 measures and 2 ratios, got %+v", r.Firing)
	}
	for _, m := range r.Firing.Measures {
		if m.Firings == 0 || m.CPUPerFiring <= 0 || m.Jitter.Count == 0 {
			t.Errorf("firing %s measured nothing: %+v", m.Library, m)
		}
	}
	if len(r.Takeover) != 2 {
		t.Errorf("takeover: want the flock-raw floor and the file row, got %+v", r.Takeover)
	}
	for _, row := range r.Takeover {
		if row.Kill.Count != 3 || row.Stop.Count != 2 || row.Locked.Count != 3 {
			t.Errorf("takeover %s: want 3 kills (with the lock part) and 2 stops measured, got %+v", row.Engine, row)
		}
	}
	if len(r.Standby) != 1 || r.Standby[0].Role != "standby" || r.Standby[0].Seconds < 0.9 {
		t.Errorf("standby: want one measured standby, got %+v", r.Standby)
	}
	if len(r.Chaos) != 1 || r.Chaos[0].Runs < 2 || r.Chaos[0].Kills < 1 {
		t.Errorf("chaos: want runs and kills, got %+v", r.Chaos)
	}
	if code == 1 && r.Chaos[0].Twice == 0 {
		t.Errorf("smoke failed without a chaos duplicate: %+v", r.Failed())
	}
}

// TestChaosTxRuns runs the exactly-once chaos variant briefly against the
// real PostgreSQL and checks that its faults landed and its targets held.
func TestChaosTxRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes for about 15 s")
	}
	if err := engine.Available("postgres"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("postgres: %v", err)
		}
		t.Skipf("postgres: %v", err)
	}
	code, r, out := runReport(t, "chaos -tx -json -members 3 -chaos-dur 10s")
	if code != 0 || len(r.Chaos) != 1 {
		t.Fatalf("exit %d, %d chaos rows, errors %v, failed %+v\n%s", code, len(r.Chaos), r.Errors, r.Failed(), out.String())
	}
	row := r.Chaos[0]
	if row.Variant != chaos.Variant || row.Kills < 2 || row.Runs < 5 || row.Counter != int64(row.Runs) || len(row.Aimed) == 0 {
		t.Fatalf("want the tx variant with kills, aimed ones, runs and the counter equal to them: %+v", row)
	}
}

// runReport runs the harness with args (which include -json) and returns
// its exit status, its JSON report and its output.
func runReport(t *testing.T, args string) (int, report.Report, *bytes.Buffer) {
	t.Helper()
	cfg, err := parseFlags(strings.Fields(args))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := run(cfg, &out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r report.Report
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		t.Fatalf("the last line is not the JSON report: %v\n%s", err, out.String())
	}
	return code, r, &out
}

func TestBadFlagsAreErrors(t *testing.T) {
	for _, args := range []string{"", "-smoke", "nosuch", "firing -jobs 0", "firing -jobs x", "chaos -members 1", "firing extra",
		"firing -tx", "all -tx", "chaos -tx -engines file", "chaos -tx -engines postgres,redis"} {
		if _, err := parseFlags(strings.Fields(args)); err == nil {
			t.Errorf("parseFlags(%q) accepted bad input", args)
		}
	}
}
