package solocronprom

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/solocron/solocron"
)

// statusGauge is a per-job gauge read from the leader's Status at each
// scrape. A gauge of what the leader knows of a job is one entry here.
type statusGauge struct {
	desc  *prometheus.Desc
	value func(solocron.JobStatus) (float64, bool) // false: no sample
}

func statusGauges(ns string) []statusGauge {
	job := []string{jobLabel}
	return []statusGauge{{
		desc: prometheus.NewDesc(ns+"_job_next_tick_timestamp_seconds",
			"The job's next tick, as Unix time; reported by the leader only.", job, nil),
		value: func(j solocron.JobStatus) (float64, bool) { return unixSeconds(j.Next) },
	}}
}

func unixSeconds(t time.Time) (float64, bool) {
	if t.IsZero() {
		return 0, false
	}
	return float64(t.UnixNano()) / 1e9, true
}
