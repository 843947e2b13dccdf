// Package redis is a solocron.Elector on one Redis server: a lease key
// (SET NX PX) renewed by its holder, a term as fencing token, and the tick
// ledger in a hash, all checked and written by Lua scripts; the jobs'
// control state (paused, requested runs) in a second hash any process
// writes. A new term is max(previous + 1, Redis TIME in µs), so terms grow
// even after every key was lost, provided Redis's clock does not step back
// further than the time since the last term began.
//
//	e, err := redis.New(redis.Options{URL: os.Getenv("REDIS_URL"), App: "billing"})
//	s, err := solocron.New(solocron.Options{Elector: e})
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/redact"
)

// Elector elects one leader among the processes that share a Redis server
// and an App name.
type Elector struct {
	opt     Options
	client  goredis.UniversalClient
	owned   bool     // the client was made from Options.URL: Close closes it
	where   string   // host:port/db without credentials
	secrets []string // credentials to scrub from errors
	keys    keys
}

// New returns an Elector. It does not connect: a server that is down is
// reported by Campaign and Holder.
func New(opt Options) (*Elector, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	useLogger(opt.Logger)
	e := &Elector{opt: opt, keys: newKeys(opt.Prefix, opt.App)}
	if opt.Client != nil {
		e.client, e.where = opt.Client, describeClient(opt.Client)
	} else {
		c, where, secrets, err := dialURL(opt)
		if err != nil {
			return nil, err
		}
		e.client, e.where, e.secrets, e.owned = c, where, secrets, true
	}
	return e, nil
}

// String names where leadership lives, without credentials.
func (e *Elector) String() string {
	return fmt.Sprintf("redis %s app %s (key %s)", e.where, e.opt.App, e.keys.lease)
}

// Close closes the client the Elector made from Options.URL. Release
// leases first: a closed client cannot renew or release them.
func (e *Elector) Close() error {
	if !e.owned {
		return nil
	}
	return e.client.Close()
}

// wrap adds context to an error from Redis and scrubs credentials from it.
func (e *Elector) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return redact.Error(fmt.Errorf("solocron/redis: %s on %s app %s: %w", op, e.where, e.opt.App, err), e.secrets)
}

// Campaign blocks until this process holds the lease. A standby tries
// again when the leader publishes that it released and when the lease it
// saw is due to expire; it polls every PollInterval only when it cannot
// receive those notifications (an ACL without channel rights). By that
// expiry the leader has renewed, so an idle standby tries about once per
// TTL (every TTL - RenewInterval at the least): each try is what a
// SIGKILLed leader's successor needs to take over as its lease expires.
func (e *Elector) Campaign(ctx context.Context, c solocron.Candidate) (solocron.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	released, stop := e.subscribe(ctx)
	defer stop()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		start := time.Now()
		a, err := e.acquire(ctx, token, c)
		if err != nil {
			if ctx.Err() != nil {
				e.abandon(token) // in case the acquisition succeeded unseen
				return nil, ctx.Err()
			}
			e.abandon(token)
			return nil, e.wrap("campaign", err)
		}
		if a.got {
			return newLease(e, token, a.term, a.since, start, e.staleLedger(a.stale)), nil
		}
		timer.Reset(e.standbyWait(a.pttl, released != nil))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-released:
		case <-timer.C:
		}
	}
}

// releaseHealthCheck is how often the release subscription is pinged to
// find a connection that died silently (go-redis's default, 3s, costs an
// idle standby a dozen thread wakeups a second). A release missed meanwhile
// delays a takeover to the lease's expiry, never past it.
const releaseHealthCheck = time.Minute

