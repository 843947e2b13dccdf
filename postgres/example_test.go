package postgres_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/postgres"
)

// Every process of the application, on every host, runs the same main with
// the same App: one leads and runs each tick once. The examples need a
// server, so `go test` compiles them but does not run them.
func Example() {
	e, err := postgres.New(postgres.Options{URL: os.Getenv("DATABASE_URL"), App: "billing"})
	if err != nil {
		log.Fatal(err)
	}
	s, err := solocron.New(solocron.Options{Elector: e})
	if err != nil {
		log.Fatal(err)
	}
	err = s.Add(solocron.Job{Name: "send-invoices", Spec: "0 2 * * *", Run: func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		log.Printf("sending the invoices of %s (term %d)", run.Tick.Format(time.DateOnly), run.Term)
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
	if err := s.Stop(shutdown); err != nil { // releases the lock: a standby takes over at once
		log.Print(err)
	}
}

// A job that writes to the same database fences its writes with the run's
// term: it reads the lease row FOR SHARE in its own transaction, so a
// takeover waits for the transaction, and a leader that lost its lease
// (paused, partitioned) writes nothing. Keep such transactions well under
// the TTL: renewals and takeovers wait for them.
func Example_fencing() {
	url := os.Getenv("DATABASE_URL")
	settle := func(ctx context.Context) error {
		run, _ := solocron.RunFrom(ctx)
		db, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer db.Close(context.Background())
		tx, err := db.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.Background()) // a no-op after Commit
		var term int64
		err = tx.QueryRow(ctx, `SELECT term FROM solocron_lease WHERE app = $1 FOR SHARE`, "billing").Scan(&term)
		if err != nil {
			return err
		}
		if uint64(term) != run.Term {
			return solocron.ErrNotLeader // a later term leads: write nothing
		}
		_, err = tx.Exec(ctx, `INSERT INTO settlements (day) VALUES ($1) ON CONFLICT DO NOTHING`, run.Tick)
		if err != nil {
			return err
		}
		return tx.Commit(ctx)
	}

	e, err := postgres.New(postgres.Options{URL: url, App: "billing"})
	if err != nil {
		log.Fatal(err)
	}
	s, err := solocron.New(solocron.Options{Elector: e})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Add(solocron.Job{Name: "settle", Spec: "@daily", Run: settle}); err != nil {
		log.Fatal(err)
	}
	if err := s.Start(); err != nil {
		log.Fatal(err)
	}
	defer s.Stop(context.Background())
}
