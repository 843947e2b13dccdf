package solocron_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/solocron/solocron"
	"github.com/solocron/solocron/electortest"
	"github.com/solocron/solocron/internal/testdir"
)

var fileTick = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newFileLock(t testing.TB, opts solocron.FileLockOptions) *solocron.FileLock {
	t.Helper()
	f, err := solocron.NewFileLock(opts)
	if err != nil {
		t.Fatalf("NewFileLock(%+v): %v", opts, err)
	}
	return f
}

func lead(t testing.TB, f *solocron.FileLock) solocron.Lease {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := f.Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: "test"})
	if err != nil {
		t.Fatalf("Campaign on %s: %v", f.Path(), err)
	}
	t.Cleanup(func() { _ = l.Release(context.Background()) })
	return l
}

// campaignFails checks that Campaign on f fails with an error containing want.
func campaignFails(t *testing.T, f *solocron.FileLock, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := f.Campaign(ctx, solocron.Candidate{})
	if err == nil {
		_ = l.Release(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Campaign on %s = %v, want an error containing %q", f.Path(), err, want)
	}
}

func skipOnWindows(t *testing.T, why string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows: " + why)
	}
}

func TestFileLockConformance(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("Sync=%t", sync), func(t *testing.T) {
			electortest.Run(t, func(t *testing.T) electortest.NewElector {
				path := filepath.Join(testdir.New(t), "app.lock")
				return func(t *testing.T) solocron.Elector {
					return newFileLock(t, solocron.FileLockOptions{Path: path, Sync: sync})
				}
			})
		})
	}
}

// The state checks: DeleteAll removes every file the lock keeps (the lock
// file, the ledger, the holder file and the control file), as a cache
// cleaner would;
// BackupLedger copies the ledger aside and puts the copy back over it.
func TestFileLockState(t *testing.T) {
	for _, sync := range []bool{false, true} {
		t.Run(fmt.Sprintf("Sync=%t", sync), func(t *testing.T) {
			electortest.RunState(t, func(t *testing.T) electortest.Store {
				path := filepath.Join(testdir.New(t), "app.lock")
				return electortest.Store{
					New: func(t *testing.T) solocron.Elector {
						return newFileLock(t, solocron.FileLockOptions{Path: path, Sync: sync})
					},
					DeleteAll: func(t *testing.T) {
						for _, p := range []string{path, path + ".ledger", path + ".holder", path + ".control"} {
							mustDo(t, os.Remove(p))
						}
					},
					BackupLedger: func(t *testing.T) func(t *testing.T) {
						backup := copyFile(t, path+".ledger", path+".backup")
						return func(t *testing.T) { copyFile(t, backup, path+".ledger") }
					},
				}
			})
		})
	}
}

// copyFile copies src to dst (replacing it) and returns dst.
func copyFile(t testing.TB, src, dst string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestFileLockString(t *testing.T) {
	dir := testdir.New(t)
	f := newFileLock(t, solocron.FileLockOptions{Path: filepath.Join(dir, "app.lock")})
	if want := "file " + filepath.Join(dir, "app.lock"); f.String() != want {
		t.Fatalf("String() = %q, want %q", f.String(), want)
	}
}

// privateCache points os.UserCacheDir at a new directory for the test
// (and for the processes it starts with os.Environ()).
func privateCache(t *testing.T) string {
	dir := testdir.New(t)
	t.Setenv("XDG_CACHE_HOME", dir) // Linux and other Unix systems
	t.Setenv("HOME", dir)           // macOS: $HOME/Library/Caches
	t.Setenv("LocalAppData", dir)   // Windows
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache directory here: %v", err)
	}
	return cache
}

// wantDefaultLock is the default lock path for the identity app: readable
// from its last element, told apart from other identities by a digest.
func wantDefaultLock(cache, name, app string) string {
	sum := sha256.Sum256([]byte(app))
	return filepath.Join(cache, "solocron", fmt.Sprintf("%s-%x.lock", name, sum[:4]))
}

func TestDefaultLockPath(t *testing.T) {
	cache := privateCache(t)
	p, err := solocron.DefaultLockPath()
	if err != nil {
		t.Fatal(err)
	}
	app := solocron.AppIdentity()
	name := app[strings.LastIndex(app, "/")+1:]
	if want := wantDefaultLock(cache, name, app); p != want {
		t.Fatalf("DefaultLockPath() = %s, want %s (from the identity %q)", p, want, app)
	}
}

