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
	"github.com/solocron/solocron/bench/internal/proc"
)

// Config of the chaos scenario.
type Config struct {
	Members  int
	Duration time.Duration
	MinGap   time.Duration // between kills
	MaxGap   time.Duration
	// Tx runs the exactly-once variant (postgres only): the job writes
	// its effect in a RunTx, and kills are also aimed right after the
	// claim and right before and after the commit.
	Tx bool
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

	// The exactly-once variant (Variant "tx"): the effects are rows in
	// the database, read back into the log.
	Variant    string         `json:"variant,omitempty"`
	Counter    int64          `json:"counter,omitempty"`     // the counter every run increments: must equal Runs
	Aimed      map[string]int `json:"aimed_kills,omitempty"` // kills that landed in each pause window
	Freezes    int            `json:"freezes,omitempty"`     // leaders frozen (SIGSTOP) until another led, then woken
	AimedWrong int            `json:"aimed_wrong,omitempty"` // aimed kills whose tick's effect was not once, by the expected term
	Error      string         `json:"error,omitempty"`
}

// Name is the row's engine, and its variant if any.
func (row Row) Name() string {
	if row.Variant != "" {
		return row.Engine + " " + row.Variant
	}
	return row.Engine
}

// Run runs the cluster for cfg.Duration on one engine, appending to a log
// in dir.
func Run(engineName string, memberArgs []string, dir string, cfg Config) Row {
	fmt.Fprintf(os.Stderr, "chaos: %s, %d members for %v\n", engineName, cfg.Members, cfg.Duration)
	row := Row{Engine: engineName, Log: filepath.Join(dir, "chaos-"+engineName+".log")}
	runner := run
	if cfg.Tx {
		row.Variant, row.Log, runner = Variant, filepath.Join(dir, "chaos-"+engineName+"-tx.log"), runTx
	}
	if err := runner(&row, memberArgs, cfg); err != nil {
		row.Error = err.Error()
	}
	counts, err := Count(row.Log)
	if err != nil && row.Error == "" {
		row.Error = err.Error()
	}
	examples := row.Examples
	row.Counts = counts
	row.Examples = append(examples, row.Examples...)
	if !cfg.Tx {
		row.explainLost() // a lost tick of the tx variant is a failure, not a policy
	}
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
		if err := row.kill(cl, leader); err != nil {
			return err
		}
	}
	// Let the last leader's tick land before the count.
	cl.Sleep(1500 * time.Millisecond)
	row.Seconds = time.Since(start).Seconds()
	return nil
}

// kill SIGKILLs the leader and starts a member in its place.
func (row *Row) kill(cl *cluster.Cluster, leader *proc.Child) error {
	at, err := leader.Kill()
	if err != nil {
		return err
	}
	row.killTimes = append(row.killTimes, at)
	row.Kills++
	cl.Remove(leader)
	_, err = cl.Add()
	return err
}
