package solocron

import (
	"cmp"
	"hash/crc32"
	"slices"
	"strconv"
	"time"
)

// groupedLine is the length past which a ledger line takes no more jobs:
// a tick's records of 10,000 jobs take a few dozen lines, each checked and
// replayed whole, and one record alone stays within maxLedgerLine.
const groupedLine = 8 << 10

// ledgerLines appends ledger records to buf, those of several jobs that
// share a kind and ticks on one line: a tick's tick, next tick and line
// header are written once for all of its jobs, not once per job.
type ledgerLines struct {
	buf        []byte
	start      int // where the open line starts; -1 when none is open
	kind       byte
	tick, next int64
	records    int
}

func newLedgerLines(buf []byte) ledgerLines { return ledgerLines{buf: buf[:0], start: -1} }

// add appends a C, D, N or R record of the job whose name, quoted, is
// quoted (next is never except for N).
func (w *ledgerLines) add(kind byte, tick, next int64, quoted string) {
	w.open(kind, tick, next)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, quoted...)
}

// addRun appends an F record: a run of tick finished after d, with msg
// ("" for success).
func (w *ledgerLines) addRun(tick, next int64, d time.Duration, quoted, msg string) {
	w.open('F', tick, next)
	w.buf = append(w.buf, ' ')
	w.buf = strconv.AppendInt(w.buf, int64(d), 10)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, quoted...)
	w.buf = append(w.buf, ' ')
	w.buf = appendQuoted(w.buf, msg)
}

// open counts a record and makes the open line one of kind and ticks
// with room for it, ending the open line and beginning another when it
// is not.
func (w *ledgerLines) open(kind byte, tick, next int64) {
	w.records++
	if w.start >= 0 && w.kind == kind && w.tick == tick && w.next == next && len(w.buf)-w.start < groupedLine {
		return
	}
	w.end()
	w.start, w.kind, w.tick, w.next = len(w.buf), kind, tick, next
	w.buf = beginLine(w.buf, kind)
	w.buf = strconv.AppendInt(w.buf, tick, 10)
	if kind == 'N' || kind == 'F' {
		w.buf = append(w.buf, ' ')
		w.buf = appendNext(w.buf, next)
	}
}

// end ends the open line, if any.
func (w *ledgerLines) end() {
	if w.start >= 0 {
		w.buf = endLine(w.buf, w.start)
		w.start = -1
	}
}

// done ends the open line and returns the lines.
func (w *ledgerLines) done() []byte {
	w.end()
	return w.buf
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

// appendTickLine appends a line of one record of tick and the job whose
// name, quoted, is quoted: a control file's R record.
func appendTickLine(buf []byte, kind byte, tick int64, quoted string) []byte {
	start := len(buf)
	buf = beginLine(buf, kind)
	buf = strconv.AppendInt(buf, tick, 10)
	buf = append(buf, ' ')
	buf = append(buf, quoted...)
	return endLine(buf, start)
}

func appendNext(buf []byte, next int64) []byte {
	if next == never {
		return append(buf, noNext)
	}
	return strconv.AppendInt(buf, next, 10)
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

// rebuild is the fewest records whose replay rebuilds a job's record
// exactly, in the order they must be replayed: usually C and F (or C,
// then D or N). F and N move the completed tick forward; when a reset
// moved it back below the last run's tick, an R record (then C, D) sets
// it back.
type rebuild struct {
	r       *ledgerRecord
	decided byte  // 'F', 'N', or 0 for neither
	resets  bool  // an R record of reset
	reset   int64 // (never itself, when a reset left the job unclaimed)
	claim   bool  // a C record of r.claimed
	done    bool  // a D record of r.completed
}

func rebuildOf(r *ledgerRecord) rebuild {
	b := rebuild{r: r}
	replayed := newLedgerEntry
	switch {
	case r.finished != never:
		b.decided = 'F'
		replayed.decide(r.finished, r.next, true, r.duration, r.err)
	case r.next != never:
		b.decided = 'N'
		replayed.decide(r.completed, r.next, false, 0, "")
	}
	if low := min(r.claimed, r.completed); low < replayed.completed {
		b.resets, b.reset = true, low
		replayed.claimed, replayed.completed = low, low
	}
	b.claim = r.claimed > replayed.claimed
	b.done = r.completed > replayed.completed
	return b
}

// addLive appends the records that rebuild every job. Each kind of record
// is written in its own pass, in the order a job's records must be
// replayed (F and N, then R, C and D), its jobs sorted by ticks so that
// those of the same ticks share lines.
// Its scratch slices are kept from one compaction to the next: at 10,000
// jobs a compaction is due every few ticks, and its garbage would be most
// of what a leader allocates.
func (w *ledgerLines) addLive(jobs map[string]*ledgerRecord, s *liveScratch) {
	plan := s.plan[:0]
	for _, r := range jobs {
		plan = append(plan, rebuildOf(r))
	}
	lines := s.lines[:0]
	defer func() {
		clear(plan)
		clear(lines)
		s.plan, s.lines = plan[:0], lines[:0]
	}()
	for pass := range 4 {
		lines = lines[:0]
		for i := range plan {
			if l, ok := plan[i].line(pass); ok {
				lines = append(lines, l)
			}
		}
		slices.SortFunc(lines, compareLive)
		for _, l := range lines {
			if l.kind == 'F' {
				w.addRun(l.tick, l.next, l.r.duration, l.r.quoted, l.r.err)
			} else {
				w.add(l.kind, l.tick, l.next, l.r.quoted)
			}
		}
	}
}

// liveScratch is addLive's scratch, kept between compactions.
type liveScratch struct {
	plan  []rebuild
	lines []liveRecord
}

// liveRecord is one record that compaction writes.
type liveRecord struct {
	kind       byte
	tick, next int64
	r          *ledgerRecord
}

func compareLive(a, b liveRecord) int {
	return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.tick, b.tick), cmp.Compare(a.next, b.next))
}

// line returns the record that b writes in compaction's pass (0 to 3), if
// any.
func (b *rebuild) line(pass int) (liveRecord, bool) {
	r := b.r
	switch {
	case pass == 0 && b.decided == 'F':
		return liveRecord{'F', r.finished, r.next, r}, true
	case pass == 0 && b.decided == 'N':
		return liveRecord{'N', r.completed, r.next, r}, true
	case pass == 1 && b.resets:
		return liveRecord{'R', b.reset, never, r}, true
	case pass == 2 && b.claim:
		return liveRecord{'C', r.claimed, never, r}, true
	case pass == 3 && b.done:
		return liveRecord{'D', r.completed, never, r}, true
	}
	return liveRecord{}, false
}
