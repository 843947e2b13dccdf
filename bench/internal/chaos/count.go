package chaos

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/solocron/solocron/bench/internal/member"
)

// Counts is what the chaos log shows.
type Counts struct {
	Runs      int         `json:"runs"`
	Ticks     int         `json:"ticks"`       // distinct ticks run
	Twice     int         `json:"ticks_twice"` // ticks run more than once
	Lost      int         `json:"ticks_lost"`  // seconds between the first and last tick never run
	Leaders   int         `json:"leader_pids"` // processes that ran ticks
	Terms     int         `json:"terms"`       // distinct fencing tokens seen
	LostTicks []time.Time `json:"lost_ticks,omitempty"`
	Examples  []string    `json:"examples,omitempty"`
}

// Count reads a chaos log of "job tick pid term" lines.
func Count(path string) (Counts, error) {
	f, err := os.Open(path)
	if err != nil {
		return Counts{}, err
	}
	defer f.Close()
	var c Counts
	seen := map[time.Time]int{}
	pids, terms := map[string]bool{}, map[string]bool{}
	var first, last time.Time
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 4 {
			return c, fmt.Errorf("%s: malformed line %q", path, sc.Text())
		}
		tick, err := time.Parse(member.TickLayout, fields[1])
		if err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
		c.Runs++
		seen[tick]++
		if seen[tick] == 2 {
			c.Twice++
			c.example(fmt.Sprintf("tick %s ran twice", fields[1]))
		}
		pids[fields[2]], terms[fields[3]] = true, true
		if first.IsZero() || tick.Before(first) {
			first = tick
		}
		if tick.After(last) {
			last = tick
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	c.Ticks, c.Leaders, c.Terms = len(seen), len(pids), len(terms)
	for t := first; !first.IsZero() && !t.After(last); t = t.Add(time.Second) {
		if seen[t] == 0 {
			c.Lost++
			c.LostTicks = append(c.LostTicks, t)
		}
	}
	return c, nil
}

func (c *Counts) example(s string) {
	if len(c.Examples) < 10 {
		c.Examples = append(c.Examples, s)
	}
}
