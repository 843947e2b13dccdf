package plots

import (
	"os"
	"testing"
	"time"

	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/report"
	"github.com/solocron/solocron/bench/internal/stats"
	"github.com/solocron/solocron/bench/internal/takeover"
)

func TestWriteDrawsEveryPlot(t *testing.T) {
	var measures []firing.Measure
	for _, lib := range firing.Libraries {
		for _, n := range []int{1, 1000, 10000} {
			measures = append(measures, firing.Measure{Library: lib, Jobs: n, CPUPerFiring: 3, Jitter: stats.Summary{P99: float64(n) / 100}})
		}
	}
	r := &report.Report{
		Firing:   &firing.Result{Measures: measures},
		Takeover: []takeover.Row{{Engine: "file", Standbys: 1, KillRaw: []time.Duration{3 * time.Millisecond, time.Millisecond}}},
	}
	files, err := Write(r, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("wrote %v, want 3 plots", files)
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.Size() < 1000 {
			t.Errorf("%s: %v, %v", f, st, err)
		}
	}
}
