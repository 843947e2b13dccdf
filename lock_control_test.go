package solocron

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustObserve(t testing.TB, f *FileLock) map[string]Record {
	t.Helper()
	r, err := f.Observe(context.Background())
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return r
}

func mustControl(t testing.TB, f *FileLock) map[string]Control {
	t.Helper()
	c, err := f.Control(context.Background())
	if err != nil {
		t.Fatalf("Control: %v", err)
	}
	return c
}

func appendBytes(t testing.TB, path string, data []byte) {
	t.Helper()
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Write(data)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// A standby's Observe reads the ledger while the leader writes it: a
// record half written is left out, then read once whole, from the tail.
func TestFileLockObserveTornLine(t *testing.T) {
	f := ledgerLock(t, false)
	standby, err := NewFileLock(FileLockOptions{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	l := leadLedger(t, f)
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick})
	mustComplete(t, l, Outcome{Job: "a", Tick: ledgerTick, Ran: true, Duration: time.Second, Error: "boom"})
	if r := mustObserve(t, standby)["a"]; !r.Finished.Equal(ledgerTick) || r.Error != "boom" {
		t.Fatalf("observed %+v", r)
	}
	// A write in progress: half a record, as a reader can catch it.
	w := newLedgerLines(nil)
	w.addRun(ledgerTick.Add(time.Minute).UnixMicro(), never, time.Millisecond, `"a"`, "later")
	line := w.done()
	appendBytes(t, f.ledgerPath, line[:len(line)/2])
	r := mustObserve(t, standby)
	if a := r["a"]; !a.Finished.Equal(ledgerTick) || a.Error != "boom" || len(r) != 1 {
		t.Fatalf("observed with a torn record: %+v", r)
	}
	appendBytes(t, f.ledgerPath, line[len(line)/2:])
	if a := mustObserve(t, standby)["a"]; !a.Finished.Equal(ledgerTick.Add(time.Minute)) || a.Error != "later" {
		t.Fatalf("observed once the record was whole: %+v", a)
	}
	if next := standby.ledger.next; next != standby.ledger.read.Size() {
		t.Fatalf("the follower stopped at byte %d of %d", next, standby.ledger.read.Size())
	}
}

// Observe keeps up with a leader that writes and compacts the ledger
// under it: every read succeeds, and what it shows never goes back.
func TestFileLockObserveWhileLeaderWrites(t *testing.T) {
	defer func(n int64) { ledgerCompactMin = n }(ledgerCompactMin)
	ledgerCompactMin = 0 // compact often: the standby must follow renames
	f := ledgerLock(t, false)
	standby, err := NewFileLock(FileLockOptions{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	l := leadLedger(t, f)
	const jobs, rounds = 50, 300
	batch := make([]Claim, jobs)
	for j := range batch {
		batch[j].Job = fmt.Sprintf("job %d", j)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		var last time.Time
		observed := 0
		for {
			select {
			case <-stop:
				t.Logf("%d observations", observed)
				return
			default:
			}
			r, err := standby.Observe(context.Background())
			if err != nil {
				t.Errorf("Observe while the leader writes: %v", err)
				return
			}
			observed++
			for job, rec := range r {
				if rec.Finished.After(rec.Claimed) {
					t.Errorf("%s observed finished %v after its claim %v", job, rec.Finished, rec.Claimed)
				}
				if rec.Claimed.Before(last.Add(-time.Second)) {
					t.Errorf("%s observed at %v after a claim of %v had been observed", job, rec.Claimed, last)
				}
				if rec.Claimed.After(last) {
					last = rec.Claimed
				}
			}
		}
	}()
	for round := range rounds {
		tick := ledgerTick.Add(time.Duration(round) * time.Second)
		done := make([]Outcome, jobs)
		for j := range batch {
			batch[j].Tick = tick
			done[j] = Outcome{Job: batch[j].Job, Tick: tick, Ran: true, Error: strings.Repeat("x", round%7), Next: tick.Add(time.Second)}
		}
		mustClaim(t, l, batch...)
		mustComplete(t, l, done...)
	}
	close(stop)
	wg.Wait()
	last := ledgerTick.Add((rounds - 1) * time.Second)
	if r := mustObserve(t, standby)["job 7"]; !r.Finished.Equal(last) || !r.Next.Equal(last.Add(time.Second)) {
		t.Fatalf("observed at the end: %+v", r)
	}
}

// A ledger that is not one is reported by Observe, as by Campaign; a
// missing ledger is an empty one.
func TestFileLockObserveRefusesWhatIsNotALedger(t *testing.T) {
	f := ledgerLock(t, false)
	if err := os.Remove(f.ledgerPath); err != nil {
		t.Fatal(err)
	}
	if r := mustObserve(t, f); len(r) != 0 {
		t.Fatalf("Observe without a ledger = %v", r)
	}
	if err := os.WriteFile(f.ledgerPath, []byte("[settings]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Observe(context.Background()); err == nil || !strings.Contains(err.Error(), "holds no valid record") {
		t.Fatalf("Observe of a file that is not a ledger: %v", err)
	}
}

// Control reads nothing while the control file is unchanged, only the
// appended tail when it grew, and the whole file when it was replaced or
// shrank. (The test rewrites a line in place, which no writer does, to
// tell a tail read from a whole one.)
func TestFileLockControlReadsOnlyTheTail(t *testing.T) {
	f := ledgerLock(t, false)
	ctx := context.Background()
	mustDo := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustDo(f.SetPaused(ctx, "a", true))
	if c := mustControl(t, f); !c["a"].Paused || len(c) != 1 {
		t.Fatalf("Control = %v", c)
	}
	read := f.control.read
	mustControl(t, f)
	if f.control.read != read {
		t.Fatal("Control read an unchanged control file again")
	}

	// Rewrite a's line in place: same size, so a tail read misses it.
	data, err := os.ReadFile(f.controlPath)
	mustDo(err)
	resumed := endLine(appendQuoted(beginLine(nil, 'U'), "a"), 0)
	if !bytes.HasSuffix(data, []byte("P \"a\"\n")) || len(resumed) != len(data) {
		t.Fatalf("unexpected control file %q", data)
	}
	w, err := os.OpenFile(f.controlPath, os.O_WRONLY, 0)
	mustDo(err)
	_, err = w.WriteAt(resumed, 0)
	mustDo(err)
	mustDo(w.Close())
	mustDo(f.SetPaused(ctx, "b", true))
	if c := mustControl(t, f); !c["a"].Paused || !c["b"].Paused {
		t.Fatalf("Control after an append = %v, want both paused (the tail only was read)", c)
	}

	// Replaced by a copy (another inode): read whole.
	data, err = os.ReadFile(f.controlPath)
	mustDo(err)
	mustDo(os.WriteFile(f.controlPath+".new", data, 0o600))
	mustDo(os.Rename(f.controlPath+".new", f.controlPath))
	if c := mustControl(t, f); c["a"].Paused || !c["b"].Paused {
		t.Fatalf("Control after the file was replaced = %v, want a resumed, b paused", c)
	}
	// Shrunk: read whole.
	mustDo(os.Truncate(f.controlPath, int64(len(resumed))))
	if c := mustControl(t, f); len(c) != 0 {
		t.Fatalf("Control after the file shrank to a's resume = %v, want nothing", c)
	}
	// Deleted: no control state.
	mustDo(f.SetPaused(ctx, "c", true))
	mustDo(os.Remove(f.controlPath))
	if c := mustControl(t, f); len(c) != 0 {
		t.Fatalf("Control without a control file = %v, want nothing", c)
	}
	mustDo(f.SetPaused(ctx, "d", true))
	if c := mustControl(t, f); len(c) != 1 || !c["d"].Paused {
		t.Fatalf("Control of a control file made again = %v, want d paused", c)
	}
}

// A line that a crashed writer left torn, at the end or amid others, is
// skipped; the next writer's line, after it, is read whole. Lines of an
// unknown kind (a later version's) are skipped too.
func TestFileLockControlSkipsWhatItCannotRead(t *testing.T) {
	f := ledgerLock(t, false)
	ctx := context.Background()
	if err := f.SetPaused(ctx, "a", true); err != nil {
		t.Fatal(err)
	}
	paused := endLine(appendQuoted(beginLine(nil, 'P'), "b"), 0)
	appendBytes(t, f.controlPath, paused[:len(paused)-5])
	if c := mustControl(t, f); len(c) != 1 || !c["a"].Paused {
		t.Fatalf("Control with a torn last line = %v, want a paused", c)
	}
	if err := f.RequestRun(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	appendBytes(t, f.controlPath, []byte("00000000 P \"bad checksum\"\n"))
	appendBytes(t, f.controlPath, endLine(appendQuoted(beginLine(nil, 'Z'), "future"), 0))
	if err := f.SetPaused(ctx, "d", true); err != nil {
		t.Fatal(err)
	}
	c := mustControl(t, f)
	if len(c) != 3 || !c["a"].Paused || c["c"].Requested.IsZero() || !c["d"].Paused {
		t.Fatalf("Control = %v, want a and d paused and a request of c", c)
	}
	data, err := os.ReadFile(f.controlPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, append(paused[:len(paused)-5], '\n')) {
		t.Fatalf("the torn line was not ended by the next writer:\n%s", data)
	}
}

// Names are quoted in the control file as in the ledger; a name the
// ledger refuses is refused.
func TestFileLockControlJobNames(t *testing.T) {
	f := ledgerLock(t, false)
	ctx := context.Background()
	names := []string{"nightly report", "✓ ünïcode", `quote " and \ backslash`, "tab\there", "", "a\nb", "\xff invalid"}
	for _, n := range names {
		if err := f.SetPaused(ctx, n, true); err != nil {
			t.Fatal(err)
		}
		if err := f.RequestRun(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	other, err := NewFileLock(FileLockOptions{Path: f.path})
	if err != nil {
		t.Fatal(err)
	}
	c := mustControl(t, other)
	for _, n := range names {
		if !c[n].Paused || c[n].Requested.IsZero() {
			t.Errorf("%q = %+v", n, c[n])
		}
	}
	if len(c) != len(names) {
		t.Errorf("Control = %v, want %d jobs", c, len(names))
	}
	huge := strings.Repeat("x", maxLedgerJob+1)
	if err := f.SetPaused(ctx, huge, true); err == nil {
		t.Error("SetPaused of an over-long name: no error")
	}
	if err := f.RequestRun(ctx, huge); err == nil {
		t.Error("RequestRun of an over-long name: no error")
	}
}

// BenchmarkFileLockControl measures the leader's Control every second on
// an unchanged control file of ten paused jobs.
func BenchmarkFileLockControl(b *testing.B) {
	f := ledgerLock(b, false)
	ctx := context.Background()
	for j := range 10 {
		if err := f.SetPaused(ctx, fmt.Sprintf("job %d", j), true); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if c, err := f.Control(ctx); err != nil || len(c) != 10 {
			b.Fatal(c, err)
		}
	}
}

// BenchmarkFileLockObserve measures a standby's Observe of a ledger of
// 10,000 jobs, unchanged and after one round of claims and outcomes.
func BenchmarkFileLockObserve(b *testing.B) {
	const jobs = 10_000
	f := ledgerLock(b, false)
	standby, err := NewFileLock(FileLockOptions{Path: f.path})
	if err != nil {
		b.Fatal(err)
	}
	l := leadLedger(b, f)
	claims := make([]Claim, jobs)
	done := make([]Outcome, jobs)
	tick := ledgerTick
	round := func() {
		tick = tick.Add(time.Second)
		for j := range claims {
			claims[j] = Claim{Job: fmt.Sprintf("job-%05d", j), Tick: tick}
			done[j] = Outcome{Job: claims[j].Job, Tick: tick, Ran: true, Next: tick.Add(time.Second)}
		}
		mustClaim(b, l, claims...)
		mustComplete(b, l, done...)
	}
	round()
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			mustObserve(b, standby)
		}
	})
	b.Run("after a round", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			round()
			b.StartTimer()
			mustObserve(b, standby)
		}
	})
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			standby.ledger.forget()
			mustObserve(b, standby)
		}
	})
}

