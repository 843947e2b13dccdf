package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/postgres"
	"github.com/solocron/solocron/redis"
)

const storeUsage = `<store> names the store the application's processes share, exactly one of:
  --lock PATH        the file lock at PATH (solocron.Options.LockPath); its
                     ledger is PATH.ledger
  --app NAME         alone: the file lock at the default path of application
                     NAME (solocron.Options.App; see solocron.DefaultLockPathFor),
                     in this user's cache directory
  --postgres URL --app NAME
                     PostgreSQL (postgres.Options.URL and App); the password
                     may come from PGPASSWORD or ~/.pgpass rather than the URL
    --schema NAME, --lease-table NAME, --ledger-table NAME
                     as the application sets them in postgres.Options
  --redis URL --app NAME
                     Redis (redis.Options.URL and App); the password may come
                     from REDISCLI_AUTH, as for redis-cli, rather than the URL
    --prefix PREFIX  as the application sets it in redis.Options
  --timeout D        how long each call to the store may take (default 10s)
`

const defaultTimeout = 10 * time.Second

// storeFlags name the store, as the engines' options do.
type storeFlags struct {
	lock, postgres, redis, app      string
	schema, leaseTable, ledgerTable string
	prefix                          string
	timeout                         time.Duration
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.lock, "lock", "", "")
	fs.StringVar(&s.postgres, "postgres", "", "")
	fs.StringVar(&s.redis, "redis", "", "")
	fs.StringVar(&s.app, "app", "", "")
	fs.StringVar(&s.schema, "schema", "", "")
	fs.StringVar(&s.leaseTable, "lease-table", "", "")
	fs.StringVar(&s.ledgerTable, "ledger-table", "", "")
	fs.StringVar(&s.prefix, "prefix", "", "")
	fs.DurationVar(&s.timeout, "timeout", defaultTimeout, "")
}

// store is the opened store: an Elector, unconnected until first used.
type store struct {
	solocron.Elector
	ledgerPath string // the file lock's ledger; "" for the other engines
	timeout    time.Duration
	close      func()
}

// call bounds one call to the store.
func (s *store) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// open checks the store flags and makes the Elector. A wrong combination
// is a usage error; a lock file that is not there, or that cannot be
// opened, an unreachable store.
func (f *flags) open() (*store, error) {
	s := f.store
	named := 0
	for _, v := range []string{s.lock, s.postgres, s.redis} {
		if v != "" {
			named++
		}
	}
	switch {
	case named > 1:
		return nil, f.usageErr(errors.New("name one store: --lock, --postgres or --redis"))
	case named == 0 && s.app == "":
		return nil, f.usageErr(errors.New("name the store: --lock PATH, --app NAME (the default file lock), --postgres URL --app NAME or --redis URL --app NAME"))
	case s.lock != "" && s.app != "":
		return nil, f.usageErr(errors.New("--app with the file lock names its default path: give --lock PATH or --app NAME, not both"))
	case (s.postgres != "" || s.redis != "") && s.app == "":
		return nil, f.usageErr(errors.New("--postgres and --redis need --app NAME, the application's Options.App"))
	case s.postgres == "" && (s.schema != "" || s.leaseTable != "" || s.ledgerTable != ""):
		return nil, f.usageErr(errors.New("--schema, --lease-table and --ledger-table go with --postgres"))
	case s.redis == "" && s.prefix != "":
		return nil, f.usageErr(errors.New("--prefix goes with --redis"))
	case s.timeout <= 0:
		return nil, f.usageErr(fmt.Errorf("--timeout must be positive, got %v", s.timeout))
	}
	switch {
	case s.postgres != "":
		e, err := postgres.New(postgres.Options{URL: s.postgres, App: s.app, Schema: s.schema, LeaseTable: s.leaseTable, LedgerTable: s.ledgerTable})
		if err != nil {
			return nil, f.usageErr(err)
		}
		return &store{Elector: e, timeout: s.timeout, close: func() {}}, nil
	case s.redis != "":
		// go-redis would log a failed dial to stderr; the error comes
		// back to the command anyway.
		e, err := redis.New(redis.Options{URL: redisURL(s.redis), App: s.app, Prefix: s.prefix, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, f.usageErr(err)
		}
		return &store{Elector: e, timeout: s.timeout, close: func() { _ = e.Close() }}, nil
	}
	return openFileLock(s)
}

// redisURL gives a Redis URL without a password the one in REDISCLI_AUTH,
// where redis-cli reads it: a password on the command line shows in ps.
// A URL that does not parse is left to redis.New to report.
func redisURL(raw string) string {
	pass := os.Getenv("REDISCLI_AUTH")
	if pass == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		return raw
	}
	u.User = url.UserPassword(u.User.Username(), pass)
	return u.String()
}

// openFileLock opens the file lock. NewFileLock creates a missing lock
// file, as every process of the application does; a mistyped path or
// application would then show an empty store, so the command refuses a
// lock file that is not there.
func openFileLock(s storeFlags) (*store, error) {
	var path string
	var err error
	if s.lock != "" {
		path, err = filepath.Abs(s.lock) // relative to where the command is typed
	} else {
		path, err = defaultLock(s.app)
	}
	if err != nil {
		return nil, unreachable(err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, unreachable(fmt.Errorf("no lock file at %s: is the path right? (the application's processes create it as they start)", path))
	}
	f, err := solocron.NewFileLock(solocron.FileLockOptions{Path: path})
	if err != nil {
		return nil, unreachable(err)
	}
	return &store{Elector: f, ledgerPath: f.Path() + ".ledger", timeout: s.timeout, close: func() {}}, nil
}

// defaultLock is the default lock file of app (solocron.DefaultLockPathFor),
// which must be there: NewFileLock would create it.
func defaultLock(app string) (string, error) {
	path, err := solocron.DefaultLockPathFor(app)
	if err != nil {
		return "", fmt.Errorf("%w; name the lock with --lock PATH", err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no lock file of application %q at %s: is --app right? It is the application's Options.App, by default its main package's import path; or name the lock with --lock PATH", app, path)
	}
	return path, nil
}
