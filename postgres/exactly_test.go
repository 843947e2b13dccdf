package postgres

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/solocron/solocron"
)

// Environment of the exactly-once workers.
const (
	effectJobsEnv = "SOLOCRON_PG_EFFECT_JOBS" // how many jobs each worker runs
	chaosDurEnv   = "SOLOCRON_PG_CHAOS_DUR"   // how long the chaos lasts; 45s by default
)

// The windows a kill is aimed into, each a pause point of the worker's
// jobs: right after the claim (the job's first step, opening its
// transaction), right before the COMMIT is sent (the term checked and the
// tick completed in the transaction), right after the commit (before the
// Scheduler records the completion itself).
const (
	windowClaim     = "claim"
	windowCommit    = "commit"
	windowCommitted = "committed"
)

// effectTables are the chaos test's tables, in the test's schema: one row
// per run's effect, and one counter per job.
func effectTables(o Options) (effects, counters string) {
	return pgx.Identifier{o.Schema, "effects"}.Sanitize(), pgx.Identifier{o.Schema, "counters"}.Sanitize()
}

// exactlyWorker runs a Scheduler whose jobs (every second) each increment
// their counter and insert a row for their tick in one RunTx. "arm WINDOW"
// on stdin makes the next run that reaches WINDOW say "paused WINDOW job
// tick term" and wait there to be killed; closing stdin stops it.
func exactlyWorker(t *testing.T, e *Elector) {
	jobs, _ := strconv.Atoi(os.Getenv(effectJobsEnv))
	cfg, err := pgxpool.ParseConfig(e.opt.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := solocron.New(solocron.Options{
		Elector: e, Seconds: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Hooks:  solocron.Hooks{OnLeading: func(ev solocron.LeadershipEvent) { say("leading %d", ev.Term) }},
	})
	if err != nil {
		t.Fatal(err)
	}
	effects, counters := effectTables(e.opt)
	effect := func(ctx context.Context, tx pgx.Tx) error {
		run, _ := solocron.RunFrom(ctx)
		if _, err := tx.Exec(ctx, `UPDATE `+counters+` SET n = n + 1 WHERE job = $1`, run.Job); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+effects+` (job, tick, term, pid, retry) VALUES ($1, $2, $3, $4, $5)`,
			run.Job, run.Tick, int64(run.Term), os.Getpid(), run.Retry)
		return err
	}
	db := &pausingDB{Pool: pool}
	for i := range jobs {
		j := solocron.Job{
			Name: fmt.Sprintf("effect-%d", i), Spec: "* * * * * *",
			// Ticks that fell due during a takeover run late, in order,
			// rather than being passed over by policy: every second from
			// the first tick to the last must have its effect.
			Misfire: solocron.MisfireRunAll, Overlap: solocron.OverlapQueue,
		}
		if err := s.Add(e.TxJob(j, db, effect)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if w, ok := strings.CutPrefix(in.Text(), "arm "); ok {
			db.armed.Store(&w)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		say("stop error %v", err)
	}
}

// pausingDB is a pool whose transactions pause at the armed window.
type pausingDB struct {
	*pgxpool.Pool
	armed atomic.Pointer[string]
}

func (d *pausingDB) BeginTx(ctx context.Context, o pgx.TxOptions) (pgx.Tx, error) {
	d.pause(ctx, windowClaim)
	tx, err := d.Pool.BeginTx(ctx, o)
	return &pausingTx{Tx: tx, d: d}, err
}

// pause says where the run is and waits to be killed, if w is armed.
func (d *pausingDB) pause(ctx context.Context, w string) {
	if p := d.armed.Load(); p == nil || *p != w || !d.armed.CompareAndSwap(p, nil) {
		return
	}
	run, _ := solocron.RunFrom(ctx)
	say("paused %s %s %d %d", w, run.Job, run.Tick.Unix(), run.Term)
	time.Sleep(5 * time.Second) // killed long before
}

type pausingTx struct {
	pgx.Tx
	d *pausingDB
}

func (tx *pausingTx) Commit(ctx context.Context) error {
	tx.d.pause(ctx, windowCommit)
	err := tx.Tx.Commit(ctx)
	if err == nil {
		tx.d.pause(ctx, windowCommitted)
	}
	return err
}

// chaosWorker is one process of the chaos cluster, with its own TCP proxy
// to the server, so that it can be cut off alone.
type chaosWorker struct {
	*child
	p *proxy
}

type chaosLine struct {
	pid  int
	text string
}

// chaosCluster runs exactlyWorkers and follows who leads.
type chaosCluster struct {
	t       *testing.T
	o       Options
	env     []string
	workers map[int]*chaosWorker
	lines   chan chaosLine
	leader  int
}

func (c *chaosCluster) spawn() {
	p, po := proxied(c.t, c.o)
	w := &chaosWorker{child: startChild(c.t, "exactly", po, c.env...), p: p}
	pid := w.cmd.Process.Pid
	c.workers[pid] = w
	go func() {
		for s := range w.lines {
			c.lines <- chaosLine{pid, s}
		}
	}()
}

// await reads the workers' lines until match accepts one, or timeout.
func (c *chaosCluster) await(timeout time.Duration, match func(chaosLine) bool) (chaosLine, bool) {
	deadline := time.After(timeout)
	for {
		select {
		case l := <-c.lines:
			if strings.HasPrefix(l.text, "leading ") && c.workers[l.pid] != nil {
				c.leader = l.pid
			}
			if match(l) {
				return l, true
			}
		case <-deadline:
			return chaosLine{}, false
		}
	}
}

func (c *chaosCluster) sleep(d time.Duration) { c.await(d, func(chaosLine) bool { return false }) }

// awaitLeader returns the leader, waiting for one other than not.
func (c *chaosCluster) awaitLeader(not int) *chaosWorker {
	c.t.Helper()
	if c.leader != 0 && c.leader != not {
		return c.workers[c.leader]
	}
	if _, ok := c.await(15*time.Second, func(chaosLine) bool { return c.leader != 0 && c.leader != not }); !ok {
		c.t.Fatal("no worker led within 15s")
	}
	return c.workers[c.leader]
}

// kill SIGKILLs w, closes its proxy and starts a replacement.
func (c *chaosCluster) kill(w *chaosWorker) {
	c.t.Helper()
	pid := w.cmd.Process.Pid
	if err := w.cmd.Process.Kill(); err != nil {
		c.t.Fatal(err)
	}
	_ = w.cmd.Wait()
	w.p.close()
	delete(c.workers, pid)
	if c.leader == pid {
		c.leader = 0
	}
	c.spawn()
}

// aimed is a kill aimed into a window: the run that paused there.
type aimed struct {
	window, job string
	tick        time.Time
	term        int64
}

// Exactly-once effects with PostgreSQL, with real processes and the real
// server: 4 workers run 8 jobs every second, each incrementing its counter
// and inserting a row for its tick in one RunTx. The leader is SIGKILLed
// at uniformly random moments and at aimed ones (right after the claim,
// right before the COMMIT, right after it), and cut off through its TCP
// proxy; then every job's ticks from its first to its last must each have
// exactly one row, and every counter must equal its job's rows.
// SOLOCRON_PG_CHAOS_DUR lengthens the chaos (45s by default, 360 ticks).
func TestExactlyOnceEffectsUnderChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process chaos test")
	}
	t.Parallel()
	dur := 45 * time.Second
	if d, err := time.ParseDuration(os.Getenv(chaosDurEnv)); err == nil {
		dur = d
	}
	const workers, jobs = 4, 8
	o := testOptions(t)
	o.TTL = 2 * time.Second // a partitioned leader is replaced in about 2s
	effects, counters := effectTables(o)
	sqlExec(t, o.URL, `CREATE SCHEMA `+newTables(o).schema)
	sqlExec(t, o.URL, `CREATE TABLE `+effects+` (job text NOT NULL, tick timestamptz NOT NULL, term bigint NOT NULL,
		pid integer NOT NULL, retry boolean NOT NULL)`) // no unique key: a second effect must show
	sqlExec(t, o.URL, `CREATE TABLE `+counters+` (job text PRIMARY KEY, n bigint NOT NULL)`)
	sqlExec(t, o.URL, `INSERT INTO `+counters+` SELECT 'effect-' || i, 0 FROM generate_series(0, $1 - 1) i`, jobs)

	c := &chaosCluster{t: t, o: o, env: []string{effectJobsEnv + "=" + strconv.Itoa(jobs)},
		workers: map[int]*chaosWorker{}, lines: make(chan chaosLine, 4096)}
	for range workers {
		c.spawn()
	}
	var aims []aimed
	kills, partitions, missed := 0, 0, 0
	actions := []string{windowClaim, "random", windowCommit, windowCommitted, "random", "partition"}
	for i, start := 0, time.Now(); time.Since(start) < dur; i++ {
		leader := c.awaitLeader(0)
		c.sleep(time.Duration(500+rand.IntN(1000)) * time.Millisecond)
		if c.leader != leader.cmd.Process.Pid {
			continue
		}
		switch a := actions[i%len(actions)]; a {
		case "random":
			c.sleep(time.Duration(rand.IntN(1000)) * time.Millisecond)
			c.kill(leader)
			kills++
		case "partition":
			leader.p.partition()
			c.awaitLeader(leader.cmd.Process.Pid)
			c.kill(leader) // a zombie behind a dead network: retire it
			partitions++
		default:
			pid := leader.cmd.Process.Pid
			leader.send(t, "arm "+a)
			l, ok := c.await(3*time.Second, func(l chaosLine) bool { return l.pid == pid && strings.HasPrefix(l.text, "paused ") })
			c.kill(leader)
			kills++
			if !ok {
				missed++ // it lost leadership before reaching the window
				continue
			}
			f := strings.Fields(l.text)
			sec, _ := strconv.ParseInt(f[3], 10, 64)
			term, _ := strconv.ParseInt(f[4], 10, 64)
			aims = append(aims, aimed{window: f[1], job: f[2], tick: time.Unix(sec, 0), term: term})
		}
	}
	c.awaitLeader(0)
	c.sleep(3 * time.Second) // the last leader runs what the last kill left
	for _, w := range c.workers {
		_ = w.stdin.Close() // Stop
	}
	for _, w := range c.workers {
		_ = w.cmd.Wait()
	}
	t.Logf("%v of chaos: %d SIGKILLs (%d aimed, %d missed their window), %d partitions", dur, kills, len(aims), missed, partitions)

	checkEffects(t, o, jobs, aims)
	hit := map[string]int{}
	for _, a := range aims {
		hit[a.window]++
	}
	for _, w := range []string{windowClaim, windowCommit, windowCommitted} {
		if hit[w] == 0 {
			t.Errorf("no kill landed in the %s window (hits %v)", w, hit)
		}
	}
	if partitions == 0 {
		t.Error("no partition round ran")
	}
}

