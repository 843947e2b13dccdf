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
	// application on one host; "" means DefaultLockPath(). Every process
	// must name the same path: Status and the Start log line show it.
	LockPath string

	// SyncLedger fsyncs the file lock's ledger on every claim, so that a
	// claim survives a power loss, not only a process crash.
	SyncLedger bool

	// Elector replaces the file lock, for example with the postgres or
	// redis modules' electors to run once across hosts. LockPath and
	// SyncLedger must then be left zero.
	Elector Elector

	// Seconds makes specs take a leading seconds field (six fields).
	Seconds bool

	// Location is the time zone of specs without a TZ= prefix; nil means
	// time.Local.
	Location *time.Location

	// MisfireGrace is how old a tick missed while nobody led may be and
	// still run, for jobs that do not set their own; 0 means one hour.
	MisfireGrace time.Duration

	// RetryInterval is the pause before contending again after the
	// elector failed (a server down, a permission error); 0 means 1s.
	RetryInterval time.Duration

	// Logger receives the Scheduler's logs; nil means slog.Default().
	Logger *slog.Logger

	// Hooks are called on leadership changes and job events.
	Hooks Hooks
}

const (
	defaultMisfireGrace  = time.Hour
	defaultRetryInterval = time.Second
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
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.MisfireGrace == 0 {
		o.MisfireGrace = defaultMisfireGrace
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = defaultRetryInterval
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
