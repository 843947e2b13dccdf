package solocron

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron/internal/testdir"
)

var ledgerTick = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// ledgerLock is a fresh FileLock in a temporary directory.
func ledgerLock(t testing.TB, sync bool) *FileLock {
	t.Helper()
	f, err := NewFileLock(FileLockOptions{Path: filepath.Join(testdir.New(t), "app.lock"), Sync: sync})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func leadLedger(t testing.TB, f *FileLock) Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := f.Campaign(ctx, Candidate{PID: os.Getpid(), Hostname: "test"})
	if err != nil {
		t.Fatalf("Campaign: %v", err)
	}
	t.Cleanup(func() { _ = l.Release(context.Background()) })
	return l
}

func mustClaim(t testing.TB, l Lease, claims ...Claim) []bool {
	t.Helper()
	ok, err := l.Claim(context.Background(), claims)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return ok
}

func mustRelease(t testing.TB, l Lease) {
	t.Helper()
	if err := l.Release(context.Background()); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

func TestFileLedgerTornTailIsIgnoredAndCut(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick}, Claim{Job: "b", Tick: ledgerTick})
	mustRelease(t, l)
	whole, err := os.ReadFile(f.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of a write: half a record, no newline.
	torn := appendTickLine(nil, 'C', ledgerTick.Add(time.Hour).UnixMicro(), `"a"`)
	torn = torn[:len(torn)/2]
	if err := os.WriteFile(f.ledgerPath, append(whole, torn...), 0o600); err != nil {
		t.Fatal(err)
	}

	l = leadLedger(t, f)
	r, err := l.Records(context.Background(), []string{"a", "b"})
	if err != nil || !r["a"].Claimed.Equal(ledgerTick) || !r["b"].Claimed.Equal(ledgerTick) {
		t.Fatalf("records after a torn tail: %v, %v", r, err)
	}
	after, err := os.ReadFile(f.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(after, whole) || bytes.Contains(after, torn) {
		t.Fatalf("the torn tail was not cut off before the next append:\n%s", after)
	}
	if ok := mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick.Add(time.Hour)}); !ok[0] {
		t.Fatal("the torn claim was taken as made")
	}
	mustRelease(t, l)

	// A torn line whose newline made it, and a line of zeros (what a
	// power loss can leave), are cut off too.
	whole, _ = os.ReadFile(f.ledgerPath)
	if err := os.WriteFile(f.ledgerPath, append(whole, append(torn, "\n\x00\x00\x00\n"...)...), 0o600); err != nil {
		t.Fatal(err)
	}
	l = leadLedger(t, f)
	if r, err := l.Records(context.Background(), []string{"a"}); err != nil || !r["a"].Claimed.Equal(ledgerTick.Add(time.Hour)) {
		t.Fatalf("records after a torn line: %v, %v", r, err)
	}
}

func TestFileLedgerRefusesCorruptMiddle(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick})
	mustClaim(t, l, Claim{Job: "b", Tick: ledgerTick})
	mustRelease(t, l)
	data, err := os.ReadFile(f.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte(`"a"`))
	data[i+1] = 'z' // the claim of a no longer matches its checksum
	if err := os.WriteFile(f.ledgerPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l2, err := f.Campaign(ctx, Candidate{})
	if err == nil {
		_ = l2.Release(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), f.ledgerPath) {
		t.Fatalf("Campaign on a ledger corrupt in the middle: %v, want a corruption error naming it", err)
	}
	// The lock was let go: the corrupt ledger does not hold it.
	if _, err := f.Holder(ctx); !errors.Is(err, ErrNoHolder) {
		t.Fatalf("Holder after a refused Campaign: %v, want ErrNoHolder", err)
	}
}

