package shipping

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/rfid/portal"
)

// mismatchesPerEvent bounds the cartons one shipment.mismatch event names
// (a pass of many is told in several events).
const mismatchesPerEvent = 100

// LockPass locks shipping's records for the gateway's transaction of a
// portal pass, in which OnPass runs, until unlock is called after its
// commit: no shipment changes between what OnPass reads and the commit.
func (s *Service) LockPass() (unlock func()) {
	s.mu.Lock()
	return s.mu.Unlock
}

// passRun is one pass being matched.
type passRun struct {
	s       *Service
	txn     *badger.Txn
	door    string
	at      time.Time
	ships   map[string]*Shipment // read or changed in this pass
	changed map[string]bool
	counts  map[string]*lotCounts
	lots    map[string]*lots.Lot
	res     PassResult
}

// OnPass matches the EPCs (hex) of a pass at a door to the door's
// shipments, in txn, the transaction that records the pass (the caller
// holds LockPass). At a door of role shipping or both a carton going out (or,
// at a shipping door, of unknown direction) that an open shipment of the
// door asks for is loaded on it; any other carton raises a mismatch, and a
// carton of the site's that leaves anyway is kept on a shipment of the
// door as unplanned. A carton of an open shipment of the door going in is
// taken back off it; one that left with a shipment, going in at a returns
// door (Config.ReturnsDoors), is returned. Other passes change nothing.
func (s *Service) OnPass(txn *badger.Txn, door, direction string, at time.Time, epcs []string) (PassResult, error) {
	p := &passRun{s: s, txn: txn, door: door, at: at.UTC(), ships: map[string]*Shipment{}, changed: map[string]bool{},
		counts: map[string]*lotCounts{}, lots: map[string]*lots.Lot{},
		res: PassResult{Loaded: []string{}, Unloaded: []string{}, Mismatches: []Mismatch{}, Complete: []string{}, Returned: []string{}}}
	role, returns := s.cfg.Doors[door], s.cfg.ReturnsDoors[door]
	shipDoor := role == portal.RoleShipping || role == portal.RoleBoth
	out := shipDoor && (direction == portal.DirectionOut || role == portal.RoleShipping && direction == portal.DirectionUnknown)
	in := direction == portal.DirectionIn && (shipDoor || returns != "")
	if !out && !in {
		return p.res, nil
	}
	open, err := p.openShipments()
	if err != nil {
		return p.res, err
	}
	for _, h := range epcs {
		h = strings.ToUpper(h)
		c, err := s.recv.CartonByEPC(h)
		if errors.Is(err, receiving.ErrNotFound) {
			if out {
				p.res.Mismatches = append(p.res.Mismatches, Mismatch{EPC: h, Reason: ReasonUnknown})
				if len(open) > 0 {
					open[0].Mismatches++
					p.changed[open[0].ID] = true
				}
			}
			continue
		}
		if err != nil {
			return p.res, err
		}
		switch {
		case out:
			err = p.load(open, c)
		case shipDoor:
			if err = p.unload(c); err == nil && returns != "" {
				err = p.returned(c, returns)
			}
		default:
			err = p.returned(c, returns)
		}
		if err != nil {
			return p.res, fmt.Errorf("carton %s: %w", c.SSCC, err)
		}
	}
	return p.res, p.commit(open, direction)
}

// openShipments are the door's open shipments, oldest first.
func (p *passRun) openShipments() ([]*Shipment, error) {
	var out []*Shipment
	err := store.Scan(p.txn, kOpenPrefix(p.door), true, func(_, id []byte) error {
		sh, err := p.shipment(string(id))
		if err != nil {
			return err
		}
		out = append(out, sh)
		return nil
	})
	return out, err
}

func (p *passRun) shipment(id string) (*Shipment, error) {
	if sh := p.ships[id]; sh != nil {
		return sh, nil
	}
	sh := &Shipment{}
	if err := getJSON(p.txn, kShipment(id), sh); err != nil {
		return nil, fmt.Errorf("shipment %s: %w", id, err)
	}
	p.ships[id] = sh
	return sh, nil
}

func (p *passRun) lotCounts(lot string) (*lotCounts, error) {
	if c := p.counts[lot]; c != nil {
		return c, nil
	}
	c, err := getCounts(p.txn, lot)
	if err != nil {
		return nil, err
	}
	p.counts[lot] = &c
	return &c, nil
}

func (p *passRun) lot(code string) (*lots.Lot, error) {
	if l := p.lots[code]; l != nil {
		return l, nil
	}
	l, err := p.s.lots.Lookup(code)
	if err != nil {
		return nil, fmt.Errorf("lot %s: %w", code, err)
	}
	p.lots[code] = &l
	return &l, nil
}

