// Package kafkaz is a Kafka source for streamz, on franz-go's kgo client,
// with at-least-once delivery: a record's offset is committed only once the
// pipeline has settled it and every record before it in its partition.
//
// A [Source] consumes in a consumer group with auto-commit off, and calls
// the user's pipeline once per assigned partition, with that partition's
// stream of [Msg] values. Each Msg carries an acknowledgement; streamz's
// processors settle the Msgs they drop, and the sink acks the ones it has
// written ([Sink] does that for batches). The Source commits, per
// partition, the contiguous prefix of settled offsets.
package kafkaz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/zoobzio/streamz"
)

// Config configures a Source.
type Config[T any] struct {
	// Decode turns a record into the Msg's Value. An error makes the
	// record an error Result, whose StreamError.Item is the Msg (with the
	// zero Value): it must be settled like any other, for example by a
	// dead letter. Decode is called on the Source's fetch goroutine, one
	// record at a time, in offset order per partition. It is required.
	Decode func(*kgo.Record) (T, error)
	// MaxInFlight bounds, per partition, the records delivered whose
	// offsets are not yet committed. A partition that reaches it is
	// delivered nothing more until a commit makes room: its fetching is
	// paused (kgo.Client.PauseFetchPartitions) while another partition
	// has room, and while none has, the Source stops polling, so that kgo
	// stops fetching and keeps what it has fetched (it drops a paused
	// partition's fetched records, to fetch them again on resume). So at
	// most MaxInFlight records of a partition are unsettled, and a crash
	// redelivers at most MaxInFlight records of it that were already
	// processed. Besides them the Source holds at most one poll's records
	// of the partition, fetched and not yet delivered. Each partition's
	// stream and window have MaxInFlight slots; make it larger than the
	// batches the pipeline gathers, or a batch waits for its latency. It
	// must be at least 1.
	MaxInFlight int
	// CommitInterval is how often the settled prefixes are committed, on
	// Clock. A partition is also committed as soon as half its MaxInFlight
	// is settled and uncommitted, or, once it holds MaxInFlight records,
	// as soon as any is; and at a revoke and at the close. A failed
	// commit is tried again after 100 ms (or CommitInterval, if shorter),
	// doubling up to CommitInterval. Zero means 5 seconds; it must not be
	// negative.
	CommitInterval time.Duration
	// CommitTimeout bounds each commit made at a revoke or at the close,
	// with the wait at a revoke for the partition's pipeline to return,
	// and each periodic commit. Zero means 10 seconds; it must not be
	// negative. Keep it well below the group's rebalance timeout
	// (kgo.RebalanceTimeout, 60 s by default).
	CommitTimeout time.Duration
	// Clock times the commits and the Naks' delays. Nil means
	// streamz.RealClock.
	Clock streamz.Clock
	// OnError, if not nil, is told of each failed commit (the offsets stay
	// uncommitted and are committed by a later one) and each error a fetch
	// reports (kgo retries those that can be retried). It is called from
	// the Source's goroutines and must not block.
	OnError func(error)
}

// PipelineFunc is the user's pipeline for one assignment of one partition.
// It reads in until in is closed or ctx ends, and settles every Msg it
// reads (streamz processors settle what they drop; the sink settles the
// rest), and returns when it is done.
//
// ctx ends when the partition is revoked or lost, or when Run's ctx ends;
// in is closed then too, and at a graceful stop, after which the pipeline
// should flush what it holds and return. Records still in in at that
// moment are not delivered: they are left uncommitted.
type PipelineFunc[T any] func(ctx context.Context, p Partition, in <-chan streamz.Result[Msg[T]])

// Source consumes Kafka records in a consumer group and runs a pipeline per
// assigned partition. Create it with NewSource and call Run once.
type Source[T any] struct {
	client         *kgo.Client
	decode         func(*kgo.Record) (T, error)
	maxInFlight    int
	commitAt       int64
	commitInterval time.Duration
	commitTimeout  time.Duration
	clock          streamz.Clock
	onError        func(error)

	// commitMu orders the commits, so that a revoke's last commit of a
	// partition is never followed by an older one from the periodic
	// committer.
	commitMu  sync.Mutex
	commitNow chan struct{}
	// roomMade wakes the fetch loop when a partition may have room.
	roomMade   chan struct{}
	closeOnce  sync.Once
	pipelineWG sync.WaitGroup

	mu       sync.Mutex
	parts    map[Partition]*part[T]
	runCtx   context.Context
	pipeline PipelineFunc[T]
	// running is set by Run, stopping once Run has stopped fetching.
	running, stopping bool
}

