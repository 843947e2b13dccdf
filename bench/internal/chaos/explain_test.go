package chaos

import (
	"strings"
	"testing"
	"time"
)

func TestExplainLostMatchesKillsRightAfterTheTick(t *testing.T) {
	tick := time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	row := Row{
		Counts:    Counts{Lost: 2, LostTicks: []time.Time{tick, tick.Add(10 * time.Second)}},
		killTimes: []time.Time{tick.Add(-time.Second), tick.Add(3 * time.Millisecond), tick.Add(12 * time.Second)},
	}
	row.explainLost()
	if row.LostAtKill != 1 || len(row.Examples) != 2 {
		t.Fatalf("LostAtKill = %d, examples %q: want 1 explained, 1 not", row.LostAtKill, row.Examples)
	}
	if !strings.Contains(row.Examples[0], "3.0 ms after") || !strings.Contains(row.Examples[1], "unexplained") {
		t.Fatalf("examples %q", row.Examples)
	}
}