// load loads a carton going out on the shipment that asks for it, or
// raises its mismatch.
func (p *passRun) load(open []*Shipment, c *receiving.Carton) error {
	// The shipment that asked for the carton by SSCC, if it is open.
	var asked *Shipment
	if item, err := p.txn.Get(kExpected(c.SSCC)); err == nil {
		id, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if asked, err = p.shipment(string(id)); err != nil {
			return err
		}
		if asked.Status == StatusShipped {
			asked = nil
		}
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	mismatch := func(reason, other string, unplanned bool) error {
		p.res.Mismatches = append(p.res.Mismatches, Mismatch{EPC: c.EPC, SSCC: c.SSCC, Lot: c.Lot, Reason: reason, Shipment: other})
		// An unplanned carton left on this truck: the trace must say
		// so. It stays on the shipment of the door that asked for it (by
		// SSCC, then by lot), else on the door's oldest.
		target := (*Shipment)(nil)
		if asked != nil && asked.Door == p.door {
			target = asked
		}
		for _, sh := range open {
			if target == nil && slices.ContainsFunc(sh.Lines, func(l Line) bool { return l.Lot == c.Lot }) {
				target = sh
			}
		}
		if target == nil && len(open) > 0 {
			target = open[0]
		}
		if target == nil {
			return nil
		}
		target.Mismatches++
		p.changed[target.ID] = true
		if !unplanned {
			return nil
		}
		return p.put(target, c, LineUnplanned, reason)
	}
	var st cartonState
	switch err := getJSON(p.txn, kCarton(c.SSCC), &st); {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	case st.Return != "":
		if st.Condition != ConditionResaleable {
			return mismatch(ReasonQuarantined, "", true)
		}
	default:
		sh, err := p.shipment(st.Shipment)
		if err != nil {
			return err
		}
		if sh.Status != StatusShipped && sh.Door == p.door {
			return nil // on a shipment of this door already: read again
		}
		return mismatch(ReasonOtherShipment, sh.ID, false)
	}
	l, err := p.lot(c.Lot)
	if err != nil {
		return err
	}
	if why := p.s.unusable(l); why != "" {
		return mismatch(why, "", true)
	}
	if asked != nil {
		if asked.Door != p.door {
			return mismatch(ReasonOtherShipment, asked.ID, true)
		}
		return p.put(asked, c, LineSSCC, "")
	}
	for _, sh := range open {
		for i, line := range sh.Lines {
			if line.Lot == c.Lot && line.Loaded < line.Cartons {
				return p.put(sh, c, i, "")
			}
		}
	}
	if len(open) == 0 {
		return mismatch(ReasonNoOpenShipment, "", false)
	}
	return mismatch(ReasonNotOrdered, "", true)
}

// put records a carton on a shipment: for a lot line, for its SSCC, or
// unplanned.
func (p *passRun) put(sh *Shipment, c *receiving.Carton, line int, reason string) error {
	lc := LoadedCarton{SSCC: c.SSCC, EPC: c.EPC, Lot: c.Lot, GTIN: c.GTIN, Qty: c.Qty, Time: p.at, Line: line, Reason: reason}
	if err := store.PutJSON(p.txn, kLoaded(sh.ID, c.SSCC), lc); err != nil {
		return err
	}
	if err := store.PutJSON(p.txn, kCarton(c.SSCC), cartonState{Shipment: sh.ID}); err != nil {
		return err
	}
	n, err := p.lotCounts(c.Lot)
	if err != nil {
		return err
	}
	n.Loaded++
	sh.count(lc, +1)
	p.changed[sh.ID] = true
	if line != LineUnplanned {
		p.res.Loaded = append(p.res.Loaded, c.SSCC)
	}
	return nil
}

// count adds d to the counters a loaded carton counts in.
func (sh *Shipment) count(lc LoadedCarton, d int) {
	switch {
	case lc.Line == LineUnplanned:
		sh.Unplanned += d
		return
	case lc.Line == LineSSCC:
		for i := range sh.SSCCLots {
			if sh.SSCCLots[i].Lot == lc.Lot {
				sh.SSCCLots[i].Loaded += d
				break
			}
		}
	case lc.Line >= 0 && lc.Line < len(sh.Lines):
		sh.Lines[lc.Line].Loaded += d
	}
	sh.Loaded += d
}

// unload takes a carton going in back off the open shipment of this door
// it is on.
func (p *passRun) unload(c *receiving.Carton) error {
	var st cartonState
	if err := getJSON(p.txn, kCarton(c.SSCC), &st); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if st.Return != "" {
		return nil
	}
	sh, err := p.shipment(st.Shipment)
	if err != nil {
		return err
	}
	if sh.Status == StatusShipped || sh.Door != p.door {
		return nil
	}
	var lc LoadedCarton
	if err := getJSON(p.txn, kLoaded(sh.ID, c.SSCC), &lc); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if err := p.txn.Delete(kLoaded(sh.ID, c.SSCC)); err != nil {
		return err
	}
	if err := p.txn.Delete(kCarton(c.SSCC)); err != nil {
		return err
	}
	n, err := p.lotCounts(c.Lot)
	if err != nil {
		return err
	}
	n.Loaded--
	sh.count(lc, -1)
	if sh.Status == StatusLoaded && sh.Loaded < sh.Expected {
		sh.Status, sh.LoadedAt = StatusOpen, time.Time{}
	}
	p.changed[sh.ID] = true
	p.res.Unloaded = append(p.res.Unloaded, c.SSCC)
	return nil
}

// returned records a carton that left with a shipment and comes in
// through a returns door as a return in the door's condition (quarantine
// for a recalled lot). A carton in stock, on an open shipment or back
// already is not one.
func (p *passRun) returned(c *receiving.Carton, condition string) error {
	var st cartonState
	if err := getJSON(p.txn, kCarton(c.SSCC), &st); errors.Is(err, ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if st.Return != "" {
		return nil
	}
	sh, err := p.shipment(st.Shipment)
	if err != nil || sh.Status != StatusShipped {
		return err
	}
	l, err := p.lot(c.Lot)
	if err != nil {
		return err
	}
	id := p.door + "." + c.SSCC + "." + strconv.FormatInt(p.at.UnixNano(), 36)
	ret := cartonReturn(id, p.at, p.door, condition, c, sh)
	ret.Source = "portal"
	routeRecalled(ret, l)
	n, err := p.lotCounts(c.Lot)
	if err != nil {
		return err
	}
	if err := p.s.putReturn(p.txn, ret, n); err != nil {
		return err
	}
	p.res.Returned = append(p.res.Returned, ret.ID)
	return nil
}

// commit writes what the pass changed and stages its events.
func (p *passRun) commit(open []*Shipment, direction string) error {
	for _, lot := range sortedKeys(p.counts) {
		if err := store.PutJSON(p.txn, kLotCounts(lot), p.counts[lot]); err != nil {
			return err
		}
	}
	for _, id := range sortedKeys(p.changed) {
		sh := p.ships[id]
		if sh.Status == StatusOpen && sh.Expected > 0 && sh.Loaded >= sh.Expected {
			sh.Status, sh.LoadedAt = StatusLoaded, p.at
			p.res.Complete = append(p.res.Complete, sh.ID)
			body := map[string]any{"shipment": sh.ID, "order": sh.Order, "customer": sh.Customer, "door": sh.Door,
				"cartons": sh.Loaded, "expected": sh.Expected, "unplanned": sh.Unplanned, "time": p.at}
			if err := p.s.stageEvent(p.txn, Event{ID: stableID(sh.ID, "loaded", stamp(p.at)), Type: "shipment.loaded", Time: p.at,
				Subject: sh.ID, Lots: sh.lotCodes(), Body: body}); err != nil {
				return err
			}
		}
		if err := store.PutJSON(p.txn, kShipment(sh.ID), sh); err != nil {
			return err
		}
	}
	ids := make([]string, len(open))
	for i, sh := range open {
		ids[i] = sh.ID
	}
	for part := 0; part*mismatchesPerEvent < len(p.res.Mismatches); part++ {
		ms := p.res.Mismatches[part*mismatchesPerEvent : min(len(p.res.Mismatches), (part+1)*mismatchesPerEvent)]
		var lotsOf []string
		for _, m := range ms {
			if m.Lot != "" {
				lotsOf = append(lotsOf, m.Lot)
			}
		}
		slices.Sort(lotsOf)
		body := map[string]any{"door": p.door, "direction": direction, "time": p.at, "shipments": ids, "cartons": ms}
		// Named by its first carton: a pass committed in chunks of tags
		// has events of its own per chunk, the same again on a replay.
		if err := p.s.stageEvent(p.txn, Event{ID: stableID(p.door, stamp(p.at), "mismatch", ms[0].EPC), Type: "shipment.mismatch",
			Time: p.at, Subject: p.door, Lots: slices.Compact(lotsOf), Body: body}); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
