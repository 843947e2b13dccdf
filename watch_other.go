//go:build !linux

package solocron

import "errors"

// pathWatch has no event source outside Linux: on other Unix systems the
// leader polls the lock file's name every CheckInterval, and on Windows a
// held lock file cannot lose its name (see heldNameCanChange).
type pathWatch struct{}

func newPathWatch(string) (*pathWatch, error) { return nil, errors.ErrUnsupported }
func (*pathWatch) wait() error                { return errors.ErrUnsupported }
func (*pathWatch) close() error               { return nil }
