// Package report holds every figure of one harness run, the targets they
// are judged by, and their text rendering.
package report

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"syscall"

	"github.com/solocron/solocron/bench/internal/chaos"
	"github.com/solocron/solocron/bench/internal/firing"
	"github.com/solocron/solocron/bench/internal/standby"
	"github.com/solocron/solocron/bench/internal/takeover"
)

// Report is one run: printed as the last line with -json.
type Report struct {
	Command  string         `json:"command"`
	Smoke    bool           `json:"smoke"`
	Machine  Machine        `json:"machine"`
	Started  string         `json:"started"`
	Seconds  float64        `json:"seconds"`
	Engines  []EngineState  `json:"engines"`
	Firing   *firing.Result `json:"firing,omitempty"`
	Takeover []takeover.Row `json:"takeover,omitempty"`
	Standby  []standby.Row  `json:"standby,omitempty"`
	Chaos    []chaos.Row    `json:"chaos,omitempty"`
	Targets  []Target       `json:"targets"`
	Errors   []string       `json:"errors,omitempty"` // the harness broke: rows it could not measure
}

// EngineState says whether an engine was measured, and why not.
type EngineState struct {
	Name    string `json:"name"`
	Skipped string `json:"skipped,omitempty"`
}

// Machine is what the figures were measured on.
type Machine struct {
	CPUs      int    `json:"nproc"`
	CPUModel  string `json:"cpu_model"`
	GoVersion string `json:"go_version"`
	Kernel    string `json:"kernel"`
	// Load averages (1, 5, 15 min) at the start and the end of the run:
	// other work on the machine shows in the figures.
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end,omitempty"`
}

// LoadAvg returns the first three fields of /proc/loadavg.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// ThisMachine describes the machine the harness runs on.
func ThisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), CPUModel: cpuModel(), LoadStart: LoadAvg()}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.Kernel = utsString(u.Sysname[:]) + " " + utsString(u.Release[:])
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func utsString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}
