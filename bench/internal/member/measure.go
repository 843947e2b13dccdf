package member

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/bench/internal/proc"
)

// Idle is what a member measured of itself while it stood by.
type Idle struct {
	Seconds   float64 `json:"seconds"`
	CPUms     float64 `json:"cpu_ms"`
	CorePct   float64 `json:"core_pct"` // CPU time / wall time, % of one core
	Switches  int64   `json:"ctx_switches"`
	WakeupsPS float64 `json:"wakeups_per_s"` // context switches per second, all threads
	Role      string  `json:"role"`          // at the end of the window; must be "standby"
	Error     string  `json:"error,omitempty"`
}

// measure samples this process's usage over d after settle and prints it
// as a result event. It sleeps in between, so it adds one wakeup.
func measure(s *solocron.Scheduler, settle, d time.Duration) {
	time.Sleep(settle)
	idle := Idle{Role: s.Status(context.Background()).Role.String()}
	u0, err := proc.SelfUsage()
	start := time.Now()
	if err == nil {
		time.Sleep(d)
		var u1 proc.Usage
		u1, err = proc.SelfUsage()
		elapsed := time.Since(start)
		u := u1.Sub(u0)
		idle.Seconds = elapsed.Seconds()
		idle.CPUms = float64(u.CPU) / float64(time.Millisecond)
		idle.CorePct = 100 * float64(u.CPU) / float64(elapsed)
		idle.Switches = u.Switches
		idle.WakeupsPS = float64(u.Switches) / elapsed.Seconds()
		if r := s.Status(context.Background()).Role.String(); r != idle.Role {
			idle.Role = idle.Role + "->" + r
		}
	}
	if err != nil {
		idle.Error = err.Error()
	}
	if err := proc.EmitResult(idle); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
