// Package streamz provides channel-based stream processors whose timing is
// exact to the tick of an injected clock and deterministic under test.
//
// # Results
//
// Every stream carries [Result] values: either a value or a [StreamError]
// that keeps the failed item, its cause and the processor that reported it.
// Errors travel in the same channel as values, in order, so a failure never
// needs a side channel and never stops a stream. Every processor passes an
// error result through at once, without letting it change its state.
//
// # Processors
//
//   - [Throttle] (leading edge by default; trailing and audit with
//     WithTrailing): the first item passes, then items are dropped until
//     the cooldown has passed since the last one that passed.
//   - [Debounce] (trailing edge by default; WithLeading, WithMaxWait): of a
//     burst, the last item is emitted once the stream has been quiet for
//     the period.
//   - [Batcher]: items are grouped into slices, emitted at MaxSize items or
//     MaxLatency after a batch's first item, whichever comes first.
//   - Flow control: [RateLimiter] (a token bucket with x/time/rate's
//     arithmetic, waiting or dropping; [KeyedRateLimiter] per key),
//     [Dedupe] (drops a key seen within a TTL), and [DroppingBuffer] and
//     [SlidingBuffer], which never block their producer and drop the
//     newest or the oldest when full.
//   - Resilience: [Retry] (calls a function again after a backoff on the
//     clock, up to a number of attempts) and [CircuitBreaker] (stops
//     calling a failing function for a cool-off, then lets one trial
//     through).
//   - Windows: [TumblingWindow], [SlidingWindow] and [SessionWindow] emit
//     each window's items, with metadata that [GetWindowMetadata] reads,
//     exactly at its end; [WindowCollector] gathers them per window.
//   - Plumbing, which reads no clock: [Mapper], [AsyncMapper], [Filter],
//     [Tap], [Buffer], [Sample], [FanIn], [FanOut], [Switch], [Partition],
//     and [DeadLetterQueue] (which times its drop timeout on a Clock).
//   - Your own: [Stage] runs a per-item function that emits any number of
//     Results; [FlatMap] and [Unbatcher] are built on it.
//
// Sources ([FromChannel], [FromSlice], [FromSeq], [FromLines]) start a
// stream, sinks ([All], [Collect]) end one, and [TakeUntil] with
// [WithGrace] shut a pipeline down so that every stage flushes what it
// holds (see the README's "Building a service").
//
// The timed processors, the windows and DeadLetterQueue report what they
// do to an observer set with WithObserver: see [Event], [NewSlogObserver]
// and [Counters].
//
// Each Process call runs one goroutine and owns its own state, so one
// processor value can serve many streams. Closing the input flushes what is
// pending and then closes the output; cancelling the context closes the
// output promptly without flushing, even if nobody is reading it.
//
// # Items that must be settled
//
// An item read from a durable log (a Kafka record, a JetStream message)
// must be acknowledged once the pipeline is done with it, and only then:
// acked too early, it is lost in a crash; never acked, it stalls the
// consumer or comes back as a duplicate. A type whose values carry such an
// acknowledgement implements [Settler], and then every processor tells
// each item what became of it, as the table below says. Settling an item
// is unrelated to a [FakeClock] settling the processors it times.
//
//	Processor                       Settles an item                        With
//	Filter                          rejected by the predicate              Discarded
//	Throttle, KeyedThrottle         dropped in a cooldown, or replaced     Discarded
//	                                as the held trailing item
//	Debounce, KeyedDebounce         coalesced into a later item, or after  Discarded
//	                                a burst's first with trailing off
//	Sample                          skipped                                Discarded
//	SlidingWindow                   in no window (a gap of Slide > Size)   Discarded
//	Switch                          with no route, or whose route was      Discarded
//	                                removed while it waited
//	WindowCollector                 without window metadata                Discarded
//	RateLimiter, KeyedRateLimiter   with no token, in drop mode            Discarded
//	Dedupe                          a duplicate within the TTL             Discarded
//	DroppingBuffer, SlidingBuffer   dropped by a full buffer               Discarded
//	FanOut                          copied to n outputs (none: discarded)  Copied(n-1)
//	SlidingWindow                   in k windows                           Copied(k-1)
//	DeadLetterQueue                 dropped by WithTimeout                 Lost
//	CircuitBreaker                  refused while open                     Lost
//	every processor                 held, or in hand, when ctx ends        Lost
//
// Every other item is passed on, inside whatever the processor emits: a
// Batcher's batch, a window's items or collection, a KeyedBatch, a FanIn's
// output. A WindowFold's value holds the acknowledgements of the items
// folded into it, and is itself a Settler. The sink settles what it
// receives, for example by acking every item of a batch once the batch is
// written. A processor that turns an item into another type (Mapper,
// AsyncMapper, FlatMap, Stage, Retry, CircuitBreaker) passes the
// acknowledgement on only if the user's function does: the broker modules
// each offer a function that carries it to a new value. An error Result
// holds its item in StreamError.Item, and is settled through it; so is an
// item whose key function failed, which goes out as an error. Such a
// processor passes an error item on as a StreamError of the new type that
// wraps the old one, and Result.Settle reaches the item inside; a sink
// settles an error Result with it.
//
// The check costs nothing for other types: each Process call looks at its
// item type once. When the item type is an interface type, such as any,
// each dropped item is looked at instead.
//
// # Time
//
// A processor never decides anything from the order in which a timer event
// and an input happen to be taken: every decision compares the [Clock]'s
// Now() with a deadline, and a deadline that has been reached by the time an
// input arrives takes effect before that input. A deadline is reached when
// Now() >= deadline, so an item that arrives exactly at the end of a period
// sees the period as over.
//
// Production code passes [RealClock] (or nil, which means RealClock).
//
// # Testing a pipeline
//
// Tests control time in one of two ways:
//
//   - A [FakeClock]: time moves only with Advance or SetTime. Each first
//     waits until the processors on the clock have handled what they were
//     given, then fires what falls due, and waits again until the new
//     time's effects are handled, so a test in the plain style (send,
//     Advance, expect) gives the same result every time. The FakeClock doc
//     says what it waits for and what it cannot see.
//   - RealClock inside a testing/synctest bubble: time.Sleep moves the
//     bubble's fake time, and synctest.Wait returns once every goroutine in
//     the bubble, the processors included, is blocked. The two combine: a
//     FakeClock created inside a bubble works there too.
package streamz
