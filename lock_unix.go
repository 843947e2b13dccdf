//go:build unix

package solocron

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// noFollow makes open(2) fail on a symbolic link in the last path
// element, so a link planted after our Lstat still cannot redirect us.
const noFollow = syscall.O_NOFOLLOW

// heldNameCanChange: on Unix a file can be deleted or renamed over while
// it is open and locked, and another process can then lock a new file at
// the same path. So the leader watches the name (watch_linux.go, or by
// polling) and checks it before every ledger write.
const heldNameCanChange = true

// ledgerAppend makes every ledger write land at the end of the file, so
// that a second writer's records are never overwritten, only detected.
const ledgerAppend = os.O_APPEND

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
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
