package solocron

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/solocron/solocron/internal/pathwatch"
)

// FileLockOptions configure a FileLock.
type FileLockOptions struct {
	// Path is the lock file that the processes of one application share,
	// an absolute path (a relative one would name another file in each
	// working directory, so it is refused); "" means the default lock of
	// App (see DefaultLockPath). The ledger (Path+".ledger"), the
	// holder file (Path+".holder") and the control file (Path+".control",
	// see Observe and Control) live beside it. Use a local file
	// system: flock over NFS is emulated and a crashed client's lock can
	// outlive it.
	Path string

	// App is the application's identity that names the default lock when
	// Path is ""; "" means AppIdentity(). Options.App is passed here.
	App string

	// Sync fsyncs the ledger after every write, so that a claim survives a
	// power loss. Without it a process crash still loses nothing: the
	// write(2) completes before the claim is granted.
	Sync bool

	// CheckInterval is how often a leader that polls checks that Path
	// still names the file it locked (deleting or replacing a held lock
	// file would let a second process lead); 0 means 250ms. Every ledger
	// write checks too, so a late check delays the cancellation of the
	// running jobs, never lets a tick be claimed twice.
	//
	// On Linux the leader does not poll: it watches the lock file's
	// directory with inotify and notices within a millisecond or so, and
	// CheckInterval only applies when inotify cannot be set up (the
	// per-user limit of 128 inotify instances is reached, or the file
	// system lacks support). Other Unix systems poll. On Windows a held
	// lock file cannot be deleted or renamed over, so there is nothing to
	// check and CheckInterval is unused.
	CheckInterval time.Duration
}

// defaultCheckInterval: a check costs one fstat and one lstat (a few µs),
// but each wakeup of an idle process costs more; at 20ms the timer alone
// took over 1% of a core, at 250ms the leader costs about 0.1%.
const defaultCheckInterval = 250 * time.Millisecond

// FileLock is the default Elector: an exclusive flock(2) (LockFileEx on
// Windows) on a file that every process of the application opens, so it
// elects one leader among the processes of one host. The kernel drops the
// lock when its holder dies, and a waiting process takes over within a few
// milliseconds.
//
// A term is max(the highest term in the ledger or the holder file + 1,
// the local wall clock in µs since the Unix epoch), so terms keep growing
// when the lock's files are deleted, on the one assumption that the clock
// does not step back further than the time since the last term began
// (and that fewer than one term begins per µs). The holder file also
// tells when the ledger is older than the last term (LedgerStale).
//
// Any process of the user, leader or not, and a program that runs no
// Scheduler, can read the ledger (Observe) and steer the jobs (SetPaused,
// RequestRun) without the lock: the control state lives in a file of its
// own that every such process appends to (see lock_control.go).
type FileLock struct {
	path        string
	ledgerPath  string
	holderPath  string
	controlPath string
	sync        bool
	interval    time.Duration
	pollOnly    bool // tests: poll even where events are available

	mu          sync.Mutex
	wait        *lockWait // the blocking Lock in flight, if any
	campaigning bool      // a Campaign is waiting for wait

	// What Observe and Control last read of the ledger and the control
	// file, read without the lock.
	ledger  *logFollower[*fileLedger]
	control *logFollower[*controlLog]
}

// lockWait is one blocking Lock of the lock file. flock.Lock cannot be
// cancelled, so a Campaign whose context ends leaves it behind for the
// next Campaign to adopt.
type lockWait struct {
	fl   *flock.Flock
	slot pathwatch.Slot // the descriptor reserved for the leader's watch (see pathwatch.Slot)
	done chan struct{}  // closed when Lock returned
	err  error
}

// unlock lets a lock go that no Campaign leads on, with its reserved slot.
func (w *lockWait) unlock() {
	_ = w.fl.Unlock()
	w.slot.Release()
}

// NewFileLock checks the lock path eagerly, creating its directory (0700)
// and the lock file (0600) if they are missing, so that a misconfigured
// path fails at startup rather than when leadership is first needed.
func NewFileLock(opts FileLockOptions) (*FileLock, error) {
	if opts.CheckInterval < 0 {
		return nil, fmt.Errorf("solocron: negative FileLockOptions.CheckInterval %v", opts.CheckInterval)
	}
	path := opts.Path
	if path == "" {
		app := opts.App
		if app == "" {
			app = AppIdentity()
		}
		p, err := DefaultLockPathFor(app)
		if err != nil {
			return nil, err
		}
		path = p
	}
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("solocron: lock path %q is relative, so processes started from different directories "+
			"would lock different files and each lead; use an absolute path (for example under os.UserCacheDir())", path)
	}
	abs := filepath.Clean(path)
	f := &FileLock{
		path:        abs,
		ledgerPath:  abs + ".ledger",
		holderPath:  abs + ".holder",
		controlPath: abs + ".control",
		sync:        opts.Sync,
		interval:    opts.CheckInterval,
		ledger:      newLedgerFollower(abs+".ledger", abs),
		control:     newControlFollower(abs+".control", abs),
	}
	if f.interval == 0 {
		f.interval = defaultCheckInterval
	}
	if err := f.prepare(); err != nil {
		return nil, err
	}
	return f, nil
}

