package main

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/solocron/solocron"
)

// Attribute keys of a run's span.
const (
	attrJob    = attribute.Key("solocron.job")
	attrTick   = attribute.Key("solocron.tick") // RFC 3339, the scheduled time
	attrTerm   = attribute.Key("solocron.term") // the fencing token
	attrManual = attribute.Key("solocron.manual")
	attrRetry  = attribute.Key("solocron.retry")
)

// traced is a solocron.Middleware that wraps every run in a span named
// after the job, a root span of its own (a run is started by the clock,
// not by a request). The job gets the span's ctx, so its own spans (SQL,
// HTTP) are children of it; a failed run records its error and sets the
// span's status. Terms stay below 2^53, so int64 holds them.
func traced(tracer trace.Tracer) solocron.Middleware {
	return func(next solocron.RunFunc) solocron.RunFunc {
		return func(ctx context.Context) error {
			run, _ := solocron.RunFrom(ctx)
			ctx, span := tracer.Start(ctx, run.Job,
				trace.WithNewRoot(),
				trace.WithSpanKind(trace.SpanKindInternal),
				trace.WithAttributes(
					attrJob.String(run.Job),
					attrTick.String(run.Tick.Format(time.RFC3339Nano)),
					attrTerm.Int64(int64(run.Term)),
					attrManual.Bool(run.Manual),
					attrRetry.Bool(run.Retry),
				))
			defer span.End()
			err := next(ctx)
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			return err
		}
	}
}
