// Package testdir makes temporary directories for tests that also run as
// Windows binaries under Wine, where t.TempDir's cleanup fails: Go's
// os.RemoveAll asks for FileDispositionInformationEx, which Wine refuses
// ("Invalid function") without the status that makes Go fall back.
package testdir

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// New returns a new directory that is removed, entry by entry and deepest
// first, when the test ends.
func New(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "solocron-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		_ = filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
			if err == nil {
				paths = append(paths, path)
			}
			return nil
		})
		slices.Reverse(paths) // children before their directories
		for _, p := range paths {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				t.Logf("testdir: %v", err)
			}
		}
	})
	return dir
}