// DefaultLockPath is the lock of this program when no path is set:
// os.UserCacheDir()/solocron/<name>-<digest>.lock, where name is the last
// element of AppIdentity() (the main package's import path) and digest 8
// hex digits of its SHA-256. So every process of one program shares it,
// under any executable name, and two programs do not, even when their
// executables have one name (cmd/server in two modules). The directory is
// private to the user (unlike /tmp, which is shared and aged out by
// systemd-tmpfiles): processes under other users, or in containers
// without a shared volume, need a path they share.
func DefaultLockPath() (string, error) { return DefaultLockPathFor(AppIdentity()) }

// DefaultLockPathFor is the default lock of the application whose
// Options.App (or FileLockOptions.App) is app, as DefaultLockPath names
// it. It creates nothing: a tool that looks for an application's lock
// (the solocron command's --app) can tell a missing one.
func DefaultLockPathFor(app string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("solocron: no default lock path (%w); set a lock path", err)
	}
	sum := sha256.Sum256([]byte(app))
	return filepath.Join(dir, "solocron", lockName(app)+"-"+hex.EncodeToString(sum[:4])+".lock"), nil
}

// lockName is a readable file name for an application identity: its last
// path element (the one before a major version suffix such as /v2), with
// what a file name should not hold replaced by '_'.
func lockName(app string) string {
	elems := strings.FieldsFunc(app, func(r rune) bool { return r == '/' || r == '\\' })
	name := ""
	if n := len(elems); n > 0 {
		name = elems[n-1]
		if n > 1 && isMajorVersion(name) {
			name = elems[n-2]
		}
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
	if len(name) > 64 {
		name = name[:64]
	}
	if strings.Trim(name, ".") == "" {
		return "app"
	}
	return name
}

// isMajorVersion reports whether s is a module's major version suffix (v2, v3, ...).
func isMajorVersion(s string) bool {
	return len(s) > 1 && s[0] == 'v' && strings.Trim(s[1:], "0123456789") == ""
}

// Path is the lock file's absolute path.
func (f *FileLock) Path() string { return f.path }

// String names the lock file, for logs and Status.
func (f *FileLock) String() string { return "file " + f.path }

// prepare creates the directory and the files, refusing unsafe ones, and
// proves the directory writable (the ledger's compaction creates a file
// in it).
func (f *FileLock) prepare() error {
	dir := filepath.Dir(f.path)
	if err := f.makeDir(); err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil {
		return fmt.Errorf("solocron: directory of lock file %s: %w", f.path, err)
	} else if !fi.IsDir() {
		return fmt.Errorf("solocron: directory of lock file %s is not a directory", f.path)
	}
	files := []struct {
		path string
		flag int
	}{
		{f.path, os.O_RDONLY | os.O_CREATE},
		{f.ledgerPath, os.O_RDWR | os.O_CREATE},
		{f.holderPath, os.O_RDWR | os.O_CREATE},
		{f.controlPath, os.O_RDWR | os.O_CREATE},
	}
	for _, p := range files {
		file, err := openPrivate(p.path, p.flag)
		if err != nil {
			return err
		}
		_ = file.Close()
	}
	probe, err := os.CreateTemp(dir, ".solocron-probe-*")
	if err != nil {
		return fmt.Errorf("solocron: directory of lock file %s is not writable: %w", f.path, err)
	}
	_ = probe.Close()
	_ = os.Remove(probe.Name())
	return nil
}

// makeDir creates the lock file's directory (0700) if it is missing and
// checks that no other user can swap it: before (so that nothing is
// created in another user's directory) and after (a directory made by
// someone else in between).
func (f *FileLock) makeDir() error {
	dir := filepath.Dir(f.path)
	if err := checkDirs(dir, f.path); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("solocron: cannot create the directory of lock file %s: %w", f.path, err)
	}
	return checkDirs(dir, f.path)
}