// FileLockOptions.App and Options.App name the default lock; the file name
// keeps what a file name can hold, and skips a major version suffix.
func TestDefaultLockPathOfApp(t *testing.T) {
	cache := privateCache(t)
	cases := []struct{ app, name string }{
		{"example.com/billing/cmd/server", "server"},
		{"example.com/reports/cmd/server", "server"},
		{"github.com/acme/tool/v2", "tool"},
		{"billing", "billing"},
		{"my app: prod", "my_app__prod"},
		{"..", "app"},
	}
	seen := map[string]string{}
	for _, c := range cases {
		want := wantDefaultLock(cache, c.name, c.app)
		if got := newFileLock(t, solocron.FileLockOptions{App: c.app}).Path(); got != want {
			t.Errorf("FileLockOptions{App: %q} locks %s, want %s", c.app, got, want)
		}
		s, err := solocron.New(solocron.Options{App: c.app, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Status(context.Background()).Elector; got != "file "+want {
			t.Errorf("Options{App: %q} uses %s, want file %s", c.app, got, want)
		}
		if other, dup := seen[want]; dup {
			t.Errorf("apps %q and %q share the lock %s", other, c.app, want)
		}
		seen[want] = c.app
	}

	// DefaultLockPathFor names the same lock and creates nothing.
	app := "example.com/never/started"
	want := wantDefaultLock(cache, "started", app)
	if got, err := solocron.DefaultLockPathFor(app); got != want || err != nil {
		t.Fatalf("DefaultLockPathFor(%q) = %s, %v; want %s", app, got, err, want)
	}
	if _, err := os.Stat(want); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("DefaultLockPathFor created %s: %v", want, err)
	}
}

// The default lock is named after the main package, not the executable:
// one program shares it under any file name, and two programs whose
// executables have the same name do not. The programs are built from a
// source file that the build overlays on the module, so the repository
// holds no test program.
func TestDefaultLockNamesTheProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs")
	}
	if runtime.GOOS == "windows" {
		t.Skip("builds with the go command")
	}
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	dir := testdir.New(t)
	src := filepath.Join(dir, "main.go")
	mustDo(t, os.WriteFile(src, []byte(`package main

import (
	"context"
	"fmt"
	"os"

	"github.com/solocron/solocron"
)

func main() {
	s, err := solocron.New(solocron.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Print(s.Status(context.Background()).Elector)
}
`), 0o600))
	module, err := os.Getwd() // the root package's directory
	if err != nil {
		t.Fatal(err)
	}
	pkgs := []string{"internal/lockname/billing/server", "internal/lockname/reports/server"}
	overlay := map[string]map[string]string{"Replace": {}}
	for _, p := range pkgs {
		overlay["Replace"][filepath.Join(module, p, "main.go")] = src
	}
	ov, _ := json.Marshal(overlay)
	mustDo(t, os.WriteFile(filepath.Join(dir, "overlay.json"), ov, 0o600))
	build := func(pkg, out string) string {
		t.Helper()
		cmd := exec.Command(gocmd, "build", "-overlay", filepath.Join(dir, "overlay.json"), "-o", out, "./"+pkg)
		cmd.Env = append(os.Environ(), "GOPROXY=off") // the module cache has what the module needs
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
		return out
	}
	lockOf := func(exe string) string {
		t.Helper()
		out, err := exec.Command(exe).Output()
		if err != nil {
			t.Fatalf("%s: %v", exe, err)
		}
		return string(out)
	}
	billing := build(pkgs[0], filepath.Join(dir, "billing", "server"))
	renamed := filepath.Join(dir, "billing-v2")
	mustDo(t, os.WriteFile(renamed, mustRead(t, billing), 0o700))
	reports := build(pkgs[1], filepath.Join(dir, "reports", "server"))
	privateCache(t) // after the builds, which keep the go command's caches under $HOME

	a, b, c := lockOf(billing), lockOf(renamed), lockOf(reports)
	t.Logf("billing as server: %s\nbilling as billing-v2: %s\nreports as server: %s", a, b, c)
	if a != b {
		t.Errorf("one program under two file names uses two locks: %s and %s", a, b)
	}
	if a == c {
		t.Errorf("two programs named server share the lock %s", a)
	}
	if !strings.HasPrefix(filepath.Base(a), "server-") || !strings.HasPrefix(filepath.Base(c), "server-") {
		t.Errorf("lock names %s and %s do not start with the package's name", a, c)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A relative lock path names another file in every working directory, so
// two processes started from two directories would each lead.
func TestRelativeLockPathIsRefused(t *testing.T) {
	for _, p := range []string{"app.lock", filepath.Join("run", "app.lock")} {
		_, err := solocron.NewFileLock(solocron.FileLockOptions{Path: p})
		if err == nil || !strings.Contains(err.Error(), "relative") || !strings.Contains(err.Error(), "absolute") || !strings.Contains(err.Error(), strconv.Quote(p)) {
			t.Errorf("NewFileLock(%q) = %v, want an error that asks for an absolute path", p, err)
		}
		if _, err := solocron.New(solocron.Options{LockPath: p}); err == nil || !strings.Contains(err.Error(), "absolute") {
			t.Errorf("New(LockPath: %q) = %v, want an error that asks for an absolute path", p, err)
		}
	}
}

func TestFileLockCreatesPrivateDirAndFile(t *testing.T) {
	path := filepath.Join(testdir.New(t), "a", "b", "app.lock")
	newFileLock(t, solocron.FileLockOptions{Path: path})
	for _, p := range []string{path, path + ".ledger", path + ".holder", path + ".control"} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatalf("NewFileLock did not create %s: %v", p, err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("directory has mode %v, want 0700", fi.Mode().Perm())
	}
}

// A cache cleaner may remove the directory after NewFileLock: Campaign
// creates it again.
func TestFileLockRecreatesDirectory(t *testing.T) {
	dir := filepath.Join(testdir.New(t), "cache")
	f := newFileLock(t, solocron.FileLockOptions{Path: filepath.Join(dir, "app.lock")})
	if err := os.RemoveAll(dir); err != nil {
		t.Skipf("cannot remove the directory here: %v", err) // Wine
	}
	lead(t, f)
}

func TestFileLockRefusesBadPaths(t *testing.T) {
	dir := testdir.New(t)
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		path string
		want string
	}{
		"directory":      {dir, "is a directory"},
		"under a file":   {filepath.Join(file, "sub", "app.lock"), "cannot create the directory"},
		"negative check": {"", "negative"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			opts := solocron.FileLockOptions{Path: c.path}
			if name == "negative check" {
				opts = solocron.FileLockOptions{Path: filepath.Join(dir, "x.lock"), CheckInterval: -1}
			}
			_, err := solocron.NewFileLock(opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewFileLock(%q) = %v, want an error containing %q", c.path, err, c.want)
			}
			if c.path != "" && !strings.Contains(err.Error(), c.path) {
				t.Fatalf("error %q does not name the path %s", err, c.path)
			}
		})
	}
}

