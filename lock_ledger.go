package solocron

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"
)

// The ledger of a FileLock is an append-only log beside the lock file,
// one line per batch of records of the same kind and ticks, each line led
// by the CRC-32C of the rest of it:
//
//	<crc> T <term> <since µs> <pid> <"hostname"> [stale]   a term began
//	<crc> C <tick µs> <"job">...    the jobs' tick was claimed
//	<crc> D <tick µs> <"job">...    the jobs' tick was decided (run or skipped)
//	<crc> N <tick µs> <next µs> <"job">...    D, and the jobs' next tick
//	<crc> F <tick µs> <next µs|-> (<duration ns> <"job"> <"error">)...
//	                             a run of the tick finished: D, N, and the
//	                             run's outcome ("" for success)
//	<crc> R <tick µs> <"job">...    the jobs were reset: claimed = completed = tick
//
// where "..." repeats the part before it, separated by a space: a tick's
// claims of 10,000 jobs take a few dozen lines (see ledgerLines), not
// 10,000 of them.
//
// Replay keeps the latest of each (C, D and the next tick only move
// forward; F replaces the last run's outcome unless that was of a later
// tick; R sets claimed and completed, even backwards, and keeps the
// rest). A ledger written before N and F existed, or with one job a
// line, is read as it was; one that holds them, or lines of several jobs,
// is refused as corrupt by those older versions.
//
// A term record marked stale began on a ledger found older than the
// holder file (see staleAgainst); while no record follows it, the ledger
// is still stale. A crash can leave a torn last line: its checksum fails,
// so it is ignored and cut off before the next append. A batch of claims,
// or of outcomes, is one write(2); the log is compacted (rewritten with
// the live records only) when it has grown several times larger than
// them, which keeps the cost of a claim amortized O(1).
//
// Other processes read the log without the lock (FileLock.Observe), with
// the same replay, following what is appended (see logFollower): a
// record being written is a torn tail to them until it is whole.

// Compaction thresholds: the log is rewritten when it holds more than
// ledgerCompactFactor times the live records and at least
// ledgerCompactMin bytes. Variables so that tests can lower them. At
// 10,000 jobs firing every second the log grows by about 310 KB a second
// and is rewritten every 16 s: it holds at most about 5 MB, what a new
// leader replays (some 45 ms).
var (
	ledgerCompactFactor       = 16
	ledgerCompactMin    int64 = 1 << 20
)

const (
	// maxLedgerLine bounds a record, so replay reads the log through a
	// fixed buffer whatever its size; a longer line is not a record.
	maxLedgerLine = 64 << 10
	// maxLedgerJob and maxLedgerHost keep every record we write within
	// maxLedgerLine (quoting can quadruple a name): the Scheduler's job
	// names are far shorter; a longer name given to the Ledger directly is
	// refused, and a longer host name is cut (it is only shown).
	maxLedgerJob  = 8 << 10
	maxLedgerHost = 1 << 10
	// maxLedgerError cuts a run's error (the Scheduler passes at most
	// MaxErrorLen bytes) so that an F record, its job name and its error
	// quoted, stays within maxLedgerLine.
	maxLedgerError = 4 << 10
)

// never marks a tick that was never claimed or completed.
const never = math.MinInt64

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrLedgerCorrupt is in the error of a file ledger that cannot be
	// read: a record that is not whole or fails its checksum has valid
	// records after it (not a torn end, which is cut off), or the file
	// holds no record at all. No process can lead on it: guessing could
	// run a tick twice. FileLock.MoveLedgerAside moves it out of the way.
	ErrLedgerCorrupt = errors.New("the ledger is corrupt")
	// errLedgerForeign: the file changed under us: a second leader writes
	// to it (the lock file was deleted or replaced), or someone replaced
	// it. Either way this term cannot go on with it.
	errLedgerForeign = errors.New("the ledger changed under this leader")
	// errLedgerUnusable: a failed write could not be undone, or the file
	// could not be reopened after compaction.
	errLedgerUnusable = errors.New("the ledger is in an unknown state")
)