// checkEffects checks the effects in the database: for each job, one row
// per tick from its first to its last, a counter equal to its rows, the
// ledger's completed tick at its last effect; and for each aimed kill,
// the run's tick done by a later term if the kill came before the commit,
// by the killed term if after.
func checkEffects(t *testing.T, o Options, jobs int, aims []aimed) {
	t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, o.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	effects, counters := effectTables(o)
	total := 0
	rows, err := db.Query(ctx, `SELECT c.job, c.n, count(e.tick), count(DISTINCT e.tick), coalesce(min(e.tick), now()), coalesce(max(e.tick), now()),
			count(*) FILTER (WHERE e.retry), (SELECT completed FROM `+newTables(o).ledger+` l WHERE l.app = $1 AND l.job = c.job)
		FROM `+counters+` c LEFT JOIN `+effects+` e ON e.job = c.job GROUP BY c.job ORDER BY c.job`, o.App)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var job string
		var n, effectRows, ticks, retries int
		var first, last time.Time
		var completed *time.Time
		if err := rows.Scan(&job, &n, &effectRows, &ticks, &first, &last, &retries, &completed); err != nil {
			t.Fatal(err)
		}
		span := int(last.Sub(first)/time.Second) + 1
		switch {
		case effectRows != ticks:
			t.Errorf("%s: %d effects for %d ticks: %d ticks' effects happened twice", job, effectRows, ticks, effectRows-ticks)
		case n != effectRows:
			t.Errorf("%s: counter %d, but %d effects", job, n, effectRows)
		case ticks != span:
			t.Errorf("%s: %d ticks' effects from %v to %v, want %d: %d ticks lost", job, ticks, first, last, span, span-ticks)
		case completed == nil || !completed.Equal(last):
			t.Errorf("%s: the ledger's completed tick %v is not the last effect's %v", job, completed, last)
		}
		t.Logf("%s: %d ticks from %s to %s, each once, counter %d, %d retried", job, ticks,
			first.UTC().Format(time.TimeOnly), last.UTC().Format(time.TimeOnly), n, retries)
		total += effectRows
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := 300; total < want && os.Getenv(chaosDurEnv) == "" {
		t.Errorf("%d effects in all, want at least %d", total, want)
	}
	for _, a := range aims {
		var n int
		var term int64
		err := db.QueryRow(ctx, `SELECT count(*), coalesce(max(term), 0) FROM `+effects+` WHERE job = $1 AND tick = $2`, a.job, a.tick).Scan(&n, &term)
		if err != nil {
			t.Fatal(err)
		}
		after := a.window == windowCommitted
		if n != 1 || (term == a.term) != after {
			t.Errorf("killed in the %s window at %s %v (term %d): %d effects, by term %d; want 1, by %s",
				a.window, a.job, a.tick.UTC(), a.term, n, term, map[bool]string{true: "that term", false: "a later term"}[after])
		}
	}
}
