// Package plots draws a harness report as PNG files with gonum/plot:
// firing jitter and CPU per firing against N for the three libraries, and
// the distribution of takeover latencies per engine.
package plots

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/report"
)

const width, height = 6 * vg.Inch, 4 * vg.Inch

// Write draws every plot the report has data for into dir and returns the
// files written.
func Write(r *report.Report, dir string) ([]string, error) {
	var files []string
	save := func(p *plot.Plot, name string) error {
		path := filepath.Join(dir, name)
		if err := p.Save(width, height, path); err != nil {
			return fmt.Errorf("saving %s: %w", path, err)
		}
		files = append(files, path)
		return nil
	}
	if r.Firing != nil && len(r.Firing.Measures) > 0 {
		p, err := firingPlot(r.Firing, "Firing jitter p99 (ms) against jobs", "jitter p99, ms",
			func(m firing.Measure) float64 { return m.Jitter.P99 })
		if err != nil {
			return files, err
		}
		if err := save(p, "bench-jitter.png"); err != nil {
			return files, err
		}
		p, err = firingPlot(r.Firing, "CPU per firing (µs) against jobs", "CPU per firing, µs",
			func(m firing.Measure) float64 { return m.CPUPerFiring })
		if err != nil {
			return files, err
		}
		if err := save(p, "bench-cpu.png"); err != nil {
			return files, err
		}
	}
	if len(r.Takeover) > 0 {
		p, err := takeoverPlot(r)
		if err != nil {
			return files, err
		}
		if err := save(p, "bench-takeover.png"); err != nil {
			return files, err
		}
	}
	return files, nil
}

// firingPlot draws one line per library of y against the number of jobs,
// both on log scales.
func firingPlot(f *firing.Result, title, ylabel string, y func(firing.Measure) float64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "jobs firing every second"
	p.Y.Label.Text = ylabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = 0.1*vg.Inch, -0.2*vg.Inch
	var lines []any
	var top float64
	for _, lib := range firing.Libraries {
		var xys plotter.XYs
		for _, m := range f.Measures {
			if m.Library == lib && m.Error == "" && y(m) > 0 {
				xys = append(xys, plotter.XY{X: float64(m.Jobs), Y: y(m)})
				top = max(top, y(m))
			}
		}
		if len(xys) > 0 {
			lines = append(lines, lib, xys)
		}
	}
	err := plotutil.AddLinePoints(p, lines...)
	p.Y.Max = top * 8 // headroom on the log axis for the legend
	return p, err
}

// takeoverPlot draws the empirical distribution (CDF) of SIGKILL takeover
// latencies, one line per engine (every K pooled), on a log scale so that
// lease-bound engines (about a TTL) fit beside lock-bound ones (ms).
func takeoverPlot(r *report.Report) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Takeover after SIGKILL of the leader (all K pooled)"
	p.X.Label.Text = "ms from SIGKILL to a standby leading"
	p.Y.Label.Text = "fraction of takeovers"
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	// Bottom right, clear of the slowest engine's line at the far right.
	p.Legend.Top, p.Legend.Left, p.Legend.XOffs = false, false, -0.8*vg.Inch
	p.Y.Min, p.Y.Max = 0, 1
	var engines []string
	pooled := map[string][]time.Duration{}
	for _, row := range r.Takeover {
		if row.Error != "" || len(row.KillRaw) == 0 {
			continue
		}
		if _, ok := pooled[row.Engine]; !ok {
			engines = append(engines, row.Engine)
		}
		pooled[row.Engine] = append(pooled[row.Engine], row.KillRaw...)
	}
	var lines []any
	for _, e := range engines {
		lines = append(lines, fmt.Sprintf("%s (%d)", e, len(pooled[e])), cdf(pooled[e]))
	}
	return p, plotutil.AddLines(p, lines...)
}

func cdf(samples []time.Duration) plotter.XYs {
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	xys := make(plotter.XYs, len(sorted))
	for i, d := range sorted {
		// A log axis cannot show zero or less: clamp to 10 µs.
		ms := max(float64(d)/float64(time.Millisecond), 0.01)
		xys[i] = plotter.XY{X: ms, Y: float64(i+1) / float64(len(sorted))}
	}
	return xys
}
