package outbox

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// Errors returned by the outbox.
var (
	// ErrStoreFull: the event was refused because the outbox reached
	// MaxBytes or the disk reached MinFreeBytes. Nothing was stored.
	ErrStoreFull = errors.New("outbox full")
	// ErrInvalidEvent: the event cannot be published as it is.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrTooLarge: the event's body is larger than MaxEventBytes.
	ErrTooLarge = errors.New("event too large")
	// ErrClosed: the outbox was closed.
	ErrClosed = errors.New("outbox closed")
	// ErrNotQuarantined: Requeue of a sequence number not in the quarantine.
	ErrNotQuarantined = errors.New("event not in quarantine")
)

// Alarm kinds passed to Options.OnAlarm.
const (
	AlarmStoreFull        = "store_full"        // MaxBytes reached: lot events refused
	AlarmDiskLow          = "disk_low"          // MinFreeBytes reached: lot events refused
	AlarmTelemetryDropped = "telemetry_dropped" // telemetry dropped to make room
	AlarmQuarantined      = "quarantined"       // a poison event was set aside
	AlarmStoreRecovered   = "store_recovered"   // the store failed to open and was set aside
)

// Alarm is a condition an operator must see. Raised alarms of the kinds
// store_full, disk_low and telemetry_dropped are raised once when the
// condition starts and once with Cleared when it ends.
type Alarm struct {
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Cleared bool      `json:"cleared,omitempty"`
	Time    time.Time `json:"time"`
}

// Options of the outbox (the gateway config's outbox section). Zero values
// take the defaults.
type Options struct {
	// MaxBytes bounds the queued events' stored size (default 512 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
	// MinFreeBytes is the free disk space below which lot events are refused
	// and telemetry is dropped (default 256 MiB). Badger panics on a full disk.
	MinFreeBytes uint64 `yaml:"min_free_bytes"`
	// MaxEventBytes bounds one event's body (default and most:
	// MaxEventBytesLimit).
	MaxEventBytes int `yaml:"max_event_bytes"`
	// MaxAttempts is the number of sessions an event may be handed out in
	// without an ack before it is quarantined as poison (default 10).
	MaxAttempts int `yaml:"max_attempts"`
	// MaxBatch bounds the events of one group commit (default 1024).
	MaxBatch int `yaml:"-"`
	// GCInterval is the value-log GC interval of Run (default 1 min: a
	// full value log file whose values are gone is deleted within it).
	GCInterval time.Duration `yaml:"gc_interval"`
	// OnAlarm is called for every alarm, from the writer goroutine or
	// from a caller of Admit; it must not block (nor append to the outbox
	// itself: the writer may be the caller). Alarms are also logged.
	OnAlarm func(Alarm) `yaml:"-"`
	// OnQueued, when set, is told of the events each commit put in the
	// queue (appended, or moved from staging once their change
	// committed), in sequence order with Seq set, after the commit. It is
	// called from the writer goroutine and must not block (the events
	// are its to keep): it is how in-process watchers (the dock console)
	// see the gateway's events as they become durable.
	OnQueued func([]Event) `yaml:"-"`
	// Logger for alarms; nil discards.
	Logger *slog.Logger `yaml:"-"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-"`
}

