package outbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// diskRecheck bounds the age of the free-disk measurement.
const diskRecheck = 10 * time.Second

// maxTxnBytes keeps one group commit under Badger's transaction limit (15%
// of the memtable), with room for the request that passes it.
const maxTxnBytes = store.MemTableSize / 8

// gatherYields bounds the yields of the writer before one commit (gather).
const gatherYields = 16

// writer is the single goroutine that writes the outbox's keys: it batches
// every request waiting in the queue into one transaction and one sync.
func (ob *Outbox) writer() {
	defer close(ob.done)
	batch := make([]request, 0, ob.opt.MaxBatch)
	answered := 0 // requests the last commit answered
	// Measured at once, and while idle too: a disk that was low at start
	// shows in /healthz (and raises its alarm) before anything is refused.
	ob.measureDisk()
	idle := time.NewTicker(diskRecheck)
	defer idle.Stop()
	relay := time.NewTicker(relayInterval)
	defer relay.Stop()
	for {
		batch = batch[:0]
		select {
		case <-idle.C:
			if time.Since(ob.diskChecked) >= diskRecheck {
				ob.measureDisk()
			}
			continue
		case <-relay.C:
			// Staged events no commit listener announced, or left by a
			// pass that failed.
			if !ob.relayMore && ob.staged.Load() == ob.relaySeen && time.Since(ob.relayFullAt) < relayFullEvery {
				continue
			}
			batch = append(batch, request{kind: reqRelay})
		case r := <-ob.reqs:
			batch = take(batch, r)
			ob.gather(answered)
		case <-ob.closing:
			for {
				batch = batch[:0]
			drain:
				for len(batch) < ob.opt.MaxBatch {
					select {
					case r := <-ob.reqs:
						batch = take(batch, r)
					default:
						break drain
					}
				}
				if len(batch) == 0 {
					return
				}
				ob.commit(batch)
			}
		}
	more:
		for len(batch) < ob.opt.MaxBatch {
			select {
			case r := <-ob.reqs:
				batch = take(batch, r)
			default:
				break more
			}
		}
		ob.commit(batch)
		answered = len(batch)
	}
}

// take adds r to the writer's batch: the request of an AppendBatch as one
// append for each of its events, answered in order on its reply channel.
func take(batch []request, r request) []request {
	if r.evs == nil {
		return append(batch, r)
	}
	for _, ev := range r.evs {
		batch = append(batch, request{kind: reqAppend, ev: ev, reply: r.reply})
	}
	return batch
}

// gather gives the producers the last commit answered (answered of them)
// the time to queue their next requests before the next commit starts.
// Answering a producer makes it runnable, mostly on the writer's own
// processor, where it does not run while the writer goes on: without a
// yield the next commit takes only the requests that other processors
// queued meanwhile, and busy producers settle into two groups that take
// turns, each commit (and sync) carrying half of them. The writer yields
// while each yield brings more requests and fewer are queued than were
// answered: nothing for a lone producer, one yield when no other comes.
func (ob *Outbox) gather(answered int) {
	for i := 0; i < gatherYields && answered > 1; i++ {
		n := len(ob.reqs)
		if n+1 >= answered {
			return
		}
		runtime.Gosched()
		if len(ob.reqs) == n {
			return
		}
	}
}

// txnState is one transaction being built.
type txnState struct {
	txn      *badger.Txn
	st       state
	bytes    int
	members  []int // requests answered by this commit
	results  []result
	appended uint64
	acked    uint64
	wake     bool
	alarms   []Alarm
	requeued []Event
	// queued are the events this commit puts in the queue, kept only for
	// Options.OnQueued.
	queued []Event
}

