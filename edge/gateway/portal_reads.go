package gateway

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

// The portal engine keeps presence and open passes in memory only. So that a
// pass still open when the gateway is killed is not lost, the reads the
// engine takes are saved in the store, and replayed into the engine when the
// gateway starts again. A saved read is deleted once it can make nothing
// more: its tag's pass is in the outbox, or it is older than everything
// still open in the engine or waiting in the portal pipeline.
//
// Saving is batched: a read reaches the disk within savedReadsEvery, so a
// kill loses at most the reads of that last moment.
const (
	// savedReadsEvery is how often saved reads are written.
	savedReadsEvery = 100 * time.Millisecond
	// savedReadsBatch reads waiting start a write at once.
	savedReadsBatch = 1000
	// savedReadsPruneEvery ticks of savedReadsEvery, the reads nothing
	// open needs any more are deleted.
	savedReadsPruneEvery = 20
	// maxSavedReads bounds the reads kept in the store (about 60 bytes
	// each): a pallet parked in a door's field for hours must not fill the
	// disk. Beyond it the oldest are dropped, counted, with an alarm.
	maxSavedReads = 1_000_000
	// maxUnwrittenReads bounds the reads waiting for a write when the store
	// falls behind; more are dropped and counted.
	maxUnwrittenReads = 64 << 10
)

// savedReads is the store's copy of the portal reads that open passes may
// still need. Readers add to it (add), the pipeline tells it which passes
// are in the outbox (done), and its run loop writes and prunes.
type savedReads struct {
	db  *badger.DB
	log *slog.Logger
	eng *portal.Engine
	// waiting is the start of the oldest pass the portal pipeline has not
	// published yet, zero when none waits.
	waiting func() time.Time
	onAlarm func(kind, msg string, cleared bool)
	max     int

	mu    sync.Mutex
	buf   []savedRead
	done  []*portal.PassEvent
	seq   uint64
	kick  chan struct{}
	count int // reads in the store; only run's goroutine (or replay) writes it

	saved   atomic.Int64 // mirrors count for /healthz
	dropped atomic.Uint64
	full    atomic.Bool // the bound was reached and not yet cleared
	failing atomic.Bool // saving or pruning fails: alarm raised
	// again holds the passes whose reads the last write deleted, to be
	// deleted once more (run's goroutine only).
	again []*portal.PassEvent
}

type savedRead struct{ key, val []byte }

func newSavedReads(db *badger.DB, eng *portal.Engine, waiting func() time.Time, log *slog.Logger, onAlarm func(kind, msg string, cleared bool)) *savedReads {
	return &savedReads{db: db, eng: eng, waiting: waiting, log: log, onAlarm: onAlarm, max: maxSavedReads, kick: make(chan struct{}, 1)}
}