// NewSource returns a Source that consumes with a new kgo.Client made from
// opts, which must name a consumer group (kgo.ConsumerGroup) and its topics
// (kgo.ConsumeTopics or kgo.ConsumeRegex), and may set anything else: the
// seed brokers, the balancer, timeouts. NewSource appends the options the
// Source depends on, which override the same options in opts:
//
//   - kgo.DisableAutoCommit: the Source commits itself;
//   - kgo.BlockRebalanceOnPoll: a rebalance waits while the Source hands
//     out one poll's records, which never blocks, so that no record of a
//     revoked assignment is handed to a new one. Its failure mode, a member
//     kicked out of the group for holding a rebalance past the rebalance
//     timeout, would need a Decode slower than that timeout for a whole
//     poll;
//   - kgo.OnPartitionsAssigned, kgo.OnPartitionsRevoked and
//     kgo.OnPartitionsLost, which start and end the pipelines. A revoke
//     waits up to CommitTimeout for the pipeline and then for its commit,
//     inside the rebalance: keep CommitTimeout well below the rebalance
//     timeout. A loss commits nothing (the group has moved on).
//
// The client starts joining the group at once; the pipelines start when Run
// is called. A Source that is never run must be closed with Close.
//
// NewSource panics if cfg.Decode is nil, cfg.MaxInFlight is below 1, or
// cfg.CommitInterval or cfg.CommitTimeout is negative, and returns kgo's
// error if the client cannot be made (kgo refuses options without a
// consumer group, because of DisableAutoCommit).
func NewSource[T any](cfg Config[T], opts ...kgo.Opt) (*Source[T], error) {
	if cfg.Decode == nil {
		panic("kafkaz: NewSource: Config.Decode must not be nil")
	}
	if cfg.MaxInFlight < 1 {
		panic(fmt.Sprintf("kafkaz: NewSource: Config.MaxInFlight must be at least 1, got %d", cfg.MaxInFlight))
	}
	if cfg.CommitInterval < 0 {
		panic(fmt.Sprintf("kafkaz: NewSource: Config.CommitInterval must not be negative, got %v", cfg.CommitInterval))
	}
	if cfg.CommitTimeout < 0 {
		panic(fmt.Sprintf("kafkaz: NewSource: Config.CommitTimeout must not be negative, got %v", cfg.CommitTimeout))
	}
	s := &Source[T]{
		decode:         cfg.Decode,
		maxInFlight:    cfg.MaxInFlight,
		commitAt:       int64(cfg.MaxInFlight+1) / 2,
		commitInterval: cfg.CommitInterval,
		commitTimeout:  cfg.CommitTimeout,
		clock:          cfg.Clock,
		onError:        cfg.OnError,
		commitNow:      make(chan struct{}, 1),
		roomMade:       make(chan struct{}, 1),
		parts:          make(map[Partition]*part[T]),
	}
	if s.commitInterval == 0 {
		s.commitInterval = 5 * time.Second
	}
	if s.commitTimeout == 0 {
		s.commitTimeout = 10 * time.Second
	}
	if s.clock == nil {
		s.clock = streamz.RealClock
	}
	opts = append(opts[:len(opts):len(opts)],
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(s.assigned),
		kgo.OnPartitionsRevoked(func(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
			s.revoked(ctx, revoked, true)
		}),
		kgo.OnPartitionsLost(func(ctx context.Context, _ *kgo.Client, lost map[string][]int32) {
			s.revoked(ctx, lost, false)
		}),
	)
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafkaz: NewSource: %w", err)
	}
	s.client = client
	return s, nil
}

// Client returns the Source's client, for example to produce dead letters
// with. It is closed when Run returns.
func (s *Source[T]) Client() *kgo.Client { return s.client }

// Close closes the client without committing anything, for a Source that is
// not run; after Run it does nothing. It is safe to call more than once.
func (s *Source[T]) Close() { s.closeOnce.Do(s.client.CloseAllowingRebalance) }

