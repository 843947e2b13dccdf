// Package chaos runs a cluster whose leader is SIGKILLed at random and
// checks from the jobs' shared log that every tick ran exactly once.
package chaos

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/solocron/solocron/bench/internal/cluster"
)

// Config of the chaos scenario.
type Config struct {
	Members  int
	Duration time.Duration
	MinGap   time.Duration // between kills
	MaxGap   time.Duration
}

// Row is one engine's chaos run.
type Row struct {
	Engine string `json:"engine"`
	Counts
	Kills int `json:"kills"`
	// LostAtKill counts lost ticks whose leader was SIGKILLed within
	// killWindow after the tick: killed between claiming the tick and the
	// job's write, which an at-most-once job (AtLeastOnce false) never
	// runs again, by design.
	LostAtKill int         `json:"lost_at_kill"`
	killTimes  []time.Time // when each SIGKILL was sent
	Seconds    float64     `json:"seconds"`
	Log        string      `json:"log"`
	Error      string      `json:"error,omitempty"`
}

// Run runs the cluster for cfg.Duration on one engine, appending to a log
// in dir.
func Run(engineName string, memberArgs []string, dir string, cfg Config) Row {
	fmt.Fprintf(os.Stderr, "chaos: %s, %d members for %v\n", engineName, cfg.Members, cfg.Duration)
	row := Row{Engine: engineName, Log: filepath.Join(dir, "chaos-"+engineName+".log")}
	if err := run(&row, memberArgs, cfg); err != nil {
		row.Error = err.Error()
	}
	counts, err := Count(row.Log)
	if err != nil && row.Error == "" {
		row.Error = err.Error()
	}
	row.Counts = counts
	row.explainLost()
	// Nothing lost between the first and last run proves little if the
	// cluster hardly ran at all.
	if row.Error == "" && float64(counts.Ticks) < row.Seconds/2 {
		row.Error = fmt.Sprintf("only %d ticks ran in %.0f s: the cluster hardly led", counts.Ticks, row.Seconds)
	}
	return row
}

func run(row *Row, memberArgs []string, cfg Config) error {
	os.Remove(row.Log)
	cl := cluster.New(append(memberArgs, "-spec", "* * * * * *", "-log", row.Log, "-runall"))
	defer cl.Close()
	for range cfg.Members {
		if _, err := cl.Add(); err != nil {
			return err
		}
	}
	start := time.Now()
	for time.Since(start) < cfg.Duration {
		cl.Sleep(cfg.MinGap + rand.N(cfg.MaxGap-cfg.MinGap+1))
		leader, ok := cl.Leader()
		if !ok {
			continue
		}
		at, err := leader.Kill()
		if err != nil {
			return err
		}
		row.killTimes = append(row.killTimes, at)
		row.Kills++
		cl.Remove(leader)
		if _, err := cl.Add(); err != nil {
			return err
		}
	}
	// Let the last leader's tick land before the count.
	cl.Sleep(1500 * time.Millisecond)
	row.Seconds = time.Since(start).Seconds()
	return nil
}
