package solocron

import (
	"container/heap"
	"time"

	"github.com/robfig/cron/v3"
)

// due orders a term's jobs by their next tick. Jobs with the same schedule
// due at the same instant share a bucket: one Next and one heap move per
// bucket and tick, not per job (10,000 jobs on "* * * * * *" are one
// entry).
type due struct {
	heap    buckets
	buckets map[bucketKey]*bucket // every bucket in heap, by what it holds
}

// bucketKey names a bucket: a schedule (its spec) and an instant.
type bucketKey struct {
	spec string
	next int64 // Unix ns
}

type bucket struct {
	key   bucketKey
	sched cron.Schedule
	next  time.Time
	jobs  []*job
	index int
}

type buckets []*bucket

func (b buckets) Len() int           { return len(b) }
func (b buckets) Less(i, j int) bool { return b[i].next.Before(b[j].next) }
func (b buckets) Swap(i, j int) {
	b[i], b[j] = b[j], b[i]
	b[i].index, b[j].index = i, j
}
func (b *buckets) Push(x any) {
	e := x.(*bucket)
	e.index = len(*b)
	*b = append(*b, e)
}
func (b *buckets) Pop() any {
	old := *b
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*b = old[:len(old)-1]
	return e
}

// add schedules j for next; a zero next (a schedule that ended) is dropped.
func (d *due) add(j *job, next time.Time) {
	j.setNext(next)
	if next.IsZero() {
		return
	}
	d.place(&bucket{sched: j.sched, key: bucketKey{j.Spec, next.UnixNano()}, next: next, jobs: []*job{j}})
}

// place puts b in the heap, or merges its jobs into the bucket that
// already holds its schedule and instant.
func (d *due) place(b *bucket) {
	if d.buckets == nil {
		d.buckets = make(map[bucketKey]*bucket)
	}
	if into, ok := d.buckets[b.key]; ok {
		into.jobs = append(into.jobs, b.jobs...)
		return
	}
	d.buckets[b.key] = b
	heap.Push(&d.heap, b)
}

// peek returns the earliest bucket, or nil.
func (d *due) peek() *bucket {
	if len(d.heap) == 0 {
		return nil
	}
	return d.heap[0]
}

// pop removes the earliest bucket.
func (d *due) pop() *bucket {
	b := heap.Pop(&d.heap).(*bucket)
	delete(d.buckets, b.key)
	return b
}

// move puts a popped bucket back for next, or drops it when next is zero.
func (d *due) move(b *bucket, next time.Time) {
	for _, j := range b.jobs {
		j.setNext(next)
	}
	if next.IsZero() {
		return
	}
	b.next, b.key.next = next, next.UnixNano()
	d.place(b)
}
