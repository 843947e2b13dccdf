package solocronprom_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/solocron/solocron"
	solocronprom "github.com/solocron/solocron/prometheus"
)

// The cost of one run's OnJobFinish, against the adapter users write by
// hand from Hooks (label lookups at every event):
//
//	go test -run - -bench OnJobFinish
func BenchmarkOnJobFinish(b *testing.B) {
	ev := solocron.JobEvent{Run: solocron.Run{Job: "send-invoices"}, Duration: 3 * time.Millisecond}
	b.Run("collector", func(b *testing.B) {
		finish := solocronprom.New(solocronprom.Options{}).Hooks().OnJobFinish
		for b.Loop() {
			finish(ev)
		}
	})
	b.Run("by-hand", func(b *testing.B) {
		runs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runs_total"}, []string{"job_name"})
		errs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "errors_total"}, []string{"job_name"})
		dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "duration_seconds", Buckets: solocronprom.DefaultBuckets}, []string{"job_name"})
		last := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "last_success"}, []string{"job_name"})
		finish := func(ev solocron.JobEvent) {
			runs.WithLabelValues(ev.Job).Inc()
			dur.WithLabelValues(ev.Job).Observe(ev.Duration.Seconds())
			if ev.Err != nil {
				errs.WithLabelValues(ev.Job).Inc()
				return
			}
			last.WithLabelValues(ev.Job).Set(float64(time.Now().UnixNano()) / 1e9)
		}
		for b.Loop() {
			finish(ev)
		}
	})
}