func TestFileLedgerJobNames(t *testing.T) {
	names := []string{"nightly report", "✓ ünïcode", `quote " and \ backslash`, "tab\there", "", "a\nb", "\xff invalid"}
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	var claims []Claim
	for i, n := range names {
		claims = append(claims, Claim{Job: n, Tick: ledgerTick.Add(time.Duration(i) * time.Microsecond)})
	}
	mustClaim(t, l, claims...)
	if err := l.Complete(context.Background(), decided(claims[:2]...)); err != nil {
		t.Fatal(err)
	}
	// A name whose record could not be read back is refused.
	huge := strings.Repeat("\x00", maxLedgerJob+1)
	if ok, err := l.Claim(context.Background(), []Claim{{Job: "fine", Tick: ledgerTick}, {Job: huge, Tick: ledgerTick}}); err == nil {
		t.Fatalf("a claim of a %d-byte job name: %v, want an error", len(huge), ok)
	}
	mustRelease(t, l)
	l = leadLedger(t, f)
	r, err := l.Records(context.Background(), names)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range claims {
		rec := r[c.Job]
		if !rec.Claimed.Equal(c.Tick) || (i < 2) != rec.Completed.Equal(c.Tick) {
			t.Errorf("job %q after replay: %+v, want claimed %v", c.Job, rec, c.Tick)
		}
	}
}

func TestFileLedgerCompaction(t *testing.T) {
	defer func(n int64) { ledgerCompactMin = n }(ledgerCompactMin)
	ledgerCompactMin = 0
	const jobs, rounds, terms = 10, 40, 5
	f := ledgerLock(t, false)
	var lastTerm uint64
	var tick time.Time
	maxRecords := 0
	for term := 0; term < terms; term++ {
		l := leadLedger(t, f)
		if l.Term() <= lastTerm {
			t.Fatalf("term %d after %d, want more", l.Term(), lastTerm)
		}
		lastTerm = l.Term()
		for round := 0; round < rounds; round++ {
			tick = ledgerTick.Add(time.Duration(term*rounds+round) * time.Second)
			batch := make([]Claim, jobs)
			for j := range batch {
				batch[j] = Claim{Job: fmt.Sprintf("job %d", j), Tick: tick}
			}
			for i, ok := range mustClaim(t, l, batch...) {
				if !ok {
					t.Fatalf("term %d round %d: claim %d refused", term, round, i)
				}
			}
			if term%2 == 1 && round >= rounds/2 {
				continue // claims alone: they compact too, later
			}
			if err := l.Complete(context.Background(), decided(batch[:jobs/2]...)); err != nil {
				t.Fatal(err)
			}
			maxRecords = max(maxRecords, l.(*fileLease).ledger.logged)
		}
		maxRecords = max(maxRecords, l.(*fileLease).ledger.logged)
		mustRelease(t, l)
	}
	// Without compaction the log would hold terms*rounds*1.5*jobs records.
	live := 1 + 2*jobs
	if limit := (2*ledgerCompactFactor + 1) * live; maxRecords > limit {
		t.Fatalf("the log grew to %d records; compaction should keep it under %d", maxRecords, limit)
	}
	l := leadLedger(t, f)
	if l.Term() <= lastTerm {
		t.Fatalf("term after compactions %d, want more than %d", l.Term(), lastTerm)
	}
	lastTerm = l.Term()
	names := make([]string, jobs)
	for j := range names {
		names[j] = fmt.Sprintf("job %d", j)
	}
	r, err := l.Records(context.Background(), names)
	if err != nil {
		t.Fatal(err)
	}
	for j, n := range names {
		wantDone := time.Time{}
		if j < jobs/2 {
			wantDone = tick
		}
		if !r[n].Claimed.Equal(tick) || !r[n].Completed.Equal(wantDone) {
			t.Errorf("%s after compactions: %+v, want claimed %v completed %v", n, r[n], tick, wantDone)
		}
	}
	// The terms survive losing the holder file too.
	mustRelease(t, l)
	if err := os.Remove(f.holderPath); err != nil {
		t.Fatal(err)
	}
	if l := leadLedger(t, f); l.Term() <= lastTerm {
		t.Fatalf("term without the holder file %d, want more than %d", l.Term(), lastTerm)
	}
}

