package shipping

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
)

// LotShipments lists the shipments a lot left in, oldest first: the
// shipments of its trace.
func (s *Service) LotShipments(lot string) ([]LotShipment, error) {
	out := []LotShipment{}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, kLotShipPrefix(lot), true, func(_, v []byte) error {
			var ls LotShipment
			if err := json.Unmarshal(v, &ls); err != nil {
				return err
			}
			out = append(out, ls)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b LotShipment) int { return a.Time.Compare(b.Time) })
	return out, err
}

// LotOrigin is a lot a customer or an order received, and where it came
// from: its supplier and the supplier's lot.
type LotOrigin struct {
	Lot         string `json:"lot"`
	GTIN        string `json:"gtin,omitempty"`
	Product     string `json:"product,omitempty"`
	Status      string `json:"status,omitempty"`
	Expiry      string `json:"expiry_date,omitempty"`
	Source      string `json:"source,omitempty"` // generated, supplier
	Supplier    string `json:"supplier,omitempty"`
	SupplierLot string `json:"supplier_lot,omitempty"`
	// How much of the lot the customer (order) received.
	Cartons  int     `json:"cartons"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
}

// PartyTrace is the backward trace of a customer or an order: its
// shipments, and the lots they carried back to their suppliers.
type PartyTrace struct {
	Customer  string            `json:"customer,omitempty"`
	Order     string            `json:"order,omitempty"`
	Shipments []ShipmentSummary `json:"shipments"`
	Lots      []LotOrigin       `json:"lots"`
}

// TraceCustomer is the backward trace of a customer (by its id, GLN, or
// name when it has neither): every shipment it received and the lots in
// them, with their suppliers' lots.
func (s *Service) TraceCustomer(id string) (*PartyTrace, error) {
	if id == "" {
		return nil, invalid("customer: give its id, GLN or name")
	}
	t, err := s.tracePrefix(kCustomerPrefix(id))
	if err != nil {
		return nil, err
	}
	if len(t.Shipments) == 0 {
		return nil, fmt.Errorf("customer %q: no shipment to it left here: %w", id, ErrNotFound)
	}
	t.Customer = id
	return t, nil
}

// TraceOrder is the backward trace of an order: its shipments and the lots
// in them, with their suppliers' lots.
func (s *Service) TraceOrder(id string) (*PartyTrace, error) {
	if id == "" {
		return nil, invalid("order: give its id")
	}
	t, err := s.tracePrefix(kOrderPrefix(id))
	if err != nil {
		return nil, err
	}
	if len(t.Shipments) == 0 {
		return nil, fmt.Errorf("order %q: no shipment of it left here: %w", id, ErrNotFound)
	}
	t.Order = id
	return t, nil
}

func (s *Service) tracePrefix(prefix []byte) (*PartyTrace, error) {
	t := &PartyTrace{Shipments: []ShipmentSummary{}, Lots: []LotOrigin{}}
	byLot := map[string]*LotOrigin{}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, prefix, true, func(k, v []byte) error {
			sum, err := decodeSummary(v)
			if err != nil {
				return fmt.Errorf("%w: key %q", err, k)
			}
			t.Shipments = append(t.Shipments, sum)
			for _, q := range sum.Lots {
				o := byLot[q.Lot]
				if o == nil {
					o = &LotOrigin{Lot: q.Lot, GTIN: q.GTIN, Unit: q.Unit}
					byLot[q.Lot] = o
				}
				o.Cartons += q.Cartons
				o.Quantity += q.Quantity
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(t.Shipments, func(a, b ShipmentSummary) int { return a.Time.Compare(b.Time) })
	for _, code := range sortedKeys(byLot) {
		o := byLot[code]
		if l, err := s.lots.Lookup(code); err == nil {
			o.GTIN, o.Product, o.Status, o.Expiry = cmp.Or(o.GTIN, l.GTIN), l.Product, string(l.Status), l.Expiry
			o.Source, o.Supplier, o.SupplierLot = l.Source, l.Supplier, l.SupplierLot
		} else if !errors.Is(err, lots.ErrNotFound) {
			return nil, err
		}
		t.Lots = append(t.Lots, *o)
	}
	return t, nil
}

// Amount is a number of cartons and what they hold.
type Amount struct {
	Cartons  int     `json:"cartons"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
}

// RecallReceipt is a receipt of the recalled lot.
type RecallReceipt struct {
	Receipt        string    `json:"receipt"`
	Time           time.Time `json:"time"`
	Door           string    `json:"door"`
	Supplier       string    `json:"supplier,omitempty"`
	SupplierLot    string    `json:"supplier_lot,omitempty"`
	PO             string    `json:"po,omitempty"`
	DespatchAdvice string    `json:"despatch_advice,omitempty"`
	Amount
}

// RecallCustomer is a customer that received the lot, with its orders.
type RecallCustomer struct {
	Customer Party `json:"customer"`
	Amount
	Orders []RecallOrder `json:"orders"`
}

// RecallOrder is one shipment of the lot to a customer.
type RecallOrder struct {
	Order    string    `json:"order"`
	Shipment string    `json:"shipment"`
	ShipTo   Place     `json:"ship_to"`
	Door     string    `json:"door"`
	Time     time.Time `json:"time"`
	Amount
}