// MaxEventBytesLimit is the largest MaxEventBytes: an event is staged in
// the transaction of the change it tells, with the change itself and maybe
// other events (a pass's parts and EPCIS documents), and Badger refuses a
// transaction of more than 15% of a memtable (store.MemTableSize).
const MaxEventBytesLimit = store.MemTableSize / 16

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 512 << 20
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = 256 << 20
	}
	if o.MaxEventBytes <= 0 || o.MaxEventBytes > MaxEventBytesLimit {
		o.MaxEventBytes = MaxEventBytesLimit
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	if o.GCInterval <= 0 {
		o.GCInterval = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Count is a number of events and their stored bytes.
type Count struct {
	Events uint64 `json:"events"`
	Bytes  uint64 `json:"bytes"`
}

// ByPriority holds a Count per priority, indexed by Priority. Its JSON is
// an object labelled by the priorities' names:
// {"lifecycle":{"events":…,"bytes":…},"lot":{…},"telemetry":{…}}.
type ByPriority [numPriorities]Count

// MarshalJSON writes the counts labelled by priority name.
func (b ByPriority) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, 160)
	out = append(out, '{')
	for p := range b {
		if p > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, Priority(p).String()...)
		out = append(out, `":{"events":`...)
		out = strconv.AppendUint(out, b[p].Events, 10)
		out = append(out, `,"bytes":`...)
		out = strconv.AppendUint(out, b[p].Bytes, 10)
		out = append(out, '}')
	}
	return append(out, '}'), nil
}

// UnmarshalJSON reads the labelled object, and the array indexed by
// priority that versions before it wrote.
func (b *ByPriority) UnmarshalJSON(data []byte) error {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		var old [numPriorities]Count
		if err := json.Unmarshal(data, &old); err != nil {
			return err
		}
		*b = old
		return nil
	}
	var m map[string]Count
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*b = ByPriority{}
	for name, c := range m {
		p, ok := priorityNamed(name)
		if !ok {
			return fmt.Errorf("outbox counts: unknown priority %q (lifecycle, lot or telemetry)", name)
		}
		b[p] = c
	}
	return nil
}

// Stats is a snapshot of the outbox.
type Stats struct {
	Queued      ByPriority `json:"queued"` // by priority
	NextSeq     uint64     `json:"next_seq"`
	Quarantined uint64     `json:"quarantined"`
	Dropped     uint64     `json:"dropped"`   // telemetry dropped, ever
	Refused     uint64     `json:"refused"`   // appends refused with ErrStoreFull since Open
	Appended    uint64     `json:"appended"`  // since Open
	Acked       uint64     `json:"acked"`     // since Open
	InFlight    int        `json:"in_flight"` // handed out by Next, not acked
	StoreFull   bool       `json:"store_full"`
	DiskLow     bool       `json:"disk_low"`
	Commits     uint64     `json:"commits"` // group commits since Open
}

// Pending is the number of queued events of all priorities.
func (s Stats) Pending() uint64 {
	var n uint64
	for _, c := range s.Queued {
		n += c.Events
	}
	return n
}

// state is what qm/state holds.
type state struct {
	nextSeq     uint64
	count       [numPriorities]uint64
	bytes       [numPriorities]uint64
	dropped     uint64
	quarantined uint64
}

const stateLen = 8 * (1 + 2*numPriorities + 2)

func (s *state) encode() []byte {
	b := make([]byte, 0, stateLen)
	b = binary.BigEndian.AppendUint64(b, s.nextSeq)
	for p := 0; p < numPriorities; p++ {
		b = binary.BigEndian.AppendUint64(b, s.count[p])
		b = binary.BigEndian.AppendUint64(b, s.bytes[p])
	}
	b = binary.BigEndian.AppendUint64(b, s.dropped)
	return binary.BigEndian.AppendUint64(b, s.quarantined)
}

func (s *state) decode(b []byte) error {
	if len(b) != stateLen {
		return fmt.Errorf("outbox state of %d bytes, want %d", len(b), stateLen)
	}
	u := func() uint64 { v := binary.BigEndian.Uint64(b); b = b[8:]; return v }
	s.nextSeq = u()
	for p := 0; p < numPriorities; p++ {
		s.count[p] = u()
		s.bytes[p] = u()
	}
	s.dropped = u()
	s.quarantined = u()
	return nil
}

func (s *state) total() uint64 {
	var t uint64
	for _, b := range s.bytes {
		t += b
	}
	return t
}

var stateKey = []byte(store.PrefixOutboxM + "state")

