package kafkaz

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/zoobzio/streamz"
)

// Partition names the partition whose stream a pipeline call is given.
type Partition struct {
	Topic     string
	Partition int32
}

// part is one assignment of a partition to this member: from the
// OnPartitionsAssigned that gives it to the revoke, loss or close that
// ends it. A later assignment of the same partition is a new part, so an
// ack from this one can never touch the next one's offsets.
//
// Its window holds the records delivered whose offsets are not committed,
// in offset order, by sequence number: seq s is window[s%len(window)].
// head <= settledTo <= next, where head is the first uncommitted record,
// settledTo the first unsettled one, and next the next to deliver; the
// window never holds more than MaxInFlight records, so that is its size.
type part[T any] struct {
	src *Source[T]
	id  Partition
	// out is the pipeline's stream. Its capacity is MaxInFlight: it only
	// ever holds deliveries of records in the window, at most one per
	// record (a record is delivered again only once its previous delivery
	// has settled, after the pipeline took it), so a send never blocks.
	out    chan streamz.Result[Msg[T]]
	cancel context.CancelFunc
	// done is closed when the pipeline call has returned; it is nil until
	// the call starts.
	done chan struct{}

	mu     sync.Mutex
	window []entry[T]
	head   int64
	// settledTo is the end of the settled prefix: what a commit covers.
	settledTo int64
	next      int64
	// fresh holds records fetched and not yet delivered, waiting for room
	// in the window; freshHead is the first of them.
	fresh     []entry[T]
	freshHead int
	// lastOffset is the offset of the last record taken from a fetch; a
	// record at or before it is not taken again, so the window stays in
	// offset order.
	lastOffset int64
	paused     bool
	// redeliveries are the timers of Naks waiting for their delay, by seq.
	redeliveries map[int64]streamz.Timer
	// draining is set when the assignment starts to end: nothing more is
	// delivered, and Lost records stay unsettled. ended is set after its
	// last commit: from then on every settle is stale and ignored.
	draining, ended bool
}

// entry is one record in a part's window or fresh queue.
type entry[T any] struct {
	record     *kgo.Record
	value      T
	err        error
	deliveries int
	settled    bool
}

func newPart[T any](src *Source[T], id Partition) *part[T] {
	return &part[T]{
		src:          src,
		id:           id,
		out:          make(chan streamz.Result[Msg[T]], src.maxInFlight),
		window:       make([]entry[T], src.maxInFlight),
		lastOffset:   -1,
		redeliveries: make(map[int64]streamz.Timer),
	}
}

// add takes decoded records from a fetch and delivers what the window has
// room for.
func (p *part[T]) add(records []entry[T]) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining {
		return
	}
	for _, e := range records {
		if e.record.Offset <= p.lastOffset {
			continue
		}
		p.lastOffset = e.record.Offset
		p.fresh = append(p.fresh, e)
	}
	p.deliverLocked()
	p.askCommitLocked()
}

// room is how many more records the partition can take from fetches: what
// the window and the fresh queue together hold short of MaxInFlight.
func (p *part[T]) room() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining {
		return 0
	}
	return max(0, p.src.maxInFlight-p.held())
}

// pauseIfFull pauses fetching the partition if it has no room. The check
// and the pause are under mu, as the resume in committed is, so a pause
// can never follow the resume that should have lifted it.
func (p *part[T]) pauseIfFull() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused && !p.draining && p.held() >= p.src.maxInFlight {
		p.paused = true
		p.src.client.PauseFetchPartitions(map[string][]int32{p.id.Topic: {p.id.Partition}})
	}
}

// held is the count of records in the window and the fresh queue.
func (p *part[T]) held() int { return int(p.next-p.head) + len(p.fresh) - p.freshHead }

// deliverLocked moves fresh records into the window and onto the stream
// while the window has room.
func (p *part[T]) deliverLocked() {
	size := int64(len(p.window))
	for p.freshHead < len(p.fresh) && p.next-p.head < size {
		e := &p.fresh[p.freshHead]
		p.freshHead++
		e.deliveries = 1
		p.window[p.next%size] = *e
		*e = entry[T]{}
		p.sendLocked(p.next)
		p.next++
	}
	if p.freshHead == len(p.fresh) {
		p.fresh, p.freshHead = p.fresh[:0], 0
	}
}

