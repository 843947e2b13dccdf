package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/solocron/solocron/internal/leasetiming"
)

// Defaults. A standby takes over at most TTL (+ one round trip) after the
// leader dies, and at once after it releases (it is told on a channel).
const (
	DefaultPrefix       = "solocron:"
	DefaultTTL          = 10 * time.Second
	DefaultPollInterval = 500 * time.Millisecond
	MinTTL              = 100 * time.Millisecond
)

// Options configures an Elector. Exactly one of URL and Client is set.
type Options struct {
	// URL is redis://[user:password@]host:port/db, or rediss:// for TLS.
	// The Elector owns the client it makes and closes it in Close.
	URL string
	// TLSConfig, if set, is used for rediss:// URLs (a private CA, a
	// client certificate). It is ignored with Client.
	TLSConfig *tls.Config

	// Client is an existing client, for example one the application
	// already configured. Close does not close it. Give it a
	// ContextTimeoutEnabled option so that renewals honour their deadline
	// (the lease is safe without it, but a hung read is abandoned later).
	Client goredis.UniversalClient

	// App names the application: processes with the same App (and
	// Prefix) on the same server contend; other apps are independent.
	// Required.
	App string
	// Prefix starts every key, "solocron:" by default. Keys are
	// <Prefix>{<App>}:lease and so on: the braces keep them in one Redis
	// Cluster slot so the Lua scripts may touch them all.
	Prefix string

	// TTL is how long the lease lives in Redis without renewal, and so
	// the longest a crashed leader's lease blocks the others. Default 10s.
	TTL time.Duration
	// RenewInterval is how often the leader renews. Default TTL/3. It
	// must leave room for a failed renewal to be retried before the
	// leader gives up: at most (TTL - Margin) / 2.
	RenewInterval time.Duration
	// Margin is how long before its lease could expire in Redis the
	// leader stops acting when it cannot renew: it gives up at
	// start of last successful renewal + TTL - Margin, on the monotonic
	// clock. It covers clock-rate drift and the time to stop. Default
	// TTL/5.
	Margin time.Duration
	// PollInterval is how often a standby tries to take the lease when it
	// cannot subscribe to release notifications (an ACL without channel
	// rights), and when the holder's lease has no expiry to wait for.
	// Otherwise a standby wakes only when the lease is released (pub/sub)
	// and when it is due to expire. Default 500ms.
	PollInterval time.Duration

	// Replicas, when above 0, makes every acquisition, claim and
	// completion wait (WAIT) until that many replicas have it, so that a
	// failover to one of them keeps the lease, the term and the ledger.
	// A claim not acknowledged within ReplicaTimeout fails with
	// ErrNotReplicated and its ticks do not run (at most once). Not with
	// a ClusterClient.
	Replicas int
	// ReplicaTimeout bounds each WAIT. Default RenewInterval/2, at most
	// RenewInterval.
	ReplicaTimeout time.Duration

	// Logger receives go-redis's own log lines (a failed dial, a dropped
	// connection) at WARN, which go-redis otherwise writes to stderr. The
	// Elector itself logs nothing: its errors reach the Scheduler, which
	// logs them through solocron.Options.Logger (pass the same one).
	// go-redis has one logger per process, so the last New given a Logger
	// receives the lines of every go-redis client in the process; until
	// then they go to slog.Default(). To keep a go-redis logger of your
	// own, call goredis.SetLogger after the first New.
	Logger *slog.Logger
}

// withDefaults fills zero fields and validates the timing; the error names
// the offending option.
func (o Options) withDefaults() (Options, error) {
	if (o.URL == "") == (o.Client == nil) {
		return o, errors.New("solocron/redis: set exactly one of Options.URL and Options.Client")
	}
	if o.App == "" {
		return o, errors.New("solocron/redis: Options.App is required: processes of one application share it")
	}
	if strings.ContainsAny(o.App, "{}") || strings.ContainsAny(o.Prefix, "{}") {
		return o, errors.New("solocron/redis: Options.App and Options.Prefix may not contain braces (they delimit the cluster hash tag)")
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	lt := leasetiming.Timing{TTL: o.TTL, RenewInterval: o.RenewInterval, Margin: o.Margin}
	lt, err := lt.WithDefaults("solocron/redis", DefaultTTL, MinTTL)
	if err != nil {
		return o, err
	}
	o.TTL, o.RenewInterval, o.Margin = lt.TTL, lt.RenewInterval, lt.Margin
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.PollInterval < 0 {
		return o, fmt.Errorf("solocron/redis: Options.PollInterval %v must be positive", o.PollInterval)
	}
	return o.replicaDefaults()
}

func (o Options) replicaDefaults() (Options, error) {
	if o.Replicas < 0 {
		return o, fmt.Errorf("solocron/redis: Options.Replicas %d must not be negative", o.Replicas)
	}
	if o.Replicas == 0 {
		return o, nil
	}
	if _, ok := o.Client.(*goredis.ClusterClient); ok {
		return o, errors.New("solocron/redis: Options.Replicas is not supported with a ClusterClient")
	}
	if o.ReplicaTimeout == 0 {
		o.ReplicaTimeout = o.RenewInterval / 2
	}
	if o.ReplicaTimeout < time.Millisecond || o.ReplicaTimeout > o.RenewInterval {
		return o, fmt.Errorf("solocron/redis: Options.ReplicaTimeout %v must be between 1ms and RenewInterval (%v)", o.ReplicaTimeout, o.RenewInterval)
	}
	return o, nil
}
