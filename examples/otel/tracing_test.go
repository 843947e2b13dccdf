package main

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/solocrontest"
)

// TestTracedRuns runs a real Scheduler, on a fake clock and the in-memory
// elector, with traced, and checks the spans the SDK recorded: one per run,
// named after the job, with its tick and term, the job's ctx inside the
// span, and the failed run's error recorded.
func TestTracedRuns(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	start := time.Date(2026, 12, 1, 9, 0, 30, 0, time.UTC)
	clock := solocrontest.NewClock(start)
	s, err := solocron.New(solocron.Options{
		Elector:    solocrontest.NewStore().Elector(),
		Clock:      clock,
		Location:   time.UTC,
		Middleware: []solocron.Middleware{traced(tp.Tracer("test"))},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	inSpan := make(chan bool, 10)
	err = s.Add(solocron.Job{Name: "report", Spec: "* * * * *", Run: func(ctx context.Context) error {
		inSpan <- trace.SpanFromContext(ctx).SpanContext().IsValid()
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	failure := errors.New("upstream timed out")
	err = s.Add(solocron.Job{Name: "sync", Spec: "@daily", Run: func(context.Context) error { return failure }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for s.Status(ctx).Role != solocron.Leader {
		if ctx.Err() != nil {
			t.Fatal("the scheduler never led")
		}
		time.Sleep(time.Millisecond)
	}
	if err := clock.Walk(ctx, start.Add(2*time.Minute), 30*time.Second, s); err != nil {
		t.Fatal(err)
	}
	if err := s.RunNow(ctx, "sync"); !errors.Is(err, failure) {
		t.Fatalf("RunNow(sync) = %v, want the job's error", err)
	}
	term := int64(s.Status(ctx).Holder.Term)

	spans := rec.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3 (report at 09:01 and 09:02, sync once): %v", len(spans), names(spans))
	}
	for i, tick := range []string{"2026-12-01T09:01:00Z", "2026-12-01T09:02:00Z"} {
		sp := spans[i]
		want := map[attribute.Key]attribute.Value{
			attrJob: attribute.StringValue("report"), attrTick: attribute.StringValue(tick),
			attrTerm: attribute.Int64Value(term), attrManual: attribute.BoolValue(false), attrRetry: attribute.BoolValue(false),
		}
		checkSpan(t, sp, "report", want)
		if sp.Status().Code != codes.Unset || len(sp.Events()) != 0 {
			t.Errorf("span %d of a successful run: status %v, events %v", i, sp.Status(), sp.Events())
		}
		if !<-inSpan {
			t.Errorf("run %d: the job's ctx carries no span", i)
		}
	}
	sp := spans[2]
	checkSpan(t, sp, "sync", map[attribute.Key]attribute.Value{attrTerm: attribute.Int64Value(term), attrManual: attribute.BoolValue(true)})
	if sp.Status().Code != codes.Error || sp.Status().Description != failure.Error() {
		t.Errorf("span of the failed run: status %+v, want Error %q", sp.Status(), failure)
	}
	if ev := sp.Events(); len(ev) != 1 || ev[0].Name != "exception" {
		t.Errorf("span of the failed run: events %v, want one exception", ev)
	}
}

func checkSpan(t *testing.T, sp sdktrace.ReadOnlySpan, name string, want map[attribute.Key]attribute.Value) {
	t.Helper()
	if sp.Name() != name || sp.SpanKind() != trace.SpanKindInternal || sp.Parent().IsValid() {
		t.Errorf("span %q kind %v parent %v: want a root %q span of kind internal", sp.Name(), sp.SpanKind(), sp.Parent(), name)
	}
	got := map[attribute.Key]attribute.Value{}
	for _, kv := range sp.Attributes() {
		got[kv.Key] = kv.Value
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("span %q: %s = %v, want %v", name, k, got[k].Emit(), v.Emit())
		}
	}
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var n []string
	for _, sp := range spans {
		n = append(n, sp.Name())
	}
	return n
}