func TestHolderFileTornReadIsRetried(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	good, err := os.ReadFile(f.holderPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, torn := range [][]byte{good[:len(good)/2], append(append([]byte{}, good...), "}extra\n"...), bytes.Replace(good, []byte("test"), []byte("tezt"), 1)} {
		if _, err := decodeHolder(torn); !errors.Is(err, errHolderTorn) {
			t.Fatalf("decodeHolder(%q) = %v, want errHolderTorn", torn, err)
		}
	}
	// A reader that catches the file half written retries until it is whole.
	if err := os.WriteFile(f.holderPath, good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(5 * time.Millisecond)
		_ = os.WriteFile(f.holderPath, good, 0o600)
	}()
	h, err := f.Holder(context.Background())
	if err != nil || h.Term != l.Term() || h.Hostname != "test" {
		t.Fatalf("Holder over a torn then whole file: %+v, %v", h, err)
	}
}

// benchmarkClaims claims one tick for each of 10,000 jobs in one batch
// per iteration and reports the cost per claim.
func benchmarkClaims(b *testing.B, sync bool) {
	const jobs = 10_000
	l := leadLedger(b, ledgerLock(b, sync))
	batch := make([]Claim, jobs)
	for j := range batch {
		batch[j].Job = fmt.Sprintf("job-%05d", j)
	}
	ctx := context.Background()
	tick := ledgerTick
	for b.Loop() {
		tick = tick.Add(time.Second)
		for j := range batch {
			batch[j].Tick = tick
		}
		ok, err := l.Claim(ctx, batch)
		if err != nil || !ok[jobs-1] {
			b.Fatalf("Claim: %v", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*jobs), "ns/claim")
}

func BenchmarkFileLedgerClaim(b *testing.B)     { benchmarkClaims(b, false) }
func BenchmarkFileLedgerClaimSync(b *testing.B) { benchmarkClaims(b, true) }

// writeHolderTerm writes a released holder file at term.
func writeHolderTerm(t *testing.T, f *FileLock, term uint64) {
	t.Helper()
	doc := holderDoc{PID: 1, Hostname: "elsewhere", Since: time.Now(), Term: term, Released: true}
	if err := os.WriteFile(f.holderPath, encodeHolder(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendToLedger(t *testing.T, f *FileLock, data []byte) {
	t.Helper()
	w, err := os.OpenFile(f.ledgerPath, os.O_WRONLY|os.O_APPEND, 0)
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

// A term follows the highest term recorded anywhere (the ledger or the
// holder file), even one far ahead of the clock; the clock only matters
// when both are gone.
func TestFileLockTermFollowsRecordedTerms(t *testing.T) {
	f := ledgerLock(t, false)
	mustRelease(t, leadLedger(t, f))
	ahead := uint64(time.Now().UnixMicro()) + 1e12
	appendToLedger(t, f, appendTermLine(nil, ahead, time.Now(), Candidate{PID: 1, Hostname: "elsewhere"}, false))
	l := leadLedger(t, f)
	if l.Term() != ahead+1 {
		t.Fatalf("term %d after a ledger at term %d, want %d", l.Term(), ahead, ahead+1)
	}
	if err := l.LedgerStale(); err != nil {
		t.Fatalf("LedgerStale = %v on a current ledger", err)
	}
	mustRelease(t, l)

	writeHolderTerm(t, f, ahead+100)
	l = leadLedger(t, f)
	if l.Term() != ahead+101 {
		t.Fatalf("term %d after a holder file at term %d, want %d", l.Term(), ahead+100, ahead+101)
	}
	err := l.LedgerStale()
	want := fmt.Sprintf("ledger %s ends at term %d but the holder file shows term %d: it was restored from a backup, moved back or replaced", f.ledgerPath, ahead+1, ahead+100)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("LedgerStale = %v, want %q", err, want)
	}
}

// A ledger found stale stays stale for the terms that follow until one of
// them records something in it, compaction or not; a missing ledger is
// stale too when the holder file shows a term.
func TestFileLedgerStaysStaleUntilATermRecords(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick})
	mustRelease(t, l)
	if err := os.Remove(f.ledgerPath); err != nil {
		t.Fatal(err)
	}

	stale := func(want string) Lease {
		t.Helper()
		l := leadLedger(t, f)
		err := l.LedgerStale()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), f.ledgerPath) {
			t.Fatalf("LedgerStale = %v, want an error naming %s and saying %q", err, f.ledgerPath, want)
		}
		return l
	}
	mustRelease(t, stale("is empty but the holder file shows term"))
	l = stale("was found stale when term")
	// Compacted while still stale: still stale.
	if err := l.(*fileLease).ledger.compact(); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, l)
	l = stale("was found stale when term")
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick.Add(time.Hour)})
	mustRelease(t, l)
	l = leadLedger(t, f)
	if err := l.LedgerStale(); err != nil {
		t.Fatalf("LedgerStale after a term claimed = %v, want nil", err)
	}
	if err := l.(*fileLease).ledger.compact(); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, l)
	if l := leadLedger(t, f); l.LedgerStale() != nil {
		t.Fatalf("LedgerStale after compacting a current ledger = %v, want nil", l.LedgerStale())
	}
}

