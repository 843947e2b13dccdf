package solocron

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// MoveLedgerAside renames a corrupt ledger (see ErrLedgerCorrupt) to
// "<ledger>.corrupt-<UTC time>" and returns that path, so that the
// application's processes can lead again. It holds the lock meanwhile,
// so no process leads while the ledger moves; it waits for the lock until
// ctx ends (no process can lead on a corrupt ledger, but one that tries
// holds the lock for a moment, and one that led before the ledger was
// damaged keeps it: stop that one first).
//
// The next leader starts a new ledger, which it finds stale against the
// holder file: it runs no tick it missed, and every job starts afresh
// from its next tick. MoveLedgerAside refuses a ledger that can be read,
// or none: it moves nothing then.
func (f *FileLock) MoveLedgerAside(ctx context.Context) (string, error) {
	if err := checkPathSafe(f.path); err != nil {
		return "", err
	}
	w, err := f.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer w.unlock()
	named, err := f.stillNamed(w.fl)
	if err == nil && !named {
		err = fmt.Errorf("solocron: lock file %s was replaced while this process waited for it; try again", f.path)
	}
	if err != nil {
		return "", err
	}
	if _, err := os.Lstat(f.ledgerPath); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("solocron: there is no ledger at %s: nothing to move", f.ledgerPath)
	}
	g, err := openFileLedger(f.ledgerPath, f.sync)
	if err == nil {
		_ = g.close()
		return "", fmt.Errorf("solocron: ledger %s can be read: it was not moved", f.ledgerPath)
	}
	if !errors.Is(err, ErrLedgerCorrupt) {
		return "", err
	}
	aside := f.ledgerPath + ".corrupt-" + time.Now().UTC().Format("20060102T150405.000000000Z")
	if err := os.Rename(f.ledgerPath, aside); err != nil {
		return "", fmt.Errorf("solocron: move ledger %s aside: %w", f.ledgerPath, err)
	}
	if f.sync {
		if err := syncDir(filepath.Dir(aside)); err != nil {
			return aside, fmt.Errorf("solocron: moved ledger %s to %s, but syncing its directory failed: %w", f.ledgerPath, aside, err)
		}
	}
	return aside, nil
}
