package solocron

// A leader's batches of claims, and of outcomes, come in the same order
// tick after tick: a bucket's jobs in the order they were added, their
// outcomes shard by shard as the workers finish them. So each record
// remembers the record that came after it in the last batch of each kind,
// and a batch finds most of its records by following those links, where
// a lookup in the map of 10,000 names was a third of the cost of a claim
// and of an outcome. A link that guesses wrong (the order changed, a job
// was added) costs one comparison, and the map answers.

// The kinds of batch whose order the records remember.
const (
	claimBatch = iota
	outcomeBatch
	batchKinds
)

// batchOrder follows the order of one kind of batch.
type batchOrder struct {
	first *ledgerRecord // the first record of the last batch
	prev  *ledgerRecord // the last record so far in this batch
}

// startBatch begins a batch of kind.
func (g *fileLedger) startBatch(kind int) { g.order[kind].prev = nil }

// guess returns the record that followed the previous one in the last
// batch of kind: the likely record of this batch's next job.
func (g *fileLedger) guess(kind int) *ledgerRecord {
	o := &g.order[kind]
	if o.prev == nil {
		return o.first
	}
	return o.prev.after[kind]
}

// ordered records that r comes next in this batch of kind.
func (g *fileLedger) ordered(kind int, r *ledgerRecord) {
	o := &g.order[kind]
	if o.prev == nil {
		o.first = r
	} else {
		o.prev.after[kind] = r
	}
	o.prev = r
}

// find returns job's record, nil if it has none: guess if that is job's,
// else the map's.
func (g *fileLedger) find(job string, guess *ledgerRecord) *ledgerRecord {
	if guess != nil && guess.name == job {
		return guess
	}
	return g.jobs[job]
}
