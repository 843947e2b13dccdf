package solocron

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// Options configure a Scheduler. The zero value is a scheduler on the file
// lock at DefaultLockPath, five-field specs in time.Local, logging to
// slog.Default.
type Options struct {
	// LockPath is the file lock shared by the processes of one
	// application on one host, an absolute path; "" means the default
	// lock of App (see DefaultLockPath). Every process must name the same
	// path: Status and the Start log line show it.
	LockPath string

	// SyncLedger fsyncs the file lock's ledger on every claim, so that a
	// claim survives a power loss, not only a process crash.
	SyncLedger bool

	// Elector replaces the file lock, for example with the postgres or
	// redis modules' electors to run once across hosts. LockPath and
	// SyncLedger must then be left zero.
	Elector Elector

	// App is the application's identity; "" means AppIdentity(), the main
	// package's import path. It is recorded with the holder, and a standby
	// whose App or set of job names differs from the leader's logs a WARN
	// once and shows it in Status.Mismatch. With the file lock and no
	// LockPath it also names the lock file, so one program shares one lock
	// under any file name and two programs never do.
	App string

	// Seconds makes specs take a leading seconds field (six fields).
	Seconds bool

	// Location is the time zone of specs without a TZ= prefix; nil means
	// time.Local.
	Location *time.Location

	// MisfireGrace is how old a tick missed while nobody led may be and
	// still run, for jobs that do not set their own; 0 means one hour.
	MisfireGrace time.Duration

	// RetryInterval is the first pause before contending again after the
	// elector or the ledger failed (a server down, a permission error, a
	// ledger that cannot be written); 0 means 1s. Pauses double while the
	// failures go on, with jitter, up to MaxRetryInterval.
	RetryInterval time.Duration

	// MaxRetryInterval caps those pauses; 0 means 30s.
	MaxRetryInterval time.Duration

	// CheckInterval is how often every process, standbys too, asks the
	// elector who leads, to keep Status.Health current and to notice a
	// leader of another application, and reads the ledger for the overdue
	// check; 0 means one minute.
	CheckInterval time.Duration

	// OverdueGrace is how long a job's tick may stay unclaimed after it
	// fell due before the job is overdue (Hooks.OnOverdue, an ERROR log,
	// JobStatus.Overdue); 0 means DefaultOverdueGrace. Keep it above the
	// elector's takeover time (a lease's TTL), so that a normal takeover
	// never raises the alarm.
	OverdueGrace time.Duration

	// Clock is the source of the time ticks are computed from; nil means
	// real time. Tests pass a solocrontest.Clock.
	Clock Clock

	// Logger receives the Scheduler's logs; nil means slog.Default().
	Logger *slog.Logger

	// Hooks are called on leadership changes and job events; JoinHooks
	// combines several consumers' Hooks.
	Hooks Hooks

	// Middleware wraps every run of every job, the first outermost (see
	// Middleware).
	Middleware []Middleware
}

const (
	defaultMisfireGrace  = time.Hour
	defaultRetryInterval = time.Second
	defaultMaxRetry      = 30 * time.Second
	defaultCheckEvery    = time.Minute
)

// normalize validates o and fills in its defaults.
func (o *Options) normalize() error {
	switch {
	case o.Elector != nil && (o.LockPath != "" || o.SyncLedger):
		return errors.New("solocron: Options.Elector replaces the file lock: leave LockPath and SyncLedger empty")
	case o.MisfireGrace < 0:
		return fmt.Errorf("solocron: negative Options.MisfireGrace %v", o.MisfireGrace)
	case o.RetryInterval < 0:
		return fmt.Errorf("solocron: negative Options.RetryInterval %v", o.RetryInterval)
	case o.CheckInterval < 0:
		return fmt.Errorf("solocron: negative Options.CheckInterval %v", o.CheckInterval)
	case o.OverdueGrace < 0:
		return fmt.Errorf("solocron: negative Options.OverdueGrace %v", o.OverdueGrace)
	case o.MaxRetryInterval < 0:
		return fmt.Errorf("solocron: negative Options.MaxRetryInterval %v", o.MaxRetryInterval)
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.App == "" {
		o.App = AppIdentity()
	}
	if o.MisfireGrace == 0 {
		o.MisfireGrace = defaultMisfireGrace
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = defaultRetryInterval
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = defaultCheckEvery
	}
	if o.OverdueGrace == 0 {
		o.OverdueGrace = DefaultOverdueGrace
	}
	if o.MaxRetryInterval == 0 {
		o.MaxRetryInterval = max(defaultMaxRetry, o.RetryInterval)
	}
	if o.MaxRetryInterval < o.RetryInterval {
		return fmt.Errorf("solocron: Options.MaxRetryInterval %v is shorter than RetryInterval %v", o.MaxRetryInterval, o.RetryInterval)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

func (o *Options) parser() cron.Parser {
	fields := cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor
	if o.Seconds {
		fields |= cron.Second
	}
	return cron.NewParser(fields)
}