func qkey(p Priority, seq uint64) []byte {
	k := make([]byte, 0, len(store.PrefixOutbox)+2+8)
	k = append(k, store.PrefixOutbox...)
	k = append(k, '0'+byte(p), '/')
	return binary.BigEndian.AppendUint64(k, seq)
}

func qprefix(p Priority) []byte {
	return append([]byte(store.PrefixOutbox), '0'+byte(p), '/')
}

func xkey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(store.PrefixOutboxQ), seq)
}

// Outbox is the durable event queue. Its methods are safe for concurrent use;
// Next, Rewind and Ack are meant for one consumer (the publisher).
type Outbox struct {
	s   *store.Store
	db  *badger.DB
	opt Options
	// diskCritical: free disk is below half of MinFreeBytes, so even
	// lifecycle events are refused; diskLowNow: below MinFreeBytes;
	// diskChecked: when they were measured (the writer goroutine's own).
	diskCritical bool
	diskLowNow   bool
	diskChecked  time.Time

	reqs    chan request
	closing chan struct{}
	done    chan struct{}
	closeMu sync.RWMutex
	closed  bool

	// guarded by mu: the committed state and the flags, for Stats.
	mu        sync.Mutex
	st        state
	notify    chan struct{}
	storeFull bool
	diskLow   bool
	dropping  bool
	refused   uint64
	appended  uint64
	acked     uint64
	commits   uint64

	// reader state, guarded by rmu.
	rmu         sync.Mutex
	next        [numPriorities]uint64 // next seq to consider
	floor       [numPriorities]uint64 // no key below it
	outstanding map[uint64]handout
	handouts    uint64 // counter giving the hand-out order
	attempts    map[uint64]int
	gone        map[uint64]struct{} // handed-out telemetry dropped since

	// staging: stamp orders staged events; staged counts Stage calls.
	stamp  atomic.Uint64
	staged atomic.Uint64

	// writer-only state.
	telFloor uint64
	// relaySeen is staged as the last relay pass began; relayMore: that
	// pass left staged events behind (or failed).
	relaySeen uint64
	relayMore bool
	// relayLast is the stamp of the last staged event moved;
	// relayFullAt when the last pass over every staged key began.
	relayLast   uint64
	relayFullAt time.Time
	// open holds the stamps staged and not moved yet, with when.
	pmu  sync.Mutex
	open map[uint64]time.Time
}

type reqKind uint8

const (
	reqAppend reqKind = iota
	reqAck
	reqQuarantine
	reqRequeue
	reqRelay
)

type request struct {
	kind reqKind
	ev   Event
	// evs are the events of an AppendBatch: the writer makes one append
	// of each, all answered on reply.
	evs      []Event
	acks     []ackRef
	reason   string
	seq      uint64
	attempts int
	reply    chan result
}

// ackRef is an acknowledged event: what its removal needs of it.
type ackRef struct {
	seq  uint64
	p    Priority
	size int // stored bytes, 0 when unknown
}

type result struct {
	seq  uint64 // of an append; the events moved by a relay pass
	more bool   // a relay pass left staged events behind
	err  error
}

// record is the stored form of a quarantined event: the JSON of its
// Event with the quarantine's fields.
type record struct {
	Event
	Attempts int       `json:"attempts,omitempty"` // quarantine only
	Reason   string    `json:"reason,omitempty"`   // quarantine only
	At       time.Time `json:"at,omitzero"`        // quarantine only
}

// UnmarshalJSON reads a record, also one written by a version before the
// field names were snake_case (see Event.UnmarshalJSON). Without it, the
// Event's method would be promoted and the quarantine's fields lost.
func (r *record) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &r.Event); err != nil {
		return err
	}
	var q struct {
		Attempts int       `json:"attempts"`
		Reason   string    `json:"reason"`
		At       time.Time `json:"at"`
	}
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	r.Attempts, r.Reason, r.At = q.Attempts, q.Reason, q.At
	return nil
}