func TestFileLockRefusesUnwritableDirectory(t *testing.T) {
	skipOnWindows(t, "directory permission bits do not apply")
	if os.Geteuid() == 0 {
		t.Skip("root writes to any directory; TestFileLockRefusesBadPaths/under_a_file covers an undeniable failure")
	}
	dir := filepath.Join(testdir.New(t), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	path := filepath.Join(dir, "app.lock")
	if _, err := solocron.NewFileLock(solocron.FileLockOptions{Path: path}); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("NewFileLock in a read-only directory = %v, want an error naming %s", err, path)
	}
}

func TestFileLockRefusesSymlink(t *testing.T) {
	skipOnWindows(t, "creating symbolic links needs a privilege")
	dir := testdir.New(t)
	target := filepath.Join(dir, "target")
	path := filepath.Join(dir, "app.lock")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if _, err := solocron.NewFileLock(solocron.FileLockOptions{Path: path}); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("NewFileLock on a symlink = %v, want a symbolic link error", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the link's target was created: %v", err)
	}

	// A link planted after NewFileLock is refused by Campaign.
	path2 := filepath.Join(dir, "app2.lock")
	f := newFileLock(t, solocron.FileLockOptions{Path: path2})
	if err := os.Remove(path2); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path2); err != nil {
		t.Fatal(err)
	}
	campaignFails(t, f, "symbolic link")

	// So is a link in place of the ledger.
	path3 := filepath.Join(dir, "app3.lock")
	f = newFileLock(t, solocron.FileLockOptions{Path: path3})
	if err := os.Remove(path3 + ".ledger"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path3+".ledger"); err != nil {
		t.Fatal(err)
	}
	campaignFails(t, f, "symbolic link")
}