// A line that a writer is adding now (a reader can catch it half
// written) is read once whole.
func TestFileLockControlLineInProgress(t *testing.T) {
	f := ledgerLock(t, false)
	if err := f.SetPaused(context.Background(), "a", true); err != nil {
		t.Fatal(err)
	}
	line := endLine(appendQuoted(beginLine(nil, 'P'), "b"), 0)
	appendBytes(t, f.controlPath, line[:len(line)/2])
	if c := mustControl(t, f); len(c) != 1 {
		t.Fatalf("Control with a line half written = %v, want a paused", c)
	}
	appendBytes(t, f.controlPath, line[len(line)/2:])
	if c := mustControl(t, f); len(c) != 2 || !c["b"].Paused {
		t.Fatalf("Control once the line is whole = %v, want a and b paused", c)
	}
}

const controlWriterEnv = "SOLOCRON_TEST_CONTROL_WRITER"

// controlWrites is how many rounds each writer process makes: a request
// of its own job (whose name is long, so that its lines span pages), a
// pause or resume and a request of a job they share.
const controlWrites = 200

func ownJob(id string) string { return "writer " + id + " " + strings.Repeat("é", 3000) }

// TestFileLockControlWriterProcess is one of the writers that
// TestFileLockControlConcurrentWriters starts.
func TestFileLockControlWriterProcess(t *testing.T) {
	spec := os.Getenv(controlWriterEnv)
	if spec == "" {
		t.Skip("helper process of TestFileLockControlConcurrentWriters")
	}
	path, rest, _ := strings.Cut(spec, "|")
	id, startText, _ := strings.Cut(rest, "|")
	start, err := time.Parse(time.RFC3339Nano, startText)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFileLock(FileLockOptions{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(start)) // all writers at once
	ctx := context.Background()
	for i := range controlWrites {
		if err := f.RequestRun(ctx, ownJob(id)); err != nil {
			t.Fatal(err)
		}
		if err := f.SetPaused(ctx, "shared", i%2 == 0); err != nil {
			t.Fatal(err)
		}
		if err := f.RequestRun(ctx, "shared"); err != nil {
			t.Fatal(err)
		}
	}
}

// Several processes append to the control file at once: no line is lost
// or torn, each process's requests grow, and the reader keeps the latest.
func TestFileLockControlConcurrentWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const writers = 4
	f := ledgerLock(t, false)
	start := time.Now().Add(500 * time.Millisecond).Format(time.RFC3339Nano)
	var cmds []*exec.Cmd
	for w := range writers {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileLockControlWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d|%s", controlWriterEnv, f.path, w, start))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("writer %d:\n%s", w, out.String())
			}
		})
		cmds = append(cmds, cmd)
	}
	for w, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v", w, err)
		}
	}

	file, err := os.Open(f.controlPath)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	got := &controlLog{path: f.controlPath, jobs: make(map[string]controlEntry)}
	lastOwn := make(map[string]int64)
	var lastPause []byte
	lines, blank := 0, 0
	_, err = scanLog(bufio.NewReaderSize(file, maxLedgerLine), f.controlPath, 0, func(l logLine) error {
		switch {
		case l.blank && l.whole:
			blank++ // a writer caught another's line half written
			return nil
		case l.why != nil || !l.whole:
			data, _ := os.ReadFile(f.controlPath)
			return fmt.Errorf("line at byte %d: %v: %q", l.at, l.why, data[l.at:min(int64(len(data)), l.at+300)])
		}
		lines++
		got.apply(l.payload)
		switch {
		case l.payload[0] == 'R' && bytes.HasSuffix(l.payload, []byte(`"shared"`)):
		case l.payload[0] == 'R':
			at, job, _ := cutMicros(l.payload[2:])
			name := string(job)
			if prev, ok := lastOwn[name]; ok && at <= prev {
				return fmt.Errorf("a writer's request at %d after its request at %d", at, prev)
			}
			lastOwn[name] = at
		default:
			lastPause = l.payload
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := writers * controlWrites * 3; lines != want {
		t.Fatalf("%d lines in the control file, want %d", lines, want)
	}
	t.Logf("%d lines and %d blank lines", lines, blank)
	c := mustControl(t, f)
	if len(c) != writers+1 || c["shared"].Paused != (lastPause[0] == 'P') {
		t.Fatalf("Control = %d jobs, shared %+v; want %d jobs, shared as the last line %q says", len(c), c["shared"], writers+1, lastPause)
	}
	for w := range writers {
		job := ownJob(fmt.Sprint(w))
		if want := microTime(lastOwn[string(appendQuoted(nil, job))]); !c[job].Requested.Equal(want) {
			t.Errorf("writer %d's job requested at %v, want its last request %v", w, c[job].Requested, want)
		}
	}
	if want := microTime(got.jobs["shared"].requested); !c["shared"].Requested.Equal(want) {
		t.Errorf("shared requested at %v, want the latest request %v", c["shared"].Requested, want)
	}
}
