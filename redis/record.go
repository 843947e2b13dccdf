package redis

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/solocron/solocron"
)

// How a job's record is laid out in the ledger hash. The claimed and
// completed ticks keep the fields and plain µs values of the version
// before outcomes, so that each version reads the other's ledger; the
// last run is one more field, written whole so that its parts always
// belong to the same run; the next tick another, since it moves on its
// own (with ticks that did not run too).
const (
	claimedField   = "c:" // + job: last claimed tick, µs
	completedField = "d:" // + job: last completed tick, µs
	finishedField  = "f:" // + job: the last run that finished, see formatFinished
	nextField      = "n:" // + job: the next tick as the leader last recorded it, µs
)

// formatFinished encodes a run's outcome as "<tick µs> <duration ns>
// <error>": the tick first, for the scripts to compare; the error last,
// so that it may hold anything, spaces included.
func formatFinished(tickMicros string, d time.Duration, errText string) string {
	return tickMicros + " " + strconv.FormatInt(int64(d), 10) + " " + errText
}

// decodeRecord reads a record from its fields' values ("" when absent).
func decodeRecord(claimed, completed, finished, next string) (solocron.Record, error) {
	var r solocron.Record
	var err1, err2, err3, err4 error
	r.Claimed, err1 = fromMicros(claimed)
	r.Completed, err2 = fromMicros(completed)
	r.Finished, r.Duration, r.Error, err3 = parseFinished(finished)
	r.Next, err4 = fromMicros(next)
	return r, errors.Join(err1, err2, err3, err4)
}

// parseFinished reads a finishedField value; "" is no run.
func parseFinished(v string) (tick time.Time, d time.Duration, errText string, err error) {
	if v == "" {
		return time.Time{}, 0, "", nil
	}
	us, rest, ok1 := strings.Cut(v, " ")
	ns, errText, ok2 := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok1 || !ok2 || err != nil {
		return time.Time{}, 0, "", fmt.Errorf("solocron/redis: malformed last run %.60q in ledger", v)
	}
	tick, err = fromMicros(us)
	return tick, time.Duration(n), errText, err
}

// decodeLedger turns the ledger hash (HGETALL) into records; fields that
// are not a job's (the term marker, the stale mark) are skipped.
func decodeLedger(h map[string]string) (map[string]solocron.Record, error) {
	fields := make(map[string]*[4]string)
	for field, v := range h {
		job, i, ok := recordField(field)
		if !ok {
			continue
		}
		f := fields[job]
		if f == nil {
			f = new([4]string)
			fields[job] = f
		}
		f[i] = v
	}
	out := make(map[string]solocron.Record, len(fields))
	for job, f := range fields {
		r, err := decodeRecord(f[0], f[1], f[2], f[3])
		if err != nil {
			return nil, fmt.Errorf("job %q: %w", job, err)
		}
		out[job] = r
	}
	return out, nil
}

// recordField splits a ledger field "x:<job>" into the job and which of
// its record's fields it is (0 claimed, 1 completed, 2 finished, 3 next).
func recordField(field string) (job string, i int, ok bool) {
	switch {
	case strings.HasPrefix(field, claimedField):
		return field[len(claimedField):], 0, true
	case strings.HasPrefix(field, completedField):
		return field[len(completedField):], 1, true
	case strings.HasPrefix(field, finishedField):
		return field[len(finishedField):], 2, true
	case strings.HasPrefix(field, nextField):
		return field[len(nextField):], 3, true
	}
	return "", 0, false
}