// ledgerEntry is one job's record, ticks in Unix µs (never when none).
type ledgerEntry struct {
	claimed, completed int64
	finished           int64 // the tick of the last run that finished
	duration           time.Duration
	err                string
	next               int64 // the job's next tick
}

// newLedgerEntry is the entry of a job never claimed.
var newLedgerEntry = ledgerEntry{claimed: never, completed: never, finished: never, next: never}

// decide applies the outcome of a tick: completed and next move forward,
// and a run's outcome replaces the last one unless that one is of a later
// tick. Replay and Complete both go through it, so that what a leader
// holds is what the next one reads back.
func (e *ledgerEntry) decide(tick, next int64, ran bool, d time.Duration, err string) {
	e.completed = max(e.completed, tick)
	e.next = max(e.next, next)
	if ran && tick >= e.finished {
		e.finished, e.duration, e.err = tick, d, err
	}
}

// ledgerRecord is a job's entry and its name as its lines quote it,
// quoted once: a claim's line is then a few appends and a checksum.
type ledgerRecord struct {
	ledgerEntry
	name   string
	quoted string
	after  [batchKinds]*ledgerRecord // see batchOrder
}

// fileLedger is the ledger as one leader holds it: the records in memory
// and the log file open for appending. Not safe for concurrent use.
type fileLedger struct {
	path      string
	sync      bool
	file      *os.File
	size      int64 // bytes in the file: what we read plus what we wrote
	logged    int   // records in the file (a line can hold several)
	nextTry   int   // no compaction attempt before this many records
	term      uint64
	termLine  []byte // the latest term record, kept by compaction
	termStale bool   // that record is marked stale
	sinceTerm int    // records after it
	jobs      map[string]*ledgerRecord
	buf       []byte // the records of a write
	decided   []byte // complete's records other than runs
	scratch   liveScratch
	order     [batchKinds]batchOrder
}

// openFileLedger opens the ledger and replays it, cutting off a torn
// last record.
func openFileLedger(path string, sync bool) (*fileLedger, error) {
	file, err := openPrivate(path, os.O_RDWR|os.O_CREATE|ledgerAppend)
	if err != nil {
		return nil, err
	}
	g := &fileLedger{path: path, sync: sync, file: file, jobs: make(map[string]*ledgerRecord)}
	if err := g.load(); err != nil {
		_ = file.Close()
		return nil, err
	}
	return g, nil
}