func (ob *Outbox) commit(batch []request) {
	results := make([]result, len(batch))
	// Free disk is measured for a batch that appends, and at least every
	// diskRecheck otherwise, so that the flag (and /healthz) neither flaps
	// on batches of acks nor stays set long after space was freed.
	if slices.ContainsFunc(batch, func(r request) bool { return r.kind == reqAppend }) || time.Since(ob.diskChecked) >= diskRecheck {
		ob.measureDisk()
	}
	diskLow := ob.diskLowNow
	ts := ob.newTxn(results)
	relayed := false
	var relayRes result
	for i := 0; i < len(batch); i++ {
		if batch[i].kind == reqRelay {
			// One pass answers every relay request of the batch: each
			// was made after its change committed, so before the pass.
			if !relayed {
				ob.finish(ts, batch)
				relayRes, relayed = ob.relay(), true
				ts = ob.newTxn(results)
			}
			if batch[i].reply != nil {
				batch[i].reply <- relayRes
			}
			continue
		}
		err := ob.apply(ts, &batch[i], &results[i], diskLow)
		if errors.Is(err, badger.ErrTxnTooBig) && len(ts.members) > 0 {
			ob.finish(ts, batch)
			ts = ob.newTxn(results)
			i--
			continue
		}
		if err != nil {
			results[i].err = err
		}
		ts.members = append(ts.members, i)
		if ts.bytes >= maxTxnBytes {
			ob.finish(ts, batch)
			ts = ob.newTxn(results)
		}
	}
	ob.finish(ts, batch)
}

func (ob *Outbox) newTxn(results []result) *txnState {
	ob.mu.Lock()
	st := ob.st
	ob.mu.Unlock()
	return &txnState{txn: ob.db.NewTransaction(true), st: st, results: results}
}

// finish commits ts and answers its requests.
func (ob *Outbox) finish(ts *txnState, batch []request) {
	defer ts.txn.Discard()
	if len(ts.members) == 0 {
		return
	}
	if err := ob.commitTxn(ts); err != nil {
		for _, i := range ts.members {
			if ts.results[i].err == nil {
				ts.results[i] = result{err: err}
			}
		}
	}
	for _, i := range ts.members {
		batch[i].reply <- ts.results[i]
	}
}

// commitTxn commits ts with the state it built and, once committed, makes
// that state the outbox's.
func (ob *Outbox) commitTxn(ts *txnState) error {
	err := ts.txn.Set(stateKey, ts.st.encode())
	if err == nil {
		err = ts.txn.Commit()
	}
	if err != nil {
		return fmt.Errorf("outbox commit: %w", err)
	}
	ob.mu.Lock()
	ob.st = ts.st
	ob.appended += ts.appended
	ob.acked += ts.acked
	ob.commits++
	if ts.wake {
		close(ob.notify)
		ob.notify = make(chan struct{})
	}
	ob.mu.Unlock()
	if len(ts.requeued) > 0 {
		ob.rmu.Lock()
		for _, ev := range ts.requeued {
			ob.floor[ev.Priority] = min(ob.floor[ev.Priority], ev.Seq)
			ob.next[ev.Priority] = min(ob.next[ev.Priority], ev.Seq)
		}
		ob.rmu.Unlock()
	}
	for _, a := range ts.alarms {
		ob.alarm(a)
	}
	if len(ts.queued) > 0 {
		ob.opt.OnQueued(ts.queued)
	}
	// Cleared as acks make room, not by an append that still fit
	// (an alarm in the lifecycle reserve, a smaller event).
	if ts.acked > 0 && ts.st.total() < uint64(ob.opt.MaxBytes)/16*15 {
		ob.setFlag(&ob.storeFull, false, AlarmStoreFull, "the outbox is below outbox.max_bytes again")
		ob.setFlag(&ob.dropping, false, AlarmTelemetryDropped, "telemetry is no longer dropped")
	}
	return nil
}

// relay moves every staged event into the queue, in transactions of their
// own (so that a failure leaves nothing half-moved), and returns how many it
// moved. It reads the staged keys from relayFrom on, but every
// relayFullEvery (and first) all of them. A failure is tried again at the
// next tick.
func (ob *Outbox) relay() result {
	var from uint64 // a full pass
	if !ob.relayFullAt.IsZero() && time.Since(ob.relayFullAt) < relayFullEvery {
		from = ob.relayFrom()
	} else {
		ob.relayFullAt = time.Now()
	}
	var total uint64
	for {
		ts := ob.newTxn(nil)
		var res result
		last, err := ob.applyRelay(ts, from, &res)
		if err == nil && res.seq > 0 {
			err = ob.commitTxn(ts)
		}
		ts.txn.Discard()
		if err != nil {
			ob.relayMore = true
			return result{seq: total, err: fmt.Errorf("outbox: queue staged events: %w", err)}
		}
		total += res.seq
		if res.seq > 0 {
			ob.relayLast = max(ob.relayLast, last)
			from = last + 1
		}
		if !res.more {
			return result{seq: total}
		}
	}
}

