package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/postgres"
	"github.com/solocron/solocron/redis"
)

// engine is one store of an application the test makes up: the command's
// flags for it, and how the test's Schedulers and leases reach it.
type engine struct {
	name  string
	flags []string
	// options are a Scheduler's options on the store.
	options func(t *testing.T) solocron.Options
	// elector is another Elector on the store.
	elector func(t *testing.T) solocron.Elector
}

// forEachEngine runs test against each store, in parallel, each with an
// application of its own.
func forEachEngine(t *testing.T, test func(t *testing.T, e *engine)) {
	for _, name := range []string{"file", "postgres", "redis"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newEngine(t, name))
		})
	}
}

func newEngine(t *testing.T, name string) *engine {
	switch name {
	case "postgres":
		return postgresEngine(t)
	case "redis":
		return redisEngine(t)
	}
	return fileEngine(t)
}

func fileEngine(t *testing.T) *engine {
	path := filepath.Join(t.TempDir(), "app.lock")
	return &engine{
		name:    "file",
		flags:   []string{"--lock", path},
		options: func(t *testing.T) solocron.Options { return solocron.Options{LockPath: path} },
		elector: func(t *testing.T) solocron.Elector {
			f, err := solocron.NewFileLock(solocron.FileLockOptions{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			return f
		},
	}
}

// unique names an application, schema or key space for this test alone.
func unique(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := strings.NewReplacer("/", "_", " ", "_", "-", "_").Replace(strings.ToLower(t.Name()))
	if len(name) > 30 {
		name = name[:30]
	}
	return name + "_" + hex.EncodeToString(b)
}

// unavailable skips the test without the server, or fails it under CI.
func unavailable(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func postgresEngine(t *testing.T) *engine {
	url := os.Getenv("SOLOCRON_POSTGRES_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		unavailable(t, fmt.Sprintf("no PostgreSQL server (SOLOCRON_POSTGRES_URL, default 127.0.0.1:5432 db test): %v", err))
	}
	// A schema of its own, dropped at the end, keeps the test's tables
	// apart from every other test's.
	app := unique(t)
	schema := "solocron_cli_" + app
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, url); err == nil {
			_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = c.Close(ctx)
		}
	})
	opts := postgres.Options{URL: url, App: app, Schema: schema}
	elector := func(t *testing.T) solocron.Elector {
		e, err := postgres.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	return &engine{
		name:    "postgres",
		flags:   []string{"--postgres", url, "--app", app, "--schema", schema},
		options: func(t *testing.T) solocron.Options { return solocron.Options{Elector: elector(t)} },
		elector: elector,
	}
}

func redisEngine(t *testing.T) *engine {
	url := os.Getenv("SOLOCRON_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	admin := goredis.NewClient(o)
	t.Cleanup(func() { _ = admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.Ping(ctx).Err(); err != nil {
		unavailable(t, fmt.Sprintf("no Redis server (SOLOCRON_REDIS_URL, default 127.0.0.1:6379): %v", err))
	}
	app := unique(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, _ := admin.Keys(ctx, redis.DefaultPrefix+"{"+app+"}*").Result()
		if len(keys) > 0 {
			_ = admin.Del(ctx, keys...).Err()
		}
	})
	elector := func(t *testing.T) solocron.Elector {
		e, err := redis.New(redis.Options{URL: url, App: app})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		return e
	}
	return &engine{
		name:    "redis",
		flags:   []string{"--redis", url, "--app", app},
		options: func(t *testing.T) solocron.Options { return solocron.Options{Elector: elector(t)} },
		elector: elector,
	}
}

// startScheduler starts a Scheduler of the jobs on the store and waits
// until it leads; it is stopped when the test ends, if not before.
func startScheduler(t *testing.T, e *engine, hooks solocron.Hooks, jobs ...solocron.Job) *solocron.Scheduler {
	t.Helper()
	o := e.options(t)
	o.Hooks = hooks
	o.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := solocron.New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopScheduler(t, s) })
	eventually(t, 15*time.Second, "the Scheduler leads", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.Status(ctx).Role == solocron.Leader
	})
	return s
}

func stopScheduler(t *testing.T, s *solocron.Scheduler) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_ = s.Stop(ctx)
}

// withLease leads on the store while fn runs, as no Scheduler does.
func withLease(t *testing.T, e *engine, fn func(ctx context.Context, l solocron.Lease)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	l, err := e.elector(t).Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: "test", App: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Release(ctx) }()
	fn(ctx, l)
}

// every returns a job that runs every second; its run returns err.
func every(name string, err error) solocron.Job {
	return solocron.Job{Name: name, Spec: "@every 1s", Run: func(ctx context.Context) error { return err }}
}

// recorder keeps the Scheduler's job events for the test to wait on.
type recorder struct {
	mu     sync.Mutex
	events []recorded
}

type recorded struct {
	kind string // "start", "finish", "skip"
	solocron.JobEvent
}

func (r *recorder) hooks() solocron.Hooks {
	add := func(kind string) func(solocron.JobEvent) {
		return func(ev solocron.JobEvent) {
			r.mu.Lock()
			r.events = append(r.events, recorded{kind, ev})
			r.mu.Unlock()
		}
	}
	return solocron.Hooks{OnJobStart: add("start"), OnJobFinish: add("finish"), OnJobSkip: add("skip")}
}

// mark is where the events so far end, for find and await.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// count returns how many events of the kind there were.
func (r *recorder) count(kind string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.kind == kind {
			n++
		}
	}
	return n
}

// find returns the first event from mark that matches.
func (r *recorder) find(from int, match func(recorded) bool) (recorded, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events[from:] {
		if match(ev) {
			return ev, true
		}
	}
	return recorded{}, false
}

// await waits for an event from mark that matches.
func (r *recorder) await(t *testing.T, from int, within time.Duration, what string, match func(recorded) bool) recorded {
	t.Helper()
	var ev recorded
	eventually(t, within, what, func() bool {
		var ok bool
		ev, ok = r.find(from, match)
		return ok
	})
	return ev
}
