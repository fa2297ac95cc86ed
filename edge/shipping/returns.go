package shipping

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
)

// Return records goods coming back under their original lot: a carton
// found by its EPC or SSCC, or units by a scan of their (01)+(10) (or the
// carton's (00)). The condition says where they go: resaleable back into
// stock, damaged or quarantine out of it; a return of a recalled lot goes
// to quarantine whatever was asked. carton.returned and its EPCIS document
// commit with the return. The same id again returns the recorded return.
func (s *Service) Return(r ReturnRequest) (*Return, error) {
	if err := s.normaliseReturn(&r); err != nil {
		return nil, err
	}
	rr := r
	rr.ID, rr.Source = "", ""
	hash := requestHash(rr)

	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := earlier[Return](s, "return", r.ID, kReturn(r.ID), hash); old != nil || err != nil {
		return old, err
	}
	ret := &Return{ID: r.ID, Time: s.now().UTC(), Door: r.Door, Condition: r.Condition, Reason: r.Reason, RMA: r.RMA,
		Source: r.Source, RequestHash: hash}
	var carton *receiving.Carton
	var err error
	switch {
	case r.EPC != "":
		carton, err = s.cartonOfEPC(r.EPC)
	case r.SSCC != "":
		carton, err = s.recv.Carton(r.SSCC)
		if errors.Is(err, receiving.ErrNotFound) {
			err = conflict("sscc: no carton %s was received here", r.SSCC)
		}
	}
	if err != nil {
		return nil, err
	}
	var sh *Shipment
	if carton != nil {
		var st cartonState
		err := s.st.DB().View(func(txn *badger.Txn) error { return getJSON(txn, kCarton(carton.SSCC), &st) })
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, conflict("carton %s never left: it is in stock", carton.SSCC)
		case err != nil:
			return nil, err
		case st.Return != "":
			return nil, conflict("carton %s came back already (return %s) and did not leave since", carton.SSCC, st.Return)
		}
		if sh, err = s.Get(st.Shipment); err != nil {
			return nil, err
		}
		if sh.Status != StatusShipped {
			return nil, conflict("carton %s is loaded on shipment %s, which has not left: take it back through the door instead", carton.SSCC, sh.ID)
		}
		if r.Shipment != "" && r.Shipment != sh.ID {
			return nil, conflict("shipment: carton %s left with shipment %s, not %s", carton.SSCC, sh.ID, r.Shipment)
		}
		ret = cartonReturn(r.ID, ret.Time, r.Door, r.Condition, carton, sh)
		ret.Reason, ret.RMA, ret.Source, ret.RequestHash = r.Reason, r.RMA, r.Source, hash
	} else {
		m, _ := parseScan(r.Scan) // normaliseReturn checked it
		gtin, _ := m.Get("01")
		lot, _ := m.Get("10")
		ret.Lot, ret.GTIN, ret.Quantity = lot, gtin, r.Quantity
		if ret.Quantity == 0 {
			ret.Quantity = 1
		}
		if r.Shipment != "" {
			if sh, err = s.Get(r.Shipment); err != nil {
				return nil, err
			}
		}
	}
	l, err := s.lots.Lookup(ret.Lot)
	if errors.Is(err, lots.ErrNotFound) {
		return nil, conflict("lot %s is not in the lot registry: these goods were not received here", ret.Lot)
	} else if err != nil {
		return nil, err
	}
	if ret.GTIN != "" && l.GTIN != "" && gs1.GTIN14(ret.GTIN) != l.GTIN {
		return nil, conflict("scan: lot %s is GTIN %s, the scan says %s", ret.Lot, l.GTIN, ret.GTIN)
	}
	ret.GTIN = l.GTIN
	if ret.Cartons == 0 {
		ret.Unit = l.Unit
		if ret.Unit == "" || ret.Unit == "CS" {
			ret.Unit = "EA"
		}
	}
	if sh != nil && carton == nil {
		ret.Shipment, ret.Order = sh.ID, sh.Order
		c := sh.Customer
		ret.Customer = &c
	}
	routeRecalled(ret, &l)
	err = s.st.Update(func(txn *badger.Txn) error {
		n, err := getCounts(txn, ret.Lot)
		if err != nil {
			return err
		}
		if err := s.putReturn(txn, ret, &n); err != nil {
			return err
		}
		return store.PutJSON(txn, kLotCounts(ret.Lot), n)
	})
	if err != nil {
		return nil, fmt.Errorf("record return %s: %w", ret.ID, err)
	}
	s.log.Info("return recorded", "return", ret.ID, "lot", ret.Lot, "condition", ret.Condition, "sscc", ret.SSCC)
	return ret, nil
}

// routeRecalled sends a return of a recalled lot to quarantine.
func routeRecalled(ret *Return, l *lots.Lot) {
	if l.Status == lots.StatusRecalled && ret.Condition != ConditionQuarantine {
		ret.Requested, ret.Condition = ret.Condition, ConditionQuarantine
		ret.Routed = "lot " + l.Code + " is recalled: its returns go to quarantine"
	}
}

