package shipping

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/gs1"
)

// maxSweep bounds the EPCs of one count.
const maxSweep = 20000

// maxQuantity bounds a quantity counted or returned: a larger one is a
// mistake, and the sums of a lot's counts must stay finite (JSON has no
// infinity).
const maxQuantity = 1e9

// MaxCountWindow bounds the window of a count of the passes at a door.
const MaxCountWindow = 24 * time.Hour

// Count records a cycle count and compares it with the stock the gateway
// knows (cartons received, less those loaded, shipped or returned unfit
// for sale; the gateway keeps no bin locations, so a count is compared with
// the site's stock of the lot). A counted quantity is of a lot, or of a
// GTIN as a whole; an RFID sweep counts each carton found for its lot (of
// the lot or GTIN asked for, or of any lot). count.recorded carries the
// variance per lot and in total. The same id again returns the recorded
// count.
//
// A count of a window (door, from, to) takes the tags of the passes the
// portal reported at the door in [from, to) as the EPCs of a sweep.
func (s *Service) Count(ctx context.Context, r CountRequest) (*Count, error) {
	if err := s.normaliseCount(&r); err != nil {
		return nil, err
	}
	from, to, err := s.countWindow(&r)
	if err != nil {
		return nil, err
	}
	rr := r
	rr.ID, rr.Source = "", ""
	hash := requestHash(rr)

	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := earlier[Count](s, "count", r.ID, kCount(r.ID), hash); old != nil || err != nil {
		return old, err
	}
	c := &Count{ID: r.ID, Time: s.now().UTC(), Location: r.Location, Door: r.Door, Lot: r.Lot, GTIN: r.GTIN, Unit: r.Unit,
		Lots: []CountLot{}, By: r.By, Source: r.Source, RequestHash: hash}
	sweep := len(r.EPCs) > 0
	if !from.IsZero() {
		c.From, c.To, sweep = &from, &to, true
		r.EPCs, err = s.recv.TagsPassedAt(r.Door, from, to, maxSweep)
		if errors.Is(err, receiving.ErrTooManyTags) {
			return nil, invalid("from, to: %v: count a shorter window", err)
		} else if err != nil {
			return nil, fmt.Errorf("passes at door %s: %w", r.Door, err)
		}
	}
	stock := newStockView(s)
	// The lots the count is about.
	var scope []lots.Lot
	switch {
	case r.Lot != "":
		l, err := s.lots.Lookup(r.Lot)
		if errors.Is(err, lots.ErrNotFound) {
			return nil, conflict("lot %s is not in the lot registry", r.Lot)
		} else if err != nil {
			return nil, err
		}
		if r.GTIN != "" && l.GTIN != r.GTIN {
			return nil, conflict("gtin: lot %s is GTIN %s, not %s", r.Lot, l.GTIN, r.GTIN)
		}
		scope = []lots.Lot{l}
	case r.GTIN != "":
		all, err := s.lots.List(ctx, lots.Query{})
		if err != nil {
			return nil, err
		}
		for _, l := range all {
			if l.GTIN != r.GTIN {
				continue
			}
			if n, err := stock.inStock(l.Code); err != nil {
				return nil, err
			} else if n > 0 {
				scope = append(scope, l)
			}
		}
	}
	counted := map[string]float64{}
	if sweep {
		seen := map[string]bool{}
		for _, e := range r.EPCs {
			carton, err := s.cartonOfEPC(e)
			if errors.Is(err, ErrConflict) {
				c.Unknown = append(c.Unknown, e)
				continue
			} else if err != nil {
				return nil, err
			}
			if seen[carton.SSCC] || r.Lot != "" && carton.Lot != r.Lot || r.GTIN != "" && carton.GTIN != r.GTIN {
				continue // read twice, or another lot's carton: not counted here
			}
			seen[carton.SSCC] = true
			counted[carton.Lot]++
			if !slices.ContainsFunc(scope, func(l lots.Lot) bool { return l.Code == carton.Lot }) {
				l, err := s.lots.Lookup(carton.Lot)
				if err != nil {
					return nil, err
				}
				scope = append(scope, l)
			}
		}
	}
	slices.SortFunc(scope, func(a, b lots.Lot) int { return strings.Compare(a.Code, b.Code) })
	for _, l := range scope {
		n, err := stock.inStock(l.Code)
		if err != nil {
			return nil, err
		}
		exp := float64(n)
		if r.Unit != "CS" {
			per, err := s.perCarton(l.Code, r.Unit)
			if err != nil {
				return nil, err
			}
			exp *= per
		}
		cl := CountLot{Lot: l.Code, GTIN: l.GTIN, Expected: exp}
		if sweep || r.Lot != "" {
			got := counted[l.Code]
			if r.Quantity != nil {
				got = *r.Quantity
			}
			v := got - exp
			cl.Counted, cl.Variance = &got, &v
			c.Counted += got
		}
		c.Expected += exp
		c.Lots = append(c.Lots, cl)
	}
	if r.Quantity != nil && r.Lot == "" {
		c.Counted = *r.Quantity // a GTIN counted as a whole
	}
	c.Variance = c.Counted - c.Expected
	lotsOf := make([]string, len(c.Lots))
	for i, l := range c.Lots {
		lotsOf[i] = l.Lot
	}
	err = s.st.Update(func(txn *badger.Txn) error {
		if err := store.PutJSON(txn, kCount(c.ID), c); err != nil {
			return err
		}
		for _, lot := range lotsOf {
			if err := txn.Set(kLotCount(lot, c.Time, c.ID), nil); err != nil {
				return err
			}
		}
		return s.stageEvent(txn, Event{ID: stableID("count", c.ID), Type: "count.recorded", Time: c.Time, Subject: c.ID, Lots: lotsOf, Body: c})
	})
	if err != nil {
		return nil, fmt.Errorf("record count %s: %w", c.ID, err)
	}
	return c, nil
}

