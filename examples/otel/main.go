// Command otel runs a solocron job whose every run is an OpenTelemetry span
// (see traced), exported here to stdout; a real program passes its own
// TracerProvider's tracer (OTLP exporter and all). Run several copies: only
// the leader's runs make spans.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/solocron/solocron"
)

func main() {
	spec := flag.String("spec", "@every 5s", "cron spec of the job")
	flag.Parse()

	exporter, err := stdouttrace.New(stdouttrace.WithPrettyPrint())
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter))

	s, err := solocron.New(solocron.Options{
		Middleware: []solocron.Middleware{traced(tp.Tracer("github.com/solocron/solocron/examples/otel"))},
	})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Add(solocron.Job{Name: "sync-accounts", Spec: *spec, Run: func(ctx context.Context) error {
		if rand.IntN(3) == 0 {
			return errors.New("upstream timed out") // recorded on the span
		}
		return nil
	}})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(shutdown); err != nil {
		log.Print(err)
	}
	if err := tp.Shutdown(shutdown); err != nil { // after Stop: the last runs' spans are flushed
		log.Print(err)
	}
}