// Reset writes a record that replay applies as is (claimed and completed
// both move back), and compaction keeps the result.
func TestFileLedgerResetSurvivesReplayAndCompaction(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	ahead := ledgerTick.Add(100 * 24 * time.Hour)
	mustClaim(t, l, Claim{Job: "a", Tick: ahead}, Claim{Job: "b", Tick: ahead})
	if err := l.Complete(context.Background(), decided(Claim{Job: "a", Tick: ahead})); err != nil {
		t.Fatal(err)
	}
	if err := l.Reset(context.Background(), "a", ledgerTick); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, l)
	check := func(l Lease) {
		t.Helper()
		r, err := l.Records(context.Background(), []string{"a", "b"})
		if err != nil {
			t.Fatal(err)
		}
		if !r["a"].Claimed.Equal(ledgerTick) || !r["a"].Completed.Equal(ledgerTick) || !r["b"].Claimed.Equal(ahead) {
			t.Fatalf("records after a reset: %+v", r)
		}
	}
	l = leadLedger(t, f)
	check(l)
	if err := l.(*fileLease).ledger.compact(); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, l)
	check(leadLedger(t, f))
}

func TestHolderFileWithoutIdentityParses(t *testing.T) {
	body := []byte(`{"pid":7,"hostname":"old","since":"2026-01-02T03:04:05Z","term":12}`)
	data := fmt.Appendf(nil, "%s\n%x\n", body, crc32.Checksum(body, castagnoli))
	doc, err := decodeHolder(data)
	if err != nil || doc.PID != 7 || doc.Term != 12 || doc.App != "" || doc.Jobs != "" {
		t.Fatalf("decodeHolder of a holder file without app and jobs = %+v, %v", doc, err)
	}
}

// campaignErr campaigns on f and returns the error (releasing a lease
// that was granted after all).
func campaignErr(t *testing.T, f *FileLock) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := f.Campaign(ctx, Candidate{})
	if err == nil {
		_ = l.Release(ctx)
	}
	return err
}

// A file that holds no record at all is not a ledger, unless it holds
// nothing but NULs (a power loss can leave a first write so).
func TestFileLedgerRefusesWhatIsNotALedger(t *testing.T) {
	f := ledgerLock(t, false)
	if err := os.WriteFile(f.ledgerPath, []byte("[settings]\nnot = \"a ledger\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := campaignErr(t, f); err == nil || !strings.Contains(err.Error(), "holds no valid record") || !strings.Contains(err.Error(), f.ledgerPath) {
		t.Fatalf("Campaign on a file that is not a ledger: %v, want an error naming it", err)
	}
	if err := os.WriteFile(f.ledgerPath, make([]byte, 5000), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, leadLedger(t, f))
	if fi, err := os.Stat(f.ledgerPath); err != nil || fi.Size() > 200 {
		t.Fatalf("a ledger of NULs was not cut off: %v, %v", fi.Size(), err)
	}
}

// A line longer than any record is an invalid line: a torn tail at the
// end, corruption before a valid record.
func TestFileLedgerLongLine(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick})
	mustRelease(t, l)
	whole, err := os.ReadFile(f.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	long := append(bytes.Repeat([]byte("x"), 3*maxLedgerLine), '\n')
	if err := os.WriteFile(f.ledgerPath, append(append([]byte{}, whole...), long...), 0o600); err != nil {
		t.Fatal(err)
	}
	l = leadLedger(t, f)
	if r, err := l.Records(context.Background(), []string{"a"}); err != nil || !r["a"].Claimed.Equal(ledgerTick) {
		t.Fatalf("records after a long torn line: %v, %v", r, err)
	}
	mustRelease(t, l)
	data, _ := os.ReadFile(f.ledgerPath)
	if bytes.Contains(data, long[:100]) {
		t.Fatal("the long torn line was not cut off")
	}
	withRecord := append(append(append([]byte{}, whole...), long...), appendTickLine(nil, 'C', ledgerTick.Add(time.Hour).UnixMicro(), `"a"`)...)
	if err := os.WriteFile(f.ledgerPath, withRecord, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := campaignErr(t, f); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("corrupt at byte %d", len(whole))) {
		t.Fatalf("Campaign with a long line before a record: %v, want corruption at byte %d", err, len(whole))
	}
}

