package member

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/bench/internal/engine"
	"github.com/solocron/solocron/bench/internal/proc"
	"github.com/solocron/solocron/postgres"
)

// The exactly-once chaos variant's tables (in the server's default
// schema), their rows keyed by the cluster's shared key.
const (
	EffectsTable  = "solobench_effects"  // app, job, tick, term, pid, retry: one row per run's effect
	CountersTable = "solobench_counters" // app, job, n: one counter per job
)

// TxTTL is the lease TTL of the exactly-once variant: a frozen leader is
// replaced about a TTL after its last renewal.
const TxTTL = 2 * time.Second

// The pause points a kill is aimed at: right after the claim (the job's
// first step, opening its transaction), right before the COMMIT is sent
// (the term checked and the tick completed in the transaction), right
// after the commit (before the Scheduler records the completion).
const (
	WindowClaim     = "claim"
	WindowCommit    = "commit"
	WindowCommitted = "committed"
)

// txJob sets opts up for the exactly-once variant: a PostgreSQL elector
// with TxTTL, and a job that increments its counter and inserts its tick
// in one RunTx. arm makes the next run that reaches a window emit
// "paused WINDOW JOB TICK_UNIX_S TERM" and wait there to be killed.
func txJob(opts *solocron.Options, shared, spec string) (j solocron.Job, arm func(string), closeDB func(), err error) {
	e, err := postgres.New(postgres.Options{URL: engine.PostgresURL(), App: shared, TTL: TxTTL})
	if err != nil {
		return j, nil, nil, err
	}
	cfg, err := pgxpool.ParseConfig(engine.PostgresURL())
	if err != nil {
		return j, nil, nil, err
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return j, nil, nil, err
	}
	opts.Elector = e
	db := &pausing{Pool: pool}
	pid := os.Getpid()
	effect := func(ctx context.Context, tx pgx.Tx) error {
		r, _ := solocron.RunFrom(ctx)
		if _, err := tx.Exec(ctx, `UPDATE `+CountersTable+` SET n = n + 1 WHERE app = $1 AND job = $2`, shared, r.Job); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+EffectsTable+` (app, job, tick, term, pid, retry) VALUES ($1, $2, $3, $4, $5, $6)`,
			shared, r.Job, r.Tick, int64(r.Term), pid, r.Retry)
		return err
	}
	j = e.TxJob(solocron.Job{Name: "bench", Spec: spec, Misfire: solocron.MisfireRunAll, Overlap: solocron.OverlapQueue}, db, effect)
	return j, func(w string) { db.armed.Store(&w) }, pool.Close, nil
}

// pausing is a pool whose transactions stop at the armed window.
type pausing struct {
	*pgxpool.Pool
	armed atomic.Pointer[string]
}

func (p *pausing) BeginTx(ctx context.Context, o pgx.TxOptions) (pgx.Tx, error) {
	p.stop(ctx, WindowClaim)
	tx, err := p.Pool.BeginTx(ctx, o)
	return &pausingTx{Tx: tx, p: p}, err
}

// stop emits where the run is and waits, if w is armed (taking it).
func (p *pausing) stop(ctx context.Context, w string) {
	if a := p.armed.Load(); a == nil || *a != w || !p.armed.CompareAndSwap(a, nil) {
		return
	}
	r, _ := solocron.RunFrom(ctx)
	proc.Emit("paused", w, r.Job, strconv.FormatInt(r.Tick.Unix(), 10), strconv.FormatUint(r.Term, 10))
	time.Sleep(5 * time.Second) // the harness kills it long before
}

type pausingTx struct {
	pgx.Tx
	p *pausing
}

func (tx *pausingTx) Commit(ctx context.Context) error {
	tx.p.stop(ctx, WindowCommit)
	err := tx.Tx.Commit(ctx)
	if err == nil {
		tx.p.stop(ctx, WindowCommitted)
	}
	return err
}