// Run consumes until stop ends, calling pipeline once for each assignment
// of a partition to this member, in a goroutine of its own, and commits as
// Config says. It panics if called twice, or if stop or pipeline is nil.
//
// Shutdown is graceful, as with streamz.WithGrace and streamz.TakeUntil:
// pass stop, the signal, and ctx from WithGrace(stop, grace, clock). When
// stop ends, Run stops fetching and closes every partition's stream, so
// the pipelines flush what they hold; it waits for every pipeline call to
// return, commits the settled prefix of each partition within
// CommitTimeout, leaves the group and closes the client. What is unsettled
// then is not committed, and the partitions' next owners receive it. When
// ctx ends, every pipeline's ctx ends too, so the pipelines drop what they
// hold (as Lost, left uncommitted), and Run finishes the same way. A
// pipeline that ignores its ctx holds up Run until it returns.
//
// Run returns nil after a graceful stop in which every pipeline returned
// before ctx ended; otherwise the cause of ctx's end, joined with the last
// commit's error, if any.
func (s *Source[T]) Run(ctx, stop context.Context, pipeline PipelineFunc[T]) error {
	if stop == nil || pipeline == nil {
		panic("kafkaz: Source.Run: stop and pipeline must not be nil")
	}
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		panic("kafkaz: Source.Run: called twice")
	}
	s.running, s.runCtx, s.pipeline = true, ctx, pipeline
	for _, p := range s.parts {
		s.launchLocked(p)
	}
	s.mu.Unlock()

	committerDone := make(chan struct{})
	stopCommitter := make(chan struct{})
	go func() {
		defer close(committerDone)
		s.commitPeriodically(stopCommitter)
	}()

	s.fetch(ctx, stop)

	s.mu.Lock()
	s.stopping = true
	parts := make([]*part[T], 0, len(s.parts))
	for _, p := range s.parts {
		parts = append(parts, p)
	}
	s.mu.Unlock()
	for _, p := range parts {
		p.drain()
	}
	s.pipelineWG.Wait()
	var err error
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	close(stopCommitter)
	<-committerDone

	s.mu.Lock()
	parts = parts[:0]
	for id, p := range s.parts {
		parts = append(parts, p)
		delete(s.parts, id)
	}
	s.mu.Unlock()
	commitCtx, cancel := s.clock.WithTimeout(context.WithoutCancel(ctx), s.commitTimeout)
	defer cancel()
	if cerr := s.commit(commitCtx, parts, true); cerr != nil {
		err = errors.Join(err, cerr)
	}
	s.Close()
	return err
}

// fetch polls until stop or ctx ends, and hands each partition's records
// to its part.
func (s *Source[T]) fetch(ctx, stop context.Context) {
	pollCtx, cancelPoll := context.WithCancel(ctx)
	defer cancelPoll()
	defer context.AfterFunc(stop, cancelPoll)()
	var decoded []entry[T]
	for {
		budget := s.budget()
		if budget == 0 {
			select {
			case <-s.roomMade:
				continue
			case <-pollCtx.Done():
				return
			}
		}
		fetches := s.client.PollRecords(pollCtx, budget)
		if pollCtx.Err() != nil || fetches.IsClientClosed() {
			s.client.AllowRebalance()
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			s.report(fmt.Errorf("kafkaz: fetching %s/%d: %w", topic, partition, err))
		})
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if len(fp.Records) == 0 {
				return
			}
			s.mu.Lock()
			p := s.parts[Partition{fp.Topic, fp.Partition}]
			s.mu.Unlock()
			if p == nil {
				return
			}
			decoded = decoded[:0]
			for _, r := range fp.Records {
				v, err := s.decode(r)
				decoded = append(decoded, entry[T]{record: r, value: v, err: err})
			}
			p.add(decoded)
			clear(decoded)
		})
		s.client.AllowRebalance()
	}
}

// budget returns how many records the next poll may take: the room of all
// the partitions together. It pauses fetching each full partition while
// another has room, since only a pause keeps the poll from returning the
// full one's records; while none has room, the Source does not poll at
// all, and kgo, which fetches a partition again only once its last fetch
// has been taken, keeps what it has rather than dropping it, as it drops a
// paused partition's buffered records, to fetch them again on resume.
func (s *Source[T]) budget() int {
	s.mu.Lock()
	parts := make([]*part[T], 0, len(s.parts))
	for _, p := range s.parts {
		parts = append(parts, p)
	}
	s.mu.Unlock()
	total := 0
	var full []*part[T]
	for _, p := range parts {
		if r := p.room(); r > 0 {
			total += r
		} else {
			full = append(full, p)
		}
	}
	if total > 0 {
		for _, p := range full {
			p.pauseIfFull()
		}
	}
	return total
}

// signalRoom wakes the fetch loop if it is waiting for room.
func (s *Source[T]) signalRoom() {
	select {
	case s.roomMade <- struct{}{}:
	default:
	}
}

// assigned makes a part for each newly assigned partition, and starts its
// pipeline if Run is running.
func (s *Source[T]) assigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for topic, partitions := range assigned {
		for _, partition := range partitions {
			id := Partition{topic, partition}
			p := newPart(s, id)
			s.parts[id] = p
			if s.running {
				s.launchLocked(p)
			}
		}
	}
	s.signalRoom()
}

