package firing

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/solocron/solocron/bench/internal/proc"
)

// Config of the firing scenario.
type Config struct {
	Jobs       []int         // N values
	Window     time.Duration // measured window per child
	Warmup     time.Duration
	ProfileDir string // if set, the solocron child writes cpu-solocron-N.pprof there
}

// Ratio compares solocron with another library at one N; above 1 means
// solocron costs more.
type Ratio struct {
	Jobs         int     `json:"jobs"`
	Versus       string  `json:"versus"`
	CPUPerFiring float64 `json:"cpu_per_firing"`
	Allocs       float64 `json:"allocs_per_firing"`
	JitterP50    float64 `json:"jitter_p50"`
	JitterP99    float64 `json:"jitter_p99"`
}

// Result of the firing scenario.
type Result struct {
	WindowSeconds float64   `json:"window_s"`
	Measures      []Measure `json:"measures"`
	Ratios        []Ratio   `json:"ratios"`
}

// maxGocronJobs: gocron costs about 30 µs a firing, so at 100,000 jobs a
// second it would need three cores and never keep up.
const maxGocronJobs = 10000

// Run runs every library at every N, one child process after the other.
func Run(cfg Config) Result {
	res := Result{WindowSeconds: cfg.Window.Seconds()}
	for _, n := range cfg.Jobs {
		byLib := map[string]Measure{}
		for _, lib := range Libraries {
			if lib == "gocron" && n > maxGocronJobs {
				continue
			}
			args := []string{"-lib", lib, "-n", strconv.Itoa(n), "-dur", cfg.Window.String(), "-warmup", cfg.Warmup.String()}
			if cfg.ProfileDir != "" && lib == "solocron" {
				args = append(args, "-cpuprofile", fmt.Sprintf("%s/cpu-solocron-%d.pprof", cfg.ProfileDir, n))
			}
			fmt.Fprintf(os.Stderr, "firing: %s with %d jobs for %v\n", lib, n, cfg.Window)
			var m Measure
			if err := proc.RunForResult(Role, args, cfg.Warmup+cfg.Window+2*time.Minute, &m); err != nil {
				m = Measure{Library: lib, Jobs: n, Error: err.Error()}
			}
			byLib[lib] = m
			res.Measures = append(res.Measures, m)
		}
		for _, other := range Libraries[1:] {
			if _, measured := byLib[other]; !measured {
				continue
			}
			if r, ok := ratio(byLib["solocron"], byLib[other]); ok {
				res.Ratios = append(res.Ratios, r)
			}
		}
	}
	return res
}

func ratio(s, o Measure) (Ratio, bool) {
	if s.Error != "" || o.Error != "" {
		return Ratio{}, false
	}
	return Ratio{
		Jobs:         s.Jobs,
		Versus:       o.Library,
		CPUPerFiring: div(s.CPUPerFiring, o.CPUPerFiring),
		Allocs:       div(s.AllocsPerFiring, o.AllocsPerFiring),
		JitterP50:    div(s.Jitter.P50, o.Jitter.P50),
		JitterP99:    div(s.Jitter.P99, o.Jitter.P99),
	}, true
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Find returns the measure of lib at n.
func (r Result) Find(lib string, n int) (Measure, bool) {
	for _, m := range r.Measures {
		if m.Library == lib && m.Jobs == n {
			return m, m.Error == ""
		}
	}
	return Measure{}, false
}

// FindRatio returns solocron's ratio against versus at n.
func (r Result) FindRatio(versus string, n int) (Ratio, bool) {
	for _, x := range r.Ratios {
		if x.Versus == versus && x.Jobs == n {
			return x, true
		}
	}
	return Ratio{}, false
}
