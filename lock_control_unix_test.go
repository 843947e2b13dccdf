//go:build unix

package solocron_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/internal/testdir"
)

// The calls that read or write the control file or read the ledger
// without the lock.
var unlockedCalls = map[string]func(f *solocron.FileLock) error{
	"Observe": func(f *solocron.FileLock) error {
		_, err := f.Observe(context.Background())
		return err
	},
	"Control": func(f *solocron.FileLock) error {
		_, err := f.Control(context.Background())
		return err
	},
	"SetPaused": func(f *solocron.FileLock) error {
		return f.SetPaused(context.Background(), "job", true)
	},
	"RequestRun": func(f *solocron.FileLock) error {
		return f.RequestRun(context.Background(), "job")
	},
}

// A symbolic link or a FIFO in place of the control file (or of the
// ledger, for Observe) is refused: nothing is read or written through
// the link, and nothing hangs on the FIFO.
func TestFileLockControlRefusesLinkAndFIFO(t *testing.T) {
	for _, suffix := range []string{".control", ".ledger"} {
		for name, call := range unlockedCalls {
			if suffix == ".ledger" && name != "Observe" {
				continue // the others do not read the ledger
			}
			t.Run(suffix+"/"+name, func(t *testing.T) {
				dir := testdir.New(t)
				path := filepath.Join(dir, "app.lock")
				f := newFileLock(t, solocron.FileLockOptions{Path: path})
				target := filepath.Join(dir, "target")
				mustDo(t, os.WriteFile(target, nil, 0o600))
				mustDo(t, os.Remove(path+suffix))
				mustDo(t, os.Symlink(target, path+suffix))
				if err := call(f); err == nil || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), path+suffix) {
					t.Fatalf("%s with a link at %s = %v, want a symbolic link error naming it", name, suffix, err)
				}
				if data, _ := os.ReadFile(target); len(data) != 0 {
					t.Fatalf("%s wrote through the link: %q", name, data)
				}

				mustDo(t, os.Remove(path+suffix))
				mustDo(t, syscall.Mkfifo(path+suffix, 0o600))
				returnsSoon(t, name, func() {
					if err := call(f); err == nil || !strings.Contains(err.Error(), "not a regular file") {
						t.Errorf("%s with a FIFO at %s = %v, want a not a regular file error", name, suffix, err)
					}
				})
			})
		}
	}
}

// A FIFO raced in at the control file's or the ledger's path, between
// the check of the path and its open, does not make a call hang either.
func TestFileLockControlFIFORacedIn(t *testing.T) {
	for _, suffix := range []string{".control", ".ledger"} {
		for name, call := range unlockedCalls {
			if suffix == ".ledger" && name != "Observe" {
				continue
			}
			t.Run(suffix+"/"+name, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(testdir.New(t), "app.lock")
				f := newFileLock(t, solocron.FileLockOptions{Path: path})
				stop := flipToFIFO(t, path+suffix)
				var fine, refused int
				for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
					returnsSoon(t, name, func() {
						switch err := call(f); {
						case err == nil:
							fine++
						case !strings.Contains(err.Error(), path):
							t.Errorf("%s failed with an error that does not name the file: %v", name, err)
						default:
							refused++
						}
					})
				}
				t.Logf("%d calls succeeded, %d refused the path", fine, refused)
				stop()
				if err := call(f); err != nil {
					t.Fatalf("%s once the FIFO is gone: %v", name, err)
				}
			})
		}
	}
}