// launchLocked starts p's pipeline call, or, once Run has stopped
// fetching, closes p's stream at once.
func (s *Source[T]) launchLocked(p *part[T]) {
	if s.stopping {
		p.drain()
		return
	}
	ctx, cancel := context.WithCancel(s.runCtx)
	p.cancel = cancel
	p.done = make(chan struct{})
	s.pipelineWG.Add(1)
	go func() {
		defer s.pipelineWG.Done()
		defer close(p.done)
		defer cancel()
		s.pipeline(ctx, p.id, p.out)
	}()
}

// revoked ends the assignments of the given partitions: it stops their
// streams, cancels their pipelines and waits up to CommitTimeout for them
// to return, then, if commit is set, commits their settled prefixes within
// what is left of CommitTimeout. Later settles of their Msgs are ignored.
func (s *Source[T]) revoked(ctx context.Context, revoked map[string][]int32, commit bool) {
	var parts []*part[T]
	s.mu.Lock()
	for topic, partitions := range revoked {
		for _, partition := range partitions {
			id := Partition{topic, partition}
			if p := s.parts[id]; p != nil {
				parts = append(parts, p)
				delete(s.parts, id)
			}
		}
	}
	s.mu.Unlock()
	if len(parts) == 0 {
		return
	}
	deadline, cancel := s.clock.WithTimeout(context.WithoutCancel(ctx), s.commitTimeout)
	defer cancel()
	for _, p := range parts {
		p.drain()
		if p.cancel != nil {
			p.cancel()
		}
	}
	for _, p := range parts {
		if p.done == nil {
			continue
		}
		select {
		case <-p.done:
		case <-deadline.Done():
		}
	}
	if !commit {
		for _, p := range parts {
			p.end()
		}
		return
	}
	if err := s.commit(deadline, parts, true); err != nil {
		s.report(err)
	}
}

// requestCommit asks the committer for a commit now.
func (s *Source[T]) requestCommit() {
	select {
	case s.commitNow <- struct{}{}:
	default:
	}
}

// commitPeriodically commits every CommitInterval and on request, until
// stopped. A failed commit is tried again after a backoff, from
// firstRetry doubling up to CommitInterval: a full partition waits for a
// commit, and may have no settle left to ask for one.
func (s *Source[T]) commitPeriodically(stopped <-chan struct{}) {
	ticker := s.clock.NewTicker(s.commitInterval)
	defer ticker.Stop()
	firstRetry := min(100*time.Millisecond, s.commitInterval)
	backoff := firstRetry
	var retry <-chan time.Time // nil, which never fires, until a commit fails
	for {
		select {
		case <-stopped:
			return
		case <-ticker.C():
		case <-s.commitNow:
		case <-retry:
		}
		retry = nil
		s.mu.Lock()
		parts := make([]*part[T], 0, len(s.parts))
		for _, p := range s.parts {
			parts = append(parts, p)
		}
		s.mu.Unlock()
		ctx, cancel := s.clock.WithTimeout(context.Background(), s.commitTimeout)
		err := s.commit(ctx, parts, false)
		cancel()
		if err == nil {
			backoff = firstRetry
			continue
		}
		s.report(err)
		retry = s.clock.After(backoff)
		backoff = min(2*backoff, s.commitInterval)
	}
}

// commit commits the settled prefix of each of parts that has grown since
// its last commit, and tells each part whose commit the broker stored. If
// last is set, the parts' assignments end with this commit.
func (s *Source[T]) commit(ctx context.Context, parts []*part[T], last bool) error {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if last {
		defer func() {
			for _, p := range parts {
				p.end()
			}
		}()
	}
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	ends := make(map[Partition]int64)
	byID := make(map[Partition]*part[T])
	for _, p := range parts {
		eo, to, ok := p.toCommit()
		if !ok {
			continue
		}
		if offsets[p.id.Topic] == nil {
			offsets[p.id.Topic] = make(map[int32]kgo.EpochOffset)
		}
		offsets[p.id.Topic][p.id.Partition] = eo
		ends[p.id] = to
		byID[p.id] = p
	}
	if len(ends) == 0 {
		return nil
	}
	var errs []error
	var stored []Partition
	s.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, t := range resp.Topics {
			for _, rp := range t.Partitions {
				id := Partition{t.Topic, rp.Partition}
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					errs = append(errs, fmt.Errorf("%s/%d: %w", id.Topic, id.Partition, err))
					continue
				}
				stored = append(stored, id)
			}
		}
	})
	// The parts are told after the commit has returned, not in its onDone,
	// which runs while kgo still orders it against other commits.
	for _, id := range stored {
		if p := byID[id]; p != nil {
			p.committed(ends[id])
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafkaz: committing: %w", errors.Join(errs...))
	}
	return nil
}

func (s *Source[T]) report(err error) {
	if s.onError != nil {
		s.onError(err)
	}
}
