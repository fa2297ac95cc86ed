package outbox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// relayInterval is how often the writer looks for staged events that no
// commit listener announced (a transaction committed without store.Update).
const relayInterval = time.Second

// A relay pass reads the staged keys from the oldest stamp staged in the
// last relayWindow and not moved yet (or the last one moved): the keys
// below were moved already and are only tombstones, which a queue on an
// LSM tree must not read again on every pass. A stamp staged longer ago was
// rolled back, or its transaction commits more than relayWindow after it
// staged (none of the gateway's do): such events are moved by the full
// pass, made at Open and every relayFullEvery.
const (
	relayWindow    = 2 * time.Second
	relayFullEvery = 30 * time.Second
)

// nextStamp is the stamp of a staged event: the wall clock in nanoseconds,
// but always above the last one (a clock set back keeps the order).
func (ob *Outbox) nextStamp() uint64 {
	for {
		last := ob.stamp.Load()
		next := max(last+1, uint64(time.Now().UnixNano()))
		if ob.stamp.CompareAndSwap(last, next) {
			return next
		}
	}
}

// Stage writes ev into txn, a read-write transaction of the outbox's store,
// as a staged event: it commits with the change that txn makes, or not at
// all. The outbox's writer moves staged events into the queue, allocating
// their sequence numbers, in its next group commit after the transaction
// commits through store.Update; at Open (events staged before a crash); and
// within a second of a transaction committed some other way. So a change and
// its events are one: no kill between two steps can keep an event from a
// change that was made.
//
// A lot or lifecycle event that would not fit (ErrStoreFull), and an invalid
// one, are refused before anything is written: the caller returns the error
// from its transaction and its change is refused with it. Telemetry is not
// staged (it is dropped under pressure, so nothing may depend on it): Append
// it. Stage does not wait for a sync; the caller's commit is the sync.
func (ob *Outbox) Stage(txn *badger.Txn, ev Event) error {
	if err := ev.validate(ob.opt.MaxEventBytes); err != nil {
		return err
	}
	if ev.Priority == PriorityTelemetry {
		return fmt.Errorf("%w: %s: telemetry is appended, not staged", ErrInvalidEvent, ev.Type)
	}
	if ev.ID == "" {
		ev.ID = NewID()
	}
	if ev.Time.IsZero() {
		ev.Time = ob.opt.Now()
	}
	ev.Time = ev.Time.UTC()
	val := encodeRecord(&ev)
	if err := ob.Admit(ev.Priority, len(val)); err != nil {
		return err
	}
	stamp := ob.nextStamp()
	if err := txn.Set(skey(stamp, ev.Priority), val); err != nil {
		return fmt.Errorf("stage %s event: %w", ev.Type, err)
	}
	ob.pmu.Lock()
	if len(ob.open) >= 4096 { // the writer is not moving them (closed)
		ob.forgetOpen(time.Now())
	}
	ob.open[stamp] = time.Now()
	ob.pmu.Unlock()
	ob.staged.Add(1)
	return nil
}

// forgetOpen drops the stamps staged more than relayWindow before now
// (ob.pmu held).
func (ob *Outbox) forgetOpen(now time.Time) {
	for stamp, at := range ob.open {
		if now.Sub(at) > relayWindow {
			delete(ob.open, stamp)
		}
	}
}

// relayFrom is the stamp a relay pass seeks to: the oldest staged in the
// last relayWindow and not moved, or the one after the last moved.
func (ob *Outbox) relayFrom() uint64 {
	ob.pmu.Lock()
	defer ob.pmu.Unlock()
	ob.forgetOpen(time.Now())
	from := ob.relayLast + 1
	for stamp := range ob.open {
		from = min(from, stamp)
	}
	return from
}

// skey is the key of a staged event: the stamp orders staged events as
// they were staged.
func skey(stamp uint64, p Priority) []byte {
	k := make([]byte, 0, len(store.PrefixOutboxS)+9)
	k = append(k, store.PrefixOutboxS...)
	k = binary.BigEndian.AppendUint64(k, stamp)
	return append(k, byte(p))
}

// lastStamp is the stamp of the newest staged event in the store, 0 when
// there is none; stamps go on above it whatever the clock says.
func lastStamp(db *badger.DB) (uint64, error) {
	var last uint64
	err := db.View(func(txn *badger.Txn) error {
		prefix := []byte(store.PrefixOutboxS)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		it.Seek(append(append([]byte(nil), prefix...), 0xff))
		if it.Valid() {
			if k := it.Item().Key(); len(k) == len(prefix)+9 {
				last = binary.BigEndian.Uint64(k[len(prefix):])
			}
		}
		return nil
	})
	return last, err
}

// flushStaged is the store's commit listener: it returns once the events
// staged by the transaction that just committed are queued (one relay pass
// serves every change committed meanwhile), so that a change's events are
// in the queue, in order, when the change returns. On a closed outbox it
// returns at once: the events stay staged until the next Open.
func (ob *Outbox) flushStaged() {
	if ob.staged.Load() == 0 {
		return // this outbox stages nothing: no wait on commits of others
	}
	if _, err := ob.submit(context.Background(), request{kind: reqRelay}); err != nil && !errors.Is(err, ErrClosed) {
		ob.opt.Logger.Warn("staged events left for the next relay pass", "err", err)
	}
}

// applyRelay moves staged events with a stamp from from on into the queue
// inside ts: each gets the next sequence number and its staged key is
// deleted, in the same commit. A pass stops at the transaction's size bound
// and says so in res.more; last is the stamp of the last key it moved.
func (ob *Outbox) applyRelay(ts *txnState, from uint64, res *result) (last uint64, err error) {
	ob.relaySeen = ob.staged.Load()
	prefix := []byte(store.PrefixOutboxS)
	it := ts.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	moved := uint64(0)
	for it.Seek(skey(from, 0)); it.Valid(); it.Next() {
		if ts.bytes >= maxTxnBytes || moved >= uint64(ob.opt.MaxBatch) {
			res.more = true
			break
		}
		item := it.Item()
		k := item.KeyCopy(nil)
		p := PriorityLot
		if len(k) == len(prefix)+9 && Priority(k[len(k)-1]) < numPriorities {
			p = Priority(k[len(k)-1])
		}
		val, err := item.ValueCopy(nil)
		if err != nil {
			return last, fmt.Errorf("staged event %x: %w", k, err)
		}
		seq := ts.st.nextSeq
		if err := ts.txn.Set(qkey(p, seq), val); err != nil {
			return last, err
		}
		if err := ts.txn.Delete(k); err != nil {
			return last, err
		}
		if len(k) == len(prefix)+9 {
			last = binary.BigEndian.Uint64(k[len(prefix):])
			ob.pmu.Lock()
			delete(ob.open, last)
			ob.pmu.Unlock()
		}
		if ob.opt.OnQueued != nil {
			ev := Event{Seq: seq, Priority: p}
			if decodeRecord(val, &ev) == nil {
				ts.queued = append(ts.queued, ev)
			}
		}
		ts.st.nextSeq++
		ts.st.count[p]++
		ts.st.bytes[p] += uint64(len(val))
		ts.bytes += len(val) + len(k) + 32
		ts.appended++
		ts.wake = true
		moved++
	}
	res.seq = moved
	return last, nil
}