// Open opens the outbox in the shared store and starts its writer. If the
// store was recovered from a corrupt one (store.Store.Recovered), Open raises
// the store_recovered alarm and queues a lifecycle event "store.recovered".
func Open(s *store.Store, o Options) (*Outbox, error) {
	o = o.withDefaults()
	ob := &Outbox{
		s: s, db: s.DB(), opt: o,
		reqs:        make(chan request, 4*o.MaxBatch),
		closing:     make(chan struct{}),
		done:        make(chan struct{}),
		notify:      make(chan struct{}),
		outstanding: map[uint64]handout{},
		attempts:    map[uint64]int{},
		gone:        map[uint64]struct{}{},
		open:        map[uint64]time.Time{},
	}
	err := ob.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(stateKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			ob.st.nextSeq = 1
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(ob.st.decode)
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: read state: %w", err)
	}
	last, err := lastStamp(ob.db)
	if err != nil {
		return nil, fmt.Errorf("outbox: read staged events: %w", err)
	}
	ob.stamp.Store(max(last, uint64(time.Now().UnixNano())))
	ob.relayLast = ob.stamp.Load() // the first pass, a full one, moves those below
	s.OnCommit(ob.flushStaged)
	go ob.writer()
	// Events staged before the last stop are queued before Open returns.
	if _, err := ob.submit(context.Background(), request{kind: reqRelay}); err != nil {
		ob.Close()
		return nil, fmt.Errorf("outbox: queue the staged events: %w", err)
	}
	if s.Recovered != "" {
		msg := fmt.Sprintf("the store failed to open (%v) and was set aside at %s; the gateway started with an empty store: export the old one and check the disk", s.RecoverErr, s.Recovered)
		ob.alarm(Alarm{Kind: AlarmStoreRecovered, Message: msg})
		body, _ := json.Marshal(map[string]string{"set_aside": s.Recovered, "error": fmt.Sprint(s.RecoverErr), "message": msg})
		if _, err := ob.Append(context.Background(), Event{Type: "store.recovered", Priority: PriorityLifecycle, Source: "store", Body: body}); err != nil {
			ob.Close()
			return nil, fmt.Errorf("outbox: queue the store_recovered event: %w", err)
		}
	}
	return ob, nil
}

// Close stops the writer after the queued requests are done. It does not
// close the store.
func (ob *Outbox) Close() error {
	ob.closeMu.Lock()
	if ob.closed {
		ob.closeMu.Unlock()
		return nil
	}
	ob.closed = true
	close(ob.closing)
	ob.closeMu.Unlock()
	<-ob.done
	return nil
}

// Run runs the value-log GC of the shared store every GCInterval until ctx
// ends (a queue leaves dead values behind). It returns nil on cancellation.
func (ob *Outbox) Run(ctx context.Context) error {
	return ob.s.RunGC(ctx, ob.opt.GCInterval)
}

func (ob *Outbox) submit(ctx context.Context, r request) (result, error) {
	r.reply = make(chan result, 1)
	if err := ob.send(ctx, r); err != nil {
		return result{}, err
	}
	// Once queued, a request is always answered: the writer drains the
	// queue before it stops. Waiting ignores ctx so that a caller never
	// believes an append failed that was in fact stored.
	res := <-r.reply
	return res, res.err
}