// sendLocked delivers the record at seq as a new Msg.
func (p *part[T]) sendLocked(seq int64) {
	e := &p.window[seq%int64(len(p.window))]
	a := &ack{record: e.record}
	a.settlement = streamz.NewSettlement(func(o streamz.Outcome) { p.final(seq, a, o) })
	r := e.record
	m := Msg[T]{
		Value:      e.value,
		Topic:      r.Topic,
		Partition:  r.Partition,
		Offset:     r.Offset,
		Key:        r.Key,
		Headers:    r.Headers,
		Timestamp:  r.Timestamp,
		Deliveries: e.deliveries,
		ack:        a,
	}
	if e.err != nil {
		p.out <- streamz.NewError(m, e.err, "kafkaz.Source")
		return
	}
	p.out <- streamz.NewSuccess(m)
}

// final is called once per delivery, when all its holders have settled.
func (p *part[T]) final(seq int64, a *ack, o streamz.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A settle after the assignment's last commit is stale: nothing can
	// commit it any more, so it is ignored rather than asking for a
	// commit.
	if p.ended {
		return
	}
	if o == streamz.Lost {
		if p.draining {
			return
		}
		if d := time.Duration(a.nakDelay.Load()); d > 0 {
			p.redeliveries[seq] = p.src.clock.AfterFunc(d, func() { p.redeliver(seq) })
			return
		}
		p.redeliverLocked(seq)
		return
	}
	size := int64(len(p.window))
	p.window[seq%size].settled = true
	for p.settledTo < p.next && p.window[p.settledTo%size].settled {
		p.settledTo++
	}
	p.askCommitLocked()
}

// askCommitLocked asks for a commit now when half of MaxInFlight is
// settled and uncommitted, or when the partition is full and anything is:
// a full partition delivers nothing until a commit, so the pipeline might
// wait for records (a batch to fill) that only a commit lets in.
func (p *part[T]) askCommitLocked() {
	settled := p.settledTo - p.head
	if settled >= p.src.commitAt || settled > 0 && p.held() >= p.src.maxInFlight {
		p.src.requestCommit()
	}
}

// redeliver delivers the record at seq again once its Nak's delay is over.
func (p *part[T]) redeliver(seq int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.redeliveries, seq)
	if !p.draining {
		p.redeliverLocked(seq)
	}
}

func (p *part[T]) redeliverLocked(seq int64) {
	p.window[seq%int64(len(p.window))].deliveries++
	p.sendLocked(seq)
}

// toCommit returns the offset that commits the settled prefix, and its
// end, or ok false when there is nothing new to commit.
func (p *part[T]) toCommit() (eo kgo.EpochOffset, to int64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended || p.settledTo == p.head {
		return eo, 0, false
	}
	last := p.window[(p.settledTo-1)%int64(len(p.window))].record
	return kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1}, p.settledTo, true
}

// committed records that the broker has stored the commit up to seq to:
// the window frees those records, delivers fresh ones into the room, and
// resumes fetching once the partition holds less than MaxInFlight.
func (p *part[T]) committed(to int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	size := int64(len(p.window))
	for ; p.head < to; p.head++ {
		p.window[p.head%size] = entry[T]{}
	}
	if p.draining {
		return
	}
	p.deliverLocked()
	if p.paused && p.held() < p.src.maxInFlight {
		p.paused = false
		p.src.client.ResumeFetchPartitions(map[string][]int32{p.id.Topic: {p.id.Partition}})
	}
	p.askCommitLocked()
	p.src.signalRoom()
}

// drain starts the end of the assignment: nothing more is delivered, what
// the stream holds and the fresh queue are dropped unsettled (never
// committed), pending redeliveries are cancelled, and the stream is
// closed, so that the pipeline flushes what it already took.
func (p *part[T]) drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.draining {
		return
	}
	p.draining = true
	for len(p.out) > 0 {
		<-p.out
	}
	close(p.out)
	p.fresh, p.freshHead = nil, 0
	// A pause outlives the assignment in kgo: lifted now, it cannot hold
	// up a later assignment of the partition to this member.
	if p.paused {
		p.paused = false
		p.src.client.ResumeFetchPartitions(map[string][]int32{p.id.Topic: {p.id.Partition}})
	}
	for seq, t := range p.redeliveries {
		t.Stop()
		delete(p.redeliveries, seq)
	}
}

// end marks the assignment over after its last commit.
func (p *part[T]) end() {
	p.mu.Lock()
	p.ended = true
	p.mu.Unlock()
}
