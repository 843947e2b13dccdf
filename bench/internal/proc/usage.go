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

// SelfCPU returns this process's CPU time (user + system) from getrusage,
// to the microsecond.
func SelfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// Threads is what each thread of a process has consumed so far, by thread
// id. It is read from outside the process, which it does not wake.
type Threads map[int]Usage

// ThreadUsage reads every thread of process pid: CPU time from
// /proc/PID/task/TID/schedstat (on-CPU nanoseconds; /proc/PID/stat's
// utime and stime count 10 ms clock ticks, coarser than an idle process's
// whole window), context switches from .../status (/proc/PID/status alone
// counts the main thread, and a Go process waits on other threads).
func ThreadUsage(pid int) (Threads, error) {
	dirs, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil || len(dirs) == 0 {
		return nil, fmt.Errorf("reading the threads of process %d: no /proc/%d/task", pid, pid)
	}
	threads := Threads{}
	var total time.Duration
	for _, dir := range dirs {
		tid, err := strconv.Atoi(filepath.Base(dir))
		if err != nil {
			continue
		}
		cpu, err := schedstatCPU(dir + "/schedstat")
		if err != nil {
			return nil, err
		}
		sw, err := statusSwitches(dir + "/status")
		if err != nil {
			return nil, err
		}
		threads[tid] = Usage{CPU: cpu, Switches: sw}
		total += cpu
	}
	if total == 0 { // a kernel without scheduler statistics prints zeros
		return nil, fmt.Errorf("process %d: /proc/%d/task/*/schedstat counts no CPU time", pid, pid)
	}
	return threads, nil
}

// Since returns what the process consumed between earlier and t. A thread
// born since counts whole; a thread that died since is an error, since
// what it consumed before it died is lost.
func (t Threads) Since(earlier Threads) (Usage, error) {
	var u Usage
	for tid, e := range earlier {
		now, ok := t[tid]
		if !ok {
			return Usage{}, fmt.Errorf("thread %d exited: its share is unknown", tid)
		}
		u.CPU += now.CPU - e.CPU
		u.Switches += now.Switches - e.Switches
	}
	for tid, now := range t {
		if _, ok := earlier[tid]; !ok {
			u.CPU += now.CPU
			u.Switches += now.Switches
		}
	}
	return u, nil
}

// schedstatCPU reads a thread's first schedstat field: its time on a CPU
// in nanoseconds.
func schedstatCPU(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), " ")
	ns, err := strconv.ParseInt(first, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return time.Duration(ns), nil
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