// send queues r for the writer, unless the outbox is closed or ctx ends
// first; r.reply must have room for every answer it will get.
func (ob *Outbox) send(ctx context.Context, r request) error {
	ob.closeMu.RLock()
	defer ob.closeMu.RUnlock()
	if ob.closed {
		return ErrClosed
	}
	select {
	case ob.reqs <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Append stores ev and returns its sequence number once it is durable.
// A lot or lifecycle event that does not fit gets ErrStoreFull; a telemetry
// event makes room by dropping older telemetry, or is itself dropped (and
// counted) with ErrStoreFull when there is none.
func (ob *Outbox) Append(ctx context.Context, ev Event) (uint64, error) {
	if err := ev.validate(ob.opt.MaxEventBytes); err != nil {
		return 0, err
	}
	if ev.ID == "" {
		ev.ID = NewID()
	}
	if ev.Time.IsZero() {
		ev.Time = ob.opt.Now()
	}
	ev.Time = ev.Time.UTC()
	res, err := ob.submit(ctx, request{kind: reqAppend, ev: ev})
	return res.seq, err
}

// AppendBatch stores evs, in their order, and returns their sequence
// numbers once all of them are durable. They reach the writer together, so
// that they share one commit and one sync (more than one only when they
// pass a transaction's bounds): a producer with many events at once (the
// portal's arrivals) syncs once for all of them, not once for each.
// Each event is taken or refused as by Append: errs[i] is the error of
// evs[i] (nil when stored) and err the first of them, so that telemetry
// dropped for room does not hide the events that were stored.
func (ob *Outbox) AppendBatch(ctx context.Context, evs []Event) (seqs []uint64, errs []error, err error) {
	errs = make([]error, len(evs))
	seqs = make([]uint64, len(evs))
	batch := make([]Event, 0, len(evs))
	at := make([]int, 0, len(evs)) // index in evs of each in batch
	for i, ev := range evs {
		if e := ev.validate(ob.opt.MaxEventBytes); e != nil {
			errs[i] = e
			continue
		}
		if ev.ID == "" {
			ev.ID = NewID()
		}
		if ev.Time.IsZero() {
			ev.Time = ob.opt.Now()
		}
		ev.Time = ev.Time.UTC()
		batch = append(batch, ev)
		at = append(at, i)
	}
	if len(batch) > 0 {
		// One request carries them all; the writer answers each event on
		// its own, in order, on the one reply channel.
		reply := make(chan result, len(batch))
		if e := ob.send(ctx, request{kind: reqAppend, evs: batch, reply: reply}); e != nil {
			for _, i := range at {
				errs[i] = e
			}
		} else {
			for _, i := range at {
				res := <-reply
				seqs[i], errs[i] = res.seq, res.err
			}
		}
	}
	for _, e := range errs {
		if e != nil {
			return seqs, errs, e
		}
	}
	return seqs, errs, nil
}

// Ack removes delivered events (as returned by Next since the last Rewind)
// from the outbox. It returns once the removal is durable. Acking an event
// twice, or one that was dropped meanwhile, is not an error.
func (ob *Outbox) Ack(ctx context.Context, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	// Only events handed out and not yet acked are removed, so that each
	// is counted once.
	acks := make([]ackRef, 0, len(evs))
	ob.rmu.Lock()
	for _, ev := range evs {
		if _, ok := ob.outstanding[ev.Seq]; ok {
			delete(ob.outstanding, ev.Seq)
			delete(ob.attempts, ev.Seq)
			acks = append(acks, ackRef{ev.Seq, ev.Priority, ev.size})
		}
	}
	ob.rmu.Unlock()
	if len(acks) == 0 {
		return nil
	}
	_, err := ob.submit(ctx, request{kind: reqAck, acks: acks})
	return err
}

// Quarantine moves ev (as returned by Next) out of the queue into the
// quarantine with a reason, and raises the quarantined alarm.
func (ob *Outbox) Quarantine(ctx context.Context, ev Event, reason string) error {
	ob.rmu.Lock()
	delete(ob.outstanding, ev.Seq)
	n := ob.attempts[ev.Seq]
	delete(ob.attempts, ev.Seq)
	ob.rmu.Unlock()
	_, err := ob.submit(ctx, request{kind: reqQuarantine, ev: ev, reason: reason, attempts: n})
	return err
}

// Requeue moves a quarantined event back into its queue with its original
// sequence number and ID.
func (ob *Outbox) Requeue(ctx context.Context, seq uint64) error {
	_, err := ob.submit(ctx, request{kind: reqRequeue, seq: seq})
	return err
}

// Quarantined lists up to max quarantined events, oldest first, with the
// reason and the attempts made.
func (ob *Outbox) Quarantined(max int) ([]Quarantined, error) {
	var out []Quarantined
	err := ob.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(store.PrefixOutboxQ), PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < max; it.Next() {
			var r record
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				return fmt.Errorf("quarantined %x: %w", it.Item().Key(), err)
			}
			out = append(out, Quarantined{Event: r.Event, Reason: r.Reason, Attempts: r.Attempts, At: r.At})
		}
		return nil
	})
	return out, err
}

