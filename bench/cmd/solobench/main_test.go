package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

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
	cfg, err := parseFlags(strings.Fields("all -smoke -json -engines file -jobs 10 -warmup 500ms -kills 3 -stops 2 -standbys 1 -standby-dur 1s -chaos-dur 4s"))
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
	if len(r.Standby) != 1 || r.Standby[0].Role != "standby" || r.Standby[0].Switches == 0 {
		t.Errorf("standby: want one measured standby, got %+v", r.Standby)
	}
	if len(r.Chaos) != 1 || r.Chaos[0].Runs < 2 || r.Chaos[0].Kills < 1 {
		t.Errorf("chaos: want runs and kills, got %+v", r.Chaos)
	}
	if code == 1 && r.Chaos[0].Twice == 0 {
		t.Errorf("smoke failed without a chaos duplicate: %+v", r.Failed())
	}
}

func TestBadFlagsAreErrors(t *testing.T) {
	for _, args := range []string{"", "-smoke", "nosuch", "firing -jobs 0", "firing -jobs x", "chaos -members 1", "firing extra"} {
		if _, err := parseFlags(strings.Fields(args)); err == nil {
			t.Errorf("parseFlags(%q) accepted bad input", args)
		}
	}
}
