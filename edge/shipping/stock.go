package shipping

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/store"
)

// stockView is what one request sees of the stock: cartons received, less
// those loaded, shipped or returned unfit for sale, less those promised to
// open shipments (and to the request's earlier lines).
type stockView struct {
	s        *Service
	received map[string]int
	counts   map[string]lotCounts
	reserved map[string]int
}

func newStockView(s *Service) *stockView {
	return &stockView{s: s, received: map[string]int{}, counts: map[string]lotCounts{}, reserved: map[string]int{}}
}

// reserveOpen reserves what the open shipments still expect.
func (v *stockView) reserveOpen() error {
	return v.s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, []byte(pOpen), true, func(_, id []byte) error {
			var sh Shipment
			if err := getJSON(txn, kShipment(string(id)), &sh); err != nil {
				return fmt.Errorf("open shipment %s: %w", id, err)
			}
			for _, l := range sh.Lines {
				v.reserve(l.Lot, l.Cartons-l.Loaded)
			}
			for _, l := range sh.SSCCLots {
				v.reserve(l.Lot, l.Cartons-l.Loaded)
			}
			return nil
		})
	})
}

func (v *stockView) reserve(lot string, n int) {
	if n > 0 {
		v.reserved[lot] += n
	}
}

// inStock is the number of a lot's cartons at the site and fit for sale.
func (v *stockView) inStock(lot string) (int, error) {
	rec, ok := v.received[lot]
	if !ok {
		n, err := v.s.receivedCartons(lot)
		if err != nil {
			return 0, err
		}
		rec, v.received[lot] = n, n
	}
	c, ok := v.counts[lot]
	if !ok {
		var err error
		if err = v.s.st.DB().View(func(txn *badger.Txn) error { c, err = getCounts(txn, lot); return err }); err != nil {
			return 0, err
		}
		v.counts[lot] = c
	}
	return rec - c.Loaded - c.Shipped - c.Damaged - c.Quarantined, nil
}

// available is inStock less what is promised.
func (v *stockView) available(lot string) (int, error) {
	n, err := v.inStock(lot)
	return n - v.reserved[lot], err
}

// maxCachedReceipts bounds the receipts whose carton counts are cached
// (a few MB).
const maxCachedReceipts = 50000

// receivedCartons counts the cartons of a lot's receipts.
func (s *Service) receivedCartons(lot string) (int, error) {
	ids, err := s.recv.ReceiptIDsOfLot(lot)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		s.rcMu.Lock()
		c, ok := s.receiptCartons[id]
		s.rcMu.Unlock()
		if !ok {
			rc, err := s.recv.Receipt(id)
			if err != nil {
				return 0, err
			}
			c = len(rc.Cartons)
			s.rcMu.Lock()
			if len(s.receiptCartons) >= maxCachedReceipts {
				clear(s.receiptCartons) // bounded memory; read again as needed
			}
			s.receiptCartons[id] = c
			s.rcMu.Unlock()
		}
		n += c
	}
	return n, nil
}

// fefoOrder orders lots first expiry first out: by expiry date (lots
// without one last), then production date, then code.
func fefoOrder(a, b lots.Lot) int {
	ea, eb := a.Expiry, b.Expiry
	if ea == "" {
		ea = "9999-99-99"
	}
	if eb == "" {
		eb = "9999-99-99"
	}
	return cmp.Or(strings.Compare(ea, eb), strings.Compare(a.Production, b.Production), strings.Compare(a.Code, b.Code))
}

// pick proposes lots for "N cartons of GTIN G" by FEFO, from the lots in
// stock and not promised, never a lot on hold, recalled or expired; the
// pick names the lots of the GTIN in stock it skipped and why.
func (s *Service) pick(ctx context.Context, stock *stockView, i int, lr LineRequest) (Pick, []Line, error) {
	all, err := s.lots.List(ctx, lots.Query{})
	if err != nil {
		return Pick{}, nil, err
	}
	var cands []lots.Lot
	for _, l := range all {
		if l.GTIN == lr.GTIN {
			cands = append(cands, l)
		}
	}
	slices.SortFunc(cands, fefoOrder)
	p := Pick{GTIN: lr.GTIN, Cartons: lr.Cartons, Lots: []PickLot{}, Skipped: []SkippedLot{}}
	var lines []Line
	need, free := lr.Cartons, 0
	for _, l := range cands {
		n, err := stock.inStock(l.Code)
		if err != nil {
			return p, nil, err
		}
		if why := s.unusable(&l); why != "" {
			if n > 0 {
				p.Skipped = append(p.Skipped, SkippedLot{Lot: l.Code, Expiry: l.Expiry, Status: string(l.Status), Reason: why, InStock: n})
			}
			continue
		}
		avail := n - stock.reserved[l.Code]
		if avail <= 0 {
			continue
		}
		free += avail
		if need == 0 {
			continue
		}
		take := min(avail, need)
		stock.reserve(l.Code, take)
		need -= take
		p.Lots = append(p.Lots, PickLot{Lot: l.Code, Expiry: l.Expiry, Cartons: take})
		lines = append(lines, Line{Lot: l.Code, GTIN: l.GTIN, Expiry: l.Expiry, Cartons: take, Pick: lr.GTIN})
	}
	if need > 0 {
		var skipped []string
		for _, k := range p.Skipped {
			skipped = append(skipped, fmt.Sprintf("%s (%s, %d in stock)", k.Lot, k.Reason, k.InStock))
		}
		msg := ""
		if len(skipped) > 0 {
			msg = "; lots skipped: " + strings.Join(skipped, ", ")
		}
		return p, nil, conflict("lines[%d]: %d cartons of GTIN %s asked for, %d in stock that may leave and are not promised to another shipment%s", i, lr.Cartons, lr.GTIN, free, msg)
	}
	return p, lines, nil
}

// Stock is a lot's cartons as the gateway knows them.
type Stock struct {
	Lot      string `json:"lot"`
	Received int    `json:"received"`
	// InStock are at the site and fit for sale (loaded ones excluded);
	// Loaded on open shipments; Shipped left and not back; Returned came
	// back, Damaged and Quarantined of them unfit for sale.
	InStock     int `json:"in_stock"`
	Loaded      int `json:"loaded"`
	Shipped     int `json:"shipped"`
	Returned    int `json:"returned"`
	Damaged     int `json:"damaged"`
	Quarantined int `json:"quarantined"`
}

// StockOf returns a lot's stock.
func (s *Service) StockOf(lot string) (Stock, error) {
	st := Stock{Lot: lot}
	n, err := s.receivedCartons(lot)
	if err != nil {
		return st, err
	}
	var c lotCounts
	if err := s.st.DB().View(func(txn *badger.Txn) error { c, err = getCounts(txn, lot); return err }); err != nil {
		return st, err
	}
	st.Received, st.Loaded, st.Shipped, st.Returned, st.Damaged, st.Quarantined = n, c.Loaded, c.Shipped, c.Returned, c.Damaged, c.Quarantined
	st.InStock = n - c.Loaded - c.Shipped - c.Damaged - c.Quarantined
	if n == 0 {
		if _, err := s.lots.Lookup(lot); errors.Is(err, lots.ErrNotFound) {
			return st, fmt.Errorf("lot %q: %w", lot, ErrNotFound)
		}
	}
	return st, nil
}