// Campaign waits for the lock in a blocking flock (no polling: waiting
// costs nothing and takes over about a millisecond after the holder dies),
// then opens a new term.
func (f *FileLock) Campaign(ctx context.Context, c Candidate) (Lease, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// The directory may have been cleaned away, or given away, since
		// NewFileLock.
		if err := f.makeDir(); err != nil {
			return nil, err
		}
		if err := checkPathSafe(f.path); err != nil {
			return nil, err
		}
		w, err := f.acquire(ctx)
		if err != nil {
			return nil, err
		}
		named, err := f.stillNamed(w.fl)
		if err == nil && named {
			var l *fileLease
			if l, err = f.lead(w, c); err == nil {
				return l, nil
			}
		}
		w.unlock()
		if err != nil {
			return nil, err
		}
		// The file we waited on was deleted or replaced meanwhile; wait on
		// the one the path names now.
	}
}

// acquire returns the lock file locked, adopting a wait that an earlier,
// cancelled Campaign left in flight.
func (f *FileLock) acquire(ctx context.Context) (*lockWait, error) {
	f.mu.Lock()
	if f.campaigning {
		f.mu.Unlock()
		return nil, errors.New("solocron: Campaign is already running on this FileLock")
	}
	w := f.wait
	if w == nil {
		w = &lockWait{
			// Reserved before the lock file is opened, so below it.
			slot: f.reserveSlot(),
			// gofrs/flock opens the file itself (os.OpenFile with these
			// flags): noBlock keeps a FIFO raced in from blocking that
			// open, and stillNamed refuses what is not a regular file.
			// The lock file is never read or written, so its descriptor
			// may stay non-blocking.
			fl:   flock.New(f.path, flock.SetFlag(os.O_RDONLY|os.O_CREATE|noFollow|noBlock), flock.SetPermissions(0o600)),
			done: make(chan struct{}),
		}
		f.wait = w
		go f.lockInBackground(w)
	}
	f.campaigning = true
	f.mu.Unlock()

	select {
	case <-w.done:
	case <-ctx.Done():
	}

	f.mu.Lock()
	f.campaigning = false
	finished := false
	select {
	case <-w.done:
		finished = true
		f.wait = nil
	default:
	}
	f.mu.Unlock()

	if err := ctx.Err(); err != nil {
		if finished && w.err == nil {
			w.unlock()
		}
		return nil, err
	}
	if w.err != nil {
		w.slot.Release()
		if err := checkPathSafe(f.path); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("solocron: lock %s: %w", f.path, w.err)
	}
	return w, nil
}

// reserveSlot reserves a descriptor for the leader's watch, where the
// leader will watch the lock file's name through events.
func (f *FileLock) reserveSlot() pathwatch.Slot {
	if !heldNameCanChange || f.pollOnly {
		return pathwatch.NoSlot
	}
	return pathwatch.Reserve()
}

// lockInBackground blocks in flock until the lock is free. If no Campaign
// wants it any more by then, it lets it go at once.
func (f *FileLock) lockInBackground(w *lockWait) {
	err := w.fl.Lock()
	f.mu.Lock()
	defer f.mu.Unlock()
	w.err = err
	close(w.done)
	if !f.campaigning {
		f.wait = nil
		if err == nil {
			w.unlock()
		} else {
			w.slot.Release()
		}
	}
}

// stillNamed reports whether the locked file is still the file at the
// path: deleting or renaming over a held lock file lets another process
// lock the new file, so a lock on an unnamed file elects nobody. It costs
// one fstat and one lstat.
func (f *FileLock) stillNamed(fl *flock.Flock) (bool, error) {
	held, err := fl.Stat() // fstat of the locked descriptor
	if err != nil {
		return false, fmt.Errorf("solocron: lock file %s: %w", f.path, err)
	}
	if err := checkFileSafe(f.path, held); err != nil {
		return false, err
	}
	if linkCount(held) == 0 {
		return false, nil
	}
	named, err := os.Lstat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("solocron: lock file %s: %w", f.path, err)
	}
	return os.SameFile(held, named), nil
}

