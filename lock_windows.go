//go:build windows

package solocron

import (
	"fmt"
	"io/fs"
	"syscall"
)

// noFollow is 0: Windows has no O_NOFOLLOW. The path is Lstat-checked
// before every open instead (checkPlatform refuses symbolic links and
// other reparse points), which leaves a short window in which a link
// could be planted; the per-user default directory is the defence.
const noFollow = 0

// ledgerAppend is 0 on Windows: Go opens an O_APPEND file without
// FILE_WRITE_DATA, and then SetEndOfFile (cutting a torn record off) and
// FlushFileBuffers (Sync) are denied. The ledger writes at the end it
// tracks instead; the size checks around each write still detect a second
// writer, unless its records were shorter than ours and wholly overwritten.
const ledgerAppend = 0

// checkOwner does nothing on Windows: the file's owner is a security
// descriptor, not a uid, and the default directory (under
// %LocalAppData%) is already private to the user by its ACL. A lock
// path in a directory other users can write to is not defended.
func checkOwner(string, fs.FileInfo) error { return nil }

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
