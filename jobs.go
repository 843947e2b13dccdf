package solocron

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
)

// Job is a named function run on a cron schedule, once per tick across all
// the processes that share the Scheduler's elector.
type Job struct {
	// Name identifies the job in the ledger, logs and Status. It must be
	// unique, 1 to 200 bytes of printable UTF-8, and stable across
	// deploys: renaming a job starts a new ledger record.
	Name string

	// Spec is a cron spec: five fields (six with Options.Seconds), a
	// descriptor such as "@daily" or "@every 10s", optionally prefixed with
	// "TZ=Area/City " or "CRON_TZ=Area/City ".
	Spec string

	// Run is called once per tick on the leader. Its ctx is cancelled when
	// Timeout passes, when leadership is lost, and at Stop's deadline;
	// RunFrom(ctx) says which tick it serves.
	Run func(ctx context.Context) error

	// Timeout bounds one run; 0 means no limit.
	Timeout time.Duration

	// Misfire says what a new leader does with ticks that fell due while
	// nobody led. The default is MisfireRunOnce.
	Misfire Misfire

	// MisfireGrace is how old a missed tick may be and still run; 0 means
	// Options.MisfireGrace.
	MisfireGrace time.Duration

	// MaxCatchUp bounds how many missed ticks MisfireRunAll runs (the most
	// recent ones); 0 means 10.
	MaxCatchUp int

	// Overlap says what happens to a tick that falls due while the previous
	// run of the job is still going. The default is OverlapSkip.
	Overlap Overlap

	// AtLeastOnce makes a new leader run again a tick that the previous
	// leader claimed but never finished (it crashed or lost leadership
	// mid-run). Without it a claimed tick is never run twice.
	AtLeastOnce bool
}

// Misfire is a policy for ticks missed while nobody led.
type Misfire int

const (
	// MisfireRunOnce runs the most recent missed tick, if it is within the
	// grace window, and skips the others.
	MisfireRunOnce Misfire = iota
	// MisfireSkip runs none of them.
	MisfireSkip
	// MisfireRunAll runs each missed tick within the grace window, oldest
	// first, at most MaxCatchUp of them.
	MisfireRunAll
)

func (m Misfire) String() string {
	switch m {
	case MisfireRunOnce:
		return "run-once"
	case MisfireSkip:
		return "skip"
	case MisfireRunAll:
		return "run-all"
	}
	return fmt.Sprintf("Misfire(%d)", int(m))
}

// Overlap is a policy for a tick that falls due while the job still runs.
type Overlap int

const (
	// OverlapSkip skips the tick and reports it (OnJobSkip, a log line).
	OverlapSkip Overlap = iota
	// OverlapQueue runs the tick when the current run ends, in order.
	OverlapQueue
)

func (o Overlap) String() string {
	switch o {
	case OverlapSkip:
		return "skip"
	case OverlapQueue:
		return "queue"
	}
	return fmt.Sprintf("Overlap(%d)", int(o))
}

const (
	maxNameLen        = 200
	defaultMaxCatchUp = 10
	// maxQueued bounds OverlapQueue: a job slower than its schedule would
	// otherwise queue without end.
	maxQueued = 100
)

// Run describes the run a job's ctx belongs to.
type Run struct {
	Job    string
	Tick   time.Time // the scheduled time this run serves (the call time for RunNow)
	Term   uint64    // the leader's fencing token: pass it to stores that check it
	Manual bool      // started by RunNow or RequestRun, not by the schedule
	// Requested: started by a request through the ledger (RequestRun, the
	// solocron command); Tick is the request's time. Manual is set too.
	Requested bool
	Retry     bool // an at-least-once rerun of a tick a previous leader left unfinished
}

type runKey struct{}

// ContextWithRun returns a copy of ctx that RunFrom reads r from: for
// calling a job's function outside a Scheduler, in a test (see
// solocrontest) or a one-off command.
func ContextWithRun(ctx context.Context, r Run) context.Context {
	return context.WithValue(ctx, runKey{}, &r)
}

// RunFrom returns the Run a job's ctx belongs to.
func RunFrom(ctx context.Context) (Run, bool) {
	r, ok := ctx.Value(runKey{}).(*Run)
	if !ok {
		return Run{}, false
	}
	return *r, true
}

