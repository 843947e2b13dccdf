//go:build unix

package solocron

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// noFollow makes open(2) fail on a symbolic link in the last path
// element, so a link planted after our Lstat still cannot redirect us.
const noFollow = syscall.O_NOFOLLOW

// noBlock makes open(2) return at once on a FIFO or a device raced in at
// one of the lock's paths, where a plain open would wait (for a FIFO's
// writer) for ever: the descriptor is then checked, and refused unless it
// is a regular file (see openPrivate).
const noBlock = syscall.O_NONBLOCK

// setBlocking clears O_NONBLOCK on a regular file opened with noBlock, so
// that its reads and writes are the plain blocking calls (O_NONBLOCK is
// meaningless for a regular file on most systems, but not all: a file
// lease makes an open or a truncate return EWOULDBLOCK).
func setBlocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if cerr := rc.Control(func(fd uintptr) { err = syscall.SetNonblock(int(fd), false) }); cerr != nil {
		return cerr
	}
	return err
}

// heldNameCanChange: on Unix a file can be deleted or renamed over while
// it is open and locked, and another process can then lock a new file at
// the same path. So the leader watches the name (internal/pathwatch, or by
// polling) and checks it before every ledger write.
const heldNameCanChange = true

// ledgerAppend makes every ledger write land at the end of the file, so
// that a second writer's records are never overwritten, only detected.
const ledgerAppend = os.O_APPEND

// appendOnlySyncs: a file opened O_APPEND (the control file) can be
// fsynced.
const appendOnlySyncs = true

// lockAppend has nothing to do on Unix: a write(2) to a file opened
// O_APPEND moves to the end and writes there as one step, under the
// inode's lock, so the lines of concurrent writers never interleave.
func lockAppend(context.Context, *os.File) (unlock func(), err error) { return func() {}, nil }

// checkOwner refuses a file that another user owns: in a shared
// directory a planted file would let its owner read the ledger or hold
// the lock (or the holder file) forever.
func checkOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); uint64(st.Uid) != uint64(uid) {
		return fmt.Errorf("solocron: %s is owned by uid %d, not by this process (uid %d); refusing to use it", path, st.Uid, uid)
	}
	return nil
}

// checkDirs refuses a lock directory that another user could swap (and
// with it the ledger): every directory from the root down to dir, and
// every symbolic link followed on the way, must belong to root or to this
// user. A sticky world-writable directory such as /tmp is root's: there
// the files' owners are what is checked (checkOwner). The walk stops at a
// component that does not exist yet: MkdirAll creates it, as ours.
func checkDirs(dir, lock string) error {
	uid := os.Geteuid()
	pending := strings.Split(dir, string(filepath.Separator))
	cur := string(filepath.Separator)
	for links := 0; len(pending) > 0; {
		name := pending[0]
		pending = pending[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur) // cur holds no link: its parent is lexical
			continue
		}
		p := filepath.Join(cur, name)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("solocron: directory of lock file %s: %w", lock, err)
		}
		isLink := fi.Mode()&fs.ModeSymlink != 0
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != 0 && uint64(st.Uid) != uint64(uid) {
			what := "directory"
			if isLink {
				what = "symbolic link"
			}
			return fmt.Errorf("solocron: %s %s, on the way to lock file %s, is owned by uid %d, not by this process (uid %d) or root: "+
				"that user could replace the ledger; use a directory of your own", what, p, lock, st.Uid, uid)
		}
		if !isLink {
			if !fi.IsDir() {
				return nil // not a directory: creating the lock's reports it
			}
			cur = p
			continue
		}
		if links++; links > 40 {
			return fmt.Errorf("solocron: directory of lock file %s: too many symbolic links", lock)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return fmt.Errorf("solocron: directory of lock file %s: %w", lock, err)
		}
		if filepath.IsAbs(target) {
			cur = string(filepath.Separator)
		}
		pending = append(strings.Split(target, string(filepath.Separator)), pending...)
	}
	return nil
}

// checkPlatform has nothing to add on Unix: the mode bits already tell
// a symbolic link from a regular file.
func checkPlatform(string, fs.FileInfo) error { return nil }

// linkCount is the number of names the file has; 0 once it was deleted.
func linkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// syncDir makes a rename or a file creation in dir durable.
func syncDir(dir string) error {
	d, err := os.OpenFile(dir, os.O_RDONLY|noBlock, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