// Quarantined is an event set aside as poison.
type Quarantined struct {
	Event    Event     `json:"event"`
	Reason   string    `json:"reason"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// Stats returns a snapshot.
func (ob *Outbox) Stats() Stats {
	ob.rmu.Lock()
	inflight := len(ob.outstanding)
	ob.rmu.Unlock()
	ob.mu.Lock()
	defer ob.mu.Unlock()
	s := Stats{
		NextSeq: ob.st.nextSeq, Quarantined: ob.st.quarantined, Dropped: ob.st.dropped,
		Refused: ob.refused, Appended: ob.appended, Acked: ob.acked, InFlight: inflight,
		StoreFull: ob.storeFull, DiskLow: ob.diskLow, Commits: ob.commits,
	}
	for p := 0; p < numPriorities; p++ {
		s.Queued[p] = Count{Events: ob.st.count[p], Bytes: ob.st.bytes[p]}
	}
	return s
}

// Next returns up to max events not yet handed out in this session, lowest
// priority value first and in sequence order within a priority. It blocks
// until there is at least one, ctx ends, or the outbox is closed.
func (ob *Outbox) Next(ctx context.Context, max int) ([]Event, error) {
	if max <= 0 {
		max = 1
	}
	for {
		ob.mu.Lock()
		ch := ob.notify
		ob.mu.Unlock()
		evs, bad, err := ob.read(max)
		// A record that cannot be decoded is poison whatever the broker
		// does: set it aside at once instead of failing every session.
		for _, b := range bad {
			if qerr := ob.Quarantine(ctx, b.ev, "undecodable record: "+b.err.Error()); qerr != nil && err == nil {
				err = qerr
			}
		}
		if err != nil || len(evs) > 0 {
			return evs, err
		}
		if len(bad) > 0 {
			continue // read on past them
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ob.done:
			return nil, ErrClosed
		}
	}
}

// badRecord is a queued record read could not decode.
type badRecord struct {
	ev  Event
	err error
}

func (ob *Outbox) read(max int) ([]Event, []badRecord, error) {
	ob.rmu.Lock()
	defer ob.rmu.Unlock()
	var out []Event
	var bad []badRecord
	err := ob.db.View(func(txn *badger.Txn) error {
		for p := Priority(0); p < numPriorities && len(out) < max; p++ {
			start := ob.next[p]
			// No prefetch: records under Badger's value threshold (1 KiB,
			// most events) are in the LSM tree, where fetching ahead only
			// copies records past max that the next call reads again.
			it := txn.NewIterator(badger.IteratorOptions{Prefix: qprefix(p)})
			first := true
			for it.Seek(qkey(p, start)); it.Valid() && len(out) < max; it.Next() {
				item := it.Item()
				k := item.Key()
				seq := binary.BigEndian.Uint64(k[len(k)-8:])
				if first && start == ob.floor[p] {
					ob.floor[p] = seq
				}
				first = false
				ob.next[p] = seq + 1
				if _, busy := ob.outstanding[seq]; busy {
					continue
				}
				var ev Event
				if err := item.Value(func(v []byte) error {
					ev.size = len(v)
					return decodeRecord(v, &ev)
				}); err != nil {
					bad = append(bad, badRecord{Event{Seq: seq, Priority: p}, fmt.Errorf("outbox event %d: %w", seq, err)})
					continue
				}
				ev.Seq, ev.Priority = seq, p
				ob.handouts++
				ob.outstanding[seq] = handout{p, ob.handouts}
				if out == nil {
					out = make([]Event, 0, min(max, 16))
				}
				out = append(out, ev)
			}
			it.Close()
		}
		return nil
	})
	return out, bad, err
}

// handout is an event handed out by Next and not yet acked.
type handout struct {
	p     Priority
	order uint64
}

// Rewind makes Next hand out every unacknowledged event again, from the
// oldest of each priority: the publisher calls it at the start of every
// broker session. With charge, the first event handed out and not acked in
// the ended session is taken for the one the broker refused (a broker that
// drops the connection on a bad message, or acks the messages after it but
// not it): it counts one attempt, and when it reaches MaxAttempts it is
// quarantined. Without charge (the session ended for a reason that is not
// the event's: a stalled uplink) nothing is counted. Events the publisher
// never sent must be given back with Return first.
func (ob *Outbox) Rewind(ctx context.Context, charge bool) error {
	ob.rmu.Lock()
	var poison []Event
	first, found := uint64(0), false
	var fh handout
	for seq, h := range ob.outstanding {
		if !found || h.order < fh.order {
			first, fh, found = seq, h, true
		}
	}
	if found && charge {
		ob.attempts[first]++
		if ob.attempts[first] >= ob.opt.MaxAttempts {
			poison = append(poison, Event{Seq: first, Priority: fh.p})
		}
	}
	// Below next, only outstanding events can remain (the rest were acked,
	// quarantined or dropped; Return and Requeue lower next): raise the
	// floor so that the replay does not seek over the acked tombstones.
	low := ob.next
	for seq, h := range ob.outstanding {
		low[h.p] = min(low[h.p], seq)
	}
	for p := range ob.floor {
		ob.floor[p] = max(ob.floor[p], low[p])
	}
	clear(ob.outstanding)
	clear(ob.gone)
	ob.next = ob.floor
	ob.rmu.Unlock()
	for _, ev := range poison {
		if err := ob.Quarantine(ctx, ev, fmt.Sprintf("handed out in %d broker sessions without a PUBACK", ob.opt.MaxAttempts)); err != nil {
			return err
		}
	}
	return nil
}

func (ob *Outbox) alarm(a Alarm) {
	if a.Time.IsZero() {
		a.Time = ob.opt.Now().UTC()
	}
	if a.Cleared {
		ob.opt.Logger.Info("outbox alarm cleared", "alarm", a.Kind, "msg", a.Message)
	} else {
		ob.opt.Logger.Error("outbox alarm", "alarm", a.Kind, "msg", a.Message)
	}
	if ob.opt.OnAlarm != nil {
		ob.opt.OnAlarm(a)
	}
}

// Return gives events handed out by Next but never sent back to the queue
// without counting an attempt (the session ended before they were
// published).
func (ob *Outbox) Return(evs ...Event) {
	ob.rmu.Lock()
	defer ob.rmu.Unlock()
	for _, ev := range evs {
		if _, ok := ob.outstanding[ev.Seq]; ok {
			delete(ob.outstanding, ev.Seq)
			ob.next[ev.Priority] = min(ob.next[ev.Priority], ev.Seq)
		}
	}
}

// Oldest returns the time of the oldest queued event (of any priority) and
// whether there is one: how far behind the broker is.
func (ob *Outbox) Oldest() (time.Time, bool, error) {
	ob.rmu.Lock()
	floor := ob.floor
	ob.rmu.Unlock()
	var oldest time.Time
	found := false
	err := ob.db.View(func(txn *badger.Txn) error {
		for p := Priority(0); p < numPriorities; p++ {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: qprefix(p), PrefetchValues: false})
			it.Seek(qkey(p, floor[p]))
			if it.Valid() {
				var ev Event
				if err := it.Item().Value(func(v []byte) error { return decodeRecord(v, &ev) }); err == nil {
					if !found || ev.Time.Before(oldest) {
						oldest, found = ev.Time, true
					}
				}
			}
			it.Close()
		}
		return nil
	})
	return oldest, found, err
}
