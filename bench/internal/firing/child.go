package firing

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/solocron/solocron/bench/internal/proc"
	"github.com/solocron/solocron/bench/internal/stats"
)

// Role is the child role that runs one library with N jobs.
const Role = "firing"

// everySecond is the spec all three libraries run: a seconds field, every second.
const everySecond = "* * * * * *"

// Libraries in the order they are run and reported.
var Libraries = []string{"solocron", "robfig", "gocron"}

// Measure is what one child measured for one library and N.
type Measure struct {
	Library         string        `json:"library"`
	Jobs            int           `json:"jobs"`
	Window          float64       `json:"window_s"`
	Firings         int64         `json:"firings"`
	Expected        int64         `json:"expected_firings"` // jobs x whole seconds in the window
	CPU             float64       `json:"cpu_ms"`
	CPUPerFiring    float64       `json:"cpu_per_firing_us"`
	AllocsPerFiring float64       `json:"allocs_per_firing"`
	Jitter          stats.Summary `json:"jitter"`
	Error           string        `json:"error,omitempty"`
}

// Child runs one library in this process and prints its Measure as a
// result event.
func Child(args []string) error {
	fs := flag.NewFlagSet(Role, flag.ContinueOnError)
	lib := fs.String("lib", "", "library: "+fmt.Sprint(Libraries))
	n := fs.Int("n", 1, "jobs")
	window := fs.Duration("dur", 5*time.Second, "measured window")
	warmup := fs.Duration("warmup", 2*time.Second, "time running before the window")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the window to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "solobench-firing-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	rec := newRecorder(*n * (int(window.Seconds()) + 2))
	var stop func(context.Context)
	switch *lib {
	case "robfig":
		stop, err = startRobfig(*n, rec)
	case "gocron":
		stop, err = startGocron(*n, rec, dir)
	case "solocron":
		stop, err = startSolocron(*n, rec, dir)
	default:
		err = fmt.Errorf("unknown library %q (known: %v)", *lib, Libraries)
	}
	if err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stop(ctx)
	}()

	m, err := measure(rec, *warmup, *window, *cpuprofile)
	if err != nil {
		return err
	}
	m.Library, m.Jobs = *lib, *n
	m.Expected = int64(*n) * int64(window.Round(time.Second)/time.Second)
	return proc.EmitResult(m)
}

// measure waits out the warm-up, then measures from half a second past a
// second boundary (between firings) for window.
func measure(rec *recorder, warmup, window time.Duration, cpuprofile string) (Measure, error) {
	time.Sleep(warmup)
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 500*time.Millisecond).Sub(now))

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return Measure{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return Measure{}, err
		}
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0, err := proc.SelfCPU()
	if err != nil {
		return Measure{}, err
	}
	start := time.Now()
	rec.measuring.Store(true)
	time.Sleep(window)
	rec.measuring.Store(false)
	elapsed := time.Since(start)
	cpu1, err := proc.SelfCPU()
	if err != nil {
		return Measure{}, err
	}
	runtime.ReadMemStats(&m1)
	if cpuprofile != "" {
		pprof.StopCPUProfile()
	}

	firings, lateness := rec.firings()
	m := Measure{
		Window:  elapsed.Seconds(),
		Firings: firings,
		CPU:     float64(cpu1-cpu0) / float64(time.Millisecond),
		Jitter:  stats.Summarize(lateness),
	}
	if firings > 0 {
		m.CPUPerFiring = float64(cpu1-cpu0) / float64(time.Microsecond) / float64(firings)
		m.AllocsPerFiring = float64(m1.Mallocs-m0.Mallocs) / float64(firings)
	}
	return m, nil
}
