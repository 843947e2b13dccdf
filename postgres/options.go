package postgres

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/solocron/solocron/internal/leasetiming"
)

// Defaults. After a leader crashes (SIGKILL, OOM kill, power cut of its
// host with the connection reset) a standby takes over in a few
// milliseconds, because the server ends the session and with it the
// advisory lock; TTL bounds the takeover only when the leader's session
// lingers on the server (network partition, frozen process), where a
// standby takes over about TTL after the last renewal.
const (
	DefaultSchema       = "public"
	DefaultLeaseTable   = "solocron_lease"
	DefaultLedgerTable  = "solocron_ledger"
	DefaultControlTable = "solocron_control"
	DefaultTTL          = 15 * time.Second
	MinTTL              = time.Second
)

// Options configures an Elector.
type Options struct {
	// URL is a libpq connection string, URL or keyword/value form:
	// postgres://user:password@host:5432/db?sslmode=verify-full. TLS,
	// passfile, service files and PG* environment variables work as with
	// libpq (pgx.ParseConfig). Connect directly or through a pooler in
	// session mode: a transaction-mode pooler cannot carry the session
	// lock. Required.
	URL string

	// App names the application: processes with the same App (and
	// tables) contend; other apps on the same server are independent,
	// each with its own lock key, lease row and ledger rows. Required.
	App string

	// Schema holds the three tables, "public" by default. The tables are
	// created if missing (which needs the CREATE privilege once).
	Schema string
	// LeaseTable has one row per App: holder, term and deadline.
	// Default "solocron_lease".
	LeaseTable string
	// LedgerTable has one row per App and job: last tick claimed and
	// completed; and one per App, the term marker, that tells a ledger
	// older than the last term. Default "solocron_ledger".
	LedgerTable string
	// ControlTable has one row per App and job that was ever paused or
	// had a run requested (Elector.SetPaused, Elector.RequestRun).
	// Default "solocron_control".
	ControlTable string

	// TTL is how long the lease row stays valid without renewal, from
	// the database's clock. Default 15s, at least 1s.
	TTL time.Duration
	// RenewInterval is how often the leader renews. Default TTL/3. It
	// must leave room for a failed renewal to be retried before the
	// leader gives up: at most (TTL - Margin) / 2.
	RenewInterval time.Duration
	// Margin is how long before its lease could expire in the database
	// the leader stops acting when it cannot renew: it gives up at start
	// of last successful renewal + TTL - Margin, on the monotonic clock.
	// It covers clock-rate drift and the time to stop. Default TTL/5.
	Margin time.Duration
}

// withDefaults fills zero fields and validates; the error names the
// offending option and never quotes the URL.
func (o Options) withDefaults() (Options, error) {
	if o.URL == "" {
		return o, errors.New("solocron/postgres: Options.URL is required")
	}
	if o.App == "" {
		return o, errors.New("solocron/postgres: Options.App is required: processes of one application share it")
	}
	if strings.ContainsRune(o.App, 0) || len(o.App) > 200 {
		return o, errors.New("solocron/postgres: Options.App must be at most 200 bytes without NUL")
	}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if o.LeaseTable == "" {
		o.LeaseTable = DefaultLeaseTable
	}
	if o.LedgerTable == "" {
		o.LedgerTable = DefaultLedgerTable
	}
	if o.ControlTable == "" {
		o.ControlTable = DefaultControlTable
	}
	for _, id := range []struct{ name, v string }{
		{"Schema", o.Schema}, {"LeaseTable", o.LeaseTable}, {"LedgerTable", o.LedgerTable}, {"ControlTable", o.ControlTable},
	} {
		// PostgreSQL truncates longer names silently: two apps could
		// then share a table without knowing it.
		if len(id.v) > 63 || strings.ContainsRune(id.v, 0) {
			return o, fmt.Errorf("solocron/postgres: Options.%s %q must be at most 63 bytes without NUL", id.name, id.v)
		}
	}
	if o.LeaseTable == o.LedgerTable || o.ControlTable == o.LeaseTable || o.ControlTable == o.LedgerTable {
		return o, errors.New("solocron/postgres: Options.LeaseTable, Options.LedgerTable and Options.ControlTable must differ")
	}
	lt := leasetiming.Timing{TTL: o.TTL, RenewInterval: o.RenewInterval, Margin: o.Margin}
	lt, err := lt.WithDefaults("solocron/postgres", DefaultTTL, MinTTL)
	if err != nil {
		return o, err
	}
	o.TTL, o.RenewInterval, o.Margin = lt.TTL, lt.RenewInterval, lt.Margin
	return o, nil
}
