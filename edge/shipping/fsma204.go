package shipping

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/xuri/excelize/v2"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
)

// Critical tracking events of the FSMA 204 export.
const (
	CTEReceiving = "Receiving"
	CTEShipping  = "Shipping"
)

// FSMARow is one critical tracking event with its key data elements
// (21 CFR 1.1340 shipping, 1.1345 receiving): one row of the sortable
// spreadsheet.
type FSMARow struct {
	CTE string `json:"cte"`
	// Date is the date received or shipped, where the site is; Time the
	// moment, with the site's offset.
	Date string    `json:"date"`
	Time time.Time `json:"time"`
	// TLC is the traceability lot code; TLCSource the place (or the
	// party) that assigned it.
	TLC       string  `json:"traceability_lot_code"`
	TLCSource string  `json:"tlc_source"`
	Product   string  `json:"product_description"`
	GTIN      string  `json:"gtin,omitempty"`
	Quantity  float64 `json:"quantity"`
	Unit      string  `json:"unit"`
	// ShipFrom and ShipTo are the locations: for receiving the immediate
	// previous source and the receiving location, for shipping this site
	// and the immediate subsequent recipient's location.
	ShipFrom string `json:"ship_from_location"`
	ShipTo   string `json:"ship_to_location"`
	// PreviousSource (receiving) and Recipient (shipping) are the trading
	// partners.
	PreviousSource string `json:"immediate_previous_source,omitempty"`
	Recipient      string `json:"immediate_subsequent_recipient,omitempty"`
	// Reference documents: types and numbers, "; "-separated in the same
	// order.
	RefType   string `json:"reference_document_type"`
	RefNumber string `json:"reference_document_number"`
	// Record is the receipt or shipment id, Door the dock door.
	Record string `json:"record"`
	Door   string `json:"door"`
}

// FSMAColumns are the spreadsheet's column headings, in order (FDA's
// template names are not published; these name the key data elements).
var FSMAColumns = []string{
	"Critical Tracking Event", "Event Date", "Event Time", "Traceability Lot Code", "Traceability Lot Code Source",
	"Product Description", "GTIN", "Quantity", "Unit of Measure", "Ship-From Location", "Ship-To Location",
	"Immediate Previous Source", "Immediate Subsequent Recipient", "Reference Document Type",
	"Reference Document Number", "Record ID", "Door",
}

func (r *FSMARow) cells() []string {
	return []string{r.CTE, r.Date, r.Time.Format(time.RFC3339), r.TLC, r.TLCSource, r.Product, r.GTIN,
		strconv.FormatFloat(r.Quantity, 'f', -1, 64), r.Unit, r.ShipFrom, r.ShipTo, r.PreviousSource, r.Recipient,
		r.RefType, r.RefNumber, r.Record, r.Door}
}

// FSMAQuery selects the events of an export: From and To are dates
// (YYYY-MM-DD, both inclusive, where the site is); Lot, when set, one
// traceability lot code.
type FSMAQuery struct {
	From, To string
	Lot      string
}

// maxFSMADays bounds the date range of one export.
const maxFSMADays = 3660