// Replay streams the log: a ledger of tens of MB is read through a fixed
// buffer, allocating per job, not per record. (It used to be read whole:
// a 122 MB ledger took 385 MB of memory.)
func TestFileLedgerReplayStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 40 MB ledger")
	}
	f := ledgerLock(t, false)
	const jobs, size = 1000, 40 << 20
	var buf []byte
	out, err := os.OpenFile(f.ledgerPath, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	buf = appendTermLine(buf, 1, time.Now(), Candidate{PID: 1, Hostname: "h"}, false)
	var written, last int64
	for written < size {
		last++
		for j := range jobs {
			buf = appendTickLine(buf, 'C', last, strconv.Quote(fmt.Sprintf("job-%04d", j)))
		}
		n, err := out.Write(buf)
		if err != nil {
			t.Fatal(err)
		}
		written += int64(n)
		buf = buf[:0]
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	began := time.Now()
	g, err := openFileLedger(f.ledgerPath, false)
	took := time.Since(began)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("replaying %d MB took %v and allocated %d KB in total", written>>20, took, allocated>>10)
	if allocated > uint64(written)/20 {
		t.Fatalf("replaying %d bytes allocated %d bytes; want under 5%% of the ledger", written, allocated)
	}
	if g.size != written || len(g.jobs) != jobs || g.jobs["job-0999"].claimed != last {
		t.Fatalf("replay read %d of %d bytes, %d jobs, job-0999 %+v", g.size, written, len(g.jobs), *g.jobs["job-0999"])
	}
}

// decided is the outcomes of claims decided without a run.
func decided(claims ...Claim) []Outcome {
	out := make([]Outcome, len(claims))
	for i, c := range claims {
		out[i] = Outcome{Job: c.Job, Tick: c.Tick}
	}
	return out
}

// allRecords is every record the lease's ledger holds.
func allRecords(t testing.TB, l Lease) map[string]Record {
	t.Helper()
	fl := l.(*fileLease)
	if _, err := l.Records(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return fl.ledger.all()
}

func mustComplete(t testing.TB, l Lease, done ...Outcome) {
	t.Helper()
	if err := l.Complete(context.Background(), done); err != nil {
		t.Fatalf("Complete: %v", err)
	}
}

// What a leader holds after outcomes of every kind is what the next
// leader reads back, from the log and from the compacted log: replay and
// Complete apply an outcome alike.
func TestFileLedgerOutcomesSurviveReplayAndCompaction(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	t0, t1, t2 := ledgerTick, ledgerTick.Add(time.Minute), ledgerTick.Add(2*time.Minute)
	long := strings.Repeat("é", maxLedgerError) // twice maxLedgerError bytes
	// The longest record: a name and an error that quote to four times
	// their length.
	huge, hugeError := strings.Repeat("\xff", maxLedgerJob), strings.Repeat("\x01", maxLedgerError)
	mustClaim(t, l, Claim{Job: "ran", Tick: t0}, Claim{Job: "failed", Tick: t0}, Claim{Job: "skipped", Tick: t0},
		Claim{Job: "reset", Tick: t2}, Claim{Job: "late", Tick: t1}, Claim{Job: `odd "name"` + "\n", Tick: t0}, Claim{Job: "long", Tick: t0},
		Claim{Job: huge, Tick: t0})
	mustComplete(t, l,
		Outcome{Job: "ran", Tick: t0, Ran: true, Duration: 1500 * time.Millisecond, Next: t1},
		Outcome{Job: "failed", Tick: t0, Ran: true, Duration: -time.Nanosecond, Error: "exit status 1: \"quoted\"\\ ✓ \xff", Next: t1},
		Outcome{Job: "skipped", Tick: t0, Next: t1},
		Outcome{Job: "skipped", Tick: t0, Next: t0}, // the next tick does not move back
		Outcome{Job: "reset", Tick: t2, Ran: true, Duration: time.Hour, Error: "x y"},
		Outcome{Job: "late", Tick: t1, Ran: true, Duration: time.Second},
		Outcome{Job: "late", Tick: t0, Ran: true, Duration: time.Minute, Error: "late"}, // older: ignored
		Outcome{Job: `odd "name"` + "\n", Tick: t0, Ran: true, Error: " "},
		Outcome{Job: "long", Tick: t0, Ran: true, Error: long},
		Outcome{Job: huge, Tick: t0, Ran: true, Duration: time.Duration(math.MinInt64), Error: hugeError, Next: t2},
		Outcome{Job: "never claimed", Tick: t0, Ran: true, Error: "ignored"})
	mustComplete(t, l, Outcome{Job: "ran", Tick: t1, Next: t2}) // decided without a run: the run's outcome stays
	if err := l.Reset(context.Background(), "reset", t0); err != nil {
		t.Fatal(err)
	}
	want := allRecords(t, l)
	if _, ok := want["never claimed"]; ok {
		t.Fatal("an outcome of a job with no record made one")
	}
	if got := want["long"].Error; len(got) != maxLedgerError || got != long[:maxLedgerError] {
		t.Fatalf("an error of %d bytes was kept as %d bytes, want it cut to %d", len(long), len(got), maxLedgerError)
	}
	checks := map[string]Record{
		"ran":     {Claimed: t0, Completed: t1, Finished: t0, Duration: 1500 * time.Millisecond, Next: t2},
		"skipped": {Claimed: t0, Completed: t0, Next: t1},
		"reset":   {Claimed: t0, Completed: t0, Finished: t2, Duration: time.Hour, Error: "x y"},
		"late":    {Claimed: t1, Completed: t1, Finished: t1, Duration: time.Second},
	}
	for job, w := range checks {
		if got := want[job]; !sameRecord(got, w) {
			t.Errorf("%s = %+v, want %+v", job, got, w)
		}
	}
	mustRelease(t, l)

	same := func(how string, got map[string]Record) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", how, len(got), len(want))
		}
		for job, w := range want {
			if !sameRecord(got[job], w) {
				t.Errorf("%s: %q = %+v, want %+v", how, job, got[job], w)
			}
		}
	}
	l = leadLedger(t, f)
	same("replayed", allRecords(t, l))
	if err := l.(*fileLease).ledger.compact(); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, l)
	same("replayed after compaction", allRecords(t, leadLedger(t, f)))
}

