package solocron

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The ledger of a FileLock is an append-only log beside the lock file,
// one line per record, each led by the CRC-32C of the rest of its line:
//
//	<crc> T <term> <since µs> <pid> <"hostname">   a term began
//	<crc> C <tick µs> <"job">                      the job's tick was claimed
//	<crc> D <tick µs> <"job">                      the job's tick completed
//
// Replay keeps the latest of each. A crash can leave a torn last line:
// its checksum fails, so it is ignored and cut off before the next append.
// A batch of claims is one write(2); the log is compacted (rewritten with
// the live records only) when it has grown several times larger than
// them, which keeps the cost of a claim amortized O(1).

// Compaction thresholds: the log is rewritten when it holds more than
// ledgerCompactFactor times the live records and at least
// ledgerCompactMin bytes. Variables so that tests can lower them.
var (
	ledgerCompactFactor       = 8
	ledgerCompactMin    int64 = 1 << 20
)

// never marks a tick that was never claimed or completed.
const never = math.MinInt64

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// errLedgerForeign: the file changed under us, so a second leader is
	// writing to it (the lock file was deleted or replaced).
	errLedgerForeign = errors.New("another process wrote to the ledger: two leaders")
	// errLedgerUnusable: a failed write could not be undone, or the file
	// could not be reopened after compaction.
	errLedgerUnusable = errors.New("the ledger is in an unknown state")
)

// ledgerEntry is one job's record, ticks in Unix µs.
type ledgerEntry struct{ claimed, completed int64 }

// ledgerUndo restores a job's entry when a write fails.
type ledgerUndo struct {
	job     string
	prev    ledgerEntry
	existed bool
}

// fileLedger is the ledger as one leader holds it: the records in memory
// and the log file open for appending. Not safe for concurrent use.
type fileLedger struct {
	path     string
	sync     bool
	file     *os.File
	size     int64 // bytes in the file: what we read plus what we wrote
	lines    int   // records in the file
	nextTry  int   // no compaction attempt before this many lines
	term     uint64
	termLine []byte // the latest term record, kept by compaction
	jobs     map[string]ledgerEntry
	buf      []byte
	undo     []ledgerUndo
}

// openFileLedger opens the ledger and replays it, cutting off a torn
// last record.
func openFileLedger(path string, sync bool) (*fileLedger, error) {
	file, err := openPrivate(path, os.O_RDWR|os.O_CREATE|ledgerAppend)
	if err != nil {
		return nil, err
	}
	g := &fileLedger{path: path, sync: sync, file: file, jobs: make(map[string]ledgerEntry)}
	if err := g.load(); err != nil {
		_ = file.Close()
		return nil, err
	}
	return g, nil
}

func (g *fileLedger) load() error {
	data, err := io.ReadAll(g.file)
	if err != nil {
		return fmt.Errorf("solocron: read ledger %s: %w", g.path, err)
	}
	valid, err := g.replay(data)
	if err != nil {
		return err
	}
	g.size = int64(valid)
	if valid < len(data) {
		if err := g.file.Truncate(g.size); err != nil {
			return fmt.Errorf("solocron: cut the torn end off ledger %s: %w", g.path, err)
		}
	}
	if g.sync {
		if err := g.file.Sync(); err != nil {
			return fmt.Errorf("solocron: sync ledger %s: %w", g.path, err)
		}
		if err := syncDir(filepath.Dir(g.path)); err != nil {
			return fmt.Errorf("solocron: sync the directory of ledger %s: %w", g.path, err)
		}
	}
	return nil
}

// replay applies the records of data and returns the length of its valid
// prefix. An invalid record is a torn tail when no valid record follows
// it; otherwise the ledger is corrupt, and guessing could run a tick
// twice, so replay refuses it.
func (g *fileLedger) replay(data []byte) (int, error) {
	off := 0
	for off < len(data) {
		n := bytes.IndexByte(data[off:], '\n')
		if n < 0 {
			break
		}
		payload, err := checkLine(data[off : off+n])
		if err != nil && !validLineIn(data[off+n+1:]) {
			break // torn by a crash while it was written
		}
		if err == nil {
			err = g.apply(payload)
		}
		if err != nil {
			return 0, fmt.Errorf("solocron: ledger %s is corrupt at byte %d (%v); move it aside to start a new ledger", g.path, off, err)
		}
		off += n + 1
		g.lines++
	}
	return off, nil
}

func validLineIn(data []byte) bool {
	for len(data) > 0 {
		n := bytes.IndexByte(data, '\n')
		if n < 0 {
			return false
		}
		if _, err := checkLine(data[:n]); err == nil {
			return true
		}
		data = data[n+1:]
	}
	return false
}

// checkLine verifies a line's checksum and returns what it covers.
func checkLine(line []byte) ([]byte, error) {
	if len(line) < 11 || line[8] != ' ' {
		return nil, errors.New("truncated record")
	}
	sum, err := strconv.ParseUint(string(line[:8]), 16, 32)
	if err != nil {
		return nil, errors.New("no checksum")
	}
	payload := line[9:]
	if crc32.Checksum(payload, castagnoli) != uint32(sum) {
		return nil, errors.New("checksum mismatch")
	}
	return payload, nil
}

