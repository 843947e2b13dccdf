package solocron

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	torn := appendTickLine(nil, 'C', ledgerTick.Add(time.Hour).UnixMicro(), "a")
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
	if err := l.Complete(context.Background(), claims[:2]); err != nil {
		t.Fatal(err)
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
	maxLines := 0
	for term := 0; term < terms; term++ {
		l := leadLedger(t, f)
		if l.Term() != lastTerm+1 {
			t.Fatalf("term %d after %d, want %d", l.Term(), lastTerm, lastTerm+1)
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
			if err := l.Complete(context.Background(), batch[:jobs/2]); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(f.ledgerPath)
			maxLines = max(maxLines, bytes.Count(data, []byte{'\n'}))
		}
		mustRelease(t, l)
	}
	// Without compaction the log would hold terms*rounds*1.5*jobs lines.
	live := 1 + 2*jobs
	if limit := (ledgerCompactFactor + 1) * live; maxLines > limit {
		t.Fatalf("the log grew to %d lines; compaction should keep it under %d", maxLines, limit)
	}
	l := leadLedger(t, f)
	if l.Term() != terms+1 {
		t.Fatalf("term after compactions %d, want %d", l.Term(), terms+1)
	}
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
	if l := leadLedger(t, f); l.Term() != terms+2 {
		t.Fatalf("term without the holder file %d, want %d", l.Term(), terms+2)
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
