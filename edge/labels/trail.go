package labels

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// Key prefixes under store.PrefixLabel.
const (
	prefixLot    = store.PrefixLabel + "l/"
	prefixCarton = store.PrefixLabel + "c/"
	prefixJob    = store.PrefixLabel + "j/"
	prefixSeq    = store.PrefixLabel + "t/"
)

// ErrInvalid: a record that cannot be appended (no action or no job).
var ErrInvalid = errors.New("invalid label record")

// Trail is the audit trail in the gateway's store. Append and the queries
// are safe for concurrent use.
type Trail struct {
	db   *badger.DB
	last atomic.Uint64 // the last sequence number handed out
	now  func() time.Time
}

// Open opens the trail of db: sequence numbers go on after the last
// record's.
func Open(db *badger.DB) (*Trail, error) {
	t := &Trail{db: db, now: time.Now}
	err := db.View(func(txn *badger.Txn) error {
		p := []byte(prefixSeq)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, Reverse: true})
		defer it.Close()
		it.Seek(append(append([]byte{}, p...), 0xff))
		if it.Valid() {
			if k := it.Item().Key(); len(k) == len(p)+8 {
				t.last.Store(binary.BigEndian.Uint64(k[len(p):]))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("label trail: %w", err)
	}
	return t, nil
}

// nextSeq is the clock in nanoseconds, but always above the last number:
// records keep their order across restarts and when the clock is set back.
func (t *Trail) nextSeq() uint64 {
	for {
		last := t.last.Load()
		next := max(last+1, uint64(max(t.now().UnixNano(), 0)))
		if t.last.CompareAndSwap(last, next) {
			return next
		}
	}
}

func indexKey(prefix, id string, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+len(id)+9)
	k = append(append(append(k, prefix...), id...), 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

func indexPrefix(prefix, id string) []byte {
	return append([]byte(prefix+id), 0)
}

// Append writes r into txn, the transaction that makes the change r
// records, with its indexes by lot, carton and job; it sets r.Seq. The
// record commits with the change or not at all.
func (t *Trail) Append(txn *badger.Txn, r *Record) error {
	if r.Action == "" || r.Job == "" {
		return fmt.Errorf("%w: action %q, job %q: both are required", ErrInvalid, r.Action, r.Job)
	}
	r.Seq = t.nextSeq()
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	lk := indexKey(prefixLot, r.Lot, r.Seq)
	if err := txn.Set(lk, b); err != nil {
		return err
	}
	if err := txn.Set(binary.BigEndian.AppendUint64([]byte(prefixSeq), r.Seq), lk); err != nil {
		return err
	}
	if r.Carton != "" {
		if err := txn.Set(indexKey(prefixCarton, r.Carton, r.Seq), lk); err != nil {
			return err
		}
	}
	return txn.Set(indexKey(prefixJob, r.Job, r.Seq), lk)
}

// Lot returns the records of a lot in the order they were appended: up to
// limit of them (0: all) with a sequence number above after.
func (t *Trail) Lot(lot string, after uint64, limit int) ([]Record, error) {
	out := []Record{}
	err := t.db.View(func(txn *badger.Txn) error {
		p := indexPrefix(prefixLot, lot)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Seek(indexKey(prefixLot, lot, after+1)); it.Valid(); it.Next() {
			var r Record
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				return fmt.Errorf("label record %x: %w", it.Item().Key(), err)
			}
			out = append(out, r)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Carton returns the records of a carton (by SSCC), in order.
func (t *Trail) Carton(sscc string) ([]Record, error) { return t.byIndex(prefixCarton, sscc) }

// Job returns the records of a job, in order.
func (t *Trail) Job(id string) ([]Record, error) { return t.byIndex(prefixJob, id) }

func (t *Trail) byIndex(prefix, id string) ([]Record, error) {
	out := []Record{}
	err := t.db.View(func(txn *badger.Txn) error {
		p := indexPrefix(prefix, id)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			lk, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			item, err := txn.Get(lk)
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue // an index entry without its record: a store restored in part
			}
			if err != nil {
				return err
			}
			var r Record
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				return fmt.Errorf("label record %x: %w", lk, err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// LotCartons returns the records of a lot's cartons, by SSCC, each in
// order (records without a carton are left out).
func (t *Trail) LotCartons(lot string) (map[string][]Record, error) {
	recs, err := t.Lot(lot, 0, 0)
	if err != nil {
		return nil, err
	}
	out := map[string][]Record{}
	for _, r := range recs {
		if r.Carton != "" {
			out[r.Carton] = append(out[r.Carton], r)
		}
	}
	return out, nil
}
