package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/internal/beat"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

// The portal engine keeps presence and open passes in memory only. So that a
// pass still open when the gateway is killed is not lost, the reads the
// engine takes are saved in the store, and replayed into the engine when the
// gateway starts again.
//
// Saving is batched: the reads that came in since the last write are
// written together every savedReadsEvery, as a few keys of about a
// kilobyte (a batch: the reads grouped by EPC, each EPC written once),
// in one synced commit; a kill loses at most the reads of that last moment.
//
// A published pass does not make its reads be rewritten: a small pass
// record (prp/: its tags, each with its first and last read) is written
// instead, and a replay leaves out the saved reads it covers, as the
// engine would (the pass is in the outbox already). Batches are deleted
// whole once they are older than everything still open in the engine or
// waiting in the portal pipeline; a pass record once no batch left can
// hold a read it covers. When something stays open for long (a pallet
// parked in a door's field), the batches behind it are compacted instead:
// the reads of published passes are taken out of them, so that what is
// kept is what a replay needs, as little as it was with a key per read.
const (
	// savedReadsEvery is how often saved reads are written: a synced
	// commit, and a wake-up of the gateway, each time (a multiple of the
	// readers' 40 ms beat, llrp.DefaultReadInterval).
	savedReadsEvery = 200 * time.Millisecond
	// savedReadsBatch reads waiting start a write at once (a dock of four
	// busy readers takes 1,200 reads in savedReadsEvery).
	savedReadsBatch = 4000
	// savedReadsPruneEvery ticks of savedReadsEvery (2 s), the batches
	// nothing open needs any more are deleted.
	savedReadsPruneEvery = 10
	// savedReadsCompactAfter ticks of savedReadsEvery (30 s) after a pass
	// was published, its reads are taken out of the batches still kept
	// because something older is open.
	savedReadsCompactAfter = 150
	// maxSavedReads bounds the reads kept in the store (about 10 bytes
	// each): a pallet parked in a door's field for hours must not fill the
	// disk. Beyond it the oldest are dropped, counted, with an alarm.
	maxSavedReads = 1_000_000
	// maxUnwrittenReads bounds the reads waiting for a write when the store
	// falls behind; more are dropped and counted.
	maxUnwrittenReads = 64 << 10
	// maxSavedValue bounds a batch's and a pass record's value: under the
	// store's value threshold (1 KiB, store.BadgerOptions), a value stays
	// in the LSM tree with its key, where deleting the key reclaims it at
	// the next compaction, instead of going to the value log, which only
	// its garbage collection reclaims.
	maxSavedValue = 1000
)

// savedReads is the store's copy of the portal reads that open passes may
// still need. Readers add to it (add), the pipeline tells it which passes
// are in the outbox (passDone), and its run loop writes and prunes.
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
	buf   []unsavedRead
	spare []unsavedRead // the buffer of the last write, for the next
	done  []*portal.PassEvent
	kick  chan struct{}

	// What is in the store. Only run's goroutine (or replay, before it)
	// touches these.
	seq     uint64
	ticks   uint64
	count   int // reads in the batches
	batches []batchMeta
	passes  []passRecord
	// stale: a write failed, so what is in the store is not known for
	// sure; it is read again before the next write.
	stale  bool
	groups map[rfid.EPC]int32 // scratch of write

	saved   atomic.Int64 // mirrors count for /healthz
	dropped atomic.Uint64
	full    atomic.Bool // the bound was reached and not yet cleared
	failing atomic.Bool // saving or pruning fails: alarm raised
}

// unsavedRead is a read waiting for the next write: what a replay needs
// of it.
type unsavedRead struct {
	epc     rfid.EPC
	reader  string
	at      int64 // unix ns
	group   int32 // write's grouping by EPC
	antenna uint16
	rssi    int8
	hasRSSI bool
}