// validate checks a job's fields and parses its spec.
func (j *Job) validate(p cron.Parser, loc *time.Location, grace time.Duration) (cron.Schedule, error) {
	if err := validateName(j.Name); err != nil {
		return nil, err
	}
	if j.Run == nil {
		return nil, fmt.Errorf("solocron: job %q: Run is nil", j.Name)
	}
	switch {
	case j.Timeout < 0:
		return nil, fmt.Errorf("solocron: job %q: negative Timeout %v", j.Name, j.Timeout)
	case j.MisfireGrace < 0:
		return nil, fmt.Errorf("solocron: job %q: negative MisfireGrace %v", j.Name, j.MisfireGrace)
	case j.MaxCatchUp < 0:
		return nil, fmt.Errorf("solocron: job %q: negative MaxCatchUp %d", j.Name, j.MaxCatchUp)
	case j.Misfire < MisfireRunOnce || j.Misfire > MisfireRunAll:
		return nil, fmt.Errorf("solocron: job %q: unknown Misfire policy %d", j.Name, int(j.Misfire))
	case j.Overlap < OverlapSkip || j.Overlap > OverlapQueue:
		return nil, fmt.Errorf("solocron: job %q: unknown Overlap policy %d", j.Name, int(j.Overlap))
	}
	if j.MisfireGrace == 0 {
		j.MisfireGrace = grace
	}
	if j.MaxCatchUp == 0 {
		j.MaxCatchUp = defaultMaxCatchUp
	}
	sched, err := parseSpec(p, j.Spec, loc)
	if err != nil {
		return nil, fmt.Errorf("solocron: job %q: %w", j.Name, err)
	}
	return sched, nil
}

func validateName(name string) error {
	switch {
	case name == "":
		return errors.New("solocron: job name is empty")
	case len(name) > maxNameLen:
		return fmt.Errorf("solocron: job name %.20q... is %d bytes; the limit is %d", name, len(name), maxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("solocron: job name %q is not valid UTF-8", name)
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0:
		return fmt.Errorf("solocron: job name %q holds a control or non-printing character", name)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("solocron: job name %q has leading or trailing space", name)
	}
	return nil
}

// parseSpec parses a cron spec without ever panicking (robfig/cron panics on
// some malformed TZ= prefixes), reads it on its zone's wall clock across
// daylight saving changes (onWallClock), and rejects schedules that never
// fire.
func parseSpec(p cron.Parser, spec string, loc *time.Location) (sched cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty spec")
	}
	explicitTZ := strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")
	if explicitTZ && !strings.Contains(spec, " ") {
		return nil, fmt.Errorf("spec %q: a time zone prefix must be followed by a schedule", spec)
	}
	body := spec
	if explicitTZ {
		space := strings.Index(spec, " ")
		if spec[strings.Index(spec, "=")+1:space] == "" {
			// time.LoadLocation("") is UTC: a silent surprise for "TZ= ...".
			return nil, fmt.Errorf("spec %q: empty time zone name", spec)
		}
		body = strings.TrimSpace(spec[space:])
	}
	if d, ok := strings.CutPrefix(body, "@every "); ok {
		if err := validateEvery(strings.TrimSpace(d)); err != nil {
			return nil, fmt.Errorf("spec %q: %w", spec, err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("spec %q: %v", spec, r)
		}
	}()
	sched, err = p.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("spec %q: %w", spec, explainSpec(p, body, err))
	}
	if s, ok := sched.(*cron.SpecSchedule); ok {
		if !explicitTZ {
			s.Location = loc
		}
		sched = onWallClock(s)
	}
	if sched.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("spec %q never fires", spec)
	}
	return sched, nil
}

// validateEvery refuses intervals that robfig/cron would silently round up
// to one second.
func validateEvery(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad @every interval: %w", err)
	}
	if d < time.Second || d%time.Second != 0 {
		return fmt.Errorf("@every interval %v must be a whole number of seconds, at least 1s", d)
	}
	return nil
}

// ledgerName is the ledger record the run is claimed and recorded in.
func (r *Run) ledgerName() string {
	switch {
	case r.Requested:
		return r.Job + RequestRecordSuffix
	case r.Manual:
		return r.Job + ManualRecordSuffix
	}
	return r.Job
}