// putReturn writes a return, its carton's state and its event in txn, and
// counts it in n, the lot's counts (the caller writes them).
func (s *Service) putReturn(txn *badger.Txn, ret *Return, n *lotCounts) error {
	if err := store.PutJSON(txn, kReturn(ret.ID), ret); err != nil {
		return err
	}
	if err := store.PutJSON(txn, []byte(pLotReturn+ret.Lot+"\x00"+stamp(ret.Time)+ret.ID), ret); err != nil {
		return err
	}
	if ret.Cartons > 0 {
		if err := store.PutJSON(txn, kCarton(ret.SSCC), cartonState{Return: ret.ID, Condition: ret.Condition}); err != nil {
			return err
		}
		n.Shipped--
		n.Returned++
		switch ret.Condition {
		case ConditionDamaged:
			n.Damaged++
		case ConditionQuarantine:
			n.Quarantined++
		}
	} else {
		n.ReturnedUnits += ret.Quantity
	}
	return s.stageEvent(txn, Event{ID: stableID("return", ret.ID), Type: "carton.returned", Time: ret.Time,
		Subject: ret.ID, Lots: []string{ret.Lot}, Body: ret, Return: ret})
}

// cartonReturn is the return of a carton that left with sh.
func cartonReturn(id string, at time.Time, door, condition string, c *receiving.Carton, sh *Shipment) *Return {
	ret := &Return{ID: id, Time: at, Door: door, SSCC: c.SSCC, EPC: c.EPC, Lot: c.Lot, GTIN: c.GTIN, Cartons: 1,
		Quantity: float64(max(c.Qty, 1)), Unit: "EA", Condition: condition, Shipment: sh.ID, Order: sh.Order}
	if c.Qty <= 0 {
		ret.Unit = "CS"
	}
	cust := sh.Customer
	ret.Customer = &cust
	return ret
}

func (s *Service) normaliseReturn(r *ReturnRequest) error {
	n := 0
	for _, v := range []string{r.EPC, r.SSCC, r.Scan} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return invalid("epc, sscc, scan: give exactly one: the carton's EPC or SSCC, or the scan of a unit's (01)+(10)")
	}
	switch r.Condition {
	case ConditionResaleable, ConditionDamaged, ConditionQuarantine:
	case "":
		return invalid("condition: required: resaleable, damaged or quarantine")
	default:
		return invalid("condition: %q is not resaleable, damaged or quarantine", r.Condition)
	}
	if r.Door != "" {
		if _, err := s.doorRole(r.Door); err != nil {
			return err
		}
	}
	if r.Scan != "" {
		m, err := parseScan(r.Scan)
		if err != nil {
			return invalid("scan: %v", err)
		}
		_, okG := m.Get("01")
		_, okL := m.Get("10")
		if sscc, ok := m.Get("00"); ok {
			r.Scan, r.SSCC = "", sscc // a carton's label
		} else if !okG || !okL {
			return invalid("scan: a returned unit is found by its (01) GTIN and (10) lot, or a carton by its (00) SSCC: the scan has neither")
		}
	}
	if r.SSCC != "" {
		sscc, err := normSSCC("sscc", r.SSCC)
		if err != nil {
			return err
		}
		r.SSCC = sscc
	}
	if r.Quantity < 0 || r.Quantity > 0 && r.Scan == "" {
		return invalid("quantity: %v: give a positive number of units, with a scan (a carton is returned whole)", r.Quantity)
	}
	if r.Quantity > maxQuantity {
		return invalid("quantity: %v: at most %v units in one return", r.Quantity, maxQuantity)
	}
	if err := checkTexts(text{"reason", r.Reason, 500}, text{"rma", r.RMA, 80}, text{"shipment", r.Shipment, 80},
		text{"source", r.Source, 64}, text{"scan", r.Scan, 300}); err != nil {
		return err
	}
	if err := requestID(&r.ID, "RT"); err != nil {
		return err
	}
	if r.Source == "" {
		r.Source = "api"
	}
	return nil
}

// cartonOfEPC finds a carton by its EPC: hex, or a tag or pure identity
// URI (an SSCC's pure URI finds the carton by its SSCC).
func (s *Service) cartonOfEPC(in string) (*receiving.Carton, error) {
	var e epc.EPC
	var err error
	if strings.HasPrefix(in, "urn:") {
		e, err = epc.ParseURI(in)
	} else {
		e, err = epc.DecodeHex(in)
	}
	if err != nil {
		return nil, invalid("epc: %v", err)
	}
	c, err := s.recv.CartonByEPC(e.Hex())
	if errors.Is(err, receiving.ErrNotFound) && e.SSCC() != "" {
		c, err = s.recv.Carton(e.SSCC())
	}
	if errors.Is(err, receiving.ErrNotFound) {
		return nil, conflict("epc: no carton with tag %s was received here", e.Hex())
	}
	return c, err
}

// parseScan reads a scan in any GS1 form: scanner output (symbology
// identifier, GS separators), HRI, an element string or a Digital Link.
func parseScan(s string) (gs1.Message, error) {
	if strings.HasPrefix(s, "]") || strings.IndexByte(s, gs1.GS) >= 0 {
		m, _, err := gs1.ParseScanData([]byte(s))
		return m, err
	}
	m, err := gs1.Parse(s)
	if err != nil && s != "" && s[0] >= '0' && s[0] <= '9' {
		if m2, _, err2 := gs1.ParseScanData([]byte(s)); err2 == nil {
			return m2, nil
		}
	}
	return m, err
}

// Returned returns a recorded return.
func (s *Service) Returned(id string) (*Return, error) {
	var r Return
	err := s.st.DB().View(func(txn *badger.Txn) error { return getJSON(txn, kReturn(id), &r) })
	if err != nil {
		return nil, fmt.Errorf("return %q: %w", id, err)
	}
	return &r, nil
}
