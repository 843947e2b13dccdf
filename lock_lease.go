package solocron

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/solocron/solocron/internal/pathwatch"
)

// fileLease is one term of a FileLock. Its ledger methods and its watch
// take mu, so a check and the write it guards are never interleaved with
// a loss or a Release.
type fileLease struct {
	lock  *FileLock
	term  uint64
	stale error         // see LedgerStale
	lost  chan struct{} // closed on loss, never on Release
	done  chan struct{} // closed when the term ends for any reason

	mu       sync.Mutex
	fl       *flock.Flock
	ledger   *fileLedger
	holder   *os.File
	names    *pathwatch.Watch // nil when polling or when names cannot change
	doc      holderDoc
	ended    bool
	released bool
	err      error
}

func (l *fileLease) Term() uint64          { return l.term }
func (l *fileLease) Lost() <-chan struct{} { return l.lost }

func (l *fileLease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Records returns the ledger's records of jobs.
func (l *fileLease) Records(ctx context.Context, jobs []string) (map[string]Record, error) {
	if err := l.enter(ctx); err != nil {
		return nil, err
	}
	defer l.mu.Unlock()
	return l.ledger.records(jobs), nil
}

// Claim claims ticks; see Ledger.Claim.
func (l *fileLease) Claim(ctx context.Context, claims []Claim) ([]bool, error) {
	if err := l.enter(ctx); err != nil {
		return nil, err
	}
	defer l.mu.Unlock()
	granted, err := l.ledger.claim(claims)
	if err != nil {
		return nil, l.failed(err)
	}
	if err := l.ledger.compactIfLarge(2); err != nil {
		l.lose(err) // the claims are on file: they stand
	}
	return granted, nil
}

// Complete records finished ticks; see Ledger.Complete.
func (l *fileLease) Complete(ctx context.Context, done []Outcome) error {
	if err := l.enter(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	if err := l.ledger.complete(done); err != nil {
		return l.failed(err)
	}
	if err := l.ledger.compactIfLarge(1); err != nil {
		l.lose(err)
	}
	return nil
}

// Release marks the holder file released (while the lock still keeps
// others from writing it), then unlocks. It never closes Lost.
func (l *fileLease) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	l.released = true
	if l.ended {
		return nil // lost earlier: the lock is gone and the files closed
	}
	doc := l.doc
	doc.Released = true
	err := writeHolderFile(l.holder, doc, l.lock.sync)
	if uerr := l.end(); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("solocron: release lock %s: %w", l.lock.path, err)
	}
	return nil
}

// enter locks the lease for a ledger method if it still leads.
func (l *fileLease) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	if err := l.check(); err != nil {
		l.mu.Unlock()
		return err
	}
	return nil
}

// check fails unless this term still holds the lock on the file at the
// path; the ledger methods call it before anything else.
func (l *fileLease) check() error {
	if l.released {
		return fmt.Errorf("%w: term %d was released", ErrNotLeader, l.term)
	}
	if l.ended {
		return fmt.Errorf("%w: term %d was lost: %w", ErrNotLeader, l.term, l.err)
	}
	if !heldNameCanChange {
		return nil
	}
	named, err := l.lock.stillNamed(l.fl)
	if err == nil && !named {
		err = fmt.Errorf("solocron: lock file %s was deleted or replaced; another process may lead", l.lock.path)
	}
	if err != nil {
		l.lose(err)
		return fmt.Errorf("%w: term %d was lost: %w", ErrNotLeader, l.term, err)
	}
	return nil
}

// failed turns a ledger error that means another writer into a loss.
func (l *fileLease) failed(err error) error {
	if errors.Is(err, errLedgerForeign) || errors.Is(err, errLedgerUnusable) {
		l.lose(err)
		return fmt.Errorf("%w: term %d was lost: %w", ErrNotLeader, l.term, err)
	}
	return err
}

// lose ends the term for a reason other than Release. The holder file is
// left alone: it may already name the next leader.
func (l *fileLease) lose(err error) {
	if l.ended {
		return
	}
	l.err = err
	_ = l.end()
	close(l.lost)
}

// end drops the lock and closes the term's files.
func (l *fileLease) end() error {
	l.ended = true
	close(l.done)
	err := l.fl.Unlock() // first: a standby takes over now
	_ = l.ledger.close()
	_ = l.holder.Close()
	if l.names != nil {
		// Closing an inotify instance with watches waits for an SRCU grace
		// period (several ms): not on the way out of Release and Stop.
		go l.names.Close() // wakes watch
	}
	return err
}

