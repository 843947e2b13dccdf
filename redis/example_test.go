package redis_test

import (
	"context"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/redis"
)

// Every process of the application, on every host, runs the same main with
// the same App: one leads and runs each tick once. The examples need a
// server, so `go test` compiles them but does not run them.
func Example() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	e, err := redis.New(redis.Options{
		URL:    os.Getenv("REDIS_URL"), // redis://user:password@host:6379/0
		App:    "billing",
		Logger: logger, // go-redis's own lines, instead of plain text on stderr
	})
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close() // after Stop: a closed client cannot release the lease
	s, err := solocron.New(solocron.Options{Elector: e, Logger: logger})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Add(solocron.Job{Name: "send-invoices", Spec: "0 2 * * *", Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		logger.InfoContext(ctx, "sending invoices", "tick", run.Tick, "term", run.Term)
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
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(shutdown); err != nil { // releases the lease: a standby takes over at once
		log.Print(err)
	}
}

// An application that already has a client passes it; Close then leaves
// it open. ContextTimeoutEnabled lets renewals honour their deadlines.
func Example_client() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	e, err := redis.New(redis.Options{Client: rdb, App: "billing"})
	if err != nil {
		log.Fatal(err)
	}
	s, err := solocron.New(solocron.Options{Elector: e})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background())
}
