// Package standby measures what one idle standby costs: its share of a
// core and its wakeups per second while another process leads. The
// standby is measured from outside, by this process reading its /proc
// entries, so that the figure holds what standing by costs and nothing of
// the measuring.
package standby

import (
	"fmt"
	"os"
	"time"

	"github.com/solocron/solocron/bench/internal/cluster"
	"github.com/solocron/solocron/bench/internal/proc"
)

// Config is the scenario's timing.
type Config struct {
	// Settle is how long the standby runs before the window opens: past
	// what a new standby does once (solocron's first check of the leader
	// 2 s after Start; the wakeups at the 5 s timeouts that check and the
	// first attempts leave behind), so that the window holds what standing
	// by costs.
	Settle time.Duration
	Window time.Duration
}

// Idle is what a standby consumed while it stood by.
type Idle struct {
	Seconds   float64 `json:"seconds"`
	CPUms     float64 `json:"cpu_ms"`
	CorePct   float64 `json:"core_pct"` // CPU time / wall time, % of one core
	Switches  int64   `json:"ctx_switches"`
	WakeupsPS float64 `json:"wakeups_per_s"` // context switches per second, all threads
	Role      string  `json:"role"`          // after the window, "leader->" first if it ever led; must be "standby"
	Error     string  `json:"error,omitempty"`
}

// Row is one engine's standby.
type Row struct {
	Engine string `json:"engine"`
	Idle
}

// Run starts a leader, then a standby, and measures the standby.
func Run(engineName string, memberArgs []string, cfg Config) Row {
	fmt.Fprintf(os.Stderr, "standby: %s for %v after %v\n", engineName, cfg.Window, cfg.Settle)
	row := Row{Engine: engineName}
	if err := run(&row, memberArgs, cfg); err != nil {
		row.Error = err.Error()
	}
	return row
}

func run(row *Row, memberArgs []string, cfg Config) error {
	cl := cluster.New(memberArgs)
	defer cl.Close()
	if _, err := cl.Add(); err != nil {
		return err
	}
	if _, err := cl.AwaitLeader(10 * time.Second); err != nil {
		return err
	}
	sb, err := cl.Add()
	if err != nil {
		return err
	}
	led := false // the standby reported leading at some point
	watch := func(ev proc.Event) bool {
		led = led || (ev.PID == sb.PID && ev.Kind == "leading")
		return false
	}
	cl.Await(cfg.Settle, watch)

	start := time.Now()
	u0, err := proc.ThreadUsage(sb.PID)
	if err != nil {
		return err
	}
	cl.Await(cfg.Window, watch)
	u1, err := proc.ThreadUsage(sb.PID)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	u, err := u1.Since(u0)
	if err != nil {
		return err
	}
	row.Seconds = elapsed.Seconds()
	row.CPUms = float64(u.CPU) / float64(time.Millisecond)
	row.CorePct = 100 * float64(u.CPU) / float64(elapsed)
	row.Switches = u.Switches
	row.WakeupsPS = float64(u.Switches) / elapsed.Seconds()

	// Asked only now: Status reads the elector and the ledger, and its
	// timeouts' timers would wake the standby inside the window.
	if row.Role, err = askRole(cl, sb, watch); err != nil {
		return err
	}
	if led {
		row.Role = "leader->" + row.Role
	}
	return nil
}

// askRole asks a member for its role, passing the events that come first
// to watch.
func askRole(cl *cluster.Cluster, ch *proc.Child, watch func(proc.Event) bool) (string, error) {
	if err := ch.Send("role"); err != nil {
		return "", err
	}
	ev, err := cl.Await(5*time.Second, func(ev proc.Event) bool { return watch(ev) || ev.PID == ch.PID && ev.Kind == "role" })
	if err != nil || len(ev.Fields) != 1 {
		return "", fmt.Errorf("the standby did not tell its role: %v", err)
	}
	return ev.Fields[0], nil
}