// setFlag sets a condition flag and raises or clears its alarm on a change.
// measureDisk measures free disk and sets the disk-low flags (the writer's
// own).
func (ob *Outbox) measureDisk() {
	low, critical := false, false
	if free, err := ob.s.FreeBytes(); err == nil {
		low, critical = ob.diskState(free)
	}
	ob.diskChecked = time.Now()
	ob.setFlag(&ob.diskLow, low, AlarmDiskLow, ob.diskLowMsg())
	ob.diskLowNow, ob.diskCritical = low, critical
}

func (ob *Outbox) storeFullMsg() string {
	return fmt.Sprintf("the outbox reached outbox.max_bytes (%d bytes): lot events are refused until the broker takes the backlog", ob.opt.MaxBytes)
}

func (ob *Outbox) diskLowMsg() string {
	return fmt.Sprintf("free disk below outbox.min_free_bytes (%d bytes): lot events are refused and telemetry dropped; free disk space", ob.opt.MinFreeBytes)
}

// diskState says whether free bytes are below the floor (lot events
// refused), and below its lower half, which lifecycle events (alarms,
// command replies) keep as their reserve.
func (ob *Outbox) diskState(free uint64) (low, critical bool) {
	return free < ob.opt.MinFreeBytes, free < ob.opt.MinFreeBytes/2
}

// Admit reports whether an event of priority p and about size bytes would
// be taken now, without appending anything (ErrStoreFull, naming why, if
// not). A caller about to commit a change whose event must follow it asks
// first, so that a full store refuses the change rather than loses its
// event.
func (ob *Outbox) Admit(p Priority, size int) error {
	if p == PriorityTelemetry {
		return nil // dropped oldest-first, never refused
	}
	// A refusal here raises the same flag and alarm as one in Append:
	// the change it stops never reaches Append to do so.
	if free, err := ob.s.FreeBytes(); err == nil {
		if low, critical := ob.diskState(free); low && (p != PriorityLifecycle || critical) {
			ob.setFlag(&ob.diskLow, true, AlarmDiskLow, ob.diskLowMsg())
			return ob.refuse(fmt.Sprintf("free disk is %d bytes, below outbox.min_free_bytes (%d bytes); free disk space or lower the limit", free, ob.opt.MinFreeBytes))
		}
	}
	limit := uint64(ob.opt.MaxBytes)
	if p == PriorityLifecycle {
		limit += limit / 16
	}
	ob.mu.Lock()
	total := ob.st.total()
	telemetry := ob.st.bytes[PriorityTelemetry]
	ob.mu.Unlock()
	if total-telemetry+uint64(size) > limit {
		ob.setFlag(&ob.storeFull, true, AlarmStoreFull, ob.storeFullMsg())
		return ob.refuse(fmt.Sprintf("outbox holds %d bytes, outbox.max_bytes is %d: let the broker take the queue (check the connection) or raise outbox.max_bytes", total, ob.opt.MaxBytes))
	}
	return nil
}

func (ob *Outbox) setFlag(flag *bool, on bool, kind, msg string) {
	ob.mu.Lock()
	changed := *flag != on
	*flag = on
	ob.mu.Unlock()
	if changed {
		ob.alarm(Alarm{Kind: kind, Message: msg, Cleared: !on})
	}
}

func (ob *Outbox) refuse(reason string) error {
	ob.mu.Lock()
	ob.refused++
	ob.mu.Unlock()
	return fmt.Errorf("%w: %s", ErrStoreFull, reason)
}

func (ob *Outbox) apply(ts *txnState, r *request, res *result, diskLow bool) error {
	switch r.kind {
	case reqAppend:
		return ob.applyAppend(ts, r, res, diskLow)
	case reqAck:
		return ob.applyAck(ts, r)
	case reqQuarantine:
		return ob.applyQuarantine(ts, r)
	case reqRequeue:
		return ob.applyRequeue(ts, r)
	}
	return fmt.Errorf("outbox: unknown request %d", r.kind)
}

