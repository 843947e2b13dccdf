package clustertest

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// RunLine is one run the workers logged.
type RunLine struct {
	Tick  int64 // Unix seconds
	PID   int
	Term  uint64
	Retry bool
}

// Runs parses the run log.
func (c *Cluster) Runs() []RunLine {
	c.t.Helper()
	f, err := os.Open(c.LogPath)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	var runs []RunLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r RunLine
		fields := strings.Fields(sc.Text())
		if len(fields) != 5 || fields[0] != "run" {
			c.t.Fatalf("bad run log line %q", sc.Text())
		}
		r.Tick, _ = strconv.ParseInt(fields[1], 10, 64)
		r.PID, _ = strconv.Atoi(fields[2])
		r.Term, _ = strconv.ParseUint(fields[3], 10, 64)
		r.Retry = fields[4] == "true"
		runs = append(runs, r)
	}
	return runs
}

// Verdict counts, over the ticks from the first run to the last, the ticks
// that ran more than once and the ticks that never ran.
type Verdict struct {
	First, Last int64
	Twice       []int64
	Lost        []int64
	Terms       int
}

// Judge computes the verdict of a run log.
func Judge(runs []RunLine) Verdict {
	var v Verdict
	if len(runs) == 0 {
		return v
	}
	count := make(map[int64]int)
	terms := make(map[uint64]bool)
	v.First, v.Last = runs[0].Tick, runs[0].Tick
	for _, r := range runs {
		count[r.Tick]++
		terms[r.Term] = true
		v.First, v.Last = min(v.First, r.Tick), max(v.Last, r.Tick)
	}
	for tick := v.First; tick <= v.Last; tick++ {
		switch n := count[tick]; {
		case n == 0:
			v.Lost = append(v.Lost, tick)
		case n > 1:
			v.Twice = append(v.Twice, tick)
		}
	}
	v.Terms = len(terms)
	return v
}

func (v Verdict) String() string {
	return fmt.Sprintf("ticks %d..%d (%d), %d terms, %d ran twice %v, %d lost %v",
		v.First, v.Last, v.Last-v.First+1, v.Terms, len(v.Twice), v.Twice, len(v.Lost), v.Lost)
}

// CheckExactlyOnce fails the test unless every tick from the first logged
// to the last ran exactly once, and at least minTerms terms ran jobs.
func (c *Cluster) CheckExactlyOnce(minTerms int) Verdict {
	c.t.Helper()
	runs := c.Runs()
	v := Judge(runs)
	c.t.Logf("run log: %s", v)
	if len(v.Twice) > 0 || len(v.Lost) > 0 || v.Terms < minTerms {
		sort.Slice(runs, func(a, b int) bool { return runs[a].Tick < runs[b].Tick })
		for _, r := range runs {
			c.t.Logf("run tick=%d pid=%d term=%d retry=%t", r.Tick, r.PID, r.Term, r.Retry)
		}
		c.t.Fatalf("not exactly once per tick: %s (want at least %d terms)", v, minTerms)
	}
	return v
}