// FSMA204 returns the critical tracking events (receiving, shipping) of
// the query, in time order.
func (s *Service) FSMA204(q FSMAQuery) ([]FSMARow, error) {
	loc := s.cfg.Location
	from, err := time.ParseInLocation(time.DateOnly, q.From, loc)
	if err != nil {
		return nil, invalid("from: %q is not a date YYYY-MM-DD", q.From)
	}
	to, err := time.ParseInLocation(time.DateOnly, q.To, loc)
	if err != nil {
		return nil, invalid("to: %q is not a date YYYY-MM-DD", q.To)
	}
	if to.Before(from) {
		return nil, invalid("to: %s is before from %s", q.To, q.From)
	}
	if to.Sub(from) > maxFSMADays*24*time.Hour {
		return nil, invalid("from, to: at most %d days in one export", maxFSMADays)
	}
	end := to.AddDate(0, 0, 1).Add(-time.Nanosecond)
	x := &fsmaExport{s: s, lots: map[string]*lots.Lot{}, descr: map[string]string{}}
	rows := []FSMARow{}
	addReceipt := func(rc *receiving.Receipt) error {
		if rc.Time.Before(from) || rc.Time.After(end) {
			return nil
		}
		row, err := x.receivingRow(rc)
		if err == nil {
			rows = append(rows, row)
		}
		return err
	}
	if q.Lot != "" {
		if _, err := s.lots.Lookup(q.Lot); errors.Is(err, lots.ErrNotFound) {
			return nil, fmt.Errorf("lot %q: %w", q.Lot, ErrNotFound)
		}
		rcs, err := s.recv.ReceiptsOfLot(q.Lot)
		if err != nil {
			return nil, err
		}
		for i := range rcs {
			x.describe(&rcs[i])
			if err := addReceipt(&rcs[i]); err != nil {
				return nil, err
			}
		}
		ships, err := s.LotShipments(q.Lot)
		if err != nil {
			return nil, err
		}
		for i := range ships {
			if ls := &ships[i]; !ls.Time.Before(from) && !ls.Time.After(end) {
				rows = append(rows, x.shippingRow(ls))
			}
		}
	} else {
		if err := s.recv.EachReceipt(from, end, addReceipt); err != nil {
			return nil, err
		}
		err := s.st.DB().View(func(txn *badger.Txn) error {
			prefix := []byte(pTime)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
			defer it.Close()
			stop := []byte(pTime + stamp(end.Add(time.Nanosecond)))
			for it.Seek([]byte(pTime + stamp(from))); it.ValidForPrefix(prefix); it.Next() {
				k := it.Item().Key()
				if string(k) >= string(stop) {
					break
				}
				var sh Shipment
				if err := getJSON(txn, kShipment(string(k[len(prefix)+20:])), &sh); err != nil {
					return err
				}
				for _, q := range sh.Shipped {
					rows = append(rows, x.shippingRow(&LotShipment{Shipment: sh.ID, Order: sh.Order, Customer: sh.Customer,
						ShipTo: sh.ShipTo, Door: sh.Door, Time: sh.ShippedAt, Carrier: sh.Carrier, PO: sh.PO,
						DespatchAdvice: sh.DespatchAdvice, LotQuantity: q}))
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range rows {
		if x.err != nil {
			return nil, x.err
		}
		r := &rows[i]
		if r.CTE == CTEShipping {
			x.fillLot(r)
		}
		r.Time = r.Time.In(loc)
		r.Date = r.Time.Format(time.DateOnly)
	}
	slices.SortStableFunc(rows, func(a, b FSMARow) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.CTE, b.CTE), strings.Compare(a.TLC, b.TLC), strings.Compare(a.Record, b.Record))
	})
	return rows, x.err
}

// fsmaExport caches what the rows of an export look up per lot.
type fsmaExport struct {
	s     *Service
	lots  map[string]*lots.Lot
	descr map[string]string // lot → the product description of its receipts
	err   error
}

func (x *fsmaExport) lot(code string) *lots.Lot {
	if l := x.lots[code]; l != nil {
		return l
	}
	l, err := x.s.lots.Lookup(code)
	if err != nil && !errors.Is(err, lots.ErrNotFound) && x.err == nil {
		x.err = err
	}
	x.lots[code] = &l
	return &l
}

// describe remembers a receipt's product description for its lot.
func (x *fsmaExport) describe(rc *receiving.Receipt) {
	if _, ok := x.descr[rc.Lot]; !ok || x.descr[rc.Lot] == "" {
		x.descr[rc.Lot] = rc.Description
	}
}

// tlcSource is who assigned a lot's code: this site for a lot of its own,
// the supplier for a supplier's lot kept.
func (x *fsmaExport) tlcSource(l *lots.Lot, supplier string) string {
	if l.Source == lots.SourceSupplier {
		return cmp.Or(l.Supplier, supplier)
	}
	return x.s.cfg.Site
}

func product(descr, code string) string {
	switch {
	case descr != "" && code != "":
		return descr + " (" + code + ")"
	case descr != "":
		return descr
	}
	return code
}

func references(pairs ...string) (types, numbers string) {
	var t, n []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			t, n = append(t, pairs[i]), append(n, pairs[i+1])
		}
	}
	return strings.Join(t, "; "), strings.Join(n, "; ")
}

func (x *fsmaExport) receivingRow(rc *receiving.Receipt) (FSMARow, error) {
	x.describe(rc)
	l := x.lot(rc.Lot)
	if l.Code == "" {
		l.Code, l.Product, l.GTIN = rc.Lot, rc.Product, rc.GTIN
		if !rc.LotAssigned {
			l.Source, l.Supplier = lots.SourceSupplier, rc.Supplier
		}
	}
	a := receiptAmount(rc)
	t, n := references("Purchase Order", rc.PO, "Despatch Advice", rc.DespatchAdvice, "Receipt", rc.ID)
	return FSMARow{CTE: CTEReceiving, Time: rc.Time, TLC: rc.Lot, TLCSource: x.tlcSource(l, rc.Supplier),
		Product: product(rc.Description, rc.Product), GTIN: rc.GTIN, Quantity: a.Quantity, Unit: a.Unit,
		ShipFrom: rc.Supplier, ShipTo: x.s.cfg.Site, PreviousSource: rc.Supplier,
		RefType: t, RefNumber: n, Record: rc.ID, Door: rc.Door}, nil
}

