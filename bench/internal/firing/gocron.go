package firing

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/gofrs/flock"
)

// flockElector is gocron's distributed Elector backed by the same kind of
// file lock solocron uses: this process leads while it holds the flock.
type flockElector struct{ lock *flock.Flock }

var errNotLeader = errors.New("flock held by another process")

func (e flockElector) IsLeader(context.Context) error {
	if e.lock.Locked() {
		return nil
	}
	return errNotLeader
}

// startGocron runs n jobs on gocron v2 with WithDistributedElector. gocron
// asks the elector before every run.
func startGocron(n int, rec *recorder, dir string) (func(context.Context), error) {
	lock := flock.New(filepath.Join(dir, "gocron.lock"))
	if ok, err := lock.TryLock(); err != nil || !ok {
		return nil, errors.Join(errors.New("gocron: cannot take the file lock"), err)
	}
	s, err := gocron.NewScheduler(gocron.WithDistributedElector(flockElector{lock}))
	if err != nil {
		return nil, err
	}
	task := gocron.NewTask(func() { rec.fired(time.Now().Truncate(time.Second)) })
	for range n {
		if _, err := s.NewJob(gocron.CronJob(everySecond, true), task); err != nil {
			return nil, err
		}
	}
	s.Start()
	return func(ctx context.Context) {
		s.Shutdown()
		lock.Unlock()
	}, nil
}
