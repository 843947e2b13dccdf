//go:build !linux

package solocron

import "errors"

// pathWatch has no event source outside Linux: on other Unix systems the
// leader polls the lock file's name every CheckInterval, and on Windows a
// held lock file cannot lose its name (see heldNameCanChange).
type pathWatch struct{}

// watchSlot reserves nothing where there is no watch.
type watchSlot int

const noSlot watchSlot = -1

func reserveWatchSlot() watchSlot { return noSlot }
func (watchSlot) release()        {}

func newPathWatch(string, watchSlot) (*pathWatch, error) { return nil, errors.ErrUnsupported }
func (*pathWatch) wait() error                           { return errors.ErrUnsupported }
func (*pathWatch) close() error                          { return nil }