func (ob *Outbox) applyAppend(ts *txnState, r *request, res *result, diskLow bool) error {
	ev := r.ev
	p := ev.Priority
	ev.Seq = ts.st.nextSeq
	val := encodeRecord(&ev)
	size := uint64(len(val))
	if diskLow && (p != PriorityLifecycle || ob.diskCritical) {
		if p == PriorityTelemetry {
			ts.st.dropped++
			return fmt.Errorf("%w: telemetry dropped: free disk below outbox.min_free_bytes", ErrStoreFull)
		}
		return ob.refuse(fmt.Sprintf("free disk below outbox.min_free_bytes (%d bytes): %s event refused; free disk space or raise the limit", ob.opt.MinFreeBytes, ev.Type))
	}
	limit := uint64(ob.opt.MaxBytes)
	if p == PriorityLifecycle {
		limit += limit / 16 // reserve for replies and alarms
	}
	if ts.st.total()+size > limit && ts.st.count[PriorityTelemetry] > 0 {
		if err := ob.dropTelemetry(ts, ts.st.total()+size-limit); err != nil {
			return err
		}
	}
	if ts.st.total()+size > limit {
		if p == PriorityTelemetry {
			ts.st.dropped++
			return fmt.Errorf("%w: telemetry dropped: outbox.max_bytes (%d) reached", ErrStoreFull, ob.opt.MaxBytes)
		}
		ob.setFlag(&ob.storeFull, true, AlarmStoreFull, ob.storeFullMsg())
		return ob.refuse(fmt.Sprintf("outbox.max_bytes (%d bytes) reached with %d events waiting for the broker: %s event refused; restore the broker connection or raise outbox.max_bytes", ob.opt.MaxBytes, ts.st.count[0]+ts.st.count[1]+ts.st.count[2], ev.Type))
	}
	if err := ts.txn.Set(qkey(p, ev.Seq), val); err != nil {
		return err
	}
	ts.st.nextSeq++
	ts.st.count[p]++
	ts.st.bytes[p] += size
	ts.bytes += len(val) + 16
	ts.appended++
	ts.wake = true
	res.seq = ev.Seq
	if ob.opt.OnQueued != nil {
		ev.Priority = p
		ts.queued = append(ts.queued, ev)
	}
	return nil
}

func (ob *Outbox) dropTelemetry(ts *txnState, need uint64) error {
	type victim struct {
		key  []byte
		size uint64
	}
	var victims []victim
	var freed uint64
	it := ts.txn.NewIterator(badger.IteratorOptions{Prefix: qprefix(PriorityTelemetry)})
	for it.Seek(qkey(PriorityTelemetry, ob.telFloor)); it.Valid() && freed < need; it.Next() {
		item := it.Item()
		var n uint64
		if err := item.Value(func(v []byte) error { n = uint64(len(v)); return nil }); err != nil {
			it.Close()
			return err
		}
		victims = append(victims, victim{item.KeyCopy(nil), n})
		freed += n
	}
	it.Close()
	ob.rmu.Lock()
	for _, v := range victims {
		if seq := binary.BigEndian.Uint64(v.key[len(v.key)-8:]); seq < ob.next[PriorityTelemetry] {
			ob.gone[seq] = struct{}{} // handed out: its ack must not count
		}
	}
	ob.rmu.Unlock()
	for _, v := range victims {
		if err := ts.txn.Delete(v.key); err != nil {
			return err
		}
		ts.st.count[PriorityTelemetry]--
		ts.st.bytes[PriorityTelemetry] -= min(v.size, ts.st.bytes[PriorityTelemetry])
		ts.st.dropped++
		ts.bytes += len(v.key) + 16
		ob.telFloor = binary.BigEndian.Uint64(v.key[len(v.key)-8:]) + 1
	}
	if len(victims) > 0 {
		ob.mu.Lock()
		started := !ob.dropping
		ob.dropping = true
		ob.mu.Unlock()
		if started {
			ts.alarms = append(ts.alarms, Alarm{Kind: AlarmTelemetryDropped, Message: fmt.Sprintf("the outbox reached outbox.max_bytes (%d bytes): the oldest telemetry is dropped to make room", ob.opt.MaxBytes)})
		}
	}
	return nil
}

