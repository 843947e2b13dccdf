package solocron

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A run never waits long behind runs that hold every worker: the
// watchdog starts another worker within about stallCheck.
func TestDispatchStartsAWorkerWhenAllAreHeld(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	started := make(chan time.Time, 64)
	d := newDispatcher(func(rc *runContext) {
		started <- time.Now()
		if rc.run.Job == "long" {
			<-release
		}
	})
	defer d.close()
	var batch []*runContext
	for range d.keep {
		batch = append(batch, &runContext{run: Run{Job: "long"}})
	}
	published := time.Now()
	quick := &runContext{run: Run{Job: "quick"}}
	d.publish(append(batch, quick))
	var last time.Time
	for range d.keep + 1 {
		select {
		case last = <-started:
		case <-time.After(2 * time.Second):
			t.Fatal("a run waited behind runs that held every worker")
		}
	}
	if wait := last.Sub(published); wait > 200*time.Millisecond {
		t.Fatalf("the quick run started %v after it was published, want about %v", wait, stallCheck)
	}
}

// A large batch is run by the kept workers, not a goroutine per run.
func TestDispatchRunsABatchOnFewWorkers(t *testing.T) {
	var mu sync.Mutex
	goroutines := map[uint64]bool{}
	var ran atomic.Int32
	d := newDispatcher(func(*runContext) {
		mu.Lock()
		goroutines[goid()] = true
		mu.Unlock()
		ran.Add(1)
	})
	const n = 10000
	batch := make([]*runContext, n)
	for i := range batch {
		batch[i] = &runContext{}
	}
	d.publish(batch)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if !d.wait(ctx) || ran.Load() != n {
		t.Fatalf("%d of %d runs finished", ran.Load(), n)
	}
	d.close()
	mu.Lock()
	defer mu.Unlock()
	// GOMAXPROCS workers, and a few more if the watchdog saw them all
	// busy for a millisecond (quick runs: rare).
	if len(goroutines) > 2*runtime.GOMAXPROCS(0)+4 {
		t.Fatalf("%d runs ran on %d goroutines, want a few workers", n, len(goroutines))
	}
}

// Close refuses later runs and hands back the runs never taken, so the
// caller can release their jobs: every published run is either run once
// or handed back, never both, never lost.
func TestDispatchCloseHandsBackWhatWasNotTaken(t *testing.T) {
	var mu sync.Mutex
	ran := map[*runContext]int{}
	d := newDispatcher(func(rc *runContext) {
		time.Sleep(time.Millisecond)
		mu.Lock()
		ran[rc]++
		mu.Unlock()
	})
	batch := make([]*runContext, 200)
	for i := range batch {
		batch[i] = &runContext{}
	}
	d.publish(batch)
	left := d.close()
	if d.publish([]*runContext{{}}) {
		t.Fatal("publish after close was accepted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !d.wait(ctx) {
		t.Fatal("runs still in flight after close and their end")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(left) == 0 {
		t.Fatal("close handed back nothing: 200 runs of 1ms were all taken at once")
	}
	for _, rc := range left {
		if ran[rc] != 0 {
			t.Fatal("close handed back a run that was taken")
		}
		ran[rc] = -1
	}
	for _, rc := range batch {
		if n := ran[rc]; n != 1 && n != -1 {
			t.Fatalf("a run ran %d times (or was lost)", n)
		}
	}
}

// goid returns the current goroutine's id, for telling workers apart.
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	var id uint64
	for _, c := range buf[len("goroutine "):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}
