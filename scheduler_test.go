package solocron_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/clustertest"
	"github.com/solocron/solocron/internal/testdir"
)

func TestMain(m *testing.M) {
	clustertest.MaybeWorker(func() (Options, error) {
		return Options{LockPath: os.Getenv("SOLOCRON_TEST_LOCK")}, nil
	})
	os.Exit(m.Run())
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder collects hook events.
type recorder struct {
	mu        sync.Mutex
	leading   []LeadershipEvent
	lost      []LeadershipEvent
	started   []JobEvent
	finished  []JobEvent
	errs      []JobEvent
	skips     []JobEvent
	abandoned []JobEvent
	overdue   []OverdueEvent
	changed   chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) hooks() Hooks {
	add := func(list *[]JobEvent) func(JobEvent) {
		return func(e JobEvent) { r.record(func() { *list = append(*list, e) }) }
	}
	return Hooks{
		OnLeading:      func(e LeadershipEvent) { r.record(func() { r.leading = append(r.leading, e) }) },
		OnLost:         func(e LeadershipEvent) { r.record(func() { r.lost = append(r.lost, e) }) },
		OnJobStart:     add(&r.started),
		OnJobFinish:    add(&r.finished),
		OnJobError:     add(&r.errs),
		OnJobSkip:      add(&r.skips),
		OnJobAbandoned: add(&r.abandoned),
		OnOverdue:      func(e OverdueEvent) { r.record(func() { r.overdue = append(r.overdue, e) }) },
	}
}

func (r *recorder) record(f func()) {
	r.mu.Lock()
	f()
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// wait waits until cond holds (it is called with r.mu held).
func (r *recorder) wait(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

func lockPath(t *testing.T) string { return filepath.Join(testdir.New(t), "app.lock") }

// start returns a started Scheduler with a six-field parser, stopped at
// the end of the test.
func start(t *testing.T, o Options, jobs ...Job) *Scheduler {
	t.Helper()
	o.Seconds = true
	if o.Logger == nil {
		o.Logger = quiet
	}
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, j := range jobs {
		if err := s.Add(j); err != nil {
			t.Fatalf("Add(%q): %v", j.Name, err)
		}
	}
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

func waitRole(t *testing.T, s *Scheduler, role Role, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for s.Status(context.Background()).Role != role {
		if time.Now().After(deadline) {
			t.Fatalf("role is %v, want %v after %v", s.Status(context.Background()).Role, role, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func noop(context.Context) error { return nil }

func isSymlink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

func TestAddRejectsBadInputAndKeepsJobs(t *testing.T) {
	t.Parallel()
	s, err := New(Options{LockPath: lockPath(t), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Job{Name: "kept", Spec: "@every 1m", Run: noop}); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name string
		job  Job
		want string
	}{
		{"empty name", Job{Spec: "@daily", Run: noop}, "name is empty"},
		{"long name", Job{Name: strings.Repeat("x", 201), Spec: "@daily", Run: noop}, "limit is 200"},
		{"control character", Job{Name: "a\nb", Spec: "@daily", Run: noop}, "control"},
		{"padded name", Job{Name: " a", Spec: "@daily", Run: noop}, "leading or trailing space"},
		{"invalid UTF-8", Job{Name: "a\xff", Spec: "@daily", Run: noop}, "UTF-8"},
		{"nil func", Job{Name: "nil", Spec: "@daily"}, "Run is nil"},
		{"empty spec", Job{Name: "x", Spec: " ", Run: noop}, "empty spec"},
		{"bad spec", Job{Name: "x", Spec: "* * *", Run: noop}, "spec"},
		{"six fields without Seconds", Job{Name: "x", Spec: "* * * * * *", Run: noop}, "spec"},
		{"TZ without schedule", Job{Name: "x", Spec: "TZ=UTC", Run: noop}, "must be followed by a schedule"},
		{"CRON_TZ without schedule", Job{Name: "x", Spec: "CRON_TZ=Europe/Paris", Run: noop}, "must be followed"},
		{"unknown zone", Job{Name: "x", Spec: "TZ=Nowhere/Atlantis 0 * * * *", Run: noop}, "bad location"},
		{"empty zone", Job{Name: "x", Spec: "TZ= 0 * * * *", Run: noop}, "spec"},
		{"negative every", Job{Name: "x", Spec: "@every -5s", Run: noop}, "at least 1s"},
		{"sub-second every", Job{Name: "x", Spec: "@every 500ms", Run: noop}, "at least 1s"},
		{"bad every", Job{Name: "x", Spec: "@every often", Run: noop}, "bad @every"},
		{"unknown descriptor", Job{Name: "x", Spec: "@fortnightly", Run: noop}, "spec"},
		{"never fires", Job{Name: "x", Spec: "0 0 30 2 *", Run: noop}, "never fires"},
		{"negative timeout", Job{Name: "x", Spec: "@daily", Run: noop, Timeout: -1}, "negative Timeout"},
		{"negative grace", Job{Name: "x", Spec: "@daily", Run: noop, MisfireGrace: -1}, "negative MisfireGrace"},
		{"negative catch-up", Job{Name: "x", Spec: "@daily", Run: noop, MaxCatchUp: -1}, "negative MaxCatchUp"},
		{"unknown misfire", Job{Name: "x", Spec: "@daily", Run: noop, Misfire: 7}, "unknown Misfire"},
		{"unknown overlap", Job{Name: "x", Spec: "@daily", Run: noop, Overlap: -1}, "unknown Overlap"},
		{"duplicate", Job{Name: "kept", Spec: "@daily", Run: noop}, "duplicate"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Add(tc.job)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Add: got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := s.Add(Job{Name: "kept", Spec: "@daily", Run: noop}); !errors.Is(err, ErrDuplicateJob) {
		t.Fatalf("duplicate: got %v, want ErrDuplicateJob", err)
	}
	jobs := s.Status(context.Background()).Jobs
	if len(jobs) != 1 || jobs[0].Name != "kept" || jobs[0].Spec != "@every 1m" {
		t.Fatalf("after bad input the jobs are %+v, want only the first one", jobs)
	}
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(Job{Name: "late", Spec: "@daily", Run: noop}); !errors.Is(err, ErrStopped) {
		t.Fatalf("Add after Stop: got %v, want ErrStopped", err)
	}
	if err := s.Start(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: got %v, want ErrStopped", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	dir := testdir.New(t)
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.lock")
	symlinks := os.Symlink(target, link) == nil && isSymlink(link) // Wine fakes os.Symlink
	elector, err := NewFileLock(FileLockOptions{Path: filepath.Join(dir, "e.lock")})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"elector and lock path", Options{Elector: elector, LockPath: "x.lock"}, "replaces the file lock"},
		{"elector and sync", Options{Elector: elector, SyncLedger: true}, "replaces the file lock"},
		{"negative grace", Options{LockPath: filepath.Join(dir, "a.lock"), MisfireGrace: -time.Second}, "negative"},
		{"negative retry", Options{LockPath: filepath.Join(dir, "a.lock"), RetryInterval: -time.Second}, "negative"},
		{"lock path is a directory", Options{LockPath: dir}, dir},
		{"unwritable lock directory", Options{LockPath: filepath.Join(file, "app.lock")}, file},
	}
	if symlinks {
		cases = append(cases, struct {
			name string
			opts Options
			want string
		}{"symlink", Options{LockPath: link}, "symbolic link"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: got %v, %v; want an error containing %q", s, err, tc.want)
			}
		})
	}
}

func TestSpecFlavoursAndLocation(t *testing.T) {
	t.Parallel()
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	s, err := New(Options{LockPath: lockPath(t), Location: tokyo, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []Job{
		{Name: "five fields", Spec: "30 9 * * *"},
		{Name: "descriptor", Spec: "@daily"},
		{Name: "every", Spec: "@every 90s"},
		{Name: "tz", Spec: "TZ=UTC 30 9 * * *"},
		{Name: "cron tz", Spec: "CRON_TZ=America/New_York 30 9 * * *"},
	} {
		j.Run = noop
		if err := s.Add(j); err != nil {
			t.Fatalf("Add(%q): %v", j.Spec, err)
		}
	}
	now := time.Now()
	next := map[string]time.Time{}
	for _, js := range s.Status(context.Background()).Jobs {
		next[js.Name] = js.Next
	}
	checkClock := func(name string, loc *time.Location, hour, minute int) {
		t.Helper()
		n := next[name].In(loc)
		if n.Hour() != hour || n.Minute() != minute || !n.After(now) || n.Sub(now) > 24*time.Hour {
			t.Errorf("%s: next tick %v, want the next %02d:%02d in %v", name, n, hour, minute, loc)
		}
	}
	checkClock("five fields", tokyo, 9, 30)
	checkClock("descriptor", tokyo, 0, 0)
	checkClock("tz", time.UTC, 9, 30)
	ny, _ := time.LoadLocation("America/New_York")
	checkClock("cron tz", ny, 9, 30)
	if d := next["every"].Sub(now); d <= 0 || d > 91*time.Second {
		t.Errorf("@every 90s: next tick in %v", d)
	}

	sec, err := New(Options{LockPath: lockPath(t), Seconds: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := sec.Add(Job{Name: "seconds", Spec: "*/5 * * * * *", Run: noop}); err != nil {
		t.Fatalf("six-field spec with Options.Seconds: %v", err)
	}
	if n := sec.Status(context.Background()).Jobs[0].Next; n.Second()%5 != 0 || n.Sub(time.Now()) > 5*time.Second {
		t.Errorf("*/5 seconds: next tick %v", n)
	}
}

func TestLeaderRunsEachTickWithRunInfo(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	var runs []Run
	var mu sync.Mutex
	s := start(t, Options{LockPath: lockPath(t), Hooks: rec.hooks()}, Job{Name: "tick", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		r, ok := RunFrom(ctx)
		if !ok {
			return errors.New("no Run in ctx")
		}
		mu.Lock()
		runs = append(runs, r)
		mu.Unlock()
		return nil
	}})
	rec.wait(t, "three runs", 5*time.Second, func() bool { return len(rec.finished) >= 3 })
	st := s.Status(context.Background())
	if st.Role != Leader || st.Holder.PID != os.Getpid() || st.Holder.Term == 0 {
		t.Fatalf("status = %+v, want this process leading", st)
	}
	if !strings.Contains(st.Elector, "app.lock") {
		t.Fatalf("Status.Elector = %q, want the lock path", st.Elector)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, r := range runs {
		if r.Job != "tick" || r.Term != st.Holder.Term || r.Manual || r.Tick.Nanosecond() != 0 {
			t.Fatalf("run %d = %+v, want job tick, term %d, a whole-second tick", i, r, st.Holder.Term)
		}
		if i > 0 && !r.Tick.After(runs[i-1].Tick) {
			t.Fatalf("ticks not increasing: %v then %v", runs[i-1].Tick, r.Tick)
		}
	}
	js := st.Jobs[0]
	if js.Runs < 3 || js.LastTick.IsZero() || js.LastError != nil || !js.Next.After(js.LastTick) {
		t.Fatalf("job status = %+v", js)
	}
	if len(rec.leading) != 1 || rec.leading[0].Term != st.Holder.Term {
		t.Fatalf("OnLeading events = %+v", rec.leading)
	}
}

func TestPanicBecomesTheRunsError(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	start(t, Options{LockPath: lockPath(t), Hooks: rec.hooks()}, Job{Name: "boom", Spec: "* * * * * *", Run: func(context.Context) error {
		panic("kaboom")
	}})
	rec.wait(t, "two failed runs", 5*time.Second, func() bool { return len(rec.errs) >= 2 })
	var pe *PanicError
	if !errors.As(rec.errs[0].Err, &pe) || pe.Value != "kaboom" || len(pe.Stack) == 0 {
		t.Fatalf("error = %v, want a PanicError with the value and a stack", rec.errs[0].Err)
	}
}

func TestOverlappingTickIsSkippedByDefault(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	start(t, Options{LockPath: lockPath(t), Hooks: rec.hooks()}, Job{Name: "slow", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		time.Sleep(2500 * time.Millisecond)
		return nil
	}})
	rec.wait(t, "a skipped tick", 6*time.Second, func() bool { return len(rec.skips) >= 1 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.skips[0].Reason != SkipOverlap || rec.skips[0].Job != "slow" {
		t.Fatalf("skip = %+v, want an overlap skip of slow", rec.skips[0])
	}
	if len(rec.started) != 1 {
		t.Fatalf("%d runs started while the first one ran, want 1", len(rec.started))
	}
}

func TestOverlappingTickIsQueuedOnRequest(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	var active, most atomic.Int32
	start(t, Options{LockPath: lockPath(t), Hooks: rec.hooks()}, Job{Name: "slow", Spec: "* * * * * *", Overlap: OverlapQueue, Run: func(ctx context.Context) error {
		n := active.Add(1)
		defer active.Add(-1)
		if n > most.Load() {
			most.Store(n)
		}
		time.Sleep(1300 * time.Millisecond)
		return nil
	}})
	rec.wait(t, "three runs", 8*time.Second, func() bool { return len(rec.finished) >= 3 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.skips) != 0 {
		t.Fatalf("skips = %+v, want none with OverlapQueue", rec.skips)
	}
	if most.Load() != 1 {
		t.Fatalf("%d runs of the job at once, want 1", most.Load())
	}
	for i := 1; i < len(rec.started); i++ {
		if !rec.started[i].Tick.After(rec.started[i-1].Tick) {
			t.Fatalf("queued ticks out of order: %v then %v", rec.started[i-1].Tick, rec.started[i].Tick)
		}
	}
}

func TestTimeoutCancelsTheRun(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	start(t, Options{LockPath: lockPath(t), Hooks: rec.hooks()}, Job{Name: "stuck", Spec: "* * * * * *", Timeout: 100 * time.Millisecond, Run: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	rec.wait(t, "a timed-out run", 5*time.Second, func() bool { return len(rec.errs) >= 1 })
	e := rec.errs[0]
	if !errors.Is(e.Err, context.DeadlineExceeded) || !strings.Contains(e.Err.Error(), "timed out") {
		t.Fatalf("error = %v, want a timeout", e.Err)
	}
	if e.Duration < 100*time.Millisecond || e.Duration > 900*time.Millisecond {
		t.Fatalf("timed-out run took %v, want about 100ms", e.Duration)
	}
}

func TestStopWaitsForRunsThenHandsOver(t *testing.T) {
	t.Parallel()
	path := lockPath(t)
	rec := newRecorder()
	finished := make(chan struct{})
	leader := start(t, Options{LockPath: path, Hooks: rec.hooks()}, Job{Name: "work", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		time.Sleep(300 * time.Millisecond)
		select {
		case finished <- struct{}{}:
		default:
		}
		return ctx.Err()
	}})
	rec.wait(t, "a run", 5*time.Second, func() bool { return len(rec.started) >= 1 })
	standby := start(t, Options{LockPath: path})
	waitRole(t, standby, Standby, time.Second)
	if st := standby.Status(context.Background()); st.Holder.PID != os.Getpid() || st.HolderErr != nil {
		t.Fatalf("standby sees holder %+v (%v)", st.Holder, st.HolderErr)
	}
	if err := standby.RunNow(context.Background(), "work"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("RunNow of a job the standby lacks: %v", err)
	}
	if err := leader.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	rec.mu.Lock()
	running := len(rec.started) - len(rec.finished)
	errs := len(rec.errs)
	rec.mu.Unlock()
	if running != 0 || errs != 0 {
		t.Fatalf("after Stop: %d runs still going, %d errors; want Stop to wait for them", running, errs)
	}
	stopped := time.Now()
	waitRole(t, standby, Leader, 2*time.Second)
	t.Logf("standby led %v after Stop returned", time.Since(stopped))
	if st := leader.Status(context.Background()); st.Role != Stopped {
		t.Fatalf("stopped scheduler reports %v", st.Role)
	}
	if err := leader.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStopDeadlineCancelsRuns(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	cancelled := make(chan time.Time, 1)
	s := start(t, Options{LockPath: lockPath(t), Hooks: rec.hooks()}, Job{Name: "stubborn", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		<-ctx.Done()
		cancelled <- time.Now()
		return ctx.Err()
	}})
	rec.wait(t, "a run", 5*time.Second, func() bool { return len(rec.started) >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop past its deadline: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("Stop took %v with a 200ms deadline", d)
	}
	select {
	case at := <-cancelled:
		if at.Sub(begin) < 150*time.Millisecond {
			t.Fatalf("run cancelled %v into Stop, before the deadline", at.Sub(begin))
		}
	case <-time.After(time.Second):
		t.Fatal("the run's ctx was not cancelled at Stop's deadline")
	}
}

func TestLostLockFileCancelsRunsAtOnce(t *testing.T) {
	t.Parallel()
	path := lockPath(t)
	rec := newRecorder()
	cancelled := make(chan time.Time, 4)
	s := start(t, Options{LockPath: path, Hooks: rec.hooks()}, Job{Name: "long", Spec: "* * * * * *", Run: func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			cancelled <- time.Now()
		case <-time.After(10 * time.Second):
		}
		return ctx.Err()
	}})
	rec.wait(t, "a run", 5*time.Second, func() bool { return len(rec.started) >= 1 })
	removed := time.Now()
	if err := os.Remove(path); err != nil {
		t.Skipf("cannot remove a held lock file here: %v", err)
	}
	select {
	case at := <-cancelled:
		t.Logf("run cancelled %v after the lock file was removed", at.Sub(removed))
		if at.Sub(removed) > 500*time.Millisecond {
			t.Fatalf("run cancelled %v after the lock file was removed, want at once", at.Sub(removed))
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the run's ctx was not cancelled when the lock file was removed")
	}
	rec.wait(t, "OnLost", time.Second, func() bool { return len(rec.lost) >= 1 })
	if rec.lost[0].Err == nil {
		t.Fatal("OnLost after a removed lock file carries no error")
	}
	// It contends again, on the new file at the same path.
	rec.wait(t, "leading again", 3*time.Second, func() bool { return len(rec.leading) >= 2 })
	if rec.leading[1].Term <= rec.leading[0].Term {
		t.Fatalf("terms %d then %d, want growing", rec.leading[0].Term, rec.leading[1].Term)
	}
	waitRole(t, s, Leader, time.Second)
}

func TestRunNow(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	ran := make(chan Run, 1)
	path := lockPath(t)
	s := start(t, Options{LockPath: path, Hooks: rec.hooks()}, Job{Name: "report", Spec: "@yearly", Run: func(ctx context.Context) error {
		r, _ := RunFrom(ctx)
		ran <- r
		return errors.New("report failed")
	}})
	if err := s.RunNow(context.Background(), "nope"); !errors.Is(err, ErrUnknownJob) {
		t.Fatalf("RunNow of an unknown job: %v", err)
	}
	waitRole(t, s, Leader, 2*time.Second)
	if err := s.RunNow(context.Background(), "report"); err == nil || err.Error() != "report failed" {
		t.Fatalf("RunNow returned %v, want the job's error", err)
	}
	r := <-ran
	if !r.Manual || r.Term == 0 || time.Since(r.Tick) > 5*time.Second {
		t.Fatalf("manual run = %+v", r)
	}
	if js := s.Status(context.Background()).Jobs[0]; js.Runs != 1 || js.Errors != 1 || js.LastError == nil {
		t.Fatalf("job status after RunNow = %+v", js)
	}

	standby := start(t, Options{LockPath: path}, Job{Name: "report", Spec: "@yearly", Run: noop})
	waitRole(t, standby, Standby, time.Second)
	if err := standby.RunNow(context.Background(), "report"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("RunNow on a standby: got %v, want ErrNotLeader", err)
	}
}

func TestNewLeaderRunsTheMissedTick(t *testing.T) {
	t.Parallel()
	path := lockPath(t)
	// A first leader claims a tick of a job every 2 seconds, then goes away.
	rec1 := newRecorder()
	first := start(t, Options{LockPath: path, Hooks: rec1.hooks()}, Job{Name: "job", Spec: "*/2 * * * * *", Run: noop})
	rec1.wait(t, "a run", 5*time.Second, func() bool { return len(rec1.finished) >= 1 })
	last := rec1.finished[len(rec1.finished)-1].Tick
	if err := first.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Nobody leads past the next tick.
	time.Sleep(time.Until(last.Add(2*time.Second)) + 300*time.Millisecond)
	rec2 := newRecorder()
	start(t, Options{LockPath: path, Hooks: rec2.hooks()}, Job{Name: "job", Spec: "*/2 * * * * *", Run: noop})
	rec2.wait(t, "the catch-up run", 2*time.Second, func() bool { return len(rec2.started) >= 1 })
	if got := rec2.started[0].Tick; !got.Equal(last.Add(2 * time.Second)) {
		t.Fatalf("new leader ran tick %v first, want the missed tick %v", got, last.Add(2*time.Second))
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	path := lockPath(t)
	c := clustertest.Start(t, clustertest.Config{Workers: 4, Env: []string{"SOLOCRON_TEST_LOCK=" + path}})
	c.Handovers(t, 6, 5*time.Second, 2)
	t.Run("LockFileDeleted", func(t *testing.T) {
		for range 3 {
			old, _, _ := c.Leader(5 * time.Second)
			clustertest.SleepUntilBeforeTick(400 * time.Millisecond)
			if err := os.Remove(path); err != nil {
				t.Skipf("cannot remove a held lock file here: %v", err)
			}
			time.Sleep(1500 * time.Millisecond)
			pid, _, _ := c.Leader(5 * time.Second)
			t.Logf("leader %d, then %d after the lock file was removed", old, pid)
		}
	})
	t.Run("LockFileReplaced", func(t *testing.T) {
		for i := range 2 {
			old, _, _ := c.Leader(5 * time.Second)
			other := fmt.Sprintf("%s.new%d", path, i)
			if err := os.WriteFile(other, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			clustertest.SleepUntilBeforeTick(400 * time.Millisecond)
			if err := os.Rename(other, path); err != nil {
				t.Skipf("cannot rename over a held lock file here: %v", err)
			}
			time.Sleep(1500 * time.Millisecond)
			pid, _, _ := c.Leader(5 * time.Second)
			t.Logf("leader %d, then %d after the lock file was replaced", old, pid)
		}
	})
	c.Finish(6)
}

func TestLostTickRunsAgainOnlyForAtLeastOnceJobs(t *testing.T) {
	t.Parallel()
	path := lockPath(t)
	rec := newRecorder()
	// Each job's first run hangs until leadership is lost; later runs return.
	hangOnce := func() func(context.Context) error {
		var hung atomic.Bool
		return func(ctx context.Context) error {
			if hung.CompareAndSwap(false, true) {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}
	}
	start(t, Options{LockPath: path, Hooks: rec.hooks()},
		Job{Name: "exactly-once", Spec: "* * * * * *", Run: hangOnce()},
		Job{Name: "at-least-once", Spec: "* * * * * *", Run: hangOnce(), AtLeastOnce: true})
	rec.wait(t, "both jobs running", 5*time.Second, func() bool { return len(rec.started) >= 2 })
	if err := os.Remove(path); err != nil {
		t.Skipf("cannot remove a held lock file here: %v", err)
	}
	rec.wait(t, "leading again", 5*time.Second, func() bool { return len(rec.leading) >= 2 })
	rec.wait(t, "runs in the new term", 5*time.Second, func() bool {
		n := 0
		for _, e := range rec.started {
			if e.Term == rec.leading[1].Term {
				n++
			}
		}
		return n >= 2
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	first := map[string]time.Time{}
	for _, e := range rec.started {
		if e.Term == rec.leading[0].Term {
			if _, ok := first[e.Job]; !ok {
				first[e.Job] = e.Tick
			}
			continue
		}
		again := e.Tick.Equal(first[e.Job])
		switch e.Job {
		case "at-least-once":
			if !again || !e.Retry {
				t.Fatalf("at-least-once: the new term ran %+v first, want a retry of the unfinished tick %v", e.Run, first[e.Job])
			}
			return
		case "exactly-once":
			if again || e.Retry {
				t.Fatalf("exactly-once: the new term ran the claimed tick %v again", e.Tick)
			}
		}
	}
	t.Fatal("the at-least-once job did not run in the new term")
}

func TestStartLogsTheEffectiveLockPath(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	path := lockPath(t)
	start(t, Options{LockPath: path, Logger: logger})
	mu.Lock()
	defer mu.Unlock()
	var line struct{ Msg, Elector string }
	if err := json.NewDecoder(&logs).Decode(&line); err != nil {
		t.Fatalf("decoding the first log line: %v", err)
	}
	if line.Msg != "solocron: started" || line.Elector != "file "+path {
		t.Fatalf("Start logged %+v; want the effective lock path %s", line, path)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
