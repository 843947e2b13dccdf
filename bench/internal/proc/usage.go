package proc

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Usage is what a process has consumed so far.
type Usage struct {
	CPU      time.Duration // user + system, all threads
	Switches int64         // voluntary + involuntary context switches, all threads
}

// Sub returns the consumption between earlier and u.
func (u Usage) Sub(earlier Usage) Usage {
	return Usage{CPU: u.CPU - earlier.CPU, Switches: u.Switches - earlier.Switches}
}

// SelfCPU returns this process's CPU time (user + system) from getrusage,
// to the microsecond.
func SelfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// SelfUsage returns this process's CPU time from getrusage and its context
// switches summed over /proc/self/task/*/status: /proc/PID/status alone
// counts the main thread only, and a Go process waits on other threads.
func SelfUsage() (Usage, error) {
	cpu, err := SelfCPU()
	if err != nil {
		return Usage{}, err
	}
	sw, err := Switches(os.Getpid())
	if err != nil {
		return Usage{}, err
	}
	return Usage{CPU: cpu, Switches: sw}, nil
}

// Switches sums voluntary_ctxt_switches and nonvoluntary_ctxt_switches over
// the threads of process pid. Threads that exited are not counted.
func Switches(pid int) (int64, error) {
	dirs, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
	if err != nil || len(dirs) == 0 {
		return 0, fmt.Errorf("reading the threads of process %d: no /proc/%d/task", pid, pid)
	}
	var total int64
	for _, path := range dirs {
		n, err := statusSwitches(path)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func statusSwitches(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "voluntary_ctxt_switches" && key != "nonvoluntary_ctxt_switches") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		total += n
	}
	return total, sc.Err()
}