// RecallReport is everything a recall of one lot needs: who received it
// (every customer and order, with quantities), what is still in stock,
// what came back, and the supplier's lot behind it.
type RecallReport struct {
	Lot         string `json:"lot"`
	GTIN        string `json:"gtin,omitempty"`
	Product     string `json:"product,omitempty"`
	Status      string `json:"status"`
	StatusNote  string `json:"status_reason,omitempty"`
	Expiry      string `json:"expiry_date,omitempty"`
	Source      string `json:"source"`
	Supplier    string `json:"supplier,omitempty"`
	SupplierLot string `json:"supplier_lot,omitempty"`

	Received  Amount           `json:"received"`
	Receipts  []RecallReceipt  `json:"receipts"`
	Shipped   Amount           `json:"shipped"`
	Orders    int              `json:"orders"`
	Customers []RecallCustomer `json:"customers"`
	// Loaded are cartons on shipments not closed yet (they may still be
	// stopped at the door); InStock at the site and fit for sale.
	Loaded   int       `json:"loaded"`
	InStock  Amount    `json:"in_stock"`
	Returned Amount    `json:"returned"`
	Returns  []Return  `json:"returns"`
	Time     time.Time `json:"generated_at"`
}

// RecallReport reports on a lot for its recall.
func (s *Service) RecallReport(lot string) (*RecallReport, error) {
	l, err := s.lots.Lookup(lot)
	if errors.Is(err, lots.ErrNotFound) {
		return nil, fmt.Errorf("lot %q: %w", lot, ErrNotFound)
	} else if err != nil {
		return nil, err
	}
	rep := &RecallReport{Lot: lot, GTIN: l.GTIN, Product: l.Product, Status: string(l.Status), StatusNote: l.HoldReason,
		Expiry: l.Expiry, Source: l.Source, Supplier: l.Supplier, SupplierLot: l.SupplierLot,
		Receipts: []RecallReceipt{}, Customers: []RecallCustomer{}, Returns: []Return{}, Time: s.now().UTC()}
	rcs, err := s.recv.ReceiptsOfLot(lot)
	if err != nil {
		return nil, err
	}
	per, uniform := 0, len(rcs) > 0 // items per carton, when every receipt says the same
	unit := "CS"
	for _, rc := range rcs {
		a := receiptAmount(&rc)
		rep.Receipts = append(rep.Receipts, RecallReceipt{Receipt: rc.ID, Time: rc.Time, Door: rc.Door, Supplier: rc.Supplier,
			SupplierLot: rc.SupplierLot, PO: rc.PO, DespatchAdvice: rc.DespatchAdvice, Amount: a})
		rep.Received.Cartons += a.Cartons
		rep.Received.Quantity += a.Quantity
		if rep.Received.Unit == "" {
			rep.Received.Unit = a.Unit
		}
		if per == 0 {
			per, unit = rc.QtyPerCarton, a.Unit
		}
		uniform = uniform && rc.QtyPerCarton == per && per > 0
		if rep.SupplierLot == "" && rc.SupplierLot != "" {
			rep.Supplier, rep.SupplierLot = rc.Supplier, rc.SupplierLot
		}
	}
	if rep.Received.Unit == "" {
		rep.Received.Unit = "CS"
	}
	ships, err := s.LotShipments(lot)
	if err != nil {
		return nil, err
	}
	byCustomer := map[string]*RecallCustomer{}
	var order []string
	for _, ls := range ships {
		key := strings.Join(ls.Customer.Keys(), "\x00")
		c := byCustomer[key]
		if c == nil {
			c = &RecallCustomer{Customer: ls.Customer, Amount: Amount{Unit: ls.Unit}, Orders: []RecallOrder{}}
			byCustomer[key] = c
			order = append(order, key)
		}
		a := Amount{Cartons: ls.Cartons, Quantity: ls.Quantity, Unit: ls.Unit}
		c.Orders = append(c.Orders, RecallOrder{Order: ls.Order, Shipment: ls.Shipment, ShipTo: ls.ShipTo, Door: ls.Door, Time: ls.Time, Amount: a})
		c.Cartons += a.Cartons
		c.Quantity += a.Quantity
		rep.Shipped.Cartons += a.Cartons
		rep.Shipped.Quantity += a.Quantity
		if rep.Shipped.Unit == "" {
			rep.Shipped.Unit = a.Unit
		}
		rep.Orders++
	}
	if rep.Shipped.Unit == "" {
		rep.Shipped.Unit = rep.Received.Unit
	}
	for _, k := range order {
		rep.Customers = append(rep.Customers, *byCustomer[k])
	}
	slices.SortStableFunc(rep.Customers, func(a, b RecallCustomer) int { return cmp.Compare(b.Cartons, a.Cartons) })
	err = s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, kLotReturnPrefix(lot), true, func(_, v []byte) error {
			var r Return
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			r.RequestHash = ""
			rep.Returns = append(rep.Returns, r)
			rep.Returned.Cartons += r.Cartons
			rep.Returned.Quantity += r.Quantity
			if rep.Returned.Unit == "" {
				rep.Returned.Unit = r.Unit
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if rep.Returned.Unit == "" {
		rep.Returned.Unit = rep.Received.Unit
	}
	st, err := s.StockOf(lot)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	rep.Loaded = st.Loaded
	rep.InStock = Amount{Cartons: st.InStock, Quantity: float64(st.InStock), Unit: "CS"}
	if uniform {
		rep.InStock.Quantity, rep.InStock.Unit = float64(st.InStock*per), unit
	}
	return rep, nil
}

// receiptAmount is what a receipt received: its cartons, and its items
// when it counts them.
func receiptAmount(rc *receiving.Receipt) Amount {
	a := Amount{Cartons: len(rc.Cartons), Quantity: float64(len(rc.Cartons)), Unit: "CS"}
	if rc.QtyPerCarton > 0 {
		a.Quantity = float64(rc.QtyPerCarton * len(rc.Cartons))
		a.Unit = cmp.Or(rc.Unit, "EA")
	}
	return a
}
