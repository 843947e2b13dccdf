package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
)

// The ledger lives in one hash per application. Every method is one
// script run (one round trip, however many jobs), fenced by the lease
// token and the term inside the script.

// maxMicros bounds ticks so that Lua, whose numbers are doubles, compares
// them exactly: 2^53 µs is about 285 years either side of 1970.
const maxMicros = 1 << 53

func micros(job string, t time.Time) (string, error) {
	us := t.UnixMicro()
	if us >= maxMicros || us <= -maxMicros {
		return "", fmt.Errorf("solocron/redis: tick %v of job %q is out of range", t, job)
	}
	return strconv.FormatInt(us, 10), nil
}

func fromMicros(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	us, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("solocron/redis: malformed tick %q in ledger", s)
	}
	return time.UnixMicro(us).UTC(), nil
}

// ErrLedgerLost is returned (wrapped) by the ledger methods when the
// ledger hash no longer holds the term that is writing (it was deleted or
// replaced during the term). It is not ErrNotLeader: the lease is still
// ours, but the Scheduler steps down after three failed claims, and the
// next term finds the ledger stale (LedgerStale) instead of trusting it.
var ErrLedgerLost = errors.New("solocron/redis: the ledger no longer holds this term")

// fenced turns the scripts' NOTLEADER into an error wrapping
// solocron.ErrNotLeader and ends the term: Redis says it is over. It
// turns LEDGERLOST into ErrLedgerLost.
func (l *lease) fenced(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case goredis.HasErrorPrefix(err, notLeader):
		l.lose(ErrLeaseTaken)
		return fmt.Errorf("%w: %s refused, term %d: %v", solocron.ErrNotLeader, op, l.term, ErrLeaseTaken)
	case goredis.HasErrorPrefix(err, ledgerLost):
		return l.e.wrap(op, fmt.Errorf("%w: %s does not hold term %d (deleted or replaced since the term began)",
			ErrLedgerLost, l.e.keys.ledger, l.term))
	}
	return l.e.wrap(op, err)
}

// Records returns the records of the named jobs.
func (l *lease) Records(ctx context.Context, jobs []string) (map[string]solocron.Record, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	args := make([]any, 0, len(l.args)+len(jobs))
	args = append(args, l.args...)
	for _, j := range jobs {
		args = append(args, j)
	}
	v, err := recordsScript.Run(ctx, l.e.client, []string{l.e.keys.lease, l.e.keys.term, l.e.keys.ledger}, args...).StringSlice()
	if err != nil {
		return nil, l.fenced("records", err)
	}
	if len(v) != 4*len(jobs) {
		return nil, fmt.Errorf("solocron/redis: records: %d values for %d jobs", len(v), len(jobs))
	}
	out := make(map[string]solocron.Record)
	for i, j := range jobs {
		c, d, f, n := v[4*i], v[4*i+1], v[4*i+2], v[4*i+3]
		if c == "" && d == "" && f == "" && n == "" {
			continue
		}
		r, err := decodeRecord(c, d, f, n)
		if err != nil {
			return nil, l.e.wrap("records", fmt.Errorf("job %q: %w", j, err))
		}
		out[j] = r
	}
	return out, nil
}

// Claim claims all the ticks in one script run. A retried run (the reply
// was lost and go-redis sent it again) gets the first run's answer.
func (l *lease) Claim(ctx context.Context, claims []solocron.Claim) ([]bool, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if len(claims) == 0 {
		return []bool{}, nil
	}
	nonce, err := newToken()
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, 4+3*len(claims))
	args = append(args, l.token, l.term, nonce, l.e.opt.TTL.Milliseconds())
	for _, c := range claims {
		us, err := micros(c.Job, c.Tick)
		if err != nil {
			return nil, err
		}
		retry := "0"
		if c.Retry {
			retry = "1"
		}
		args = append(args, c.Job, us, retry)
	}
	reply, err := l.e.run(ctx, claimScript,
		[]string{l.e.keys.lease, l.e.keys.term, l.e.keys.ledger, l.e.keys.reply}, args...).Text()
	if err != nil {
		return nil, l.fenced("claim", err)
	}
	if len(reply) != len(claims) {
		return nil, fmt.Errorf("solocron/redis: claim: %d answers for %d claims", len(reply), len(claims))
	}
	granted := make([]bool, len(claims))
	for i := range granted {
		granted[i] = reply[i] == '1'
	}
	return granted, nil
}

// Complete records how ticks ended: a completed tick only moves forward,
// a run's outcome replaces the last run's unless that is later, and a
// later next tick replaces the recorded one.
func (l *lease) Complete(ctx context.Context, done []solocron.Outcome) error {
	if err := l.check(); err != nil {
		return err
	}
	if len(done) == 0 {
		return nil
	}
	args := make([]any, 0, len(l.args)+4*len(done))
	args = append(args, l.args...)
	for _, o := range done {
		us, err := micros(o.Job, o.Tick)
		if err != nil {
			return err
		}
		finished := ""
		if o.Ran {
			finished = formatFinished(us, o.Duration, o.Error)
		}
		next := "" // unknown: keeps the recorded one
		if !o.Next.IsZero() {
			if next, err = micros(o.Job, o.Next); err != nil {
				return err
			}
		}
		args = append(args, o.Job, us, finished, next)
	}
	err := l.e.run(ctx, completeScript, []string{l.e.keys.lease, l.e.keys.term, l.e.keys.ledger}, args...).Err()
	return l.fenced("complete", err)
}

// Reset sets the job's claimed and completed ticks to tick, even backwards.
func (l *lease) Reset(ctx context.Context, job string, tick time.Time) error {
	if err := l.check(); err != nil {
		return err
	}
	us, err := micros(job, tick)
	if err != nil {
		return err
	}
	err = l.e.run(ctx, resetScript, []string{l.e.keys.lease, l.e.keys.term, l.e.keys.ledger}, l.token, l.term, job, us).Err()
	return l.fenced("reset", err)
}
