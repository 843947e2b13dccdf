package chaos

import (
	"fmt"
	"time"

	"github.com/solocron/solocron/bench/internal/member"
)

// killWindow is how long after its tick a kill can have caught the leader
// between claiming the tick and the job's write to the log (the firing is
// a few ms late at most; the rest covers a loaded machine).
const killWindow = 500 * time.Millisecond

// explainLost matches every lost tick with the nearest SIGKILL that
// followed it, and names the others as unexplained.
func (row *Row) explainLost() {
	for _, t := range row.LostTicks {
		var after time.Duration = -1
		for _, k := range row.killTimes {
			if d := k.Sub(t); d >= 0 && (after < 0 || d < after) {
				after = d
			}
		}
		tick := t.Format(member.TickLayout)
		switch {
		case after >= 0 && after < killWindow:
			row.LostAtKill++
			row.example(fmt.Sprintf("tick %s never ran: its leader was SIGKILLed %.1f ms after the tick (claimed, killed before the job wrote)", tick, ms(after)))
		case after >= 0:
			row.example(fmt.Sprintf("tick %s never ran, unexplained: the next SIGKILL came %.1f ms after it", tick, ms(after)))
		default:
			row.example(fmt.Sprintf("tick %s never ran, unexplained: no SIGKILL after it", tick))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