// perCarton is how many of unit a lot's carton holds: the qty_per_carton
// of its receipts, which must agree.
func (s *Service) perCarton(lot, unit string) (float64, error) {
	rcs, err := s.recv.ReceiptsOfLot(lot)
	if err != nil {
		return 0, err
	}
	per := 0
	for _, rc := range rcs {
		if rc.Unit != unit || rc.QtyPerCarton <= 0 {
			return 0, conflict("unit: lot %s is received in %s (receipt %s, %d per carton), not counted in %s: count cartons (CS) or in its unit", lot, rc.Unit, rc.ID, rc.QtyPerCarton, unit)
		}
		if per != 0 && per != rc.QtyPerCarton {
			return 0, conflict("unit: lot %s has %d and %d %s per carton (receipt %s): count cartons (CS)", lot, per, rc.QtyPerCarton, unit, rc.ID)
		}
		per = rc.QtyPerCarton
	}
	return float64(per), nil
}

func (s *Service) normaliseCount(r *CountRequest) error {
	window := r.From != "" || r.To != ""
	n := 0
	for _, given := range []bool{r.Quantity != nil, len(r.EPCs) > 0, window} {
		if given {
			n++
		}
	}
	if n != 1 {
		return invalid("quantity, epcs, from/to: give the quantity counted, the EPCs of a sweep, or a window of the passes at a door (door, from, to); one of them, not both")
	}
	if r.Quantity != nil && *r.Quantity < 0 {
		return invalid("quantity: %v is negative", *r.Quantity)
	}
	if r.Quantity != nil && r.Lot == "" && r.GTIN == "" {
		return invalid("lot, gtin: a counted quantity is of a lot or a GTIN: name it")
	}
	if len(r.EPCs) > maxSweep {
		return invalid("epcs: %d, at most %d in one count", len(r.EPCs), maxSweep)
	}
	if r.GTIN != "" {
		r.GTIN = gs1.GTIN14(r.GTIN)
		if err := gs1.ValidateValue("01", r.GTIN); err != nil {
			return invalid("gtin: %v", err)
		}
	}
	if r.Unit == "" {
		r.Unit = "CS"
	}
	if !unitPattern(r.Unit) {
		return invalid("unit: %q is not a UN/CEFACT unit code (CS for cartons, or the lot's unit, e.g. EA)", r.Unit)
	}
	if q := r.Quantity; q != nil && *q > maxQuantity {
		return invalid("quantity: %v: at most %v in one count", *q, maxQuantity)
	}
	if q := r.Quantity; q != nil && r.Unit == "CS" && *q != math.Trunc(*q) {
		return invalid("quantity: %v cartons: count whole cartons, or give the items in the lot's unit", *q)
	}
	if (len(r.EPCs) > 0 || window) && r.Unit != "CS" {
		return invalid("unit: a sweep counts cartons (CS)")
	}
	if r.Door != "" {
		if _, err := s.doorRole(r.Door); err != nil {
			return err
		}
	}
	if err := checkTexts(text{"location", r.Location, 80}, text{"lot", r.Lot, 20}, text{"by", r.By, 64}, text{"source", r.Source, 64}); err != nil {
		return err
	}
	if err := requestID(&r.ID, "K"); err != nil {
		return err
	}
	if r.Source == "" {
		r.Source = "api"
	}
	return nil
}

// countWindow parses and checks the window of a count of the passes at a
// door; both are zero for a count without one.
func (s *Service) countWindow(r *CountRequest) (from, to time.Time, err error) {
	if r.From == "" && r.To == "" {
		return from, to, nil
	}
	if r.Door == "" {
		return from, to, invalid("door: a count of a window is of the passes at a door: name it")
	}
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"from", r.From, &from}, {"to", r.To, &to}} {
		if f.v == "" {
			return from, to, invalid("%s: a window needs both from and to (RFC 3339, e.g. 2026-03-01T06:00:00Z)", f.name)
		}
		t, err := time.Parse(time.RFC3339Nano, f.v)
		if err != nil {
			return from, to, invalid("%s: %q is not an RFC 3339 time (e.g. 2026-03-01T06:00:00Z)", f.name, f.v)
		}
		*f.t = t.UTC()
	}
	now := s.now().UTC()
	switch {
	case !from.Before(to):
		return from, to, invalid("from, to: from %s is not before to %s: give the window's start as from", r.From, r.To)
	case to.Sub(from) > MaxCountWindow:
		return from, to, invalid("from, to: the window is %s, at most %s: count it in shorter windows", to.Sub(from), MaxCountWindow)
	case to.After(now):
		return from, to, invalid("to: %s is in the future: a count takes the passes already recorded; end the window now or earlier", r.To)
	case from.Before(now.Add(-receiving.PassIndexRetention)):
		return from, to, invalid("from: %s is older than the %s the passes of a door are kept for: count a later window", r.From, receiving.PassIndexRetention)
	}
	return from, to, nil
}

func unitPattern(u string) bool {
	if len(u) < 2 || len(u) > 3 {
		return false
	}
	return strings.Trim(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// Counted returns a recorded count.
func (s *Service) Counted(id string) (*Count, error) {
	var c Count
	err := s.st.DB().View(func(txn *badger.Txn) error { return getJSON(txn, kCount(id), &c) })
	if err != nil {
		return nil, fmt.Errorf("count %q: %w", id, err)
	}
	return &c, nil
}
