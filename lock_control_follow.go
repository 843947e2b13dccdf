package solocron

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// logFollower keeps what a process without the lock knows of one of the
// lock's logs (the ledger, the control file), which other processes
// append to: it reads only what was appended since its last read, and
// nothing at all when a stat shows the file unchanged, so that the
// leader's Control every second costs one lstat.
type logFollower[S logState] struct {
	path  string
	lock  string // the lock file, for errors about its directory
	fresh func() S

	mu    sync.Mutex
	state S
	read  fs.FileInfo // the file as the last read found it; nil: read it whole
	next  int64       // where the lines not applied yet begin
	buf   *bufio.Reader
}

// logState is what a log's lines build up.
type logState interface {
	// follow applies the lines that r yields from byte at of the file on,
	// and returns where the lines it did not apply begin (a line still
	// being written: the next read takes it up again).
	follow(r *bufio.Reader, at int64) (int64, error)
}

func newLogFollower[S logState](path, lock string, fresh func() S) *logFollower[S] {
	return &logFollower[S]{path: path, lock: lock, fresh: fresh, state: fresh()}
}

// refresh brings the state up to date with the file. It reads nothing
// when the file has the identity, size and modification time of the last
// read; it reads what was appended when the file only grew; it reads the
// file whole when it shrank or was replaced (a compacted ledger). A
// missing file is an empty log. The file is refused, like the lock's
// other files, unless it is a regular file of this user: a symbolic link
// or a FIFO planted at its path is not read. l.mu is held.
func (l *logFollower[S]) refresh() error {
	named, err := os.Lstat(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		l.forget()
		return nil
	}
	if err != nil {
		return fmt.Errorf("solocron: %w", err)
	}
	if err := checkFileSafe(l.path, named); err != nil {
		return err
	}
	if l.read != nil && os.SameFile(l.read, named) && named.Size() == l.read.Size() && named.ModTime().Equal(l.read.ModTime()) {
		return nil
	}
	if err := checkDirs(filepath.Dir(l.path), l.lock); err != nil {
		return err
	}
	file, err := openPrivate(l.path, os.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		l.forget()
		return nil
	}
	if err != nil {
		return err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return fmt.Errorf("solocron: %s: %w", l.path, err)
	}
	if l.read == nil || !os.SameFile(l.read, fi) || fi.Size() < l.read.Size() {
		l.forget()
	}
	l.read = nil // until this read succeeds
	if l.buf == nil {
		l.buf = bufio.NewReaderSize(nil, maxLedgerLine)
	}
	// Up to the size just seen: what is appended later is read next time.
	l.buf.Reset(io.NewSectionReader(file, l.next, fi.Size()-l.next))
	next, err := l.state.follow(l.buf, l.next)
	l.buf.Reset(nil)
	if err != nil {
		l.state, l.next = l.fresh(), 0 // partly applied
		return err
	}
	l.read, l.next = fi, next
	return nil
}

// forget drops the state: the next read starts from the beginning. While
// l.read is nil (outside refresh) the state is fresh already.
func (l *logFollower[S]) forget() {
	if l.read != nil || l.next != 0 {
		l.state, l.read, l.next = l.fresh(), nil, 0
	}
}
