package sync

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// Keys (under store.PrefixSync):
//
//	sy/l/<code>      the lot's winning status (JSON LotStatus)
//	sy/m/hlc         the highest version this gateway handed out (8 bytes)
const (
	kLot = store.PrefixSync + "l/"
	kHLC = store.PrefixSync + "m/hlc"
)

// State is the site's lot statuses as this gateway knows them, in the
// gateway's store. Its methods that take a transaction write in it, so
// that a status commits with what it changes (the lot record, the outbox
// event that publishes it).
type State struct {
	db      *badger.DB
	gateway string
	now     func() time.Time
	clock   *Clock
}

// OpenState returns the state in db for gateway; now is the clock (nil:
// time.Now). Versions go on above the highest one the store holds.
func OpenState(db *badger.DB, gateway string, now func() time.Time) (*State, error) {
	if now == nil {
		now = time.Now
	}
	var last Version
	err := db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(kHLC))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) == 8 {
				last = Version(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sync: open state: %w", err)
	}
	return &State{db: db, gateway: gateway, now: now, clock: NewClock(now, last)}, nil
}

// Clock is the state's hybrid logical clock.
func (s *State) Clock() *Clock { return s.clock }

// Get returns the status of a lot as of txn; ok is false when the site
// has told of none.
func (s *State) Get(txn *badger.Txn, code string) (st LotStatus, ok bool, err error) {
	item, err := txn.Get([]byte(kLot + code))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return LotStatus{}, false, nil
	}
	if err != nil {
		return LotStatus{}, false, err
	}
	err = item.Value(func(v []byte) error { return json.Unmarshal(v, &st) })
	if err != nil {
		return LotStatus{}, false, fmt.Errorf("sync: status of lot %s: %w", code, err)
	}
	return st, true, nil
}

// Status is Get in a transaction of its own.
func (s *State) Status(code string) (st LotStatus, ok bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		st, ok, err = s.Get(txn, code)
		return err
	})
	return st, ok, err
}

// Held reports whether the site holds (or recalled) a lot; known is false
// when it has told of none.
func (s *State) Held(code string) (held, known bool, err error) {
	st, ok, err := s.Status(code)
	return st.Held(), ok, err
}

// Local records a status change this gateway makes, in txn, with a new
// version (above every version seen), and returns it: the caller publishes
// it from the same transaction.
func (s *State) Local(txn *badger.Txn, code, status, reason, by string, at time.Time) (LotStatus, error) {
	v := s.clock.Now()
	st := LotStatus{Code: code, Status: status, Reason: reason, By: by, Time: at.UTC(), Gateway: s.gateway, Version: v}
	if err := s.put(txn, st); err != nil {
		return LotStatus{}, err
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	if err := txn.Set([]byte(kHLC), b[:]); err != nil {
		return LotStatus{}, err
	}
	return st, nil
}

// Apply records st, a status heard from the site, in txn when it
// supersedes the one known, and reports whether it did; cur is the status
// known before. A status applied twice (an echo, a message delivered
// again) changes nothing. The clock observes st's version either way.
func (s *State) Apply(txn *badger.Txn, st LotStatus) (applied bool, cur LotStatus, err error) {
	if err := st.Check(s.now()); err != nil {
		return false, LotStatus{}, err
	}
	s.clock.Observe(st.Version)
	cur, ok, err := s.Get(txn, st.Code)
	if err != nil {
		return false, LotStatus{}, err
	}
	if ok && !st.Supersedes(cur) {
		return false, cur, nil
	}
	st.Time = st.Time.UTC()
	return true, cur, s.put(txn, st)
}

func (s *State) put(txn *badger.Txn, st LotStatus) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return txn.Set([]byte(kLot+st.Code), b)
}

// Statuses returns every lot status known, in code order.
func (s *State) Statuses() ([]LotStatus, error) {
	var out []LotStatus
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(kLot), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var st LotStatus
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &st) }); err != nil {
				return err
			}
			out = append(out, st)
		}
		return nil
	})
	return out, err
}