// add saves the reads of batch the engine takes into account. The caller
// has given them to the engine first: a read saved is already one the
// engine counts in OldestOpen, so a prune never deletes a read whose tag
// the engine has not seen yet. batch is not kept.
func (s *savedReads) add(batch []rfid.Read) {
	s.mu.Lock()
	n := len(s.buf)
	for i := range batch {
		r := &batch[i]
		if !s.eng.Accepts(r) {
			continue
		}
		if len(s.buf) >= maxUnwrittenReads {
			s.dropped.Add(1)
			continue
		}
		s.seq++
		s.buf = append(s.buf, savedRead{readKey(r.Time, s.seq), encodeRead(r)})
	}
	kick := len(s.buf) >= savedReadsBatch && n < savedReadsBatch
	s.mu.Unlock()
	if kick {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// requeue puts back published passes whose reads could not be deleted yet.
func (s *savedReads) requeue(done []*portal.PassEvent) {
	if len(done) == 0 {
		return
	}
	s.mu.Lock()
	s.done = append(append([]*portal.PassEvent(nil), done...), s.done...)
	s.mu.Unlock()
}

// passDone says that p, and the alerts that came before it, are in the
// outbox: the reads of its tags can go.
func (s *savedReads) passDone(p *portal.PassEvent) {
	s.mu.Lock()
	s.done = append(s.done, p)
	s.mu.Unlock()
}

// run writes the saved reads every savedReadsEvery and prunes them every
// savedReadsPruneEvery writes until ctx ends; then it writes and prunes one
// last time. It runs after the portal pipeline has stopped (see Run), so that
// after a clean shutdown, with every pass published, nothing is left.
func (s *savedReads) run(ctx context.Context) error {
	t := time.NewTicker(savedReadsEvery)
	defer t.Stop()
	for ticks := 0; ; {
		select {
		case <-ctx.Done():
			s.outcome(s.write())
			s.outcome(s.prune())
			return nil
		case <-s.kick:
			s.outcome(s.write())
		case <-t.C:
			err := s.write()
			if ticks++; err == nil && ticks%savedReadsPruneEvery == 0 {
				err = s.prune()
			}
			s.outcome(err)
		}
	}
}

// outcome reports a store error of saving or pruning once, with an alarm,
// and its end. Such an error does not stop the gateway: the portal goes on
// (passes are published as ever), only what a crash would recover is less,
// like the outbox that refuses rather than stops on a full disk.
func (s *savedReads) outcome(err error) {
	switch {
	case err != nil && !s.failing.Swap(true):
		msg := fmt.Sprintf("portal reads of open passes cannot be saved (%v): a crash now loses the passes open at that moment; check the data_dir disk", err)
		s.log.Error(msg)
		s.onAlarm("portal_reads_unsaved", msg, false)
	case err == nil && s.failing.Swap(false):
		s.log.Info("portal reads are saved again")
		s.onAlarm("portal_reads_unsaved", "portal reads of open passes are saved again", true)
	}
}

// write stores the reads added since the last write in one batch, then
// deletes the reads of the passes published meanwhile (after the write, so
// that a late read of such a tag that was still waiting goes too), then
// drops the oldest reads beyond the bound.
func (s *savedReads) write() error {
	s.mu.Lock()
	buf, done := s.buf, s.done
	s.buf, s.done = nil, nil
	s.mu.Unlock()
	if len(buf) > 0 {
		wb := s.db.NewWriteBatch()
		for _, r := range buf {
			if err := wb.Set(r.key, r.val); err != nil {
				wb.Cancel()
				s.dropped.Add(uint64(len(buf)))
				s.requeue(done)
				return fmt.Errorf("saving portal reads: %w", err)
			}
		}
		if err := wb.Flush(); err != nil {
			s.dropped.Add(uint64(len(buf)))
			s.requeue(done)
			return fmt.Errorf("saving portal reads: %w", err)
		}
		s.count += len(buf)
	}
	// A published pass's reads are deleted at this write and again at the
	// next: a late read of its tag (a backlog batch the engine closed the
	// pass on before the read was added here) may only arrive in between.
	again := s.again
	s.again = done
	for i, p := range append(again, done...) {
		if err := s.deletePass(p); err != nil {
			if i >= len(again) {
				s.requeue(done[i-len(again):]) // tried again at the next write
			}
			return err
		}
	}
	if s.count > s.max {
		n, err := s.deleteWhile(func([]byte, time.Time) bool { return true }, s.count-s.max)
		if err != nil {
			return err
		}
		if n > 0 {
			s.dropped.Add(uint64(n))
			if !s.full.Swap(true) {
				msg := fmt.Sprintf("more than %d portal reads saved for open passes (a tag parked at a door?): the oldest are dropped and a crash now loses them", s.max)
				s.log.Error(msg)
				s.onAlarm("portal_reads_dropped", msg, false)
			}
		}
	}
	if s.full.Load() && s.count < s.max/2 {
		s.full.Store(false)
		s.onAlarm("portal_reads_dropped", "portal reads saved for open passes are back under their bound", true)
	}
	s.saved.Store(int64(s.count))
	return nil
}

// prune deletes the reads older than everything still open in the engine and
// every pass waiting in the pipeline: they have made their passes, and
// those passes are in the outbox.
func (s *savedReads) prune() error {
	// The engine is asked first: a pass that closes in between is then
	// in the pipeline's queue when it is asked.
	horizon := s.eng.OldestOpen()
	if w := s.waiting(); !w.IsZero() && (horizon.IsZero() || w.Before(horizon)) {
		horizon = w
	}
	_, err := s.deleteWhile(func(_ []byte, at time.Time) bool { return horizon.IsZero() || at.Before(horizon) }, -1)
	s.saved.Store(int64(s.count))
	return err
}

// deletePass deletes the saved reads of p's tags within their first and last
// reads, which the pass accounts for. Other tags' reads in the same span
// stay.
func (s *savedReads) deletePass(p *portal.PassEvent) error {
	type span struct{ first, last time.Time }
	tags := make(map[string]span, len(p.Tags))
	for _, t := range p.Tags {
		tags[t.EPC] = span{t.First, t.Last}
	}
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte(store.PrefixPortalRead)})
		defer it.Close()
		var hex [2 * rfid.MaxEPCBits / 8]byte
		for it.Seek(readKey(p.Start, 0)); it.Valid(); it.Next() {
			at := readKeyTime(it.Item().Key())
			if at.After(p.End) {
				break
			}
			var r rfid.Read
			if err := it.Item().Value(func(v []byte) error { return decodeRead(v, &r) }); err != nil {
				continue // an unreadable read is left to the prune
			}
			sp, ok := tags[string(r.EPC.AppendHex(hex[:0]))]
			if ok && !at.Before(sp.first) && !at.After(sp.last) {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading saved portal reads: %w", err)
	}
	return s.delete(keys)
}

// deleteWhile deletes saved reads oldest first while del says so, at most
// limit of them (no limit when negative), and returns how many it deleted.
func (s *savedReads) deleteWhile(del func(key []byte, at time.Time) bool, limit int) (int, error) {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(store.PrefixPortalRead)})
		defer it.Close()
		for it.Rewind(); it.Valid() && limit != 0; it.Next() {
			k := it.Item().Key()
			if !del(k, readKeyTime(k)) {
				break
			}
			keys = append(keys, it.Item().KeyCopy(nil))
			limit--
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading saved portal reads: %w", err)
	}
	return len(keys), s.delete(keys)
}

