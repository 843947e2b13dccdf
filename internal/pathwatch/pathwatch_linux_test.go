package pathwatch

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
)

// inotifyEvent encodes one event as the kernel does: a header, then the
// name padded with NULs.
func inotifyEvent(wd int, mask uint32, name string) []byte {
	padded := 0
	if name != "" {
		padded = (len(name) + 1 + 15) / 16 * 16
	}
	b := make([]byte, syscall.SizeofInotifyEvent+padded)
	binary.NativeEndian.PutUint32(b[0:4], uint32(int32(wd)))
	binary.NativeEndian.PutUint32(b[4:8], mask)
	binary.NativeEndian.PutUint32(b[12:16], uint32(padded))
	copy(b[syscall.SizeofInotifyEvent:], name)
	return b
}

func TestPathWatchFiltersEvents(t *testing.T) {
	const dir, ancestor = 1, 2
	w := &Watch{dir: dir, name: []byte("app.lock")}
	cases := []struct {
		name     string
		events   [][]byte
		relevant bool
		err      error
	}{
		{"lock file deleted", [][]byte{inotifyEvent(dir, syscall.IN_DELETE, "app.lock")}, true, nil},
		{"lock file renamed away", [][]byte{inotifyEvent(dir, syscall.IN_MOVED_FROM, "app.lock")}, true, nil},
		{"renamed over the lock file", [][]byte{inotifyEvent(dir, syscall.IN_MOVED_TO, "app.lock")}, true, nil},
		{"lock file created", [][]byte{inotifyEvent(dir, syscall.IN_CREATE, "app.lock")}, true, nil},
		{"other files", [][]byte{
			inotifyEvent(dir, syscall.IN_CREATE, "app.lock.ledger.tmp"),
			inotifyEvent(dir, syscall.IN_MOVED_TO, "app.lock.ledger"),
			inotifyEvent(dir, syscall.IN_DELETE, "app.loc"),
		}, false, nil},
		{"same name in an ancestor", [][]byte{inotifyEvent(ancestor, syscall.IN_DELETE, "app.lock")}, false, nil},
		{"directory renamed", [][]byte{inotifyEvent(dir, syscall.IN_MOVE_SELF, "")}, true, nil},
		{"ancestor renamed", [][]byte{inotifyEvent(ancestor, syscall.IN_MOVE_SELF, "")}, true, nil},
		{"directory deleted", [][]byte{inotifyEvent(dir, syscall.IN_DELETE_SELF, "")}, true, nil},
		{"queue overflow", [][]byte{inotifyEvent(-1, syscall.IN_Q_OVERFLOW, "")}, true, nil},
		{"watch removed", [][]byte{inotifyEvent(ancestor, syscall.IN_IGNORED, "")}, true, ErrIncomplete},
		{"relevant after others", [][]byte{
			inotifyEvent(dir, syscall.IN_CREATE, "x"),
			inotifyEvent(dir, syscall.IN_DELETE, "app.lock"),
		}, true, nil},
	}
	for _, c := range cases {
		var batch []byte
		for _, e := range c.events {
			batch = append(batch, e...)
		}
		relevant, err := w.parse(batch)
		if relevant != c.relevant || !errors.Is(err, c.err) {
			t.Errorf("%s: parse = %v, %v; want %v, %v", c.name, relevant, err, c.relevant, c.err)
		}
	}
}
