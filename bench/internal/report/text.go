package report

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText renders the report as tables (Markdown-compatible rows).
func (r *Report) WriteText(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintf(out, "machine: %d CPUs, %s, %s, %s\n\n", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.GoVersion, r.Machine.Kernel)
	if f := r.Firing; f != nil {
		fmt.Fprintf(out, "firing (every second, %.0f s window per library and N)\n", f.WindowSeconds)
		fmt.Fprintln(w, "library\tjobs\tfirings/expected\tCPU/firing µs\tallocs/firing\tjitter p50 ms\tjitter p99 ms\tjitter max ms\t")
		for _, m := range f.Measures {
			if m.Error != "" {
				fmt.Fprintf(w, "%s\t%d\terror: %s\t\t\t\t\t\t\n", m.Library, m.Jobs, m.Error)
				continue
			}
			fmt.Fprintf(w, "%s\t%d\t%d/%d\t%.2f\t%.1f\t%.3f\t%.3f\t%.3f\t\n", m.Library, m.Jobs, m.Firings, m.Expected,
				m.CPUPerFiring, m.AllocsPerFiring, m.Jitter.P50, m.Jitter.P99, m.Jitter.Max)
		}
		w.Flush()
		fmt.Fprintln(out)
		fmt.Fprintln(w, "solocron vs\tjobs\tCPU/firing\tallocs/firing\tjitter p50\tjitter p99\t")
		for _, x := range f.Ratios {
			fmt.Fprintf(w, "%s\t%d\t%.2fx\t%.2fx\t%.2fx\t%.2fx\t\n", x.Versus, x.Jobs, x.CPUPerFiring, x.Allocs, x.JitterP50, x.JitterP99)
		}
		w.Flush()
		fmt.Fprintln(out)
	}
	if len(r.Takeover) > 0 {
		fmt.Fprintln(out, "takeover (ms from the leader's SIGKILL, or from its Stop returning, to a standby's OnLeading)")
		fmt.Fprintln(w, "engine\tstandbys\tkills\tkill p50\tkill p99\tkill max\tlocked p50\tlocked p99\tstops\tstop p50\tstop p99\tstop max\tfailures\t")
		for _, t := range r.Takeover {
			if t.Error != "" {
				fmt.Fprintf(w, "%s\t%d\terror: %s\t\t\t\t\t\t\t\t\t\t\t\n", t.Engine, t.Standbys, t.Error)
				continue
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%.2f\t%.2f\t%.2f\t%d\t\n", t.Engine, t.Standbys,
				t.Kill.Count, t.Kill.P50, t.Kill.P99, t.Kill.Max, t.Locked.P50, t.Locked.P99, t.Stop.Count, t.Stop.P50, t.Stop.P99, t.Stop.Max, t.Failures)
		}
		w.Flush()
		fmt.Fprintln(out)
	}
	if len(r.Standby) > 0 {
		fmt.Fprintln(out, "standby (one idle standby while another process leads)")
		fmt.Fprintln(w, "engine\tseconds\tCPU ms\t% of a core\twakeups/s\trole\t")
		for _, s := range r.Standby {
			if s.Error != "" {
				fmt.Fprintf(w, "%s\terror: %s\t\t\t\t\t\n", s.Engine, s.Error)
				continue
			}
			fmt.Fprintf(w, "%s\t%.1f\t%.2f\t%.4f\t%.1f\t%s\t\n", s.Engine, s.Seconds, s.CPUms, s.CorePct, s.WakeupsPS, s.Role)
		}
		w.Flush()
		fmt.Fprintln(out)
	}
	if len(r.Chaos) > 0 {
		fmt.Fprintln(out, "chaos (leader SIGKILLed every 1-3 s and restarted; a job every second)")
		fmt.Fprintln(w, "engine\tseconds\tkills\truns\tticks\ttwice\tlost\tleader pids\tterms\t")
		for _, c := range r.Chaos {
			fmt.Fprintf(w, "%s\t%.0f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.Engine, c.Seconds, c.Kills, c.Runs, c.Ticks, c.Twice, c.Lost, c.Leaders, c.Terms)
		}
		w.Flush()
		for _, c := range r.Chaos {
			if c.Error != "" {
				fmt.Fprintf(out, "chaos %s error: %s\n", c.Engine, c.Error)
			}
			for _, e := range c.Examples {
				fmt.Fprintf(out, "chaos %s: %s\n", c.Engine, e)
			}
		}
		fmt.Fprintln(out)
	}
	for _, e := range r.Engines {
		if e.Skipped != "" {
			fmt.Fprintf(out, "engine %s skipped: %s\n", e.Name, e.Skipped)
		}
	}
	fmt.Fprintln(out, "targets")
	fmt.Fprintln(w, "target\tvalue\tlimit\tresult\t")
	for _, t := range r.Targets {
		verdict := "PASS"
		if !t.Pass {
			verdict = "FAIL"
		}
		if !t.Enforced {
			verdict += " (not enforced in smoke)"
		}
		fmt.Fprintf(w, "%s\t%.4g %s\t%.4g %s\t%s\t\n", t.Name, t.Value, t.Unit, t.Limit, t.Unit, verdict)
	}
	w.Flush()
	for _, e := range r.Errors {
		fmt.Fprintf(out, "harness error: %s\n", e)
	}
}
