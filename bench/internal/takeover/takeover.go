// Package takeover measures how long a standby takes to lead after the
// leader is SIGKILLed, and after the leader's clean Stop returns.
package takeover

import (
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/solocron/solocron/bench/internal/cluster"
	"github.com/solocron/solocron/bench/internal/proc"
	"github.com/solocron/solocron/bench/internal/stats"
)

// Config of the takeover scenario.
type Config struct {
	Standbys []int // K values
	Kills    int   // SIGKILLs of the leader per K
	Stops    int   // clean Stops of the leader per K
}

// Row is one engine at one K.
type Row struct {
	Engine    string          `json:"engine"`
	Standbys  int             `json:"standbys"`
	Kill      stats.Summary   `json:"kill"`        // kill -> a standby's OnLeading
	Locked    stats.Summary   `json:"kill_locked"` // kill -> the new term began (Holder.Since): the lock part
	Stop      stats.Summary   `json:"stop"`        // Stop returned -> a standby's OnLeading
	StopCmd   stats.Summary   `json:"stop_cmd"`    // stop sent -> a standby's OnLeading
	KillRaw   []time.Duration `json:"kill_ns"`     // every kill sample, for plots
	Failures  int             `json:"failures"`    // trials where nobody took over in time
	Negatives int             `json:"stop_early"`  // standby led before Stop returned
	Error     string          `json:"error,omitempty"`
}

// trialTimeout bounds one takeover: far above any target, so a miss is
// reported as a figure rather than a failure.
const trialTimeout = 10 * time.Second

// Run measures engine at each K. memberArgs selects the engine.
func Run(engineName string, memberArgs []string, cfg Config) []Row {
	var rows []Row
	for _, k := range cfg.Standbys {
		fmt.Fprintf(os.Stderr, "takeover: %s, %d standbys, %d kills, %d stops\n", engineName, k, cfg.Kills, cfg.Stops)
		row := Row{Engine: engineName, Standbys: k}
		if err := runK(&row, memberArgs, k, cfg); err != nil {
			row.Error = err.Error()
		}
		rows = append(rows, row)
	}
	return rows
}

func runK(row *Row, memberArgs []string, k int, cfg Config) error {
	cl := cluster.New(memberArgs)
	defer cl.Close()
	for range k + 1 {
		if _, err := cl.Add(); err != nil {
			return err
		}
	}
	if _, err := cl.AwaitLeader(trialTimeout); err != nil {
		return err
	}
	var kills, locked, stops, stopCmds []time.Duration
	for range cfg.Kills {
		d, err := trial(cl, kill)
		if err != nil {
			return err
		}
		if d.ok {
			kills = append(kills, d.fromEnd)
			if d.locked != 0 {
				locked = append(locked, d.locked)
			}
		} else {
			row.Failures++
		}
	}
	for range cfg.Stops {
		d, err := trial(cl, stop)
		if err != nil {
			return err
		}
		if !d.ok {
			row.Failures++
			continue
		}
		stops = append(stops, d.fromEnd)
		stopCmds = append(stopCmds, d.fromCmd)
		if d.fromEnd < 0 {
			row.Negatives++
		}
	}
	row.KillRaw = append([]time.Duration(nil), kills...)
	row.Kill = stats.Summarize(kills)
	row.Locked = stats.Summarize(locked)
	row.Stop = stats.Summarize(stops)
	row.StopCmd = stats.Summarize(stopCmds)
	return nil
}

type sample struct {
	fromCmd time.Duration // from the kill or the stop command
	fromEnd time.Duration // from the kill, or from Stop's return
	locked  time.Duration // from the kill to Holder.Since, if reported
	ok      bool
}

type ender func(cl *cluster.Cluster, leader *proc.Child) (sample, error)

// trial ends the leader one way, measures the takeover and starts a
// replacement so that K standbys remain.
func trial(cl *cluster.Cluster, end ender) (sample, error) {
	// Let the last replacement settle into contending, and end the leader
	// at a random phase of any polling.
	cl.Sleep(30*time.Millisecond + rand.N(30*time.Millisecond))
	leader, err := cl.AwaitLeader(trialTimeout)
	if err != nil {
		return sample{}, err
	}
	s, err := end(cl, leader)
	cl.Remove(leader)
	if err != nil {
		return s, err
	}
	_, err = cl.Add()
	return s, err
}

func kill(cl *cluster.Cluster, leader *proc.Child) (sample, error) {
	at, err := leader.Kill()
	if err != nil {
		return sample{}, err
	}
	ev, err := cl.Await(trialTimeout, func(ev proc.Event) bool { return ev.Kind == "leading" && ev.PID != leader.PID })
	if err != nil {
		return sample{}, nil // counted as a failure
	}
	d := ev.At.Sub(at)
	s := sample{fromCmd: d, fromEnd: d, ok: true}
	if h, err := cl.Await(2*time.Second, func(h proc.Event) bool { return h.Kind == "holder" && h.PID == ev.PID }); err == nil {
		s.locked = h.At.Sub(at)
	}
	return s, nil
}

func stop(cl *cluster.Cluster, leader *proc.Child) (sample, error) {
	at := time.Now()
	if err := leader.Send("stop"); err != nil {
		return sample{}, err
	}
	var stopped, led time.Time
	_, err := cl.Await(trialTimeout, func(ev proc.Event) bool {
		switch {
		case ev.Kind == "stopped" && ev.PID == leader.PID:
			stopped = ev.At
		case ev.Kind == "leading" && ev.PID != leader.PID:
			led = ev.At
		}
		return !stopped.IsZero() && !led.IsZero()
	})
	if err != nil {
		return sample{}, nil
	}
	return sample{fromCmd: led.Sub(at), fromEnd: led.Sub(stopped), ok: true}, nil
}
