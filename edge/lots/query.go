package lots

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Order is the order of List's result.
type Order string

// Orders of a product's available lots.
const (
	OrderNone Order = ""     // index order: by code, or by date for a date range
	OrderFEFO Order = "fefo" // first expiry first out; lots without expiry last
	OrderFIFO Order = "fifo" // first produced first out
)

// Query filters List. Zero fields do not filter.
type Query struct {
	// Code keeps the lots whose code starts with it.
	Code     string
	Product  string
	Supplier string
	Status   Status
	// From and To bound the production date (the date received when the
	// production date is unknown), both inclusive, as calendar dates.
	From, To time.Time
	// Order FEFO or FIFO lists a product's available (active or released)
	// lots not past their expiry date; it needs Product.
	Order Order
	// Limit caps the number of lots returned; 0 is no limit.
	Limit int
}

// List returns the lots matching q, without history and links.
func (r *Registry) List(ctx context.Context, q Query) ([]Lot, error) {
	var prefix, seek []byte
	var stop func(k []byte) bool
	switch q.Order {
	case OrderNone:
	case OrderFEFO, OrderFIFO:
		if q.Product == "" {
			return nil, fmt.Errorf("%w: order %s needs a product", ErrInvalid, q.Order)
		}
		if q.Status != "" && !q.Status.Available() {
			return nil, fmt.Errorf("%w: order %s lists available lots; status %s cannot be combined with it", ErrInvalid, q.Order, q.Status)
		}
	default:
		return nil, fmt.Errorf("%w: order %q is not fefo or fifo", ErrInvalid, q.Order)
	}
	if q.Status != "" {
		if _, err := ParseStatus(string(q.Status)); err != nil {
			return nil, err
		}
	}
	from, to := "", "99999999"
	if !q.From.IsZero() {
		from = q.From.Format("20060102")
	}
	if !q.To.IsZero() {
		to = q.To.Format("20060102")
	}
	if from > to {
		return nil, fmt.Errorf("%w: from %s is after to %s", ErrInvalid, q.From.Format(time.DateOnly), q.To.Format(time.DateOnly))
	}
	today := r.today().Format(time.DateOnly)
	switch {
	case q.Order == OrderFEFO:
		prefix = []byte(iFEFO + q.Product + "\x00")
	case q.Order == OrderFIFO:
		prefix = []byte(iFIFO + q.Product + "\x00")
	case q.Product != "":
		prefix = []byte(iProduct + q.Product + "\x00")
	case q.Supplier != "":
		prefix = []byte(iSupp + q.Supplier + "\x00")
	case q.Status != "":
		prefix = []byte(iStatus + string(q.Status) + "\x00")
	case from != "" || to != "99999999":
		prefix = []byte(iDate)
		seek = []byte(iDate + from)
		stop = func(k []byte) bool { return string(k[len(iDate):len(iDate)+8]) > to }
	}
	var out []Lot
	err := r.db.View(func(txn *badger.Txn) error {
		match := func(st *stored) bool {
			l := &st.Lot
			if q.Code != "" && !strings.HasPrefix(l.Code, q.Code) ||
				q.Product != "" && l.Product != q.Product || q.Supplier != "" && l.Supplier != q.Supplier ||
				q.Status != "" && l.Status != q.Status {
				return false
			}
			d := l.Production
			if d == "" {
				d = l.Created.Format(time.DateOnly)
			}
			if d = ymd(d); d < from || d > to {
				return false
			}
			if q.Order != OrderNone && (!l.Status.Available() || l.Expiry != "" && l.Expiry < today) {
				return false
			}
			return true
		}
		if prefix == nil { // no index fits: scan the records
			// Records are keyed by code: a code's prefix narrows the scan.
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(kRec + q.Code), PrefetchValues: true, PrefetchSize: 64})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				st := new(stored)
				if err := it.Item().Value(func(v []byte) error { return jsonUnmarshal(v, st) }); err != nil {
					return fmt.Errorf("lots: record %s: %w", it.Item().Key(), err)
				}
				if match(st) {
					out = append(out, st.Lot)
					if q.Limit > 0 && len(out) >= q.Limit {
						return nil
					}
				}
				if len(out)%1024 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
			}
			return nil
		}
		covering := q.Order != OrderNone // FEFO/FIFO entries carry the record
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		if seek == nil {
			seek = prefix
		}
		n := 0
		for it.Seek(seek); it.Valid(); it.Next() {
			k := it.Item().Key()
			if stop != nil && stop(k) {
				break
			}
			code := string(k[bytes.LastIndexByte(k, 0)+1:])
			var st *stored
			if covering {
				st = new(stored)
				if err := it.Item().Value(func(v []byte) error { return jsonUnmarshal(v, st) }); err != nil {
					return fmt.Errorf("lots: index entry of %s: %w", code, err)
				}
			} else {
				var err error
				if st, err = getRecord(txn, code); err != nil {
					return err
				}
			}
			if match(st) {
				out = append(out, st.Lot)
				if q.Limit > 0 && len(out) >= q.Limit {
					return nil
				}
			}
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	})
	return out, err
}

// Expiring lists the lots, not recalled or expired, whose expiry date is on
// or before today + days (overdue lots not yet marked expired included),
// soonest first.
func (r *Registry) Expiring(ctx context.Context, days int) ([]Lot, error) {
	if days < 0 {
		return nil, fmt.Errorf("%w: days %d is negative", ErrInvalid, days)
	}
	end := r.today().AddDate(0, 0, days).Format("20060102")
	var out []Lot
	err := r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(iExpiry)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[len(iExpiry):]
			if string(k[:8]) > end {
				break
			}
			st, err := getRecord(txn, string(k[9:]))
			if err != nil {
				return err
			}
			out = append(out, st.Lot)
			if len(out)%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return nil
	})
	return out, err
}
