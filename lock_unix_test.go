//go:build unix

package solocron_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/testdir"
)

// flipToFIFO turns path into a FIFO and back into a regular file, again
// and again, until stop is called (which leaves a regular file) or the
// test ends: a FIFO raced in between a check of the path and its open.
func flipToFIFO(t *testing.T, path string) (stop func()) {
	var stopped atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stopped.Load() {
			_ = os.Remove(path)
			_ = syscall.Mkfifo(path, 0o600)
			_ = os.Remove(path)
			if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
				_ = f.Close()
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			stopped.Store(true)
			wg.Wait()
			// Wake a call that hung opening this FIFO for reading: a
			// writer that opens it lets the open return.
			if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = w.Close()
			}
			_ = os.Remove(path)
			_ = os.WriteFile(path, nil, 0o600)
		})
	}
	t.Cleanup(stop)
	return stop
}

// returnsSoon fails the test if call has not returned within 5s.
func returnsSoon(t *testing.T, what string, call func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		call()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s hung for 5s on a FIFO raced in at its path", what)
	}
}

// Opening a FIFO for reading waits for a writer: a FIFO raced into the
// lock file's, the ledger's or the holder file's path must not make New,
// Campaign or Holder (and so Status) hang. Every path is opened without
// blocking, then refused unless it is a regular file.
func TestFileLockFIFORacedIn(t *testing.T) {
	calls := map[string]func(f *solocron.FileLock) error{
		"New": func(f *solocron.FileLock) error {
			_, err := solocron.NewFileLock(solocron.FileLockOptions{Path: f.Path()})
			return err
		},
		"Campaign": func(f *solocron.FileLock) error {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			l, err := f.Campaign(ctx, solocron.Candidate{})
			if err == nil {
				_ = l.Release(ctx)
			}
			return err
		},
		"Holder": func(f *solocron.FileLock) error {
			_, err := f.Holder(context.Background())
			return err
		},
	}
	for _, suffix := range []string{"", ".ledger", ".holder"} {
		for name, call := range calls {
			t.Run("lock"+suffix+"/"+name, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(testdir.New(t), "app.lock")
				f := newFileLock(t, solocron.FileLockOptions{Path: path})
				if suffix == ".holder" {
					lead(t, newFileLock(t, solocron.FileLockOptions{Path: path})) // so that Holder reads it
				}
				stop := flipToFIFO(t, path+suffix)
				var fine, refused int
				for end := time.Now().Add(time.Second); time.Now().Before(end); {
					returnsSoon(t, name, func() {
						switch err := call(f); {
						case err == nil, errors.Is(err, solocron.ErrNoHolder), errors.Is(err, context.DeadlineExceeded):
							fine++
						case !strings.Contains(err.Error(), path):
							t.Errorf("%s failed with an error that does not name the file: %v", name, err)
						default:
							refused++
						}
					})
				}
				t.Logf("%d calls succeeded (or found no holder, or waited for the lock), %d refused the path", fine, refused)
				stop()
				if suffix != ".holder" {
					// Nothing was left stuck: the lock can be taken.
					lead(t, f)
				}
			})
		}
	}
}

// A directory on the way to the lock that another user owns, or a
// symbolic link of another user on the way, lets that user swap the
// ledger: refused, at New and at Campaign. Root's and this user's are
// fine (a sticky world-writable /tmp is root's: the files' owners are
// checked there).
func TestFileLockRefusesForeignDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	const other = 65534
	dir := testdir.New(t)
	foreign := filepath.Join(dir, "foreign")
	mustDo(t, os.MkdirAll(filepath.Join(foreign, "sub"), 0o755))
	mustDo(t, os.Chown(foreign, other, other))
	mine := filepath.Join(dir, "mine")
	mustDo(t, os.Mkdir(mine, 0o700))
	link := filepath.Join(dir, "link")
	mustDo(t, os.Symlink(mine, link))
	mustDo(t, os.Lchown(link, other, other))

	cases := map[string]struct{ path, names string }{
		"directory":         {filepath.Join(foreign, "app.lock"), foreign},
		"ancestor":          {filepath.Join(foreign, "sub", "app.lock"), foreign},
		"symbolic link":     {filepath.Join(link, "app.lock"), link},
		"link to a foreign": {filepath.Join(dir, "mylink", "app.lock"), foreign},
	}
	mustDo(t, os.Symlink(filepath.Join(foreign, "sub"), filepath.Join(dir, "mylink")))
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := solocron.NewFileLock(solocron.FileLockOptions{Path: c.path})
			if err == nil || !strings.Contains(err.Error(), "owned by uid 65534") || !strings.Contains(err.Error(), c.names) {
				t.Fatalf("NewFileLock(%s) = %v, want an error naming %s and its owner", c.path, err, c.names)
			}
		})
	}

	// Given away after New: Campaign refuses it.
	sub := filepath.Join(dir, "later")
	f := newFileLock(t, solocron.FileLockOptions{Path: filepath.Join(sub, "app.lock")})
	mustDo(t, os.Chown(sub, other, other))
	campaignFails(t, f, "owned by uid 65534")

	// The user's own directories, through the user's own link, are fine.
	newFileLock(t, solocron.FileLockOptions{Path: filepath.Join(mine, "app.lock")})
	mustDo(t, os.Symlink(mine, filepath.Join(dir, "ownlink")))
	lead(t, newFileLock(t, solocron.FileLockOptions{Path: filepath.Join(dir, "ownlink", "app.lock")}))
}
