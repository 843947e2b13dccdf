package stats

import (
	"testing"
	"time"
)

func TestSummarizeNearestRank(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	s := Summarize(samples)
	if s.Count != 100 || s.P50 != 50 || s.P99 != 99 || s.Max != 100 || s.Mean != 50.5 {
		t.Fatalf("Summarize(1..100 ms) = %+v, want p50 50, p99 99, max 100, mean 50.5", s)
	}
}

func TestSummarizeSmallAndEmpty(t *testing.T) {
	if s := Summarize(nil); s != (Summary{}) {
		t.Fatalf("Summarize(nil) = %+v, want zero", s)
	}
	s := Summarize([]time.Duration{3 * time.Millisecond, -time.Millisecond})
	if s.P50 != -1 || s.P99 != 3 || s.Max != 3 {
		t.Fatalf("Summarize(3, -1 ms) = %+v, want p50 -1, p99 3, max 3", s)
	}
}
