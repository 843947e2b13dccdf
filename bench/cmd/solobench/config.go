package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/solocron/solocron/bench/internal/chaos"
	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/standby"
	"github.com/solocron/solocron/bench/internal/takeover"
)

var scenarios = []string{"firing", "takeover", "standby", "chaos"}

type config struct {
	scenarios  []string
	smoke      bool
	json       bool
	out        string
	engines    []string // nil: every engine linked in and reachable
	firing     firing.Config
	takeover   takeover.Config
	leaseKills int
	standby    standby.Config
	chaos      chaos.Config
	workDir    string
}

func parseFlags(args []string) (config, error) {
	var cfg config
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return cfg, fmt.Errorf("usage: solobench SCENARIO [flags], SCENARIO one of %s or all", strings.Join(scenarios, ", "))
	}
	switch name := args[0]; {
	case name == "all":
		cfg.scenarios = scenarios
	case slices.Contains(scenarios, name):
		cfg.scenarios = []string{name}
	default:
		return cfg, fmt.Errorf("unknown scenario %q: want one of %s or all", name, strings.Join(scenarios, ", "))
	}

	fs := flag.NewFlagSet("solobench "+args[0], flag.ContinueOnError)
	fs.BoolVar(&cfg.smoke, "smoke", false, "small, fast settings for CI; performance targets are reported, not enforced")
	fs.BoolVar(&cfg.json, "json", false, "print every figure as one JSON object on the last line")
	fs.StringVar(&cfg.out, "out", "", "also write the JSON report to this file (for soloplot)")
	engines := fs.String("engines", "", "comma-separated engines (file, postgres, redis); default: all linked in and reachable")
	jobs := fs.String("jobs", "1,1000,10000,100000", "firing: numbers of jobs (gocron runs up to 10000: it cannot keep up beyond)")
	fs.DurationVar(&cfg.firing.Window, "dur", 5*time.Second, "firing: measured window per library and N")
	fs.DurationVar(&cfg.firing.Warmup, "warmup", 2*time.Second, "firing: time each child runs before its window")
	fs.StringVar(&cfg.firing.ProfileDir, "cpuprofile", "", "firing: write the solocron children's CPU profiles into this directory")
	standbys := fs.String("standbys", "1,3,7", "takeover: numbers of standbys")
	fs.IntVar(&cfg.takeover.Kills, "kills", 100, "takeover: SIGKILLs of the leader per engine and K")
	fs.IntVar(&cfg.leaseKills, "lease-kills", 20, "takeover: SIGKILLs per K for engines that wait out a lease TTL (redis)")
	fs.IntVar(&cfg.takeover.Stops, "stops", 50, "takeover: clean Stops of the leader per engine and K")
	fs.DurationVar(&cfg.standby.Window, "standby-dur", 10*time.Second, "standby: measured window")
	fs.DurationVar(&cfg.standby.Settle, "standby-settle", 8*time.Second, "standby: how long the standby runs before the window (past its start-up checks)")
	fs.DurationVar(&cfg.chaos.Duration, "chaos-dur", 120*time.Second, "chaos: duration per engine")
	fs.IntVar(&cfg.chaos.Members, "members", 8, "chaos: processes")
	fs.BoolVar(&cfg.chaos.Tx, "tx", false, "chaos: the exactly-once variant on postgres: the job writes its effect in a RunTx; kills are also aimed right after the claim and right before and after the commit, and the leader is frozen past its lease")
	fs.StringVar(&cfg.workDir, "workdir", "", "where lock files and chaos logs go; default a new temporary directory")
	if err := fs.Parse(args[1:]); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.chaos.MinGap, cfg.chaos.MaxGap = time.Second, 3*time.Second
	if cfg.smoke {
		smokeDefaults(fs, &cfg, jobs, standbys)
	}
	var err error
	if cfg.firing.Jobs, err = ints(*jobs); err != nil {
		return cfg, fmt.Errorf("-jobs: %w", err)
	}
	if cfg.takeover.Standbys, err = ints(*standbys); err != nil {
		return cfg, fmt.Errorf("-standbys: %w", err)
	}
	if *engines != "" {
		cfg.engines = strings.Split(*engines, ",")
	}
	switch {
	case cfg.firing.Window < time.Second:
		return cfg, errors.New("-dur must be at least 1s")
	case cfg.takeover.Kills < 1 || cfg.takeover.Stops < 0:
		return cfg, errors.New("-kills must be at least 1 and -stops at least 0")
	case cfg.chaos.Members < 2:
		return cfg, errors.New("-members must be at least 2")
	case cfg.chaos.Duration < 3*time.Second:
		return cfg, errors.New("-chaos-dur must be at least 3s")
	case cfg.chaos.Tx && !slices.Equal(cfg.scenarios, []string{"chaos"}):
		return cfg, errors.New("-tx goes with the chaos scenario alone")
	case cfg.chaos.Tx && *engines != "" && *engines != "postgres":
		return cfg, errors.New("-tx runs on postgres only: give -engines postgres or none")
	}
	if cfg.chaos.Tx {
		cfg.engines = []string{"postgres"}
	}
	return cfg, nil
}

// smokeDefaults shrinks every flag the user did not set, so that CI runs
// every scenario in well under a minute.
func smokeDefaults(fs *flag.FlagSet, cfg *config, jobs, standbys *string) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	smoke := map[string]func(){
		"jobs":           func() { *jobs = "1,100" },
		"dur":            func() { cfg.firing.Window = time.Second },
		"warmup":         func() { cfg.firing.Warmup = time.Second },
		"standbys":       func() { *standbys = "1,3" },
		"kills":          func() { cfg.takeover.Kills = 5 },
		"lease-kills":    func() { cfg.leaseKills = 2 },
		"stops":          func() { cfg.takeover.Stops = 3 },
		"standby-dur":    func() { cfg.standby.Window = 2 * time.Second },
		"standby-settle": func() { cfg.standby.Settle = time.Second },
		"chaos-dur":      func() { cfg.chaos.Duration = 10 * time.Second },
	}
	for name, apply := range smoke {
		if !set[name] {
			apply()
		}
	}
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}
