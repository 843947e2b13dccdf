package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron"
)

// What RunTx costs over the same transaction without it: one insert, on a
// pool on localhost. Each RunTx completes a tick claimed outside the timer.
func BenchmarkRunTx(b *testing.B) {
	o := testOptions(b)
	o.TTL = time.Minute
	e := mustNew(b, o)
	ctx := context.Background()
	l, err := e.Campaign(ctx, solocron.Candidate{PID: 1, Hostname: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Release(ctx)
	pool := newPool(b, o.URL)
	effects := pgx.Identifier{o.Schema, "effects"}.Sanitize()
	sqlExec(b, o.URL, `CREATE TABLE `+effects+` (job text NOT NULL, tick timestamptz)`)
	insert := func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO `+effects+` VALUES ('bench', now())`)
		return err
	}
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return insert(ctx, tx) }); err != nil {
				b.Fatal(err)
			}
		}
	})
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // past every run of the sub-benchmark
	b.Run("RunTx", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			tick = tick.Add(time.Second)
			if ok, err := l.Claim(ctx, []solocron.Claim{{Job: "bench", Tick: tick}}); err != nil || !ok[0] {
				b.Fatal(ok, err)
			}
			run := solocron.ContextWithRun(ctx, solocron.Run{Job: "bench", Tick: tick, Term: l.Term()})
			b.StartTimer()
			if err := e.RunTx(run, pool, insert); err != nil {
				b.Fatal(err)
			}
		}
	})
}
