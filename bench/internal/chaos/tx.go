package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/solocron/solocron/bench/internal/cluster"
	"github.com/solocron/solocron/bench/internal/engine"
	"github.com/solocron/solocron/bench/internal/member"
	"github.com/solocron/solocron/bench/internal/proc"
)

// Variant names the exactly-once chaos in a Row.
const Variant = "tx"

// txActions are the exactly-once variant's faults, in turn: kills aimed
// at each pause window, kills at a uniformly random moment, and a freeze
// (SIGSTOP) of the leader until another process leads, then SIGCONT: a
// zombie that wakes in the middle of its transaction.
var txActions = []string{member.WindowClaim, "random", member.WindowCommit, member.WindowCommitted, "random", "freeze"}

// aim is a kill aimed into a window: the run that paused there.
type aim struct {
	window, job string
	tick        time.Time
	term        int64
}

// runTx runs the exactly-once variant: the members' job increments a
// counter and inserts a row for its tick in one postgres RunTx.
func runTx(row *Row, memberArgs []string, cfg Config) error {
	shared := memberArgs[slices.Index(memberArgs, "-shared")+1]
	ctx := context.Background()
	db, err := pgx.Connect(ctx, engine.PostgresURL())
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	_, err = db.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+member.EffectsTable+` (app text NOT NULL, job text NOT NULL,
			tick timestamptz NOT NULL, term bigint NOT NULL, pid integer NOT NULL, retry boolean NOT NULL);
		CREATE TABLE IF NOT EXISTS `+member.CountersTable+` (app text, job text, n bigint NOT NULL, PRIMARY KEY (app, job))`)
	if err != nil { // no unique key on the effects: a second effect must show
		return err
	}
	if _, err := db.Exec(ctx, `INSERT INTO `+member.CountersTable+` VALUES ($1, 'bench', 0)`, shared); err != nil {
		return err
	}
	defer func() {
		for _, t := range []string{member.EffectsTable, member.CountersTable} {
			db.Exec(ctx, `DELETE FROM `+t+` WHERE app = $1`, shared)
		}
	}()

	var aims []aim
	if err := txChaos(row, append(memberArgs, "-spec", "* * * * * *", "-tx"), cfg, &aims); err != nil {
		return err
	}
	if err := dumpEffects(ctx, db, shared, row.Log); err != nil {
		return err
	}
	if err := db.QueryRow(ctx, `SELECT n FROM `+member.CountersTable+` WHERE app = $1`, shared).Scan(&row.Counter); err != nil {
		return err
	}
	return row.checkAims(ctx, db, shared, aims)
}

func txChaos(row *Row, args []string, cfg Config, aims *[]aim) error {
	cl := cluster.New(args)
	defer cl.Close()
	for range cfg.Members {
		if _, err := cl.Add(); err != nil {
			return err
		}
	}
	row.Aimed = map[string]int{}
	start := time.Now()
	for i := 0; time.Since(start) < cfg.Duration; i++ {
		cl.Sleep(cfg.MinGap + rand.N(cfg.MaxGap-cfg.MinGap+1))
		leader, ok := cl.Leader()
		if !ok {
			continue
		}
		switch a := txActions[i%len(txActions)]; a {
		case "freeze":
			if err := freeze(cl, leader); err != nil {
				return err
			}
			row.Freezes++
			continue
		case "random":
		default:
			if err := leader.Send("arm " + a); err != nil {
				return err
			}
			ev, err := cl.Await(3*time.Second, func(ev proc.Event) bool { return ev.PID == leader.PID && ev.Kind == "paused" })
			if err == nil && len(ev.Fields) == 4 {
				sec, _ := strconv.ParseInt(ev.Fields[2], 10, 64)
				term, _ := strconv.ParseInt(ev.Fields[3], 10, 64)
				*aims = append(*aims, aim{window: ev.Fields[0], job: ev.Fields[1], tick: time.Unix(sec, 0), term: term})
				row.Aimed[a]++
			}
		}
		if err := row.kill(cl, leader); err != nil {
			return err
		}
	}
	// Let the last leader run what the last fault left.
	cl.Sleep(3 * time.Second)
	row.Seconds = time.Since(start).Seconds()
	return nil
}

// freeze stops the leader until another member leads, then lets it run
// on: its lease has expired, its transaction may still be open.
func freeze(cl *cluster.Cluster, leader *proc.Child) error {
	if err := syscall.Kill(leader.PID, syscall.SIGSTOP); err != nil {
		return err
	}
	defer syscall.Kill(leader.PID, syscall.SIGCONT)
	_, err := cl.Await(member.TxTTL+10*time.Second, func(ev proc.Event) bool { return ev.Kind == "leading" && ev.PID != leader.PID })
	if err != nil {
		return fmt.Errorf("nobody led while the leader was frozen: %w", err)
	}
	cl.Sleep(time.Second)
	return nil
}

// dumpEffects writes the effects as a chaos log, for Count.
func dumpEffects(ctx context.Context, db *pgx.Conn, shared, path string) error {
	rows, err := db.Query(ctx, `SELECT job, tick, pid, term FROM `+member.EffectsTable+` WHERE app = $1 ORDER BY tick`, shared)
	if err != nil {
		return err
	}
	defer rows.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for rows.Next() {
		var job string
		var tick time.Time
		var pid int
		var term int64
		if err := rows.Scan(&job, &tick, &pid, &term); err != nil {
			return err
		}
		fmt.Fprintf(f, "%s %s %d %d\n", job, tick.UTC().Format(member.TickLayout), pid, term)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return f.Close()
}

// checkAims checks each aimed kill's tick: one effect, by a later term if
// the kill came before the commit, by the killed term if after.
func (row *Row) checkAims(ctx context.Context, db *pgx.Conn, shared string, aims []aim) error {
	for _, a := range aims {
		var n int
		var term int64
		err := db.QueryRow(ctx, `SELECT count(*), coalesce(max(term), 0) FROM `+member.EffectsTable+`
			WHERE app = $1 AND job = $2 AND tick = $3`, shared, a.job, a.tick).Scan(&n, &term)
		if err != nil {
			return err
		}
		after := a.window == member.WindowCommitted
		if n != 1 || (term == a.term) != after {
			row.AimedWrong++
			row.example(fmt.Sprintf("killed in the %s window at tick %s (term %d): %d effects, by term %d",
				a.window, a.tick.UTC().Format(member.TickLayout), a.term, n, term))
		}
	}
	return nil
}
