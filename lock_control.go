package solocron

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"time"
)

// The control file (<lock>.control) holds the jobs' control state, which
// any process writes, leader or not, without the lock: an append-only log
// in the ledger's line format, each line led by the CRC-32C of the rest:
//
//	<crc> P <"job">          the job was paused
//	<crc> U <"job">          the job was resumed (unpaused)
//	<crc> R <µs> <"job">     a run of the job was requested at µs (Unix µs)
//
// Replay keeps each job's last P or U, in the file's order, and its
// latest request. Each line is one write(2) to the file opened O_APPEND,
// so the lines of concurrent writers never interleave (on Windows the
// writers also take turns, see lockAppend). Unlike the ledger,
// whose replay refuses corruption because guessing could run a tick
// twice, this replay skips a line it cannot read (torn by a crash, or of
// a kind a later version writes): at worst an operator's action is lost
// and must be repeated. A writer that finds the file ending in a torn
// line starts its own with a newline, so that it stays whole (it may
// have caught another writer's line half written: that adds a blank
// line, which replay skips).
//
// Requests grow: RequestRun reads the file first and writes the later of
// the clock and the last request + 1µs. Two processes that request a run
// of one job within the same µs may both write the same time; the reader
// keeps the latest time per job, so the two make one request, and the
// leader runs the job once for them (a request asks for a run now, and
// one run answers both).
//
// The file is not compacted. It grows by one line, tens of bytes, per
// operator action; each process reads it whole once, then only what was
// appended. Rewriting it would need its writers, who hold no lock, to
// take one. Deleting it forgets every pause and request.

// controlEntry is one job's control state; requested is in Unix µs,
// never when none.
type controlEntry struct {
	paused    bool
	requested int64
}

// controlLog is the control file's state, as a logFollower builds it.
type controlLog struct {
	path string
	jobs map[string]controlEntry
}

// follow applies the whole lines that r yields from byte at on and
// returns where the first line that is not whole begins: a line being
// written now, read again next time, or one a crashed writer left torn,
// which the next writer ends with a newline.
func (c *controlLog) follow(r *bufio.Reader, at int64) (int64, error) {
	next := at
	_, err := scanLog(r, c.path, at, func(l logLine) error {
		if l.whole {
			next = l.at + int64(l.size)
			if l.why == nil {
				c.apply(l.payload)
			}
		}
		return nil
	})
	return next, err
}

// apply applies one checked line; it skips what it cannot read.
func (c *controlLog) apply(payload []byte) {
	if len(payload) < 2 || payload[1] != ' ' {
		return
	}
	kind, rest := payload[0], payload[2:]
	at := int64(never)
	if kind == 'R' {
		var ok bool
		if at, rest, ok = cutMicros(rest); !ok {
			return
		}
	}
	if quotedLen(rest) != len(rest) {
		return
	}
	job, err := unquoteReusing(rest, "")
	if err != nil {
		return
	}
	e, ok := c.jobs[job]
	if !ok {
		e.requested = never
	}
	switch kind {
	case 'P', 'U':
		e.paused = kind == 'P'
	case 'R':
		e.requested = max(e.requested, at)
	default:
		return
	}
	c.jobs[job] = e
}

// controls returns the jobs that are paused or have a run requested.
func (c *controlLog) controls() map[string]Control {
	out := make(map[string]Control, len(c.jobs))
	for job, e := range c.jobs {
		if ctl := (Control{Paused: e.paused, Requested: microTime(e.requested)}); ctl != (Control{}) {
			out[job] = ctl
		}
	}
	return out
}

func newControlFollower(path, lock string) *logFollower[*controlLog] {
	return newLogFollower(path, lock, func() *controlLog {
		return &controlLog{path: path, jobs: make(map[string]controlEntry)}
	})
}

func newLedgerFollower(path, lock string) *logFollower[*fileLedger] {
	return newLogFollower(path, lock, func() *fileLedger {
		return &fileLedger{path: path, jobs: make(map[string]*ledgerRecord)}
	})
}

// Control returns the jobs that are paused or have a run requested. The
// leader calls it every second: when the control file has not changed
// since the last call, it costs one lstat.
func (f *FileLock) Control(ctx context.Context) (map[string]Control, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := f.control
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.refresh(); err != nil {
		return nil, err
	}
	return v.state.controls(), nil
}

// Observe reads the ledger without the lock, as any process may, and
// merges in the control state. A torn last record (one a leader is
// writing now) is left out.
func (f *FileLock) Observe(ctx context.Context) (map[string]Record, error) {
	records, err := f.observeLedger(ctx)
	if err != nil {
		return nil, err
	}
	ctl, err := f.Control(ctx)
	if err != nil {
		return nil, err
	}
	for job, c := range ctl {
		r := records[job]
		r.Control = c
		records[job] = r
	}
	return records, nil
}

// observeAttempts: a reader can meet a ledger that a new leader is
// cutting a torn tail off and appending to, which reads as corrupt for a
// moment; it reads the ledger whole again, a millisecond later.
const observeAttempts = 3

func (f *FileLock) observeLedger(ctx context.Context) (map[string]Record, error) {
	v := f.ledger
	v.mu.Lock()
	defer v.mu.Unlock()
	for attempt := 1; ; attempt++ {
		err := v.refresh()
		if err == nil {
			return v.state.all(), nil
		}
		if attempt == observeAttempts {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// SetPaused appends a P or U line to the control file.
func (f *FileLock) SetPaused(ctx context.Context, job string, paused bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkJobName(job); err != nil {
		return err
	}
	kind := byte('U')
	if paused {
		kind = 'P'
	}
	return f.appendControl(ctx, endLine(appendQuoted(beginLine(nil, kind), job), 0))
}

// RequestRun appends an R line at the later of the clock and the job's
// last request + 1µs, read from the control file first. The follower's
// lock is held throughout, so that this process's requests grow.
func (f *FileLock) RequestRun(ctx context.Context, job string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkJobName(job); err != nil {
		return err
	}
	v := f.control
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.refresh(); err != nil {
		return err
	}
	at := time.Now().UnixMicro()
	if e, ok := v.state.jobs[job]; ok && e.requested != never {
		at = max(at, e.requested+1)
	}
	return f.appendControl(ctx, appendTickLine(nil, 'R', at, string(appendQuoted(nil, job))))
}

// appendControl appends one line to the control file in one write,
// creating the file (0600) and its directory (0700) if need be.
func (f *FileLock) appendControl(ctx context.Context, line []byte) error {
	if err := f.makeDir(); err != nil {
		return err
	}
	// Read access too: to look at the last byte.
	file, err := openPrivate(f.controlPath, os.O_RDWR|os.O_APPEND|os.O_CREATE)
	if err != nil {
		return err
	}
	unlock, err := lockAppend(ctx, file)
	if err != nil {
		_ = file.Close()
		return fmt.Errorf("solocron: append to control file %s: %w", f.controlPath, err)
	}
	torn, err := endsTorn(file)
	if err == nil && torn {
		line = append([]byte{'\n'}, line...)
	}
	if err == nil {
		_, err = file.Write(line)
	}
	if err == nil && f.sync && appendOnlySyncs {
		err = file.Sync()
	}
	unlock()
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("solocron: append to control file %s: %w", f.controlPath, err)
	}
	return nil
}

// endsTorn reports whether the file ends in a line without its newline.
func endsTorn(file *os.File) (bool, error) {
	fi, err := file.Stat()
	if err != nil || fi.Size() == 0 {
		return false, err
	}
	var last [1]byte
	if _, err := file.ReadAt(last[:], fi.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}