func (g *fileLedger) load() error {
	valid, total, err := g.replay(bufio.NewReaderSize(g.file, maxLedgerLine), 0)
	if err != nil {
		return err
	}
	g.size = valid
	if valid < total {
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

// replay applies the records of the log that r yields from byte at of
// the file on, line by line (a ledger of any size takes a fixed buffer),
// and returns where its valid prefix and the log end. An invalid line is
// a torn tail when no valid record follows it; otherwise the ledger is
// corrupt, and guessing could run a tick twice, so replay refuses it. So
// is a log with no valid record at all, unless it holds nothing but NULs
// and newlines (what a power loss can leave of a first write): it is not
// a ledger.
func (g *fileLedger) replay(r *bufio.Reader, at int64) (valid, total int64, err error) {
	torn := int64(-1) // where the first invalid line starts, once met
	var tornWhy error
	onlyZeros := true // the invalid lines hold only NULs
	total, err = scanLog(r, g.path, at, func(l logLine) error {
		switch {
		case l.why == nil && torn >= 0:
			return g.corrupt(torn, tornWhy)
		case l.why == nil:
			if why := g.apply(l.payload); why != nil {
				return g.corrupt(l.at, why)
			}
		case torn < 0:
			torn, tornWhy = l.at, l.why
			fallthrough
		default:
			onlyZeros = onlyZeros && l.blank
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if torn < 0 {
		return total, total, nil
	}
	if g.logged == 0 && !onlyZeros {
		return 0, 0, fmt.Errorf("solocron: ledger %s holds no valid record (%d bytes): it is not a solocron ledger; move it aside to start a new ledger (%w)", g.path, total, ErrLedgerCorrupt)
	}
	return torn, total, nil
}

// follow applies what was appended to the ledger since byte at, for a
// reader without the lock (see logFollower): a torn tail is left for the
// next read, which finds it whole or cut off.
func (g *fileLedger) follow(r *bufio.Reader, at int64) (int64, error) {
	valid, _, err := g.replay(r, at)
	return valid, err
}

// logLine is one line of a log of checked lines (the ledger, the control
// file), as scanLog reads it.
type logLine struct {
	at      int64  // where it starts in the file
	size    int    // its length, newline included
	payload []byte // what its checksum covers, when why is nil
	why     error  // why it is not a valid record
	whole   bool   // it ends with a newline: no writer is still adding to it
	blank   bool   // it holds nothing but NULs and newlines
}

// scanLog reads the log of checked lines that r yields from byte at of
// the file at path on, and calls visit with each line until the end or
// until visit fails. It returns where the log ends.
func scanLog(r *bufio.Reader, path string, at int64, visit func(logLine) error) (int64, error) {
	for {
		line, long, rerr := readLedgerLine(r)
		if rerr != nil && rerr != io.EOF {
			return 0, fmt.Errorf("solocron: read %s: %w", path, rerr)
		}
		if len(line) == 0 && long == 0 {
			return at, nil
		}
		l := logLine{at: at, size: len(line) + long, whole: rerr == nil}
		l.payload, l.why = checkLine(line, long, !l.whole)
		l.blank = long == 0 && len(bytes.Trim(line, "\x00\n")) == 0
		if err := visit(l); err != nil {
			return 0, err
		}
		at += int64(l.size)
		if rerr == io.EOF {
			return at, nil
		}
	}
}

func (g *fileLedger) corrupt(at int64, why error) error {
	return fmt.Errorf("solocron: ledger %s is corrupt at byte %d (%v); move it aside to start a new ledger (%w)", g.path, at, why, ErrLedgerCorrupt)
}

// readLedgerLine reads one line with its newline. A line longer than the
// reader's buffer is skipped to its end: long counts its bytes, and line
// is empty.
func readLedgerLine(r *bufio.Reader) (line []byte, long int, err error) {
	line, err = r.ReadSlice('\n')
	for errors.Is(err, bufio.ErrBufferFull) {
		long += len(line)
		line, err = r.ReadSlice('\n')
	}
	if long > 0 {
		long += len(line)
		line = nil
	}
	return line, long, err
}

// checkLine verifies a line's checksum and returns what it covers. A line
// is valid only whole: ending in a newline and within maxLedgerLine.
func checkLine(line []byte, long int, eof bool) ([]byte, error) {
	switch {
	case long > 0:
		return nil, fmt.Errorf("a line of %d bytes, longer than any record", long)
	case eof:
		return nil, errors.New("truncated record")
	}
	line = line[:len(line)-1]
	if len(line) < 11 || line[8] != ' ' {
		return nil, errors.New("truncated record")
	}
	sum, ok := parseHex32(line[:8])
	if !ok {
		return nil, errors.New("no checksum")
	}
	payload := line[9:]
	if crc32.Checksum(payload, castagnoli) != sum {
		return nil, errors.New("checksum mismatch")
	}
	return payload, nil
}

func parseHex32(b []byte) (uint32, bool) {
	var n uint32
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | uint32(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | uint32(c-'a'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// parseMicros parses a tick: a decimal int64, perhaps negative.
func parseMicros(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		return int64(-n), true
	case !neg && n <= math.MaxInt64:
		return int64(n), true
	}
	return 0, false
}

// apply decodes one checked line of records into the records. It
// allocates nothing for a record of a job it knows whose name (and error)
// is plain ASCII, so that replaying a long log costs little more than
// reading it.
func (g *fileLedger) apply(payload []byte) error {
	if len(payload) < 2 || payload[1] != ' ' {
		return errors.New("malformed record")
	}
	kind, rest := payload[0], payload[2:]
	if kind == 'T' {
		g.logged++
		return g.applyTerm(payload, rest)
	}
	tick, rest, ok := cutMicros(rest)
	if !ok {
		return errors.New("malformed tick")
	}
	next := int64(never)
	if kind == 'N' || kind == 'F' {
		if next, rest, ok = cutNext(rest); !ok {
			return errors.New("malformed next tick")
		}
	}
	if kind != 'C' && kind != 'D' && kind != 'N' && kind != 'R' && kind != 'F' {
		return fmt.Errorf("unknown record kind %q", kind)
	}
	// rest holds one job's part of the record, or several separated by
	// spaces: "job", or for F: duration "job" "error".
	for {
		var e *ledgerEntry
		var err error
		var d int64
		var msg []byte
		if kind == 'F' {
			if d, rest, ok = cutMicros(rest); !ok {
				return errors.New("malformed duration")
			}
		}
		if e, rest, err = g.cutEntry(rest); err != nil {
			return err
		}
		if kind == 'F' {
			if len(rest) < 3 || rest[0] != ' ' {
				return errors.New("malformed record")
			}
			n := quotedLen(rest[1:])
			if n == 0 {
				return errors.New("malformed error")
			}
			msg, rest = rest[1:1+n], rest[1+n:]
		}
		switch kind {
		case 'C':
			e.claimed = max(e.claimed, tick)
		case 'R':
			e.claimed, e.completed = tick, tick
		case 'F':
			text, err := unquoteReusing(msg, e.err)
			if err != nil {
				return errors.New("malformed error")
			}
			e.decide(tick, next, true, time.Duration(d), text)
		default:
			e.decide(tick, next, false, 0, "")
		}
		g.logged++
		g.sinceTerm++
		if len(rest) == 0 {
			return nil
		}
		if len(rest) < 2 || rest[0] != ' ' {
			return errors.New("malformed record")
		}
		rest = rest[1:]
	}
}

// cutEntry returns the entry of the job whose quoted name b starts with,
// creating it if need be, and what follows the name.
func (g *fileLedger) cutEntry(b []byte) (*ledgerEntry, []byte, error) {
	n := quotedLen(b)
	if n == 0 {
		return nil, nil, errors.New("malformed job name")
	}
	e, err := g.entryNamed(b[:n])
	return e, b[n:], err
}

// cutMicros parses the decimal int64 that b starts with, up to a space,
// and returns what follows the space.
func cutMicros(b []byte) (int64, []byte, bool) {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		return 0, nil, false
	}
	n, ok := parseMicros(b[:sp])
	return n, b[sp+1:], ok
}

// noNext stands for a next tick that is not known.
const noNext = '-'

// cutNext is cutMicros for a next tick, which may be noNext.
func cutNext(b []byte) (int64, []byte, bool) {
	if len(b) > 1 && b[0] == noNext && b[1] == ' ' {
		return never, b[2:], true
	}
	return cutMicros(b)
}

// quotedLen returns the length of the quoted string that b starts with
// (as appendQuoted writes it: no raw quote inside), or 0.
func quotedLen(b []byte) int {
	if len(b) == 0 || b[0] != '"' {
		return 0
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return 0
}

// unquoteReusing unquotes q, returning prev itself when it is the same
// text (so replaying the same error again and again allocates nothing).
func unquoteReusing(q []byte, prev string) (string, error) {
	if plain := plainQuoted(q); plain != nil {
		if string(plain) == prev {
			return prev, nil
		}
		return string(plain), nil
	}
	return strconv.Unquote(string(q))
}

func (g *fileLedger) applyTerm(payload, rest []byte) error {
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return errors.New("malformed term record")
	}
	term, err := strconv.ParseUint(string(rest[:sp]), 10, 64)
	if err != nil {
		return errors.New("malformed term record")
	}
	if term >= g.term {
		g.term, g.sinceTerm = term, 0
		g.termStale = bytes.HasSuffix(rest, []byte(staleMark))
		g.termLine = endLine(append(append(g.termLine[:0], "00000000 "...), payload...), 0)
	}
	return nil
}

// entryNamed returns the entry of the job whose quoted name is quoted,
// creating it if need be.
func (g *fileLedger) entryNamed(quoted []byte) (*ledgerEntry, error) {
	name := plainQuoted(quoted)
	if name != nil {
		if r := g.jobs[string(name)]; r != nil { // no allocation
			return &r.ledgerEntry, nil
		}
	}
	job := string(name)
	if name == nil {
		var err error
		if job, err = strconv.Unquote(string(quoted)); err != nil {
			return nil, errors.New("malformed job name")
		}
	}
	return &g.record(job, nil).ledgerEntry, nil
}

// plainQuoted returns the name inside quotes that appendQuoted wrote
// without escapes, or nil.
func plainQuoted(q []byte) []byte {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return nil
	}
	name := q[1 : len(q)-1]
	for _, c := range name {
		if c < ' ' || c > '~' || c == '"' || c == '\\' {
			return nil
		}
	}
	return name
}

// staleMark ends the record of a term that began on a stale ledger.
const staleMark = " stale"

func appendTermLine(buf []byte, term uint64, since time.Time, c Candidate, stale bool) []byte {
	start := len(buf)
	buf = beginLine(buf, 'T')
	buf = strconv.AppendUint(buf, term, 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, since.UnixMicro(), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(c.PID), 10)
	buf = append(buf, ' ')
	host := c.Hostname
	if len(host) > maxLedgerHost {
		host = host[:maxLedgerHost]
	}
	buf = strconv.AppendQuote(buf, host)
	if stale {
		buf = append(buf, staleMark...)
	}
	return endLine(buf, start)
}

// appendTerm records that a term began, marked if it found the ledger
// stale.
func (g *fileLedger) appendTerm(term uint64, since time.Time, c Candidate, stale bool) error {
	line := appendTermLine(nil, term, since, c, stale)
	if err := g.write(line, 1); err != nil {
		return err
	}
	g.term, g.termLine, g.termStale, g.sinceTerm = term, line, stale, 0
	return nil
}

// staleAgainst reports whether the ledger is older than the holder file,
// whose last term is holderTerm: the ledger was restored from a backup,
// moved away and back, replaced or deleted since that term began; or a
// term found it so and recorded nothing in it since.
func (g *fileLedger) staleAgainst(holderTerm uint64) error {
	switch {
	case holderTerm > g.term && g.term == 0:
		return fmt.Errorf("solocron: ledger %s is empty but the holder file shows term %d: "+
			"it was deleted, restored from a backup, moved back or replaced", g.path, holderTerm)
	case holderTerm > g.term:
		return fmt.Errorf("solocron: ledger %s ends at term %d but the holder file shows term %d: "+
			"it was restored from a backup, moved back or replaced", g.path, g.term, holderTerm)
	case g.termStale && g.sinceTerm == 0:
		return fmt.Errorf("solocron: ledger %s was found stale when term %d began, and that term recorded nothing since", g.path, g.term)
	}
	return nil
}

// records returns the records of jobs.
func (g *fileLedger) records(jobs []string) map[string]Record {
	out := make(map[string]Record, len(jobs))
	for _, job := range jobs {
		if r, ok := g.jobs[job]; ok {
			out[job] = r.record()
		}
	}
	return out
}

// all returns every record.
func (g *fileLedger) all() map[string]Record {
	out := make(map[string]Record, len(g.jobs))
	for job, r := range g.jobs {
		out[job] = r.record()
	}
	return out
}

func (e *ledgerEntry) record() Record {
	return Record{
		Claimed: microTime(e.claimed), Completed: microTime(e.completed),
		Finished: microTime(e.finished), Duration: e.duration, Error: e.err,
		Next: microTime(e.next),
	}
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
	if err := checkJobNames(claims); err != nil {
		return nil, err
	}
	granted := make([]bool, len(claims))
	w := newLedgerLines(g.buf)
	g.startBatch(claimBatch)
	for i, c := range claims {
		tick := c.Tick.UnixMicro()
		r := g.record(c.Job, g.guess(claimBatch))
		g.ordered(claimBatch, r)
		if tick <= r.claimed {
			// A retry of the last claimed, unfinished tick needs no record.
			granted[i] = c.Retry && tick == r.claimed && r.completed < tick
			continue
		}
		r.claimed = tick
		w.add('C', tick, never, r.quoted)
		granted[i] = true
	}
	g.buf = w.done()
	if err := g.write(g.buf, w.records); err != nil {
		return nil, g.reload(err)
	}
	return granted, nil
}

// complete records outcomes in one write, one record per outcome that
// changes something: F for a run that is the job's latest, else N when
// the next tick moves, else D when the completed tick does. An outcome of
// a job with no record is ignored. The runs' records are written first,
// the others after them, so that neither kind cuts the other's lines:
// replay applies F, N and D alike in any order (ticks only move forward).
func (g *fileLedger) complete(done []Outcome) error {
	for _, o := range done {
		if err := checkJobName(o.Job); err != nil {
			return err
		}
	}
	runs, others := newLedgerLines(g.buf), newLedgerLines(g.decided)
	g.startBatch(outcomeBatch)
	for _, o := range done {
		r := g.find(o.Job, g.guess(outcomeBatch))
		if r == nil {
			continue
		}
		g.ordered(outcomeBatch, r)
		tick, next := o.Tick.UnixMicro(), int64(never)
		if !o.Next.IsZero() {
			next = o.Next.UnixMicro()
		}
		ran := o.Ran && tick >= r.finished
		completed, before := r.completed, r.next
		msg := cutError(o.Error)
		r.decide(tick, next, ran, o.Duration, msg)
		switch {
		case ran:
			runs.addRun(tick, next, o.Duration, r.quoted, msg)
		case r.next != before:
			others.add('N', tick, next, r.quoted)
		case r.completed != completed:
			others.add('D', tick, never, r.quoted)
		}
	}
	g.decided = others.done()
	g.buf = append(runs.done(), g.decided...)
	if err := g.write(g.buf, runs.records+others.records); err != nil {
		return g.reload(err)
	}
	return nil
}

// cutError cuts a run's error to maxLedgerError bytes, at a character's
// start.
func cutError(msg string) string {
	if len(msg) <= maxLedgerError {
		return msg
	}
	cut := maxLedgerError
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return msg[:cut]
}

// reset sets the job's claimed and completed ticks to tick, even
// backwards, with an R record.
func (g *fileLedger) reset(job string, tick time.Time) error {
	if err := checkJobName(job); err != nil {
		return err
	}
	us := tick.UnixMicro()
	r := g.record(job, nil)
	w := newLedgerLines(g.buf)
	w.add('R', us, never, r.quoted)
	g.buf = w.done()
	r.claimed, r.completed = us, us
	if err := g.write(g.buf, 1); err != nil {
		return g.reload(err)
	}
	return nil
}

func checkJobNames(claims []Claim) error {
	for _, c := range claims {
		if err := checkJobName(c.Job); err != nil {
			return err
		}
	}
	return nil
}

// checkJobName refuses a name whose record could not be read back.
func checkJobName(job string) error {
	if len(job) > maxLedgerJob {
		return fmt.Errorf("solocron: job name %.20q... is %d bytes; the file ledger takes at most %d", job, len(job), maxLedgerJob)
	}
	return nil
}

// record returns job's record (guess, if that is job's: see find),
// making a never-claimed one if it has none.
func (g *fileLedger) record(job string, guess *ledgerRecord) *ledgerRecord {
	if r := g.find(job, guess); r != nil {
		return r
	}
	r := &ledgerRecord{ledgerEntry: newLedgerEntry, name: job, quoted: string(appendQuoted(nil, job))}
	g.jobs[job] = r
	return r
}

// reload undoes the records of a write that failed (err) by reading them
// back from the file, which write left as it was: rarer than a write by
// far, so the writes keep no undo log. It returns err, or why the ledger
// is now unusable.
func (g *fileLedger) reload(err error) error {
	if errors.Is(err, errLedgerForeign) || errors.Is(err, errLedgerUnusable) {
		return err // the term ends: what it holds is never used again
	}
	g.jobs, g.logged = make(map[string]*ledgerRecord, len(g.jobs)), 0
	g.order = [batchKinds]batchOrder{}
	g.term, g.termLine, g.termStale, g.sinceTerm = 0, nil, false, 0
	valid, total, rerr := g.replay(bufio.NewReaderSize(io.NewSectionReader(g.file, 0, g.size), maxLedgerLine), 0)
	if rerr == nil && (valid != g.size || total != g.size) {
		rerr = fmt.Errorf("read back %d valid bytes of %d", valid, g.size)
	}
	if rerr != nil {
		return fmt.Errorf("%w; undo: %w (%w)", err, rerr, errLedgerUnusable)
	}
	return err
}

// write appends records in one write(2). The file's size before and
// after must be what this ledger wrote: anything else is a second writer.
func (g *fileLedger) write(buf []byte, records int) error {
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
	g.logged += records
	g.sinceTerm += records
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
		return fmt.Errorf("solocron: ledger %s is %d bytes, this leader wrote %d: another process wrote to it, two leaders: %w", g.path, fi.Size(), size, errLedgerForeign)
	}
	if !heldNameCanChange {
		return nil
	}
	named, err := os.Lstat(g.path)
	if err != nil || !os.SameFile(fi, named) || linkCount(fi) == 0 {
		return fmt.Errorf("solocron: ledger %s was deleted or replaced while this process led (by a second leader, or by hand): %w", g.path, errLedgerForeign)
	}
	return nil
}

// compactIfLarge compacts the log once it holds ledgerCompactFactor times
// more records than are live, or slack times that many. Claims pass a
// slack of 2: a compaction there would hold up the tick's runs, so the
// outcomes' writes, which follow them off the tick's path, compact, and a
// claim does only when no outcome has come for long. A failed compaction
// is harmless (the log stays long) and is retried once the log has
// doubled; it returns an error only when the ledger cannot be used any
// more.
func (g *fileLedger) compactIfLarge(slack int) error {
	live := 1 + 2*len(g.jobs)
	if g.size < ledgerCompactMin || g.logged <= slack*ledgerCompactFactor*live || g.logged < g.nextTry {
		return nil
	}
	err := g.compact()
	if err != nil && !errors.Is(err, errLedgerUnusable) {
		g.nextTry = 2 * g.logged
		return nil
	}
	return err
}

// compact writes the live records to a temporary file and renames it over
// the log. Windows cannot rename over an open file, so the log is closed
// first and reopened after, on every system alike.
func (g *fileLedger) compact() error {
	// The term record goes first, unless it marks a term that found the
	// ledger stale and recorded nothing since: then last, so that replay
	// still finds nothing after it.
	stillStale := g.termStale && g.sinceTerm == 0
	w := newLedgerLines(g.buf) // free: compaction follows a write
	if !stillStale {
		w.buf = append(w.buf, g.termLine...)
	}
	w.addLive(g.jobs, &g.scratch)
	buf, records := w.done(), 1+w.records
	defer func() { g.buf = buf[:0] }()
	if stillStale {
		buf = append(buf, g.termLine...)
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
	g.size, g.logged = int64(len(buf)), records
	if !stillStale {
		g.sinceTerm = records - 1
	}
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