func (ob *Outbox) applyAck(ts *txnState, r *request) error {
	// Telemetry dropped after it was handed out is gone already. The
	// request keeps only the others: a request tried again in a new
	// transaction (ErrTxnTooBig) must not remove them twice.
	ob.rmu.Lock()
	if len(ob.gone) > 0 {
		kept := make([]ackRef, 0, len(r.acks))
		for _, a := range r.acks {
			if _, dropped := ob.gone[a.seq]; dropped {
				delete(ob.gone, a.seq)
				continue
			}
			kept = append(kept, a)
		}
		r.acks = kept
	}
	ob.rmu.Unlock()
	for _, a := range r.acks {
		if a.p >= numPriorities {
			continue
		}
		k := qkey(a.p, a.seq)
		n := uint64(a.size)
		if n == 0 { // not from Next: look the size up
			item, err := ts.txn.Get(k)
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			n = uint64(item.ValueSize())
		}
		if err := ts.txn.Delete(k); err != nil {
			return err
		}
		p := a.p
		ts.st.count[p]--
		ts.st.bytes[p] -= min(n, ts.st.bytes[p])
		ts.bytes += len(k) + 16
		ts.acked++
	}
	return nil
}

func (ob *Outbox) applyQuarantine(ts *txnState, r *request) error {
	p := r.ev.Priority
	if p >= numPriorities {
		return fmt.Errorf("%w: priority %d", ErrInvalidEvent, p)
	}
	k := qkey(p, r.ev.Seq)
	item, err := ts.txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil // acked or dropped meanwhile
	}
	if err != nil {
		return err
	}
	var rec record
	var n int
	if err := item.Value(func(v []byte) error {
		n = len(v)
		return decodeRecord(v, &rec.Event)
	}); err != nil {
		// Not even decodable: keep the raw bytes in the reason.
		rec.Event = Event{Seq: r.ev.Seq, Priority: p, Type: "undecodable"}
	}
	rec.Event.Seq, rec.Event.Priority = r.ev.Seq, p
	rec.Reason, rec.Attempts, rec.At = r.reason, r.attempts, ob.opt.Now().UTC()
	val, err := json.Marshal(&rec)
	if err != nil {
		return err
	}
	if err := ts.txn.Delete(k); err != nil {
		return err
	}
	if err := ts.txn.Set(xkey(r.ev.Seq), val); err != nil {
		return err
	}
	ts.st.count[p]--
	ts.st.bytes[p] -= min(uint64(n), ts.st.bytes[p])
	ts.st.quarantined++
	ts.bytes += len(val) + 32
	ts.alarms = append(ts.alarms, Alarm{Kind: AlarmQuarantined, Message: fmt.Sprintf("event %d (%s, %s) quarantined: %s; list it with Quarantined and Requeue it once fixed", r.ev.Seq, rec.Event.Type, rec.Event.ID, r.reason)})
	return nil
}

func (ob *Outbox) applyRequeue(ts *txnState, r *request) error {
	item, err := ts.txn.Get(xkey(r.seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("%w: seq %d", ErrNotQuarantined, r.seq)
	}
	if err != nil {
		return err
	}
	var rec record
	if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &rec) }); err != nil {
		return fmt.Errorf("quarantined event %d: %w", r.seq, err)
	}
	ev := rec.Event
	if ev.Priority >= numPriorities {
		return fmt.Errorf("%w: quarantined event %d has priority %d", ErrInvalidEvent, r.seq, ev.Priority)
	}
	val := encodeRecord(&ev)
	if err := ts.txn.Set(qkey(ev.Priority, ev.Seq), val); err != nil {
		return err
	}
	if err := ts.txn.Delete(xkey(r.seq)); err != nil {
		return err
	}
	ts.st.count[ev.Priority]++
	ts.st.bytes[ev.Priority] += uint64(len(val))
	ts.st.quarantined--
	ts.bytes += len(val) + 32
	ts.wake = true
	ts.requeued = append(ts.requeued, ev)
	return nil
}
