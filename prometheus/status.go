package solocronprom

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/solocron/solocron"
)

// statusGauge is a per-job gauge read from the leader's Status at each
// scrape. A gauge of what the leader knows of a job is one entry here.
type statusGauge struct {
	desc   *prometheus.Desc
	value  func(solocron.JobStatus) (float64, bool) // false: no sample
	ledger bool                                     // read from the ledger: no sample while it cannot be read
}

func statusGauges(ns string) []statusGauge {
	job := []string{jobLabel}
	return []statusGauge{{
		desc: prometheus.NewDesc(ns+"_job_next_tick_timestamp_seconds",
			"The job's next tick, as Unix time; reported by the leader only.", job, nil),
		value: func(j solocron.JobStatus) (float64, bool) { return unixSeconds(j.Next) },
	}, {
		desc: prometheus.NewDesc(ns+"_job_paused",
			"1 while the job is paused across the cluster (Scheduler.Pause), from the ledger; reported by the leader only.", job, nil),
		value:  func(j solocron.JobStatus) (float64, bool) { return boolean(j.Ledger.Paused), true },
		ledger: true,
	}, {
		desc: prometheus.NewDesc(ns+"_job_last_run_tick_timestamp_seconds",
			"The tick of the job's last run that finished, on any process (the ledger), as Unix time; reported by the leader only.", job, nil),
		value:  func(j solocron.JobStatus) (float64, bool) { return unixSeconds(j.Ledger.Finished) },
		ledger: true,
	}, {
		desc: prometheus.NewDesc(ns+"_job_last_run_failed",
			"1 when the job's last run that finished, on any process (the ledger), failed; 0 when it succeeded. Reported by the leader only.", job, nil),
		value: func(j solocron.JobStatus) (float64, bool) {
			return boolean(j.Ledger.Error != ""), !j.Ledger.Finished.IsZero()
		},
		ledger: true,
	}}
}

func boolean(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) (float64, bool) {
	if t.IsZero() {
		return 0, false
	}
	return float64(t.UnixNano()) / 1e9, true
}