func (x *fsmaExport) shippingRow(ls *LotShipment) FSMARow {
	t, n := references("Purchase Order", ls.PO, "Despatch Advice", ls.DespatchAdvice, "Order", ls.Order, "Shipment", ls.Shipment)
	recipient := ls.Customer.Name
	if ls.Customer.GLN != "" {
		recipient += " (GLN " + ls.Customer.GLN + ")"
	} else if ls.Customer.ID != "" {
		recipient += " (" + ls.Customer.ID + ")"
	}
	return FSMARow{CTE: CTEShipping, Time: ls.Time, TLC: ls.Lot, GTIN: ls.GTIN, Quantity: ls.Quantity, Unit: ls.Unit,
		ShipFrom: x.s.cfg.Site, ShipTo: ls.ShipTo.String(), Recipient: recipient, RefType: t, RefNumber: n,
		Record: ls.Shipment, Door: ls.Door}
}

// fillLot completes a shipping row from its lot: the code's source and the
// product's description (from the lot's receipts).
func (x *fsmaExport) fillLot(r *FSMARow) {
	l := x.lot(r.TLC)
	if _, ok := x.descr[r.TLC]; !ok {
		x.descr[r.TLC] = ""
		rcs, err := x.s.recv.ReceiptsOfLot(r.TLC)
		if err != nil && x.err == nil {
			x.err = err
		}
		for i := range rcs {
			x.describe(&rcs[i])
		}
	}
	r.TLCSource = x.tlcSource(l, "")
	r.Product = product(x.descr[r.TLC], l.Product)
	r.GTIN = cmp.Or(r.GTIN, l.GTIN)
}

// WriteFSMACSV writes the rows as CSV (RFC 4180) with a heading row. A text
// cell that a spreadsheet would take for a formula (it starts with =, +, -,
// @, a tab or a carriage return: a customer or product name typed that way)
// is written with a leading apostrophe, so opening the file runs nothing.
func WriteFSMACSV(w io.Writer, rows []FSMARow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(FSMAColumns); err != nil {
		return err
	}
	qty := slices.Index(FSMAColumns, "Quantity")
	for i := range rows {
		cells := rows[i].cells()
		for j, c := range cells {
			if j != qty && c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				cells[j] = "'" + c
			}
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// FSMASheet is the name of the export's worksheet.
const FSMASheet = "FSMA 204"

// WriteFSMAXLSX writes the rows as an XLSX workbook: one sheet, the heading
// row frozen, the rows a table with a filter and sort button per column,
// quantities as numbers.
func WriteFSMAXLSX(w io.Writer, rows []FSMARow) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", FSMASheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(FSMASheet)
	if err != nil {
		return err
	}
	// The heading row stays in view.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(FSMAColumns))
	for i, c := range FSMAColumns {
		head[i] = c
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	qty := slices.Index(FSMAColumns, "Quantity")
	for i := range rows {
		cells := rows[i].cells()
		row := make([]any, len(cells))
		for j, c := range cells {
			row[j] = c
		}
		row[qty] = rows[i].Quantity
		cell, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	last, err := excelize.CoordinatesToCellName(len(FSMAColumns), len(rows)+1)
	if err != nil {
		return err
	}
	if len(rows) > 0 {
		// A table: a filter and sort button on every heading. (The
		// stream writer makes it without reading the sheet back, as
		// File.AutoFilter would.)
		if err := sw.AddTable(&excelize.Table{Range: "A1:" + last, Name: "FSMA204", StyleName: "TableStyleLight1"}); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if len(rows) == 0 {
		if err := f.AutoFilter(FSMASheet, "A1:"+last, nil); err != nil {
			return err
		}
	}
	_, err = f.WriteTo(w)
	return err
}

// FSMAFormats are the export's formats and their content types.
var FSMAFormats = map[string]string{
	"csv":  "text/csv; charset=utf-8",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"json": "application/json",
}

// WriteFSMA writes the rows in a format of FSMAFormats.
func WriteFSMA(w io.Writer, format string, rows []FSMARow) error {
	switch format {
	case "csv", "":
		return WriteFSMACSV(w, rows)
	case "xlsx":
		return WriteFSMAXLSX(w, rows)
	case "json":
		utc := make([]FSMARow, len(rows))
		for i, r := range rows {
			r.Time = r.Time.UTC() // JSON times are UTC; date stays the site's
			utc[i] = r
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(utc)
	}
	return invalid("format: %q: use csv, xlsx or json", format)
}