func TestFileLockRefusesForeignOwner(t *testing.T) {
	skipOnWindows(t, "no owner check on Windows (see lock_windows.go)")
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a file to another user")
	}
	dir := testdir.New(t)
	path := filepath.Join(dir, "app.lock")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := solocron.NewFileLock(solocron.FileLockOptions{Path: path}); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("NewFileLock on another user's file = %v, want an owner error", err)
	}

	// Given away after NewFileLock: Campaign refuses it.
	path2 := filepath.Join(dir, "app2.lock")
	f := newFileLock(t, solocron.FileLockOptions{Path: path2})
	if err := os.Chown(path2, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	campaignFails(t, f, "owned by uid 65534")
}

// waitLost waits for l.Lost and returns how long it took.
func waitLost(t *testing.T, l solocron.Lease, start time.Time) time.Duration {
	t.Helper()
	select {
	case <-l.Lost():
		return time.Since(start)
	case <-time.After(5 * time.Second):
		t.Fatal("Lost was not closed within 5s")
		return 0
	}
}

func checkFenced(t *testing.T, l solocron.Lease) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.Claim(ctx, []solocron.Claim{{Job: "job", Tick: fileTick.Add(time.Hour)}}); !errors.Is(err, solocron.ErrNotLeader) {
		t.Errorf("Claim after loss: %v, want ErrNotLeader", err)
	}
	if err := l.Complete(ctx, []solocron.Outcome{{Job: "job", Tick: fileTick}}); !errors.Is(err, solocron.ErrNotLeader) {
		t.Errorf("Complete after loss: %v, want ErrNotLeader", err)
	}
	if _, err := l.Records(ctx, []string{"job"}); !errors.Is(err, solocron.ErrNotLeader) {
		t.Errorf("Records after loss: %v, want ErrNotLeader", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Errorf("Release after loss: %v", err)
	}
}

// The leader notices at once that its lock file's name was deleted or
// replaced, or its directory (or an ancestor) removed or renamed: on
// Linux through inotify, so within 100ms even with a CheckInterval of an
// hour; where events are unavailable (or PollOnly), within a few
// CheckIntervals.
func TestFileLockLostWhenLockFileGoes(t *testing.T) {
	skipOnWindows(t, "a held lock file cannot be deleted or renamed over")
	changes := map[string]func(t *testing.T, path string){
		"deleted": func(t *testing.T, path string) {
			mustDo(t, os.Remove(path))
		},
		"replaced": func(t *testing.T, path string) {
			other := path + ".new"
			mustDo(t, os.WriteFile(other, nil, 0o600))
			mustDo(t, os.Rename(other, path))
		},
		"directory removed": func(t *testing.T, path string) {
			mustDo(t, os.RemoveAll(filepath.Dir(path)))
		},
		"directory renamed": func(t *testing.T, path string) {
			dir := filepath.Dir(path)
			mustDo(t, os.Rename(dir, dir+".old"))
		},
		"ancestor renamed": func(t *testing.T, path string) {
			parent := filepath.Dir(filepath.Dir(path))
			mustDo(t, os.Rename(parent, parent+".old"))
		},
	}
	modes := []struct {
		name     string
		interval time.Duration
		within   time.Duration
		pollOnly bool
	}{
		{"events", time.Hour, 100 * time.Millisecond, false},
		{"polling", 20 * time.Millisecond, 200 * time.Millisecond, true},
	}
	for _, mode := range modes {
		for how, change := range changes {
			t.Run(mode.name+"/"+how, func(t *testing.T) {
				if !mode.pollOnly && runtime.GOOS != "linux" {
					t.Skip("no file system events here: the leader polls")
				}
				path := filepath.Join(testdir.New(t), "parent", "dir", "app.lock")
				f := newFileLock(t, solocron.FileLockOptions{Path: path, CheckInterval: mode.interval})
				if mode.pollOnly {
					solocron.PollOnly(f)
				}
				l := lead(t, f)
				if ok, err := l.Claim(context.Background(), []solocron.Claim{{Job: "job", Tick: fileTick}}); err != nil || !ok[0] {
					t.Fatalf("Claim: %v %v", ok, err)
				}
				time.Sleep(10 * time.Millisecond) // the watch has begun
				start := time.Now()
				change(t, path)
				took := waitLost(t, l, start)
				t.Logf("Lost closed %v after %q (%s, CheckInterval %v)", took, how, mode.name, mode.interval)
				if took > mode.within {
					t.Errorf("Lost took %v, want within %v", took, mode.within)
				}
				if err := l.Err(); err == nil || !strings.Contains(err.Error(), "deleted or replaced") || !strings.Contains(err.Error(), path) {
					t.Errorf("Err() = %v, want it to say the lock file %s was deleted or replaced", err, path)
				}
				checkFenced(t, l)

				// The next leader locks the file the path names now.
				next := lead(t, newFileLock(t, solocron.FileLockOptions{Path: path}))
				if how != "deleted" && how != "replaced" {
					return // the ledger went with the directory
				}
				// With a later term, and it sees the lost term's claim.
				if next.Term() <= l.Term() {
					t.Errorf("next term %d, want > %d", next.Term(), l.Term())
				}
				r, err := next.Records(context.Background(), []string{"job"})
				if err != nil || !r["job"].Claimed.Equal(fileTick) {
					t.Errorf("next leader's records %v, %v; want job claimed at %v", r, err, fileTick)
				}
			})
		}
	}
}

