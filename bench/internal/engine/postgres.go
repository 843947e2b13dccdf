package engine

import (
	"cmp"
	"context"
	"errors"
	"os"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/postgres"
)

// PostgresURL is the server the postgres engine uses;
// SOLOBENCH_POSTGRES_URL overrides it.
func PostgresURL() string {
	return cmp.Or(os.Getenv("SOLOBENCH_POSTGRES_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
}

func init() {
	builders["postgres"] = builder{
		build: func(opts *solocron.Options, shared string) (func(), error) {
			e, err := postgres.New(postgres.Options{URL: PostgresURL(), App: shared})
			if err != nil {
				return nil, err
			}
			opts.Elector = e
			return func() {}, nil
		},
		reachable: func() error {
			return probe(func() (solocron.Elector, error) {
				return postgres.New(postgres.Options{URL: PostgresURL(), App: "solobench-probe"})
			})
		},
	}
}

// probe asks a new elector who leads: any answer but an error means the
// server is there and lets us in.
func probe(newElector func() (solocron.Elector, error)) error {
	e, err := newElector()
	if err != nil {
		return err
	}
	if c, ok := e.(interface{ Close() error }); ok {
		defer c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := e.Holder(ctx); err != nil && !errors.Is(err, solocron.ErrNoHolder) {
		return err
	}
	return nil
}
