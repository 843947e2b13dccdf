package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
)

// TestContention is ShedLock's fuzz test in spirit: 8 processes increment
// a counter in a file by a deliberately non-atomic read, sleep, write, and
// only while they lead; leaders release often. Any overlap loses an
// increment, so the final count is exact only if leadership was exclusive.
// Each increment is also claimed in the ledger as tick n (it must be
// granted) and logged with the term, which must never go backwards.
func TestContention(t *testing.T) {
	srv := serverURL(t)
	app := newApp(t, srv)
	dir := t.TempDir()
	counter, log := filepath.Join(dir, "counter"), filepath.Join(dir, "log")
	if err := os.WriteFile(counter, []byte("0 0"), 0o644); err != nil {
		t.Fatal(err)
	}
	const procs, rounds, per = 8, 5, 5
	env := append(workerEnvFor(srv, app, time.Second),
		"W_COUNTER="+counter, "W_LOG="+log, fmt.Sprintf("W_ROUNDS=%d", rounds), fmt.Sprintf("W_PER=%d", per))
	ps := make([]*proc, procs)
	for i := range ps {
		ps[i] = startWorker(t, "counter", env...)
	}
	sum := 0
	for _, p := range ps {
		line := p.expect("done", 60*time.Second)
		n, err := strconv.Atoi(strings.TrimPrefix(line, "done "))
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		sum += n
		p.wait(10 * time.Second)
	}
	v, term, err := readCounter(counter)
	if err != nil {
		t.Fatal(err)
	}
	if sum != procs*rounds*per || v != sum {
		t.Fatalf("counter %d, increments reported %d, want both %d", v, sum, procs*rounds*per)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var last uint64
	owner := map[uint64]string{}
	for i, line := range lines {
		f := strings.Fields(line) // term pid value
		tm, _ := strconv.ParseUint(f[0], 10, 64)
		if tm < last {
			t.Fatalf("log line %d: term %d after term %d", i, tm, last)
		}
		if o, ok := owner[tm]; ok && o != f[1] {
			t.Fatalf("term %d used by pids %s and %s", tm, o, f[1])
		}
		owner[tm], last = f[1], tm
		if f[2] != strconv.Itoa(i+1) {
			t.Fatalf("log line %d: value %s, want %d", i, f[2], i+1)
		}
	}
	t.Logf("%d increments by %d processes in %d terms (last term %d)", v, procs, len(owner), term)
}

func readCounter(path string) (value int, term uint64, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	_, err = fmt.Sscanf(string(b), "%d %d", &value, &term)
	return value, term, err
}

func init() { workers["counter"] = counterWorker }

// counterWorker leads W_ROUNDS times, incrementing W_PER times per term,
// then says "done <its increments>".
func counterWorker() error {
	o, err := workerOptions()
	if err != nil {
		return err
	}
	rounds, _ := strconv.Atoi(os.Getenv("W_ROUNDS"))
	per, _ := strconv.Atoi(os.Getenv("W_PER"))
	counter, logPath := os.Getenv("W_COUNTER"), os.Getenv("W_LOG")
	e, err := New(o)
	if err != nil {
		return err
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	mine := 0
	for range rounds {
		l, err := e.Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: "counter"})
		if err != nil {
			return err
		}
		for range per {
			if err := increment(ctx, l, counter, logPath); err != nil {
				return err
			}
			mine++
		}
		if err := l.Release(ctx); err != nil {
			return err
		}
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	}
	fmt.Printf("done %d\n", mine)
	return nil
}

// increment is the unsafe read-modify-write, guarded only by leadership:
// Lost is checked before reading and before writing, the tick is claimed
// in the ledger, and the file's term (the fencing token) must not be newer
// than ours.
func increment(ctx context.Context, l solocron.Lease, counter, logPath string) error {
	lost := func() error {
		select {
		case <-l.Lost():
			return fmt.Errorf("lost leadership mid-test: %v", l.Err())
		default:
			return nil
		}
	}
	if err := lost(); err != nil {
		return err
	}
	v, term, err := readCounter(counter)
	if err != nil {
		return err
	}
	if term > l.Term() {
		return fmt.Errorf("fenced: counter written by term %d, we hold %d", term, l.Term())
	}
	ok, err := l.Claim(ctx, []solocron.Claim{{Job: "counter", Tick: time.UnixMicro(int64(v + 1))}})
	if err != nil {
		return err
	}
	if !ok[0] {
		return fmt.Errorf("ledger refused increment %d: someone else claimed it", v+1)
	}
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
	if err := lost(); err != nil {
		return err
	}
	if err := os.WriteFile(counter, fmt.Appendf(nil, "%d %d", v+1, l.Term()), 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%d %d %d\n", l.Term(), os.Getpid(), v+1)
	return err
}
