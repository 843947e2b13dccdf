package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
)

// The jobs' control state lives in a hash of its own, apart from the
// ledger: any process writes it, leading or not, without the fence, and
// the leader reads it every second with one HGETALL of a hash that holds
// only the paused and requested jobs. Replicas (WAIT) do not apply: a
// pause or request lost in a failover is made again, no tick runs twice.
const (
	pausedField    = "p:" // + job: "1" while paused; deleted on resume
	requestedField = "r:" // + job: the last requested run, µs; kept
)

// Observe reads the whole ledger and the control state in one round trip.
func (e *Elector) Observe(ctx context.Context) (map[string]solocron.Record, error) {
	var ledger, control *goredis.MapStringStringCmd
	_, err := e.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		ledger = p.HGetAll(ctx, e.keys.ledger)
		control = p.HGetAll(ctx, e.keys.control)
		return nil
	})
	if err != nil {
		return nil, e.wrap("observe", err)
	}
	records, err := decodeLedger(ledger.Val())
	if err != nil {
		return nil, e.wrap("observe", fmt.Errorf("%s: %w", e.keys.ledger, err))
	}
	ctl, err := e.decodeControl(control.Val())
	if err != nil {
		return nil, e.wrap("observe", err)
	}
	for job, c := range ctl {
		r := records[job]
		r.Control = c
		records[job] = r
	}
	return records, nil
}

// Control reads the jobs that are paused or have a run requested.
func (e *Elector) Control(ctx context.Context) (map[string]solocron.Control, error) {
	h, err := e.client.HGetAll(ctx, e.keys.control).Result()
	if err != nil {
		return nil, e.wrap("control", err)
	}
	ctl, err := e.decodeControl(h)
	return ctl, e.wrap("control", err)
}

// SetPaused sets the job's paused flag, or deletes it: one command.
func (e *Elector) SetPaused(ctx context.Context, job string, paused bool) error {
	if err := checkControlJob(job); err != nil {
		return err
	}
	var err error
	if paused {
		err = e.client.HSet(ctx, e.keys.control, pausedField+job, "1").Err()
	} else {
		err = e.client.HDel(ctx, e.keys.control, pausedField+job).Err()
	}
	return e.wrap("set paused", err)
}

// RequestRun sets the job's request to Redis's clock, later than the
// previous request (requestScript).
func (e *Elector) RequestRun(ctx context.Context, job string) error {
	if err := checkControlJob(job); err != nil {
		return err
	}
	err := requestScript.Run(ctx, e.client, []string{e.keys.control}, requestedField+job).Err()
	if err != nil && !errors.Is(err, ctx.Err()) && strings.Contains(err.Error(), "malformed") {
		err = fmt.Errorf("%s: job %q: %w", e.keys.control, job, err)
	}
	return e.wrap("request run", err)
}

// checkControlJob refuses the one name no job can have. (The ledger, as
// Redis stores it, takes any other string.)
func checkControlJob(job string) error {
	if job == "" {
		return errors.New("solocron/redis: the job name is empty")
	}
	return nil
}

// decodeControl turns the control hash into the jobs' control state;
// fields it does not know are skipped, for a later version's sake.
func (e *Elector) decodeControl(h map[string]string) (map[string]solocron.Control, error) {
	out := make(map[string]solocron.Control)
	for field, v := range h {
		switch {
		case strings.HasPrefix(field, pausedField):
			if v != "1" {
				continue
			}
			job := field[len(pausedField):]
			c := out[job]
			c.Paused = true
			out[job] = c
		case strings.HasPrefix(field, requestedField):
			at, err := fromMicros(v)
			if err != nil {
				return nil, fmt.Errorf("%s: field %q: %w", e.keys.control, field, err)
			}
			if at.IsZero() {
				continue
			}
			job := field[len(requestedField):]
			c := out[job]
			c.Requested = at
			out[job] = c
		}
	}
	return out, nil
}
