package solocron

import "sync"

// inbox hands jobs added while a term leads to its serve goroutine: put
// never blocks (Add must not wait for a term busy with the ledger), and
// ready tells serve there is something to take.
type inbox struct {
	mu    sync.Mutex
	jobs  []*job
	ready chan struct{} // holds a token while jobs wait
}

func newInbox(jobs []*job) *inbox {
	b := &inbox{ready: make(chan struct{}, 1)}
	b.jobs = append(b.jobs, jobs...)
	return b
}

func (b *inbox) put(j *job) {
	b.mu.Lock()
	b.jobs = append(b.jobs, j)
	b.mu.Unlock()
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// take returns the jobs waiting and empties the inbox.
func (b *inbox) take() []*job {
	b.mu.Lock()
	defer b.mu.Unlock()
	jobs := b.jobs
	b.jobs = nil
	return jobs
}
