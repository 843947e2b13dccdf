//go:build windows

package solocron

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// noFollow is 0: Windows has no O_NOFOLLOW. The path is Lstat-checked
// before every open instead (checkPlatform refuses symbolic links and
// other reparse points), which leaves a short window in which a link
// could be planted; the per-user default directory is the defence.
const noFollow = 0

// noBlock is 0 on Windows: no FIFO or device can be raced in at a path
// of the file system there (named pipes live in their own namespace,
// \\.\pipe\), so opening a path that was checked cannot block.
const noBlock = 0

// setBlocking has nothing to undo on Windows.
func setBlocking(*os.File) error { return nil }

// heldNameCanChange is false on Windows: Go opens files (os.OpenFile,
// and through it gofrs/flock) with the share mode
// FILE_SHARE_READ|FILE_SHARE_WRITE and without FILE_SHARE_DELETE
// (syscall.Open in Go's src/syscall/syscall_windows.go:
// `sharemode := uint32(FILE_SHARE_READ | FILE_SHARE_WRITE)`), and while
// such a handle is open no one can open the file for delete access, which
// deleting it and renaming over it need: both fail with a sharing
// violation (CreateFile's dwShareMode, DeleteFile and MoveFileEx in the
// Win32 documentation; also measured under Wine). Nor can a directory be
// renamed while a file in it is open (access denied: reported in
// RPCS3/rpcs3#8894 and microsoft/WSL#1529; Wine does allow it). The lock
// file and the ledger are held open for the whole term, so their names
// cannot change: the leader neither watches nor polls, and ledger writes
// skip the path-identity check (an Lstat plus os.SameFile opens the file
// by path: about 2ms under Wine, where one claim went from 7ms to 2ms).
// The size check stays: an fstat of the held handle, microseconds on
// Windows (about 1ms under Wine, as is every call into wineserver).
const heldNameCanChange = false

// ledgerAppend is 0 on Windows: Go opens an O_APPEND file without
// FILE_WRITE_DATA, and then SetEndOfFile (cutting a torn record off) and
// FlushFileBuffers (Sync) are denied. The ledger writes at the end it
// tracks instead; the size checks around each write still detect a second
// writer, unless its records were shorter than ours and wholly overwritten.
const ledgerAppend = 0

// appendOnlySyncs is false on Windows: the control file is opened
// O_APPEND (its writers share it and hold no lock, so only appending
// keeps their lines apart), and FlushFileBuffers is denied on such a
// handle (see ledgerAppend). With FileLockOptions.Sync its lines are
// written but not flushed.
const appendOnlySyncs = false

// appendLockOffsetHigh places the byte that the control file's writers
// lock at 2^62, past any data: Windows byte-range locks are mandatory, so
// a lock on data would make a reader fail.
const appendLockOffsetHigh = 1 << 30

// lockAppend makes the control file's writers take turns. A handle opened
// for appending only writes at the end of the file, but Wine finds the
// end and then writes there, so that two processes' lines overwrite each
// other (TestFileLockControlConcurrentWriters caught it); an exclusive
// LockFileEx on one byte serializes the appends. It is tried every
// millisecond, so that ctx can end the wait.
func lockAppend(ctx context.Context, f *os.File) (unlock func(), err error) {
	h := syscall.Handle(f.Fd())
	for {
		ol := syscall.Overlapped{OffsetHigh: appendLockOffsetHigh}
		err := lockFileEx(h, lockfileExclusiveLock|lockfileFailImmediately, &ol)
		if err == nil {
			return func() {
				ol := syscall.Overlapped{OffsetHigh: appendLockOffsetHigh}
				_ = unlockFileEx(h, &ol)
			}, nil
		}
		if err != errorLockViolation {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// LockFileEx and UnlockFileEx on one byte, from kernel32 through the
// standard library, so that the module needs no golang.org/x/sys of its
// own (gofrs/flock uses them for the lock file itself).
var (
	kernel32         = syscall.NewLazyDLL("kernel32.dll")
	procLockFileEx   = kernel32.NewProc("LockFileEx")
	procUnlockFileEx = kernel32.NewProc("UnlockFileEx")
)

const (
	lockfileFailImmediately = 0x1
	lockfileExclusiveLock   = 0x2
	errorLockViolation      = syscall.Errno(33) // ERROR_LOCK_VIOLATION
)

func lockFileEx(h syscall.Handle, flags uint32, ol *syscall.Overlapped) error {
	r, _, err := procLockFileEx.Call(uintptr(h), uintptr(flags), 0, 1, 0, uintptr(unsafe.Pointer(ol)))
	if r == 0 {
		return err
	}
	return nil
}

func unlockFileEx(h syscall.Handle, ol *syscall.Overlapped) error {
	r, _, err := procUnlockFileEx.Call(uintptr(h), 0, 1, 0, uintptr(unsafe.Pointer(ol)))
	if r == 0 {
		return err
	}
	return nil
}

// checkOwner does nothing on Windows: the file's owner is a security
// descriptor, not a uid, and the default directory (under
// %LocalAppData%) is already private to the user by its ACL. A lock
// path in a directory other users can write to is not defended.
func checkOwner(string, fs.FileInfo) error { return nil }

// checkDirs does nothing on Windows, for the reason checkOwner does
// nothing: ownership is a matter of ACLs there.
func checkDirs(string, string) error { return nil }

// checkPlatform refuses reparse points (symbolic links, junctions, mount
// points) that the mode bits may not show.
func checkPlatform(path string, fi fs.FileInfo) error {
	if d, ok := fi.Sys().(*syscall.Win32FileAttributeData); ok && d.FileAttributes&syscall.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		return fmt.Errorf("solocron: %s is a reparse point (symbolic link or junction); refusing to follow it", path)
	}
	return nil
}

// linkCount is always 1 on Windows: a file opened without
// FILE_SHARE_DELETE (as os.OpenFile and gofrs/flock open it) cannot be
// deleted or renamed over while it is open, so the held lock file keeps
// its name. The same-file check still catches a file swapped before we
// locked it.
func linkCount(fs.FileInfo) uint64 { return 1 }

// syncDir does nothing: Windows cannot fsync a directory, and NTFS
// journals renames itself.
func syncDir(string) error { return nil }
