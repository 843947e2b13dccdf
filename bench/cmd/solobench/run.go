package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/solocron/solocron/bench/internal/chaos"
	"github.com/solocron/solocron/bench/internal/engine"
	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/member"
	"github.com/solocron/solocron/bench/internal/report"
	"github.com/solocron/solocron/bench/internal/standby"
	"github.com/solocron/solocron/bench/internal/takeover"
)

// run runs the chosen scenarios, prints the report and returns the exit
// status.
func run(cfg config, out io.Writer) int {
	start := time.Now()
	dir := cfg.workDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "solobench-"); err != nil {
			fmt.Fprintln(os.Stderr, "solobench:", err)
			return 2
		}
		defer os.RemoveAll(dir)
	}
	r := &report.Report{
		Command: "solobench " + strings.Join(os.Args[1:], " "),
		Smoke:   cfg.smoke,
		Machine: report.ThisMachine(),
		Started: start.UTC().Format(time.RFC3339),
	}
	engines := chooseEngines(cfg.engines, r)

	for _, sc := range cfg.scenarios {
		switch sc {
		case "firing":
			f := firing.Run(cfg.firing)
			r.Firing = &f
			for _, m := range f.Measures {
				addErr(r, "firing "+m.Library+" "+fmt.Sprint(m.Jobs), m.Error)
			}
		case "takeover":
			// The floors: the same trials with bare lock processes.
			for _, f := range [][2]string{{engine.File, member.RawFlock}, {"postgres", member.RawPostgres}} {
				if e, floor := f[0], f[1]; slices.Contains(engines, e) {
					r.Takeover = append(r.Takeover, takeover.Run(floor, memberArgs(floor, dir, "takeover"), cfg.takeover)...)
				}
			}
			for _, e := range engines {
				tc := cfg.takeover
				if engine.LeaseBound(e) {
					tc.Kills = min(tc.Kills, cfg.leaseKills)
				}
				rows := takeover.Run(e, memberArgs(e, dir, "takeover"), tc)
				for _, row := range rows {
					addErr(r, fmt.Sprintf("takeover %s K=%d", e, row.Standbys), row.Error)
				}
				r.Takeover = append(r.Takeover, rows...)
			}
		case "standby":
			for _, e := range engines {
				row := standby.Run(e, memberArgs(e, dir, "standby"), cfg.standby)
				addErr(r, "standby "+e, row.Error)
				if row.Error == "" && row.Role != "standby" {
					addErr(r, "standby "+e, "the measured process was "+row.Role+", not a standby")
				}
				r.Standby = append(r.Standby, row)
			}
		case "chaos":
			// The engines run at once: chaos checks correctness, not
			// speed, and sharing the CPUs only makes it harsher.
			rows := make([]chaos.Row, len(engines))
			var wg sync.WaitGroup
			for i, e := range engines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rows[i] = chaos.Run(e, memberArgs(e, dir, "chaos"), dir, cfg.chaos)
				}()
			}
			wg.Wait()
			for i, row := range rows {
				addErr(r, "chaos "+engines[i], row.Error)
			}
			r.Chaos = rows
		}
	}
	r.Seconds = time.Since(start).Seconds()
	r.Machine.LoadEnd = report.LoadAvg()
	r.Judge()
	r.WriteText(out)

	doc, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintln(os.Stderr, "solobench:", err)
		return 2
	}
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, append(doc, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "solobench:", err)
			return 2
		}
	}
	if cfg.json {
		fmt.Fprintf(out, "%s\n", doc)
	}
	switch {
	case len(r.Errors) > 0:
		return 2
	case len(r.Failed()) > 0:
		return 1
	}
	return 0
}

func addErr(r *report.Report, what, msg string) {
	if msg != "" {
		r.Errors = append(r.Errors, what+": "+msg)
	}
}

// chooseEngines returns the engines to measure: the ones asked for (an
// unavailable one is a harness error), or every one available.
func chooseEngines(asked []string, r *report.Report) []string {
	explicit := asked != nil
	if !explicit {
		asked = slices.Concat(engine.Names(), engine.Missing())
	}
	var use []string
	for _, name := range asked {
		if err := engine.Available(name); err != nil {
			r.Engines = append(r.Engines, report.EngineState{Name: name, Skipped: err.Error()})
			if explicit {
				addErr(r, "engine "+name, err.Error())
			}
			continue
		}
		r.Engines = append(r.Engines, report.EngineState{Name: name})
		use = append(use, name)
	}
	return use
}

// memberArgs are the member role's flags for one engine: each scenario
// gets its own lock directory or key so that runs do not meet.
func memberArgs(engineName, dir, scenario string) []string {
	shared := dir + "/" + scenario + "-" + engineName
	if engineName == engine.File || engineName == member.RawFlock {
		os.MkdirAll(shared, 0o755)
	} else {
		shared = "solobench-" + scenario + "-" + fmt.Sprint(time.Now().UnixNano())
	}
	return []string{"-engine", engineName, "-shared", shared}
}