// batchMeta is a batch in the store: its key is prd/<max><seq>.
type batchMeta struct {
	max, min int64 // its newest and (no later than) its oldest read, unix ns
	seq      uint64
	n        int // reads
	// clean: the reads of the pass records up to this sequence number
	// are not in it (taken out by a compaction).
	clean uint64
}

// passRecord is a pass record in the store: its key is prp/<end><seq>.
type passRecord struct {
	end   int64 // the pass's last read, unix ns
	seq   uint64
	tick  uint64 // written at this tick of run (0: before this start)
	spans []tagSpan
}

// tagSpan is a tag of a published pass: its reads from first to last
// (unix ns) are accounted for.
type tagSpan struct {
	epc         rfid.EPC
	first, last int64
}

func newSavedReads(db *badger.DB, eng *portal.Engine, waiting func() time.Time, log *slog.Logger, onAlarm func(kind, msg string, cleared bool)) *savedReads {
	return &savedReads{db: db, eng: eng, waiting: waiting, log: log, onAlarm: onAlarm, max: maxSavedReads,
		kick: make(chan struct{}, 1), groups: map[rfid.EPC]int32{}}
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
		s.buf = append(s.buf, unsavedRead{epc: r.EPC, reader: r.Reader, at: r.Time.UnixNano(),
			antenna: r.Antenna, rssi: r.RSSI, hasRSSI: r.HasRSSI})
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

// requeue puts back published passes whose records could not be written.
func (s *savedReads) requeue(done []*portal.PassEvent) {
	if len(done) == 0 {
		return
	}
	s.mu.Lock()
	s.done = append(append([]*portal.PassEvent(nil), done...), s.done...)
	s.mu.Unlock()
}

// passDone says that p, and the alerts that came before it, are in the
// outbox: the reads of its tags need not be replayed.
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
	t := beat.NewTicker(savedReadsEvery) // with the readers' reads (llrp)
	defer t.Stop()
	for ticks := 0; ; {
		select {
		case <-ctx.Done():
			s.outcome(s.prune())
			return nil
		case <-s.kick:
			s.outcome(s.write())
		case <-t.C:
			ticks++
			s.outcome(s.flush(ticks%savedReadsPruneEvery == 0))
			t.Next()
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

// write stores the reads added since the last write as batches and the
// passes published meanwhile as pass records, in one commit; beyond the
// bound it drops the oldest reads.
func (s *savedReads) write() error { return s.flush(false) }

// prune writes as write does, and deletes the batches older than
// everything still open in the engine and every pass waiting in the
// pipeline (they have made their passes, and those passes are in the
// outbox) and the pass records no batch left needs; it compacts the
// batches kept behind something open for long.
func (s *savedReads) prune() error { return s.flush(true) }

func (s *savedReads) flush(prune bool) error {
	if s.stale {
		if err := s.load(nil); err != nil {
			return fmt.Errorf("reading saved portal reads: %w", err)
		}
	}
	s.mu.Lock()
	taken, done := s.buf, s.done
	s.buf, s.spare, s.done = s.spare[:0], nil, nil
	s.mu.Unlock()
	defer func() {
		if cap(taken) <= 4*savedReadsBatch { // a burst's buffer is not kept
			s.spare = taken[:0]
		}
	}()
	buf := taken
	s.ticks++

	// The engine is asked first: a pass that closes in between is then in
	// the pipeline's queue when it is asked.
	var horizon int64
	everything := false
	if prune {
		h := s.eng.OldestOpen()
		if w := s.waiting(); !w.IsZero() && (h.IsZero() || w.Before(h)) {
			h = w
		}
		everything, horizon = h.IsZero(), h.UnixNano()
	}
	gone := func(b *batchMeta) bool { return prune && (everything || b.max < horizon) }

	wb := newSavedWrite(s.db)
	defer wb.cancel()
	// Beyond the bound the oldest batches go first, then the oldest reads
	// of this write: s.batches[:dropped] go.
	dropped, drop := 0, 0
	if over := s.count + len(buf) - s.max; over > 0 {
		slices.SortFunc(s.batches, func(a, b batchMeta) int { return cmp.Or(cmp.Compare(a.max, b.max), cmp.Compare(a.seq, b.seq)) })
		for ; dropped < len(s.batches) && over > 0; dropped++ {
			b := &s.batches[dropped]
			if err := wb.delete(batchKey(b.max, b.seq)); err != nil {
				return s.failed(taken, done, err)
			}
			over -= b.n
			drop += b.n
		}
		if over > 0 {
			slices.SortFunc(buf, func(a, b unsavedRead) int { return cmp.Compare(a.at, b.at) })
			drop += over
			buf = buf[over:]
		}
	}
	if prune {
		for i := dropped; i < len(s.batches); i++ {
			if b := &s.batches[i]; gone(b) {
				if err := wb.delete(batchKey(b.max, b.seq)); err != nil {
					return s.failed(taken, done, err)
				}
			}
		}
	}
	var added []batchMeta
	var values [][]byte
	for _, b := range s.encodeBatches(buf) {
		if gone(&b.meta) {
			continue // done with already
		}
		b.meta.seq = s.nextSeq()
		added = append(added, b.meta)
		values = append(values, b.value)
	}
	for i, m := range added {
		if err := wb.set(batchKey(m.max, m.seq), values[i]); err != nil {
			return s.failed(taken, done, err)
		}
	}
	// The batches once this write is in.
	after := func(yield func(*batchMeta) bool) {
		for i := dropped; i < len(s.batches); i++ {
			if b := &s.batches[i]; !gone(b) && !yield(b) {
				return
			}
		}
		for i := range added {
			if !yield(&added[i]) {
				return
			}
		}
	}
	// Pass records: the new ones, and on a prune those no batch needs
	// any more go.
	var records []encodedPass
	for _, p := range done {
		for _, r := range encodePassRecords(p) {
			r.meta.seq, r.meta.tick = s.nextSeq(), s.ticks
			records = append(records, r)
		}
	}
	needed := func(p *passRecord) bool {
		for b := range after {
			if b.min <= p.end && b.clean < p.seq {
				return true
			}
		}
		return false
	}
	passes := s.passes
	if prune {
		passes = nil
		for i := range s.passes {
			p := &s.passes[i]
			if needed(p) {
				passes = append(passes, *p)
			} else if err := wb.delete(passKey(p.end, p.seq)); err != nil {
				return s.failed(taken, done, err)
			}
		}
	}
	for _, r := range records {
		if prune && !needed(&r.meta) {
			continue
		}
		if err := wb.set(passKey(r.meta.end, r.meta.seq), r.value); err != nil {
			return s.failed(taken, done, err)
		}
		passes = append(passes, r.meta)
	}
	if err := wb.flush(); err != nil {
		return s.failed(taken, done, err)
	}
	kept := s.batches[:0]
	for b := range after {
		kept = append(kept, *b)
	}
	s.batches, s.passes = kept, passes
	s.recount()
	if drop > 0 {
		s.dropped.Add(uint64(drop))
		if !s.full.Swap(true) {
			msg := fmt.Sprintf("more than %d portal reads saved for open passes (a tag parked at a door?): the oldest are dropped and a crash now loses them", s.max)
			s.log.Error(msg)
			s.onAlarm("portal_reads_dropped", msg, false)
		}
	}
	if s.full.Load() && s.count < s.max/2 {
		s.full.Store(false)
		s.onAlarm("portal_reads_dropped", "portal reads saved for open passes are back under their bound", true)
	}
	if prune && len(s.passes) > 0 && s.passes[0].tick+savedReadsCompactAfter <= s.ticks {
		return s.compact()
	}
	return nil
}

// failed accounts for a write that did not commit: its reads are lost,
// its passes are tried again at the next write, and what is in the store
// is read again then.
func (s *savedReads) failed(buf []unsavedRead, done []*portal.PassEvent, err error) error {
	s.dropped.Add(uint64(len(buf)))
	s.requeue(done)
	s.stale = true
	return fmt.Errorf("saving portal reads: %w", err)
}

func (s *savedReads) nextSeq() uint64 {
	s.seq++
	return s.seq
}

func (s *savedReads) recount() {
	s.count = 0
	for i := range s.batches {
		s.count += s.batches[i].n
	}
	s.saved.Store(int64(s.count))
}

// compact takes the reads the pass records cover out of the batches that
// may hold them, then deletes the pass records: what a pallet parked at a
// door keeps in the store is its own reads, not those of every pass since.
// It is safe to stop at any point: a replay leaves out what the pass
// records still there cover.
func (s *savedReads) compact() error {
	if len(s.passes) == 0 {
		return nil
	}
	upTo := s.passes[len(s.passes)-1].seq
	latest := int64(math.MinInt64)
	for _, p := range s.passes {
		latest = max(latest, p.end)
	}
	covered := spansByEPC(s.passes)
	wb := newSavedWrite(s.db)
	defer wb.cancel()
	batches := slices.Clone(s.batches)
	kept := batches[:0]
	err := s.db.View(func(txn *badger.Txn) error {
		var reads []rfid.Read
		for _, b := range batches {
			if b.min > latest || b.clean >= upTo {
				b.clean = upTo
				kept = append(kept, b)
				continue
			}
			key := batchKey(b.max, b.seq)
			item, err := txn.Get(key)
			if err != nil {
				return err
			}
			err = item.Value(func(v []byte) error {
				reads, err = decodeBatch(v, reads[:0])
				return err
			})
			b.clean = upTo
			if errors.Is(err, errSavedRead) {
				kept = append(kept, b) // a replay skips it too; the horizon deletes it
				continue
			}
			if err != nil {
				return err
			}
			n := len(reads)
			reads = slices.DeleteFunc(reads, func(r rfid.Read) bool { return covered.has(&r) })
			switch {
			case len(reads) == 0:
				if err := wb.delete(key); err != nil {
					return err
				}
				continue
			case len(reads) < n:
				// Fewer reads of the same readers: one value, no larger.
				v, m := encodeReads(reads)
				m.max, m.seq, m.clean = b.max, b.seq, upTo
				if err := wb.set(key, v); err != nil {
					return err
				}
				b = m
			}
			kept = append(kept, b)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("compacting saved portal reads: %w", err)
	}
	if err := wb.flush(); err != nil {
		s.stale = true
		return fmt.Errorf("compacting saved portal reads: %w", err)
	}
	s.batches = kept
	s.recount()
	// No batch holds a read they cover any more.
	wb = newSavedWrite(s.db)
	defer wb.cancel()
	for _, p := range s.passes {
		if err := wb.delete(passKey(p.end, p.seq)); err != nil {
			return fmt.Errorf("deleting portal pass records: %w", err)
		}
	}
	if err := wb.flush(); err != nil {
		s.stale = true
		return fmt.Errorf("deleting portal pass records: %w", err)
	}
	s.passes = nil
	return nil
}

// savedWrite is one commit of saved reads: no transaction at all when
// there is nothing to write (most ticks between pallets).
type savedWrite struct {
	db   *badger.DB
	wb   *badger.WriteBatch
	done bool
}

func newSavedWrite(db *badger.DB) *savedWrite { return &savedWrite{db: db} }

func (w *savedWrite) batch() *badger.WriteBatch {
	if w.wb == nil {
		w.wb = w.db.NewWriteBatch()
	}
	return w.wb
}

func (w *savedWrite) set(k, v []byte) error { return w.batch().Set(k, v) }
func (w *savedWrite) delete(k []byte) error { return w.batch().Delete(k) }

// flush commits and waits for the sync.
func (w *savedWrite) flush() error {
	if w.wb == nil {
		return nil
	}
	w.done = true
	return w.wb.Flush()
}

// cancel drops what was not flushed.
func (w *savedWrite) cancel() {
	if w.wb != nil && !w.done {
		w.wb.Cancel()
	}
}

// load reads what is in the store: the pass records, then the batches in
// key order. With visit, it gives each batch's reads, less those the pass
// records cover, in time order (the slice is reused after visit returns).
// Batches and records it cannot decode are skipped and logged; such a
// batch is kept until the horizon passes it.
func (s *savedReads) load(visit func([]rfid.Read)) error {
	s.batches, s.passes, s.count = nil, nil, 0
	var bad int
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(store.PrefixPortalPass)})
		for it.Rewind(); it.Valid(); it.Next() {
			end, seq, ok := savedKeyParts(it.Item().Key())
			if !ok {
				continue
			}
			s.seq = max(s.seq, seq)
			p := passRecord{end: end, seq: seq}
			if err := it.Item().Value(func(v []byte) error {
				var err error
				p.spans, err = decodePassRecord(v)
				return err
			}); err != nil {
				bad++
				continue
			}
			s.passes = append(s.passes, p)
		}
		it.Close()
		covered := spansByEPC(s.passes)
		var reads []rfid.Read
		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte(store.PrefixPortalRead)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			at, seq, ok := savedKeyParts(it.Item().Key())
			if !ok {
				continue
			}
			s.seq = max(s.seq, seq)
			m := batchMeta{max: at, min: at, seq: seq}
			err := it.Item().Value(func(v []byte) error {
				n, oldest, err := batchHeader(v)
				if err != nil {
					return err
				}
				if visit != nil {
					if reads, err = decodeBatch(v, reads[:0]); err != nil {
						return err
					}
				}
				m.n, m.min = n, oldest
				return nil
			})
			// One that cannot be decoded stays until the horizon passes it.
			s.batches = append(s.batches, m)
			if err != nil {
				bad++
				continue
			}
			s.count += m.n
			if visit != nil {
				reads = slices.DeleteFunc(reads, func(r rfid.Read) bool { return covered.has(&r) })
				slices.SortStableFunc(reads, func(a, b rfid.Read) int { return a.Time.Compare(b.Time) })
				if len(reads) > 0 {
					visit(reads)
				}
			}
		}
		return nil
	})
	s.saved.Store(int64(s.count))
	if bad > 0 {
		s.log.Warn("saved portal reads that could not be decoded were skipped", "count", bad)
	}
	if err == nil {
		s.stale = false
	}
	return err
}

