package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeLog(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chaos.log")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCountCleanRun(t *testing.T) {
	c, err := Count(writeLog(t,
		"bench 2026-11-23T21:00:00.000000Z 10 1",
		"bench 2026-11-23T21:00:01.000000Z 10 1",
		"bench 2026-11-23T21:00:02.000000Z 11 2",
	))
	if err != nil {
		t.Fatal(err)
	}
	if c.Runs != 3 || c.Ticks != 3 || c.Twice != 0 || c.Lost != 0 || c.Leaders != 2 || c.Terms != 2 {
		t.Fatalf("Count = %+v, want 3 runs, 3 ticks, none twice or lost, 2 leaders, 2 terms", c)
	}
}

func TestCountDuplicatesAndGaps(t *testing.T) {
	c, err := Count(writeLog(t,
		"bench 2026-11-23T21:00:00.000000Z 10 1",
		"bench 2026-11-23T21:00:00.000000Z 11 2", // twice
		"bench 2026-11-23T21:00:00.000000Z 12 3", // a third time: still one tick twice
		"bench 2026-11-23T21:00:03.000000Z 12 3", // 01 and 02 lost
	))
	if err != nil {
		t.Fatal(err)
	}
	if c.Twice != 1 || c.Lost != 2 || c.Runs != 4 || len(c.LostTicks) != 2 || len(c.Examples) != 1 {
		t.Fatalf("Count = %+v, want 1 tick twice, 2 lost (listed), 4 runs, 1 example", c)
	}
}

func TestCountRejectsMalformedLines(t *testing.T) {
	if _, err := Count(writeLog(t, "bench 2026-11-23T21:00:00.000000Z 10")); err == nil {
		t.Fatal("Count accepted a line with three fields")
	}
	if _, err := Count(writeLog(t, "bench yesterday 10 1")); err == nil {
		t.Fatal("Count accepted a bad tick")
	}
}