// apply decodes one checked record into the records.
func (g *fileLedger) apply(payload []byte) error {
	kind, rest := payload[0], string(payload[2:])
	if payload[1] != ' ' {
		return errors.New("malformed record")
	}
	if kind == 'T' {
		f := strings.SplitN(rest, " ", 2)
		term, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil || len(f) != 2 {
			return errors.New("malformed term record")
		}
		if term >= g.term {
			g.term = term
			g.termLine = endLine(append(append(g.termLine[:0], "00000000 "...), payload...), 0)
		}
		return nil
	}
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return errors.New("malformed record")
	}
	tick, err := strconv.ParseInt(rest[:sp], 10, 64)
	if err != nil {
		return errors.New("malformed tick")
	}
	job, err := strconv.Unquote(rest[sp+1:])
	if err != nil {
		return errors.New("malformed job name")
	}
	e, _ := g.entry(job)
	switch kind {
	case 'C':
		e.claimed = max(e.claimed, tick)
	case 'D':
		e.completed = max(e.completed, tick)
	default:
		return fmt.Errorf("unknown record kind %q", kind)
	}
	g.jobs[job] = e
	return nil
}

// beginLine starts a record: room for the checksum, then the kind.
func beginLine(buf []byte, kind byte) []byte {
	return append(buf, '0', '0', '0', '0', '0', '0', '0', '0', ' ', kind, ' ')
}

// endLine fills in the checksum of the record that starts at start.
func endLine(buf []byte, start int) []byte {
	const hex = "0123456789abcdef"
	sum := crc32.Checksum(buf[start+9:], castagnoli)
	for i := 7; i >= 0; i-- {
		buf[start+i] = hex[sum&0xf]
		sum >>= 4
	}
	return append(buf, '\n')
}

func appendTickLine(buf []byte, kind byte, tick int64, job string) []byte {
	start := len(buf)
	buf = beginLine(buf, kind)
	buf = strconv.AppendInt(buf, tick, 10)
	buf = append(buf, ' ')
	buf = appendQuoted(buf, job)
	return endLine(buf, start)
}