// replay gives the saved reads to observe in time order, in batches, and
// calls tick as the reads' time advances, as the engine's own loop would
// have while they came in. The reads of passes published before the stop
// are left out. It returns how many reads it gave. It must run before the
// readers start.
func (s *savedReads) replay(observe func([]rfid.Read), tick func(time.Time)) (int, error) {
	var (
		batch    []rfid.Read
		n        int
		lastTick int64
		started  bool
	)
	flush := func() {
		if len(batch) > 0 {
			observe(batch)
			batch = batch[:0]
		}
	}
	err := s.load(func(reads []rfid.Read) {
		for _, r := range reads {
			at := r.Time.UnixNano()
			if !started {
				lastTick, started = at, true
			} else if at-lastTick >= int64(engineTick) {
				flush()
				tick(r.Time)
				lastTick = at
			}
			batch = append(batch, r)
			if len(batch) >= 1024 {
				flush()
			}
			n++
		}
	})
	flush()
	return n, err
}

// coverage finds the saved reads published passes account for.
type coverage map[rfid.EPC][]tagSpan

func spansByEPC(passes []passRecord) coverage {
	c := coverage{}
	for _, p := range passes {
		for _, sp := range p.spans {
			c[sp.epc] = append(c[sp.epc], sp)
		}
	}
	return c
}

func (c coverage) has(r *rfid.Read) bool {
	at := r.Time.UnixNano()
	for _, sp := range c[r.EPC] {
		if sp.first <= at && at <= sp.last {
			return true
		}
	}
	return false
}
