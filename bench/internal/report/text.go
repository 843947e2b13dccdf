package report

import (
	"fmt"
	"io"

	"github.com/solocron/solocron/bench/internal/chaos"
	"github.com/solocron/solocron/bench/internal/member"
)

// WriteText renders the report as Markdown tables.
func (r *Report) WriteText(out io.Writer) {
	m := r.Machine
	fmt.Fprintf(out, "machine: %d CPUs, %s, %s, %s; load average %s at the start, %s at the end; run took %.0f s\n\n",
		m.CPUs, m.CPUModel, m.GoVersion, m.Kernel, m.LoadStart, m.LoadEnd, r.Seconds)
	if f := r.Firing; f != nil {
		fmt.Fprintf(out, "firing: jobs firing every second, %.0f s measured per library and N\n\n", f.WindowSeconds)
		t := newTable("library", "jobs", "firings/expected", "CPU/firing µs", "allocs/firing", "jitter p50 ms", "jitter p99 ms", "jitter max ms")
		for _, m := range f.Measures {
			if m.Error != "" {
				t.add(m.Library, m.Jobs, "error: "+m.Error)
				continue
			}
			t.add(m.Library, m.Jobs, fmt.Sprintf("%d/%d", m.Firings, m.Expected), f2(m.CPUPerFiring),
				fmt.Sprintf("%.1f", m.AllocsPerFiring), f2(m.Jitter.P50), f2(m.Jitter.P99), f2(m.Jitter.Max))
		}
		t.write(out)
		t = newTable("solocron vs", "jobs", "CPU/firing", "allocs/firing", "jitter p50", "jitter p99")
		for _, x := range f.Ratios {
			t.add(x.Versus, x.Jobs, f2(x.CPUPerFiring)+"x", f2(x.Allocs)+"x", f2(x.JitterP50)+"x", f2(x.JitterP99)+"x")
		}
		t.write(out)
	}
	if len(r.Takeover) > 0 {
		fmt.Fprintln(out, "takeover: ms from the leader's SIGKILL (or from its Stop returning) to a standby's OnLeading; locked = to the new term's start (lock taken)")
		fmt.Fprintln(out)
		t := newTable("engine", "standbys", "kills", "kill p50", "kill p99", "kill max", "locked p50", "locked p99", "stops", "stop p50", "stop p99", "stop max", "failures")
		for _, x := range r.Takeover {
			if x.Error != "" {
				t.add(x.Engine, x.Standbys, "error: "+x.Error)
				continue
			}
			t.add(x.Engine, x.Standbys, x.Kill.Count, f2(x.Kill.P50), f2(x.Kill.P99), f2(x.Kill.Max), f2(x.Locked.P50), f2(x.Locked.P99),
				x.Stop.Count, f2(x.Stop.P50), f2(x.Stop.P99), f2(x.Stop.Max), x.Failures)
		}
		t.write(out)
	}
	if len(r.Standby) > 0 {
		fmt.Fprintln(out, "standby: one idle standby while another process leads, measured from outside its process once its start-up is over")
		fmt.Fprintln(out)
		t := newTable("engine", "seconds", "CPU ms", "% of a core", "wakeups/s", "role")
		for _, s := range r.Standby {
			if s.Error != "" {
				t.add(s.Engine, "error: "+s.Error)
				continue
			}
			t.add(s.Engine, fmt.Sprintf("%.1f", s.Seconds), f2(s.CPUms), fmt.Sprintf("%.4f", s.CorePct), fmt.Sprintf("%.1f", s.WakeupsPS), s.Role)
		}
		t.write(out)
	}
	if len(r.Chaos) > 0 {
		plain, exactly := r.chaosTables()
		if len(plain.rows) > 0 {
			fmt.Fprintln(out, "chaos: leader SIGKILLed every 1-3 s and restarted; one job every second (MisfireRunAll)")
			fmt.Fprintln(out)
			plain.write(out)
		}
		if len(exactly.rows) > 0 {
			fmt.Fprintln(out, "chaos, exactly-once effects: the job increments a counter and inserts its tick in one postgres RunTx (TxJob);")
			fmt.Fprintln(out, "every 1-3 s the leader is SIGKILLed (at random, or paused right after the claim, before or after the commit) or frozen past its lease")
			fmt.Fprintln(out)
			exactly.write(out)
		}
		for _, c := range r.Chaos {
			if c.Error != "" {
				fmt.Fprintf(out, "chaos %s error: %s\n", c.Name(), c.Error)
			}
			for _, e := range c.Examples {
				fmt.Fprintf(out, "chaos %s: %s\n", c.Name(), e)
			}
		}
	}
	for _, e := range r.Engines {
		if e.Skipped != "" {
			fmt.Fprintf(out, "engine %s skipped: %s\n", e.Name, e.Skipped)
		}
	}
	fmt.Fprintln(out, "targets")
	fmt.Fprintln(out)
	t := newTable("target", "value", "limit", "result")
	for _, x := range r.Targets {
		verdict := "PASS"
		if !x.Pass {
			verdict = "FAIL"
		}
		if !x.Enforced {
			verdict += " (not enforced in smoke)"
		}
		t.add(x.Name, fmt.Sprintf("%.4g %s", x.Value, x.Unit), fmt.Sprintf("%.4g %s", x.Limit, x.Unit), verdict)
	}
	t.write(out)
	for _, e := range r.Errors {
		fmt.Fprintf(out, "harness error: %s\n", e)
	}
}

// chaosTables are the chaos rows of the plain variant and of the
// exactly-once one.
func (r *Report) chaosTables() (plain, exactly *table) {
	plain = newTable("engine", "seconds", "kills", "runs", "ticks", "twice", "lost", "lost at a kill", "leader pids", "terms")
	exactly = newTable("engine", "seconds", "kills", "claim", "commit", "committed", "freezes", "runs", "ticks", "twice", "lost", "counter", "aimed wrong", "terms")
	for _, c := range r.Chaos {
		if c.Variant == chaos.Variant {
			exactly.add(c.Engine, fmt.Sprintf("%.0f", c.Seconds), c.Kills, c.Aimed[member.WindowClaim], c.Aimed[member.WindowCommit],
				c.Aimed[member.WindowCommitted], c.Freezes, c.Runs, c.Ticks, c.Twice, c.Lost, c.Counter, c.AimedWrong, c.Terms)
			continue
		}
		plain.add(c.Engine, fmt.Sprintf("%.0f", c.Seconds), c.Kills, c.Runs, c.Ticks, c.Twice, c.Lost, c.LostAtKill, c.Leaders, c.Terms)
	}
	return plain, exactly
}
