//go:build !linux

package pathwatch

import "errors"

// Watch has no event source outside Linux: on other Unix systems the
// leader polls the lock file's name every CheckInterval, and on Windows a
// held lock file cannot lose its name (see heldNameCanChange).
type Watch struct{}

// Slot reserves nothing where there is no watch.
type Slot int

const NoSlot Slot = -1

func Reserve() Slot   { return NoSlot }
func (Slot) Release() {}

func New(string, Slot) (*Watch, error) { return nil, errors.ErrUnsupported }
func (*Watch) Wait() error             { return errors.ErrUnsupported }
func (*Watch) Close() error            { return nil }
