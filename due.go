package solocron

import (
	"container/heap"
	"time"
)

// due orders a term's jobs by their next tick, so that waking up costs
// O(log n) per firing instead of a sort of every job.
type due []*dueJob

type dueJob struct {
	j     *job
	next  time.Time
	index int
}

func (d due) Len() int           { return len(d) }
func (d due) Less(a, b int) bool { return d[a].next.Before(d[b].next) }
func (d due) Swap(a, b int) {
	d[a], d[b] = d[b], d[a]
	d[a].index, d[b].index = a, b
}
func (d *due) Push(x any) {
	e := x.(*dueJob)
	e.index = len(*d)
	*d = append(*d, e)
}
func (d *due) Pop() any {
	old := *d
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*d = old[:len(old)-1]
	return e
}

// add schedules j for next; a zero next (a schedule that ended) is dropped.
func (d *due) add(j *job, next time.Time) {
	j.setNext(next)
	if !next.IsZero() {
		heap.Push(d, &dueJob{j: j, next: next})
	}
}

// peek returns the earliest entry, or nil.
func (d due) peek() *dueJob {
	if len(d) == 0 {
		return nil
	}
	return d[0]
}

// advance moves the earliest entry to next, or drops it when next is zero.
func (d *due) advance(next time.Time) {
	e := (*d)[0]
	e.j.setNext(next)
	if next.IsZero() {
		heap.Pop(d)
		return
	}
	e.next = next
	heap.Fix(d, 0)
}
