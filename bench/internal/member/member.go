// Package member is the child role shared by the takeover, standby and
// chaos scenarios: one process of a solocron cluster. It reports
// leadership changes as events and obeys "stop" (and "role", "arm") on
// stdin.
package member

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/bench/internal/engine"
	"github.com/solocron/solocron/bench/internal/proc"
)

// Role is the child role name.
const Role = "member"

// Child runs one cluster member until it is killed, told to stop, or its
// stdin closes.
func Child(args []string) error {
	fs := flag.NewFlagSet(Role, flag.ContinueOnError)
	eng := fs.String("engine", engine.File, "leadership engine")
	shared := fs.String("shared", "", "what the cluster shares: a directory for the file lock, a key for servers")
	spec := fs.String("spec", "0 0 * * * *", "the job's spec (with a seconds field)")
	logPath := fs.String("log", "", "append one line per run to this file (chaos)")
	runAll := fs.Bool("runall", false, "run every tick missed while nobody led (MisfireRunAll)")
	tx := fs.Bool("tx", false, "postgres: the job writes its effect in a RunTx (exactly-once variant); \"arm WINDOW\" on stdin pauses it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *shared == "" {
		return fmt.Errorf("member: -shared is required")
	}
	switch *eng {
	case RawFlock:
		return rawFlock(*shared)
	case RawPostgres:
		return rawPostgres(*shared)
	}
	run, closeLog, err := job(*logPath)
	if err != nil {
		return err
	}
	defer closeLog()

	var s *solocron.Scheduler
	opts, cleanup, err := engine.Options(*eng, *shared, solocron.Options{
		Seconds: true,
		Hooks: solocron.Hooks{
			OnLeading: func(ev solocron.LeadershipEvent) {
				proc.Emit("leading", strconv.FormatUint(ev.Term, 10))
				go reportHolder(s)
			},
			OnLost: func(solocron.LeadershipEvent) { proc.Emit("lost") },
		},
	})
	if err != nil {
		return err
	}
	defer cleanup()
	j := solocron.Job{Name: "bench", Spec: *spec, Run: run}
	if *runAll {
		j.Misfire = solocron.MisfireRunAll
	}
	arm := func(string) {}
	if *tx {
		var closeDB func()
		if j, arm, closeDB, err = txJob(&opts, *shared, *spec); err != nil {
			return err
		}
		defer closeDB()
	}
	s, err = solocron.New(opts)
	if err != nil {
		return err
	}
	if err := s.Add(j); err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	proc.Emit("started")

	// Block on stdin: a blocked read costs no wakeups.
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "stop" {
			break
		}
		if w, ok := strings.CutPrefix(sc.Text(), "arm "); ok {
			arm(w)
		}
		if sc.Text() == "role" {
			reportRole(s)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = s.Stop(ctx)
	proc.Emit("stopped")
	return err
}

// reportHolder emits when this process's term began by the elector's
// record (Holder.Since: the lock taken, before the ledger is read), so
// that a takeover can be split into getting the lock and getting ready.
func reportHolder(s *solocron.Scheduler) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if h := s.Status(ctx).Holder; h.PID == os.Getpid() {
		proc.EmitAt("holder", h.Since, strconv.FormatUint(h.Term, 10))
	}
}

// reportRole emits this process's role, for the standby scenario, which
// measures the process from outside and asks before and after.
func reportRole(s *solocron.Scheduler) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	proc.Emit("role", s.Status(ctx).Role.String())
}

// job returns the job's Run: nothing, or one appended line per run.
func job(logPath string) (func(context.Context) error, func(), error) {
	if logPath == "" {
		return func(context.Context) error { return nil }, func() {}, nil
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	pid := os.Getpid()
	run := func(ctx context.Context) error {
		r, _ := solocron.RunFrom(ctx)
		// One write per line: O_APPEND keeps concurrent writers' lines whole.
		_, err := fmt.Fprintf(f, "%s %s %d %d\n", r.Job, r.Tick.UTC().Format(TickLayout), pid, r.Term)
		return err
	}
	return run, func() { f.Close() }, nil
}

// TickLayout is how the chaos log writes ticks.
const TickLayout = "2006-01-02T15:04:05.000000Z"