// appendQuoted quotes s as strconv.AppendQuote does, faster for the
// plain ASCII names that most jobs have.
func appendQuoted(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return strconv.AppendQuote(buf, s)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

func appendTermLine(buf []byte, term uint64, since time.Time, c Candidate) []byte {
	start := len(buf)
	buf = beginLine(buf, 'T')
	buf = strconv.AppendUint(buf, term, 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, since.UnixMicro(), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(c.PID), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendQuote(buf, c.Hostname)
	return endLine(buf, start)
}

// appendTerm records that a term began.
func (g *fileLedger) appendTerm(term uint64, since time.Time, c Candidate) error {
	line := appendTermLine(nil, term, since, c)
	if err := g.write(line, 1); err != nil {
		return err
	}
	g.term, g.termLine = term, line
	return nil
}

// records returns the records of jobs.
func (g *fileLedger) records(jobs []string) map[string]Record {
	out := make(map[string]Record, len(jobs))
	for _, job := range jobs {
		if e, ok := g.jobs[job]; ok {
			out[job] = Record{Claimed: microTime(e.claimed), Completed: microTime(e.completed)}
		}
	}
	return out
}

func microTime(us int64) time.Time {
	if us == never {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// claim grants the claims that Ledger.Claim allows and records them in
// one write. On error nothing is granted and the records are unchanged.
func (g *fileLedger) claim(claims []Claim) ([]bool, error) {
	granted := make([]bool, len(claims))
	g.buf, g.undo = g.buf[:0], g.undo[:0]
	for i, c := range claims {
		tick := c.Tick.UnixMicro()
		e, ok := g.entry(c.Job)
		if tick <= e.claimed {
			// A retry of the last claimed, unfinished tick needs no record.
			granted[i] = c.Retry && tick == e.claimed && e.completed < tick
			continue
		}
		g.update(c.Job, e, ok, ledgerEntry{tick, e.completed})
		g.buf = appendTickLine(g.buf, 'C', tick, c.Job)
		granted[i] = true
	}
	if err := g.write(g.buf, len(g.undo)); err != nil {
		g.rollback()
		return nil, err
	}
	return granted, nil
}

// complete moves completed ticks forward and records them in one write.
func (g *fileLedger) complete(done []Claim) error {
	g.buf, g.undo = g.buf[:0], g.undo[:0]
	for _, c := range done {
		tick := c.Tick.UnixMicro()
		e, ok := g.entry(c.Job)
		if tick <= e.completed {
			continue
		}
		g.update(c.Job, e, ok, ledgerEntry{e.claimed, tick})
		g.buf = appendTickLine(g.buf, 'D', tick, c.Job)
	}
	if err := g.write(g.buf, len(g.undo)); err != nil {
		g.rollback()
		return err
	}
	return nil
}

// entry returns job's entry, never-claimed if it has none.
func (g *fileLedger) entry(job string) (ledgerEntry, bool) {
	e, ok := g.jobs[job]
	if !ok {
		e = ledgerEntry{never, never}
	}
	return e, ok
}

// update sets job's entry and remembers the old one for rollback.
func (g *fileLedger) update(job string, prev ledgerEntry, existed bool, next ledgerEntry) {
	g.undo = append(g.undo, ledgerUndo{job, prev, existed})
	g.jobs[job] = next
}

func (g *fileLedger) rollback() {
	for i := len(g.undo) - 1; i >= 0; i-- {
		u := g.undo[i]
		if u.existed {
			g.jobs[u.job] = u.prev
		} else {
			delete(g.jobs, u.job)
		}
	}
	g.undo = g.undo[:0]
}

// write appends records in one write(2). The file's size before and
// after must be what this ledger wrote: anything else is a second writer.
func (g *fileLedger) write(buf []byte, lines int) error {
	if len(buf) == 0 {
		return nil
	}
	if err := g.checkSole(g.size); err != nil {
		return err
	}
	var n int
	var err error
	if ledgerAppend != 0 {
		n, err = g.file.Write(buf)
	} else {
		n, err = g.file.WriteAt(buf, g.size)
	}
	if err == nil && g.sync {
		err = g.file.Sync()
	}
	if err != nil {
		// Cut off what was written so the log ends with a whole record
		// and a failed claim cannot be granted by the next replay.
		if n > 0 || g.sync {
			if terr := g.file.Truncate(g.size); terr != nil {
				return fmt.Errorf("solocron: append to ledger %s: %w; undo: %w (%w)", g.path, err, terr, errLedgerUnusable)
			}
		}
		return fmt.Errorf("solocron: append to ledger %s: %w", g.path, err)
	}
	if err := g.checkSole(g.size + int64(len(buf))); err != nil {
		return err
	}
	g.size += int64(len(buf))
	g.lines += lines
	return nil
}

// checkSole checks that the ledger file has the size this ledger expects
// (an fstat of the open file) and is still the one at the path (where an
// open file's name can change at all: not on Windows).
func (g *fileLedger) checkSole(size int64) error {
	fi, err := g.file.Stat()
	if err != nil {
		return fmt.Errorf("solocron: ledger %s: %w", g.path, err)
	}
	if fi.Size() != size {
		return fmt.Errorf("solocron: ledger %s is %d bytes, this leader wrote %d: %w", g.path, fi.Size(), size, errLedgerForeign)
	}
	if !heldNameCanChange {
		return nil
	}
	named, err := os.Lstat(g.path)
	if err != nil || !os.SameFile(fi, named) || linkCount(fi) == 0 {
		return fmt.Errorf("solocron: ledger %s was deleted or replaced: %w", g.path, errLedgerForeign)
	}
	return nil
}

// compactIfLarge compacts the log once it holds ledgerCompactFactor times
// more records than are live. A failed compaction is harmless (the log
// stays long) and is retried once the log has doubled; it returns an
// error only when the ledger cannot be used any more.
func (g *fileLedger) compactIfLarge() error {
	live := 1 + 2*len(g.jobs)
	if g.size < ledgerCompactMin || g.lines <= ledgerCompactFactor*live || g.lines < g.nextTry {
		return nil
	}
	err := g.compact()
	if err != nil && !errors.Is(err, errLedgerUnusable) {
		g.nextTry = 2 * g.lines
		return nil
	}
	return err
}

// compact writes the live records to a temporary file and renames it over
// the log. Windows cannot rename over an open file, so the log is closed
// first and reopened after, on every system alike.
func (g *fileLedger) compact() error {
	buf := append([]byte(nil), g.termLine...)
	lines := 1
	for job, e := range g.jobs {
		if e.claimed != never {
			buf = appendTickLine(buf, 'C', e.claimed, job)
			lines++
		}
		if e.completed != never {
			buf = appendTickLine(buf, 'D', e.completed, job)
			lines++
		}
	}
	tmp := g.path + ".tmp"
	if err := writeNewFile(tmp, buf, g.sync); err != nil {
		return fmt.Errorf("solocron: compact ledger %s: %w", g.path, err)
	}
	if err := g.checkSole(g.size); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("%w (%w)", err, errLedgerUnusable)
	}
	_ = g.file.Close()
	renamed := os.Rename(tmp, g.path)
	if renamed == nil && g.sync {
		renamed = syncDir(filepath.Dir(g.path))
	}
	file, err := openPrivate(g.path, os.O_RDWR|ledgerAppend)
	if err != nil {
		return fmt.Errorf("solocron: reopen ledger %s after compaction: %w (%w)", g.path, err, errLedgerUnusable)
	}
	g.file = file
	if renamed != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("solocron: compact ledger %s: %w", g.path, renamed)
	}
	g.size, g.lines = int64(len(buf)), lines
	if err := g.checkSole(g.size); err != nil {
		return fmt.Errorf("%w (%w)", err, errLedgerUnusable)
	}
	return nil
}

// writeNewFile creates path afresh (never through a link) holding data.
func writeNewFile(path string, data []byte, sync bool) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

func (g *fileLedger) close() error { return g.file.Close() }