func (s *savedReads) delete(keys [][]byte) error {
	if len(keys) == 0 {
		return nil
	}
	wb := s.db.NewWriteBatch()
	for _, k := range keys {
		if err := wb.Delete(k); err != nil {
			wb.Cancel()
			return fmt.Errorf("deleting saved portal reads: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("deleting saved portal reads: %w", err)
	}
	s.count = max(0, s.count-len(keys))
	return nil
}

// replay gives the saved reads to observe in time order, in batches, and
// calls tick as the reads' time advances, as the engine's own loop would
// have while they came in. It returns how many reads it gave. It must run
// before the readers start: new reads are numbered after the saved ones.
func (s *savedReads) replay(observe func([]rfid.Read), tick func(time.Time)) (int, error) {
	var (
		batch    []rfid.Read
		n, bad   int
		lastTick time.Time
	)
	flush := func() {
		if len(batch) > 0 {
			observe(batch)
			batch = batch[:0]
		}
	}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100, Prefix: []byte(store.PrefixPortalRead)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			s.seq = max(s.seq, readKeySeq(k))
			s.count++
			var r rfid.Read
			if err := it.Item().Value(func(v []byte) error { return decodeRead(v, &r) }); err != nil {
				bad++
				continue
			}
			if lastTick.IsZero() {
				lastTick = r.Time
			} else if r.Time.Sub(lastTick) >= savedReadsEvery {
				flush()
				tick(r.Time)
				lastTick = r.Time
			}
			batch = append(batch, r)
			if len(batch) >= 1024 {
				flush()
			}
			n++
		}
		flush()
		return nil
	})
	s.saved.Store(int64(s.count))
	if bad > 0 {
		s.log.Warn("saved portal reads that could not be decoded were skipped", "count", bad)
	}
	return n, err
}

// A saved read's key is the prefix, its time and a sequence number, so that
// keys sort by read time and two reads of one nanosecond stay apart. The
// time's sign bit is flipped so that times before 1970 sort first too.
func readKey(at time.Time, seq uint64) []byte {
	k := make([]byte, len(store.PrefixPortalRead)+16)
	n := copy(k, store.PrefixPortalRead)
	binary.BigEndian.PutUint64(k[n:], uint64(at.UnixNano())^1<<63)
	binary.BigEndian.PutUint64(k[n+8:], seq)
	return k
}

func readKeyTime(k []byte) time.Time {
	n := len(store.PrefixPortalRead)
	if len(k) < n+16 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[n:])^1<<63))
}

func readKeySeq(k []byte) uint64 {
	n := len(store.PrefixPortalRead)
	if len(k) < n+16 {
		return 0
	}
	return binary.BigEndian.Uint64(k[n+8:])
}

// A saved read's value: version 1, flags (bit 0: has RSSI), RSSI, antenna,
// time (unix ns), EPC bit length, EPC bytes, reader id. The key's time
// orders reads; the value keeps it too so a read is whole on its own.
const savedReadV1 = 1

func encodeRead(r *rfid.Read) []byte {
	epc := r.EPC.Bytes()
	v := make([]byte, 0, 15+len(epc)+len(r.Reader))
	var flags byte
	if r.HasRSSI {
		flags |= 1
	}
	v = append(v, savedReadV1, flags, byte(r.RSSI))
	v = binary.BigEndian.AppendUint16(v, r.Antenna)
	v = binary.BigEndian.AppendUint64(v, uint64(r.Time.UnixNano()))
	v = binary.BigEndian.AppendUint16(v, uint16(r.EPC.BitLen()))
	v = append(v, epc...)
	return append(v, r.Reader...)
}

var errSavedRead = errors.New("saved portal read is malformed")

func decodeRead(v []byte, r *rfid.Read) error {
	if len(v) < 15 || v[0] != savedReadV1 {
		return errSavedRead
	}
	r.HasRSSI = v[1]&1 != 0
	r.RSSI = int8(v[2])
	r.Antenna = binary.BigEndian.Uint16(v[3:])
	r.Time = time.Unix(0, int64(binary.BigEndian.Uint64(v[5:])))
	bits := int(binary.BigEndian.Uint16(v[13:]))
	n := (bits + 7) / 8
	if len(v) < 15+n {
		return errSavedRead
	}
	if err := r.EPC.Set(v[15:15+n], bits); err != nil {
		return errSavedRead
	}
	r.Reader = string(v[15+n:])
	return nil
}
