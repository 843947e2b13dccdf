//go:build linux

package pathwatch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// Watch tells the leader when the lock file's name may have been
// deleted, replaced or moved, through inotify: the lock file's directory
// is watched for entries created, deleted or renamed (filtered by the
// lock file's name) and for its own deletion or renaming, and every
// ancestor directory for its renaming. The inotify descriptor is read
// through the runtime's poller, so an idle leader costs no wakeups at
// all, and Close wakes the reader.
//
// Not seen: an ancestor that is a symbolic link being pointed elsewhere,
// and ancestors this user cannot read (inotify needs read permission).
// Before every ledger write the leader checks the name anyway, so such a
// change can delay the cancellation of running jobs, never let a second
// leader's tick be claimed.
type Watch struct {
	file *os.File
	dir  int    // the watch descriptor of the lock file's directory
	name []byte // the lock file's base name
	buf  []byte
}

const (
	inotifyEntryEvents = syscall.IN_CREATE | syscall.IN_DELETE | syscall.IN_MOVED_FROM | syscall.IN_MOVED_TO
	inotifySelfEvents  = syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF
)

// ErrIncomplete: a directory's watch was removed by the kernel
// (IN_IGNORED: the directory was deleted or its file system unmounted),
// so changes may go unseen from now on.
var ErrIncomplete = errors.New("inotify watch removed")

// Slot is a descriptor number reserved, before the lock file is
// opened, for the inotify instance the leader opens later. At process
// exit Linux releases a process's files highest descriptor first (the
// final fput of each runs as task work, the last queued first), and
// releasing an inotify instance that has watches waits for an SRCU grace
// period (median 7.7 ms, up to 16+ ms measured). An instance numbered
// above the lock file would delay the lock's release, and so a standby's
// takeover after the leader is killed, by that much. /dev/null holds the
// number until the instance is moved onto it with dup3.
type Slot int

const NoSlot Slot = -1

func Reserve() Slot {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return NoSlot // the watch will sit above the lock: slower takeover, nothing worse
	}
	return Slot(fd)
}

func (s Slot) Release() {
	if s != NoSlot {
		_ = syscall.Close(int(s))
	}
}

// New watches the name path, on the descriptor slot when one was
// reserved (New takes it over, and releases it on error). It fails when inotify cannot be
// set up (the per-user instance limit, 128 by default, is reached; no
// inotify in the kernel; a file system that does not support it); the
// leader then polls.
func New(path string, slot Slot) (*Watch, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		slot.Release()
		return nil, err
	}
	if slot != NoSlot {
		if err := syscall.Dup3(fd, int(slot), syscall.O_CLOEXEC); err != nil {
			slot.Release()
		} else {
			_ = syscall.Close(fd)
			fd = int(slot)
		}
	}
	// Non-blocking, so os.NewFile registers it with the poller.
	w := &Watch{file: os.NewFile(uintptr(fd), "inotify"), name: []byte(filepath.Base(path)), buf: make([]byte, 4096)}
	dir := filepath.Dir(path)
	w.dir, err = syscall.InotifyAddWatch(fd, dir, syscall.IN_ONLYDIR|inotifyEntryEvents|inotifySelfEvents)
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	// Renaming an ancestor moves the lock file's path away too. Best
	// effort: a directory we cannot read is skipped (see above).
	for d, parent := dir, filepath.Dir(dir); parent != d; d, parent = parent, filepath.Dir(parent) {
		_, _ = syscall.InotifyAddWatch(fd, parent, syscall.IN_ONLYDIR|inotifySelfEvents)
	}
	return w, nil
}

// wait blocks until an event may concern the lock file's name. It returns
// ErrIncomplete after such an event if the watch no longer sees
// every change, and an error once closed.
func (w *Watch) Wait() error {
	for {
		n, err := w.file.Read(w.buf)
		if err != nil {
			return err
		}
		if relevant, err := w.parse(w.buf[:n]); relevant {
			return err
		}
	}
}

// parse reads a batch of events; see inotify(7) for their layout.
func (w *Watch) parse(b []byte) (relevant bool, err error) {
	const header = syscall.SizeofInotifyEvent
	for len(b) >= header {
		wd := int32(binary.NativeEndian.Uint32(b[0:4]))
		mask := binary.NativeEndian.Uint32(b[4:8])
		n := int(binary.NativeEndian.Uint32(b[12:16]))
		if header+n > len(b) {
			return true, nil // cannot happen; check to be safe
		}
		name := bytes.TrimRight(b[header:header+n], "\x00")
		b = b[header+n:]
		switch {
		case mask&syscall.IN_Q_OVERFLOW != 0, mask&inotifySelfEvents != 0, mask&syscall.IN_UNMOUNT != 0:
			relevant = true
		case mask&syscall.IN_IGNORED != 0:
			relevant, err = true, ErrIncomplete
		case mask&inotifyEntryEvents != 0 && int(wd) == w.dir && bytes.Equal(name, w.name):
			relevant = true
		}
	}
	return relevant, err
}

func (w *Watch) Close() error { return w.file.Close() }