func sameRecord(a, b Record) bool {
	return a.Claimed.Equal(b.Claimed) && a.Completed.Equal(b.Completed) && a.Finished.Equal(b.Finished) &&
		a.Duration == b.Duration && a.Error == b.Error && a.Next.Equal(b.Next) && a.Control == b.Control
}

// Compaction writes, for any records, lines whose replay rebuilds them
// exactly, whatever order resets and outcomes left their ticks in, and
// however the records of different jobs share lines.
func TestFileLedgerCompactionIsExact(t *testing.T) {
	ticks := []int64{never, -5, 0, 1, 2, 3}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() int64 { return ticks[rng.IntN(len(ticks))] }
	jobs := make(map[string]*ledgerRecord)
	for i := range 2000 {
		e := ledgerEntry{claimed: pick(), completed: pick(), finished: pick(), next: pick()}
		if e.finished != never {
			e.duration, e.err = time.Duration(rng.IntN(3)-1), []string{"", "boom", "a \"b\"\n"}[rng.IntN(3)]
		}
		name := fmt.Sprintf("job %d", i)
		if i%7 == 0 {
			name += " \"ünï\""
		}
		jobs[name] = &ledgerRecord{ledgerEntry: e, quoted: string(appendQuoted(nil, name))}
	}
	w := newLedgerLines(nil)
	w.buf = appendTermLine(w.buf, 1, time.Now(), Candidate{}, false)
	w.addLive(jobs, &liveScratch{})
	buf := w.done()
	g := &fileLedger{path: "compacted", jobs: make(map[string]*ledgerRecord)}
	valid, total, err := g.replay(bufio.NewReaderSize(bytes.NewReader(buf), maxLedgerLine), 0)
	if err != nil || valid != total {
		t.Fatalf("replay of the compacted records: %v", err)
	}
	if g.logged != w.records+1 {
		t.Errorf("replay counted %d records, compaction wrote %d", g.logged, w.records+1)
	}
	if lines := bytes.Count(buf, []byte("\n")); lines > w.records/20 {
		t.Errorf("%d records took %d lines: the records of the same ticks do not share lines", w.records, lines)
	}
	for name, r := range jobs {
		got := g.jobs[name]
		if r.ledgerEntry == newLedgerEntry {
			if got != nil {
				t.Fatalf("an empty record of %q compacted to %+v", name, got.ledgerEntry)
			}
			continue
		}
		if got == nil || got.ledgerEntry != r.ledgerEntry {
			t.Fatalf("%q: %+v replayed as %+v", name, r.ledgerEntry, got)
		}
	}
}