// lead opens a term on the lock just acquired: replay the ledger, record
// the term in it, then publish the holder.
func (f *FileLock) lead(w *lockWait, c Candidate) (*fileLease, error) {
	ledger, err := openFileLedger(f.ledgerPath, f.sync)
	if err != nil {
		return nil, err
	}
	holder, err := openPrivate(f.holderPath, os.O_RDWR|os.O_CREATE)
	if err != nil {
		_ = ledger.close()
		return nil, err
	}
	// The holder file outlives a ledger restored, moved back or deleted:
	// its term then tells that the ledger's records are older than the
	// claims made since. A holder file that cannot be read tells nothing.
	prev, _ := readHolderFile(holder)
	stale := ledger.staleAgainst(prev.Term)
	since := time.Now()
	term := nextTerm(max(ledger.term, prev.Term), since)
	doc := holderDoc{PID: c.PID, Hostname: c.Hostname, Since: since, Term: term, App: c.App, Jobs: c.Jobs}
	err = ledger.appendTerm(term, since, c, stale != nil)
	if err == nil {
		err = writeHolderFile(holder, doc, f.sync)
	}
	if err != nil {
		_ = ledger.close()
		_ = holder.Close()
		return nil, err
	}
	if err := ledger.compactIfLarge(1); err != nil {
		_ = ledger.close()
		_ = holder.Close()
		return nil, err
	}
	l := &fileLease{
		lock:   f,
		term:   term,
		fl:     w.fl,
		ledger: ledger,
		holder: holder,
		doc:    doc,
		stale:  stale,
		lost:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if heldNameCanChange {
		if !f.pollOnly {
			l.names, _ = pathwatch.New(f.path, w.slot) // nil: poll instead
			w.slot = pathwatch.NoSlot
		}
		go l.watch(l.names, f.interval)
	}
	return l, nil
}

// nextTerm is the term after prev: max(prev+1, now in µs since the Unix
// epoch). So terms keep growing when every file that recorded them was
// deleted, as long as the wall clock does not step back by more than the
// time since the last term began, and fewer than one term begins per µs.
func nextTerm(prev uint64, now time.Time) uint64 {
	return max(prev+1, uint64(max(now.UnixMicro(), 0)))
}

// Holder reads the holder file. Whether anyone holds the lock is decided
// by a non-blocking shared lock attempt on a handle of its own, released
// at once: a leader that died cannot leave a stale holder behind.
func (f *FileLock) Holder(ctx context.Context) (Holder, error) {
	const attempts = 50 // a new leader writes the holder file within ms
	for attempt := 1; ; attempt++ {
		held, err := f.lockHeld()
		if err != nil || !held {
			return Holder{}, err
		}
		doc, err := readHolderPath(f.holderPath)
		if err == nil && doc.Term > 0 && !doc.Released {
			return Holder{PID: doc.PID, Hostname: doc.Hostname, Since: doc.Since, Term: doc.Term, App: doc.App, Jobs: doc.Jobs}, nil
		}
		if attempt == attempts {
			if err == nil {
				err = ErrNoHolder
			}
			return Holder{}, err
		}
		select {
		case <-ctx.Done():
			return Holder{}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// lockHeld reports whether a process holds the lock, without creating the
// lock file. It returns ErrNoHolder rather than false with a nil error
// when nobody does.
func (f *FileLock) lockHeld() (bool, error) {
	if err := checkPathSafe(f.path); err != nil {
		return false, err
	}
	probe := flock.New(f.path, flock.SetFlag(os.O_RDONLY|noFollow|noBlock))
	free, err := probe.TryRLock()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, ErrNoHolder
	case err != nil:
		return false, fmt.Errorf("solocron: lock file %s: %w", f.path, err)
	case free:
		fi, err := probe.Stat() // an fstat: the probe holds the file open
		_ = probe.Unlock()
		if err == nil {
			err = checkFileSafe(f.path, fi)
		}
		if err != nil {
			return false, err
		}
		return false, ErrNoHolder
	}
	return true, nil
}

// openPrivate opens one of the lock's files without following a symbolic
// link and without blocking (on a FIFO or a device raced in since the
// check), and checks that what it opened is a regular file this user owns.
func openPrivate(path string, flag int) (*os.File, error) {
	if err := checkPathSafe(path); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(path, flag|noFollow|noBlock, 0o600)
	if err != nil {
		if serr := checkPathSafe(path); serr != nil {
			return nil, serr // a link or a FIFO planted since the first check
		}
		return nil, fmt.Errorf("solocron: %w", err)
	}
	fi, err := file.Stat()
	if err == nil {
		err = checkFileSafe(path, fi)
	}
	if err == nil {
		err = setBlocking(file)
	}
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	return file, nil
}

// checkPathSafe refuses a path that names something other than a regular
// file of this user; a missing file is safe (it will be created).
func checkPathSafe(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("solocron: %w", err)
	}
	return checkFileSafe(path, fi)
}

func checkFileSafe(path string, fi fs.FileInfo) error {
	switch mode := fi.Mode(); {
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("solocron: %s is a symbolic link; refusing to follow it (name the file itself)", path)
	case mode.IsDir():
		return fmt.Errorf("solocron: %s is a directory, not a lock file", path)
	case !mode.IsRegular():
		return fmt.Errorf("solocron: %s is not a regular file (mode %v)", path, mode)
	}
	if err := checkPlatform(path, fi); err != nil {
		return err
	}
	return checkOwner(path, fi)
}