func mustDo(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A second leader on a new lock file is caught by the check before each
// ledger write, even when the watch would not run for an hour.
func TestFileLockWriteChecksLockFile(t *testing.T) {
	skipOnWindows(t, "a held lock file cannot be deleted")
	path := filepath.Join(testdir.New(t), "app.lock")
	a := lead(t, solocron.PollOnly(newFileLock(t, solocron.FileLockOptions{Path: path, CheckInterval: time.Hour})))
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	b := lead(t, newFileLock(t, solocron.FileLockOptions{Path: path, CheckInterval: time.Hour}))
	if _, err := a.Claim(context.Background(), []solocron.Claim{{Job: "job", Tick: fileTick}}); !errors.Is(err, solocron.ErrNotLeader) {
		t.Fatalf("old leader's Claim after its lock file was deleted: %v, want ErrNotLeader", err)
	}
	select {
	case <-a.Lost():
	default:
		t.Fatal("Lost not closed after a write found the lock file gone")
	}
	if ok, err := b.Claim(context.Background(), []solocron.Claim{{Job: "job", Tick: fileTick}}); err != nil || !ok[0] {
		t.Fatalf("new leader's Claim: %v %v", ok, err)
	}
}

// Another process appending to the ledger means two leaders: the lease
// grants nothing and is lost.
func TestFileLockForeignLedgerWrite(t *testing.T) {
	path := filepath.Join(testdir.New(t), "app.lock")
	l := lead(t, newFileLock(t, solocron.FileLockOptions{Path: path, CheckInterval: time.Hour}))
	w, err := os.OpenFile(path+".ledger", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.WriteString("00000000 C 1 \"other\"\n")
	_ = w.Close()
	if err != nil {
		t.Fatal(err)
	}
	ok, err := l.Claim(context.Background(), []solocron.Claim{{Job: "job", Tick: fileTick}})
	if !errors.Is(err, solocron.ErrNotLeader) || ok != nil {
		t.Fatalf("Claim after a foreign append: %v %v, want nothing granted and ErrNotLeader", ok, err)
	}
	select {
	case <-l.Lost():
	default:
		t.Fatal("Lost not closed after a foreign append")
	}
	if data, _ := os.ReadFile(path + ".ledger"); strings.Contains(string(data), `"job"`) {
		t.Fatalf("the lease wrote its claim after another process had written:\n%s", data)
	}
	if !strings.Contains(l.Err().Error(), "two leaders") {
		t.Fatalf("Err() = %v, want it to mention two leaders", l.Err())
	}
}

func TestFileLockCampaignCancel(t *testing.T) {
	path := filepath.Join(testdir.New(t), "app.lock")
	holder := lead(t, newFileLock(t, solocron.FileLockOptions{Path: path}))
	waiter := newFileLock(t, solocron.FileLockOptions{Path: path})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		l, err := waiter.Campaign(ctx, solocron.Candidate{})
		if err == nil {
			_ = l.Release(context.Background())
		}
		done <- err
	}()
	time.Sleep(30 * time.Millisecond)
	cancelled := time.Now()
	cancel()
	select {
	case err := <-done:
		took := time.Since(cancelled)
		t.Logf("Campaign returned %v after cancel", took)
		if !errors.Is(err, context.Canceled) || took > 50*time.Millisecond {
			t.Fatalf("Campaign after cancel: %v after %v, want context.Canceled at once", err, took)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Campaign did not return after cancel")
	}

	// The abandoned wait is adopted by the next Campaign, which takes over
	// as soon as the holder lets go.
	got := make(chan solocron.Lease, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l, err := waiter.Campaign(ctx, solocron.Candidate{})
		if err != nil {
			t.Errorf("second Campaign: %v", err)
		}
		got <- l
	}()
	time.Sleep(30 * time.Millisecond)
	released := time.Now()
	if err := holder.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	l := <-got
	if l == nil {
		return
	}
	t.Logf("adopting Campaign led %v after Release", time.Since(released))
	if l.Term() <= holder.Term() {
		t.Fatalf("term %d after handover, want > %d", l.Term(), holder.Term())
	}
	_ = l.Release(context.Background())
}

// A wait abandoned by a cancelled Campaign that then gets the lock lets it
// go at once, so it does not block other processes.
func TestFileLockAbandonedWaitLetsGo(t *testing.T) {
	path := filepath.Join(testdir.New(t), "app.lock")
	holder := lead(t, newFileLock(t, solocron.FileLockOptions{Path: path}))
	quitter := newFileLock(t, solocron.FileLockOptions{Path: path})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := quitter.Campaign(ctx, solocron.Candidate{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Campaign: %v, want context.DeadlineExceeded", err)
	}
	if err := holder.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the abandoned wait gets the lock and drops it
	ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	l, err := newFileLock(t, solocron.FileLockOptions{Path: path}).Campaign(ctx2, solocron.Candidate{})
	if err != nil {
		t.Fatalf("Campaign after an abandoned wait: %v", err)
	}
	_ = l.Release(context.Background())
}

const holderProcessEnv = "SOLOCRON_TEST_FILELOCK_HOLDER"

// TestFileLockHolderProcess is the leader that
// TestFileLockTakeoverAfterKill starts and kills.
func TestFileLockHolderProcess(t *testing.T) {
	path := os.Getenv(holderProcessEnv)
	if path == "" {
		t.Skip("helper process of TestFileLockTakeoverAfterKill")
	}
	f := newFileLock(t, solocron.FileLockOptions{Path: path})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := f.Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: "child"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Claim(ctx, []solocron.Claim{{Job: "killed", Tick: fileTick}}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("leading %d\n", l.Term())
	time.Sleep(20 * time.Second) // until killed
}

func TestFileLockTakeoverAfterKill(t *testing.T) {
	path := filepath.Join(testdir.New(t), "app.lock")
	f := newFileLock(t, solocron.FileLockOptions{Path: path})
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileLockHolderProcess$")
	cmd.Env = append(os.Environ(), holderProcessEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	childTerm := make(chan uint64, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if n, ok := strings.CutPrefix(s.Text(), "leading "); ok {
				term, _ := strconv.ParseUint(n, 10, 64)
				childTerm <- term
			}
		}
		close(childTerm)
	}()
	var term uint64
	select {
	case term = <-childTerm:
	case <-time.After(10 * time.Second):
		t.Fatal("the holder process did not lead within 10s")
	}
	if term == 0 {
		t.Fatal("the holder process exited without leading")
	}
	h, err := f.Holder(context.Background())
	if err != nil || h.PID != cmd.Process.Pid || h.Hostname != "child" || h.Term != term {
		t.Fatalf("Holder = %+v, %v; want pid %d host child term %d", h, err, cmd.Process.Pid, term)
	}

	type result struct {
		l  solocron.Lease
		at time.Time
	}
	got := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		l, err := f.Campaign(ctx, solocron.Candidate{PID: os.Getpid(), Hostname: "parent"})
		if err != nil {
			t.Errorf("Campaign: %v", err)
		}
		got <- result{l, time.Now()}
	}()
	time.Sleep(100 * time.Millisecond) // the Campaign waits in flock
	killed := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.l == nil {
		return
	}
	defer r.l.Release(context.Background())
	took := r.at.Sub(killed)
	t.Logf("took over %v after SIGKILL of the holder", took)
	if took > 100*time.Millisecond {
		t.Errorf("takeover took %v, want under 100ms", took)
	}
	if r.l.Term() <= term {
		t.Errorf("term %d after takeover, want > %d", r.l.Term(), term)
	}
	recs, err := r.l.Records(context.Background(), []string{"killed"})
	if err != nil || !recs["killed"].Claimed.Equal(fileTick) {
		t.Fatalf("records after takeover: %v, %v; want the killed holder's claim", recs, err)
	}
	if ok, err := r.l.Claim(context.Background(), []solocron.Claim{{Job: "killed", Tick: fileTick}}); err != nil || ok[0] {
		t.Fatalf("the killed holder's tick was claimed again: %v %v", ok, err)
	}
	if h, err := f.Holder(context.Background()); err != nil || h.Hostname != "parent" {
		t.Fatalf("Holder after takeover = %+v, %v; want the parent", h, err)
	}
}

// BenchmarkFileLockCheck measures the leader's check that the path still
// names its lock file (a Records call of no jobs is that check): the
// watch costs this once per CheckInterval.
func BenchmarkFileLockCheck(b *testing.B) {
	l := lead(b, newFileLock(b, solocron.FileLockOptions{Path: filepath.Join(testdir.New(b), "app.lock"), CheckInterval: time.Hour}))
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Records(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// inotifyFDs lists this process's inotify descriptors.
func inotifyFDs(t *testing.T) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	fds := make(map[string]bool)
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == "anon_inode:inotify" {
			fds[e.Name()] = true
		}
	}
	return fds
}

// A term's inotify watch is closed when the term ends, by Release or by
// loss: a leader must not use up the per-user limit of 128 instances.
func TestFileLockWatchEndsWithTerm(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("inotify is Linux only")
	}
	for _, end := range []string{"released", "lost"} {
		t.Run(end, func(t *testing.T) {
			path := filepath.Join(testdir.New(t), "app.lock")
			before := inotifyFDs(t)
			l := lead(t, newFileLock(t, solocron.FileLockOptions{Path: path, CheckInterval: time.Hour}))
			var ours []string
			for fd := range inotifyFDs(t) {
				if !before[fd] {
					ours = append(ours, fd)
				}
			}
			if len(ours) != 1 {
				t.Fatalf("the leader opened %d inotify descriptors (%v), want 1", len(ours), ours)
			}
			if end == "released" {
				mustDo(t, l.Release(context.Background()))
			} else {
				mustDo(t, os.Remove(path))
				waitLost(t, l, time.Now())
			}
			for deadline := time.Now().Add(2 * time.Second); inotifyFDs(t)[ours[0]]; {
				if time.Now().After(deadline) {
					t.Fatalf("inotify descriptor %s still open after the term was %s", ours[0], end)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
}

// On Windows the held lock file and ledger cannot be deleted or renamed
// over, which is why the leader neither watches nor checks their names
// there (heldNameCanChange in lock_windows.go).
func TestFileLockHeldFilesKeepTheirNames(t *testing.T) {
	if runtime.GOOS != "windows" {
		t.Skip("on Unix they can: see TestFileLockLostWhenLockFileGoes")
	}
	path := filepath.Join(testdir.New(t), "app.lock")
	l := lead(t, newFileLock(t, solocron.FileLockOptions{Path: path}))
	other := filepath.Join(filepath.Dir(path), "other")
	mustDo(t, os.WriteFile(other, nil, 0o600))
	for _, p := range []string{path, path + ".ledger"} {
		if err := os.Remove(p); err == nil {
			t.Fatalf("deleted %s while it was held", p)
		}
		if err := os.Rename(other, p); err == nil {
			t.Fatalf("renamed a file over %s while it was held", p)
		}
	}
	// Real Windows also refuses to rename a directory with a file open
	// in it, but Wine allows it: not checked here.
	if ok, err := l.Claim(context.Background(), []solocron.Claim{{Job: "job", Tick: fileTick}}); err != nil || !ok[0] {
		t.Fatalf("Claim: %v %v", ok, err)
	}
}