// A ledger written before outcomes were recorded (testdata/ledger-v1,
// written by the previous version: T, C, D and R records) replays, and
// takes the new records after it.
func TestFileLedgerOldFormatReplays(t *testing.T) {
	f := ledgerLock(t, false)
	copyTestdata(t, "ledger-v1", f.ledgerPath)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	want := map[string]Record{
		"nightly report": {Claimed: t0.Add(time.Minute), Completed: t0},
		`quote " ünï`:    {Claimed: t0.Add(time.Minute), Completed: t0.Add(time.Minute)},
		"reset":          {Claimed: t0, Completed: t0},
	}
	// Read without the lock, as any process reads it.
	got, err := f.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for job, w := range want {
		if !sameRecord(got[job], w) || len(got) != len(want) {
			t.Errorf("observed %q = %+v, want %+v", job, got[job], w)
		}
	}
	l := leadLedger(t, f)
	if l.Term() <= 1796093816516857 {
		t.Fatalf("term %d, want after the old ledger's last term", l.Term())
	}
	if err := l.LedgerStale(); err != nil {
		t.Fatal(err)
	}
	got = allRecords(t, l)
	if len(got) != len(want) {
		t.Fatalf("old ledger replayed as %+v", got)
	}
	for job, w := range want {
		if !sameRecord(got[job], w) {
			t.Errorf("%q = %+v, want %+v", job, got[job], w)
		}
	}
	mustClaim(t, l, Claim{Job: "nightly report", Tick: t0.Add(2 * time.Minute)})
	mustComplete(t, l, Outcome{Job: "nightly report", Tick: t0.Add(2 * time.Minute), Ran: true, Duration: time.Second, Error: "e"})
	mustRelease(t, l)
	l = leadLedger(t, f)
	if r := allRecords(t, l)["nightly report"]; !r.Finished.Equal(t0.Add(2*time.Minute)) || r.Error != "e" || !r.Claimed.Equal(r.Finished) {
		t.Fatalf("after an outcome on the old ledger: %+v", r)
	}
}