// subscribe subscribes to release notifications before the first attempt,
// so that a release between an attempt and the wait is not missed. It
// returns a nil channel when the subscription is refused (the standby then
// polls), and a function that ends the subscription.
func (e *Elector) subscribe(ctx context.Context) (<-chan *goredis.Message, func()) {
	ps := e.client.Subscribe(ctx, e.keys.channel)
	confirm, cancel := context.WithTimeout(ctx, e.opt.TTL)
	defer cancel()
	if _, err := ps.Receive(confirm); err != nil {
		_ = ps.Close()
		return nil, func() {}
	}
	ch := ps.Channel(goredis.WithChannelSize(1), goredis.WithChannelHealthCheckInterval(releaseHealthCheck))
	return ch, func() { _ = ps.Close() }
}

// standbyWait is how long a standby waits before its next attempt, given
// the holder's remaining lease (-1 when unknown or gone).
func (e *Elector) standbyWait(pttl time.Duration, notified bool) time.Duration {
	expiry := pttl + time.Millisecond // wake as it expires
	switch {
	case pttl < 0:
		return e.opt.PollInterval
	case notified:
		return expiry
	}
	return min(expiry, e.opt.PollInterval)
}

// attempt is the outcome of one acquisition attempt.
type attempt struct {
	got   bool
	term  uint64
	since time.Time
	stale string        // the acquire script's stale: "<ledger's term>/<counter>", or empty
	pttl  time.Duration // when not got: the other holder's remaining lease (-1 unknown)
}

// acquire runs one attempt.
func (e *Elector) acquire(ctx context.Context, token string, c solocron.Candidate) (attempt, error) {
	v, err := e.run(ctx, acquireScript,
		[]string{e.keys.lease, e.keys.term, e.keys.holder, e.keys.ledger},
		token, e.opt.TTL.Milliseconds(), c.PID, c.Hostname, c.App, c.Jobs).Slice()
	if err != nil {
		return attempt{}, err
	}
	if len(v) < 2 {
		return attempt{}, fmt.Errorf("unexpected reply %v", v)
	}
	if n, _ := v[0].(int64); n == 0 {
		ms, _ := v[1].(int64)
		return attempt{pttl: time.Duration(ms) * time.Millisecond}, nil
	}
	if len(v) < 4 {
		return attempt{}, fmt.Errorf("unexpected reply %v", v)
	}
	term, err := strconv.ParseUint(fmt.Sprint(v[1]), 10, 64)
	if err != nil {
		return attempt{}, fmt.Errorf("bad term in reply: %w", err)
	}
	micros, err := strconv.ParseInt(fmt.Sprint(v[2]), 10, 64)
	if err != nil {
		return attempt{}, fmt.Errorf("bad time in reply: %w", err)
	}
	stale, _ := v[3].(string)
	return attempt{got: true, term: term, since: time.UnixMicro(micros).UTC(), stale: stale}, nil
}

// abandon deletes the lease if an attempt that reported an error did take
// it, so that it does not block the others for a TTL. Best effort.
func (e *Elector) abandon(token string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = releaseScript.Run(ctx, e.client, []string{e.keys.lease, e.keys.holder}, token, e.keys.channel).Err()
}

// Holder reports who leads, or solocron.ErrNoHolder.
func (e *Elector) Holder(ctx context.Context) (solocron.Holder, error) {
	v, err := holderScript.Run(ctx, e.client, []string{e.keys.lease, e.keys.holder}).StringSlice()
	if errors.Is(err, goredis.Nil) || (err == nil && len(v) < 6) {
		return solocron.Holder{}, solocron.ErrNoHolder
	}
	if err != nil {
		return solocron.Holder{}, e.wrap("holder", err)
	}
	term, err1 := strconv.ParseUint(v[0], 10, 64)
	pid, err2 := strconv.Atoi(v[1])
	micros, err3 := strconv.ParseInt(v[3], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return solocron.Holder{}, e.wrap("holder", fmt.Errorf("malformed holder record: %w", err))
	}
	return solocron.Holder{PID: pid, Hostname: v[2], Since: time.UnixMicro(micros).UTC(), Term: term, App: v[4], Jobs: v[5]}, nil
}

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("solocron/redis: random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