// watch ends the term as soon as the path no longer names the locked
// file, so that the running jobs are cancelled even when the leader does
// not write to the ledger. It waits for inotify events when names is not
// nil, and polls every interval otherwise or once the events stop being
// trustworthy.
func (l *fileLease) watch(names *pathwatch.Watch, every time.Duration) {
	if names != nil {
		var err error
		for err == nil {
			// The first check covers changes made before the watch began.
			if !l.recheck() {
				return
			}
			err = names.Wait()
		}
		if !l.recheck() {
			return // the term ended, which closed names
		}
		_ = names.Close()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.done:
			return
		case <-t.C:
			if !l.recheck() {
				return
			}
		}
	}
}

// recheck runs check unless the term has ended, and reports whether the
// term goes on.
func (l *fileLease) recheck() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended {
		_ = l.check()
	}
	return !l.ended
}

// The holder file (<lock>.holder) tells other processes who leads. It is
// kept out of the lock file because LockFileEx locks the lock file's
// first byte on Windows. It is rewritten in place, so a reader can catch
// it half written: its last line is a checksum, and readers retry.
type holderDoc struct {
	PID      int       `json:"pid"`
	Hostname string    `json:"hostname"`
	Since    time.Time `json:"since"`
	Term     uint64    `json:"term"`
	App      string    `json:"app,omitempty"`
	Jobs     string    `json:"jobs,omitempty"`
	Released bool      `json:"released,omitempty"`
}

var errHolderTorn = errors.New("holder file torn or corrupt")

func encodeHolder(doc holderDoc) []byte {
	b, _ := json.Marshal(doc) // cannot fail: plain fields
	sum := crc32.Checksum(b, castagnoli)
	b = append(b, '\n')
	b = strconv.AppendUint(b, uint64(sum), 16)
	return append(b, '\n')
}

// decodeHolder parses a holder file; an empty one is a zero doc.
func decodeHolder(data []byte) (holderDoc, error) {
	var doc holderDoc
	if len(data) == 0 {
		return doc, nil
	}
	body, rest, ok := bytes.Cut(data, []byte{'\n'})
	if !ok {
		return doc, errHolderTorn
	}
	sumText, tail, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok || len(tail) != 0 {
		return doc, errHolderTorn
	}
	sum, err := strconv.ParseUint(string(sumText), 16, 32)
	if err != nil || crc32.Checksum(body, castagnoli) != uint32(sum) {
		return doc, errHolderTorn
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return doc, errHolderTorn
	}
	return doc, nil
}

// writeHolderFile writes doc in place in one write, then cuts off what
// remains of a longer previous doc.
func writeHolderFile(f *os.File, doc holderDoc, sync bool) error {
	b := encodeHolder(doc)
	if _, err := f.WriteAt(b, 0); err != nil {
		return err
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		return err
	}
	if sync {
		return f.Sync()
	}
	return nil
}

func readHolderFile(f *os.File) (holderDoc, error) {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	if err != nil {
		return holderDoc{}, err
	}
	return decodeHolder(data)
}

// readHolderPath reads the holder file at path; a missing file is empty.
func readHolderPath(path string) (holderDoc, error) {
	f, err := openPrivate(path, os.O_RDONLY)
	if errors.Is(err, os.ErrNotExist) {
		return holderDoc{}, nil
	}
	if err != nil {
		return holderDoc{}, err
	}
	defer f.Close()
	doc, err := readHolderFile(f)
	if err != nil {
		return doc, fmt.Errorf("solocron: %s: %w", path, err)
	}
	return doc, nil
}

// LedgerStale: see Lease.LedgerStale.
func (l *fileLease) LedgerStale() error { return l.stale }

// Reset: see Ledger.Reset.
func (l *fileLease) Reset(ctx context.Context, job string, tick time.Time) error {
	if err := l.enter(ctx); err != nil {
		return err
	}
	defer l.mu.Unlock()
	if err := l.ledger.reset(job, tick); err != nil {
		return l.failed(err)
	}
	if err := l.ledger.compactIfLarge(1); err != nil {
		l.lose(err)
	}
	return nil
}