// copyTestdata copies testdata/name to dst.
func copyTestdata(t testing.TB, name, dst string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkFileLedgerComplete records the outcomes of 10,000 runs in one
// batch per iteration (one write), 1% of them failed, and reports the
// cost per outcome; each iteration claims the ticks first, untimed.
func BenchmarkFileLedgerComplete(b *testing.B) {
	const jobs = 10_000
	l := leadLedger(b, ledgerLock(b, false))
	claims := make([]Claim, jobs)
	done := make([]Outcome, jobs)
	for j := range claims {
		claims[j].Job = fmt.Sprintf("job-%05d", j)
		done[j] = Outcome{Job: claims[j].Job, Ran: true, Duration: time.Duration(j) * time.Microsecond}
		if j%100 == 0 {
			done[j].Error = "exit status 1"
		}
	}
	ctx := context.Background()
	tick := ledgerTick
	var completing time.Duration
	for b.Loop() {
		tick = tick.Add(time.Second)
		for j := range claims {
			claims[j].Tick, done[j].Tick, done[j].Next = tick, tick, tick.Add(time.Second)
		}
		if _, err := l.Claim(ctx, claims); err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		if err := l.Complete(ctx, done); err != nil {
			b.Fatal(err)
		}
		completing += time.Since(began)
	}
	b.ReportMetric(float64(completing.Nanoseconds())/float64(b.N*jobs), "ns/outcome")
}

// A batch's records of the same ticks share lines: claiming and finishing
// a tick of 3,000 jobs, a few of them failing, writes a few dozen lines,
// and the next leader reads back every job's record, whatever was in the
// middle of a line.
func TestFileLedgerBatchSharesLines(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	const n = 3000
	claims := make([]Claim, n)
	done := make([]Outcome, n)
	for i := range n {
		job := fmt.Sprintf("job %d", i)
		if i%100 == 0 {
			job += ` "ünï"`
		}
		claims[i] = Claim{Job: job, Tick: ledgerTick}
		done[i] = Outcome{Job: job, Tick: ledgerTick, Ran: i%3 != 0, Duration: time.Duration(i), Next: ledgerTick.Add(time.Second)}
		if i%7 == 0 {
			done[i].Error = fmt.Sprintf("boom %d\t\"quoted\"", i)
		}
	}
	before, err := os.ReadFile(f.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range mustClaim(t, l, claims...) {
		if !ok {
			t.Fatal("a claim of a new tick was refused")
		}
	}
	mustComplete(t, l, done...)
	held := allRecords(t, l)
	mustRelease(t, l)
	after, err := os.ReadFile(f.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(after, []byte("\n")) - bytes.Count(before, []byte("\n")); lines > 2*n/100 {
		t.Errorf("%d claims and %d outcomes took %d lines", n, n, lines)
	}
	read, err := f.Observe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range done {
		h, r := held[o.Job], read[o.Job]
		if !sameRecord(h, r) || !r.Completed.Equal(ledgerTick) || !r.Next.Equal(ledgerTick.Add(time.Second)) {
			t.Fatalf("%q: held %+v, read back %+v", o.Job, h, r)
		}
		if o.Ran && (!r.Finished.Equal(ledgerTick) || r.Error != o.Error || r.Duration != o.Duration) {
			t.Fatalf("%q: the run's outcome read back as %+v", o.Job, r)
		}
	}
}

// A write that fails (here: the ledger's file handle refuses writes, as a
// full disk or an I/O error would) grants and changes nothing: the
// records, new jobs' included, are what they were, the ledger keeps
// working once writes pass again, and the file replays to the same.
func TestFileLedgerFailedWriteChangesNothing(t *testing.T) {
	f := ledgerLock(t, false)
	l := leadLedger(t, f)
	g := l.(*fileLease).ledger
	mustClaim(t, l, Claim{Job: "a", Tick: ledgerTick}, Claim{Job: "b", Tick: ledgerTick})
	mustComplete(t, l, Outcome{Job: "a", Tick: ledgerTick, Ran: true, Duration: time.Second, Next: ledgerTick.Add(time.Minute)})
	before := allRecords(t, l)

	writable := g.file
	readOnly, err := os.Open(f.ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	defer readOnly.Close()
	g.file = readOnly
	later := ledgerTick.Add(time.Minute)
	if ok, err := l.Claim(context.Background(), []Claim{{Job: "a", Tick: later}, {Job: "new", Tick: later}}); err == nil || ok != nil {
		t.Fatalf("a claim whose write failed answered %v, %v", ok, err)
	}
	if err := l.Complete(context.Background(), []Outcome{{Job: "b", Tick: ledgerTick, Ran: true, Error: "boom"}}); err == nil {
		t.Fatal("an outcome whose write failed was accepted")
	}
	if err := l.(*fileLease).Reset(context.Background(), "a", ledgerTick.Add(-time.Hour)); err == nil {
		t.Fatal("a reset whose write failed was accepted")
	}
	if after := allRecords(t, l); !sameRecords(before, after) {
		t.Fatalf("failed writes changed the records:\nbefore %+v\nafter  %+v", before, after)
	}

	g.file = writable
	if ok := mustClaim(t, l, Claim{Job: "a", Tick: later}, Claim{Job: "new", Tick: later}); !ok[0] || !ok[1] {
		t.Fatalf("claims after the failure answered %v", ok)
	}
	held := allRecords(t, l)
	mustRelease(t, l)
	if read := allRecords(t, leadLedger(t, f)); !sameRecords(held, read) {
		t.Fatalf("held %+v, read back %+v", held, read)
	}
}

func sameRecords(a, b map[string]Record) bool {
	if len(a) != len(b) {
		return false
	}
	for job, r := range a {
		if !sameRecord(r, b[job]) {
			return false
		}
	}
	return true
}
