package receiving

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
)

// Errors of the receiving service.
var (
	ErrInvalid     = errors.New("invalid receipt")
	ErrUnknownDoor = errors.New("unknown door")
	// ErrConflict: the request contradicts what is recorded (an id reused
	// for another request, an SSCC already received, a lot on hold).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the gateway cannot take the receipt now (its store
	// is full); nothing of it was lost, retry later with the same id.
	ErrUnavailable = errors.New("unavailable")
	// ErrExpired: the goods' expiry date (17) has passed; they are
	// received only when the request or the configuration accepts
	// expired goods.
	ErrExpired = errors.New("expired goods")
)

// Request asks for a receipt. JSON field names are those of the HTTP API and
// the MQTT receive command.
type Request struct {
	// ID is the idempotency key: the same ID again returns the same
	// receipt (and re-spools any label job that was not spooled).
	ID     string `json:"id,omitempty"`
	Door   string `json:"door"`
	Source string `json:"source,omitempty"`
	// Scan is a supplier label as scanned: scan data with or without a
	// symbology identifier, an element string, HRI or a Digital Link URI.
	// Its (01), (02), (10), (11), (17), (37) and (00) fill the fields below
	// that are empty.
	Scan           string   `json:"scan,omitempty"`
	GTIN           string   `json:"gtin,omitempty"`
	Product        string   `json:"product,omitempty"`
	Description    string   `json:"description,omitempty"`
	Supplier       string   `json:"supplier,omitempty"`
	SupplierLot    string   `json:"supplier_lot,omitempty"`
	PO             string   `json:"po,omitempty"`
	DespatchAdvice string   `json:"despatch_advice,omitempty"`
	Production     string   `json:"production,omitempty"` // YYYY-MM-DD
	Expiry         string   `json:"expiry,omitempty"`     // YYYY-MM-DD
	Cartons        int      `json:"cartons"`
	QtyPerCarton   int      `json:"qty_per_carton,omitempty"`
	Unit           string   `json:"unit,omitempty"`
	Format         string   `json:"format,omitempty"` // lot format name
	SSCCs          []string `json:"ssccs,omitempty"`  // the supplier's SSCCs, kept instead of allocating
	// AcceptExpired receives goods whose expiry date has passed (they are
	// refused otherwise); the receipt records it.
	AcceptExpired bool `json:"accept_expired,omitempty"`
}

// LotRequest is what the lot registry needs to issue or register a lot.
type LotRequest struct {
	// Receipt is the receipt's id: a retry of a receipt refused after its
	// lot was issued gets the same lot.
	Receipt                                            string
	Format, Product, GTIN, Supplier, SupplierLot, Door string
	PO, DespatchAdvice, Unit                           string
	Production, Expiry                                 time.Time // zero when unknown
	Qty                                                int
	Time                                               time.Time
}

// Lots is what receiving needs of the lot registry.
type Lots interface {
	// Issue generates a new lot code and records the lot.
	Issue(ctx context.Context, r LotRequest) (string, error)
	// KeepSupplierLot records the supplier's lot as the lot (idempotent).
	// When its code is already another supplier's or product's lot, the
	// goods get a lot of the gateway's own with the supplier's lot linked
	// (the same one for every receipt of it): assigned says so.
	KeepSupplierLot(ctx context.Context, r LotRequest) (code string, assigned bool, err error)
	// LinkCarton links a carton's SSCC and EPC to the lot.
	LinkCartons(ctx context.Context, lot string, cartons []Carton) error
	// Held reports whether the lot is on hold (or recalled).
	Held(lot string) (bool, error)
	// Record returns the registry's record of the lot, for trace.
	Record(lot string) (any, error)
}

// Door is what receiving needs of a door's printer.
type Door interface {
	// Printer is the id of the door's printer ("" when it has none).
	Printer() string
	// Render renders one carton label to be spooled.
	Render(vals map[string]string) (zpl []byte, err error)
	// Check lays a carton label out without printing it (no side
	// effect): an error names the value the label refuses.
	Check(vals map[string]string) error
	// Submit spools label jobs in order; the same job id twice is one job.
	Submit(ctx context.Context, jobs []LabelJob) error
	// JobState reports a job's state for trace ("" when unknown).
	JobState(jobID string) string
}

// LabelJob is one carton label for the door's printer.
type LabelJob struct {
	ID   string
	ZPL  []byte
	Lot  string
	SSCC string
}

// Event is what receiving emits; the gateway turns it into an outbox event.
type Event struct {
	ID      string // stable across retries
	Type    string // receipt.created, receipt.complete, receipt.incomplete, carton.unexpected
	Time    time.Time
	Lot     string
	Subject string
	Body    any
	Receipt *Receipt // set on receipt.created, for the EPCIS mapping
	Cartons []Carton
}

// Emitter stages events in the transaction of the change they report (the
// outbox's Stage): they are published once it commits, and never if it does
// not. An event that cannot be stored is an error wrapping ErrUnavailable,
// and the change is refused with it.
type Emitter interface {
	Emit(txn *badger.Txn, ev Event) error
}

// Config of the receiving service.
type Config struct {
	SSCC SSCCRange
	// DefaultFormat is the lot format used when a request names none.
	DefaultFormat string
	// MaxCartons per receipt (default 1000).
	MaxCartons int
	// CompanyPrefixLen gives the GS1 company prefix length of a supplier's
	// SSCC (its EPC needs it), or why it is not known; nil assumes the
	// length of SSCC.CompanyPrefix.
	CompanyPrefixLen func(sscc string) (int, error)
	// AcceptExpired receives goods past their expiry date without the
	// request saying so (receiving.accept_expired).
	AcceptExpired bool
	// Location is where "today" is for the expiry check; nil is
	// time.Local.
	Location *time.Location
	// OnReceipt, when set, is told how long each Receive took and how it
	// ended (metrics).
	OnReceipt func(d time.Duration, err error)
	// EPCScheme is what carton tags carry (labels.epc_scheme): "" or
	// "sscc-96" the SSCC-96; "sscc+" or "sgtin+" a TDS 2.x '+' scheme with
	// the lot and expiry in its +AIDC data (see plusEPC).
	EPCScheme string
	// LotShipments, when set, gives a lot's trace the shipments its
	// cartons left in (edge/shipping).
	LotShipments func(lot string) (any, error)
}

// Service is the receiving service.
type Service struct {
	cfg   Config
	st    *store.Store
	lots  Lots
	doors map[string]Door
	emit  Emitter
	log   *slog.Logger
	now   func() time.Time
	// traceLabels adds the label audit trail to traces, or is nil.
	traceLabels TraceLabels

	mu sync.Mutex // serialises receipts with the same id and pass matching
}

// New makes the service. doors maps door ids to their printers.
func New(cfg Config, st *store.Store, lots Lots, doors map[string]Door, emit Emitter, log *slog.Logger, now func() time.Time) *Service {
	if cfg.MaxCartons == 0 {
		cfg.MaxCartons = 1000
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, st: st, lots: lots, doors: doors, emit: emit, log: log, now: now}
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// applyScan fills empty request fields from a scanned supplier label.
func applyScan(r *Request) error {
	if r.Scan == "" {
		return nil
	}
	m, err := ParseScan(r.Scan)
	if err != nil {
		return invalid("scan: %v", err)
	}
	// A field given with the scan must agree with the label: the label
	// is what is on the goods, and a value silently preferred over it
	// would trace them to the wrong GTIN, lot or date.
	var conflict error
	set := func(field string, dst *string, ai, v string) {
		switch {
		case *dst == "":
			*dst = v
		case *dst != v && conflict == nil:
			conflict = invalid("%s: %q differs from the scanned label's (%s) %q: leave %s out to take the label's, or scan the right label", field, *dst, ai, v, field)
		}
	}
	if v, ok := m.Get("01"); ok {
		r.GTIN = gs1.GTIN14(r.GTIN)
		set("gtin", &r.GTIN, "01", v)
	} else if v, ok := m.Get("02"); ok {
		r.GTIN = gs1.GTIN14(r.GTIN)
		set("gtin", &r.GTIN, "02", v)
	}
	if v, ok := m.Get("10"); ok {
		set("supplier_lot", &r.SupplierLot, "10", v)
	}
	if v, ok := m.Get("17"); ok {
		set("expiry", &r.Expiry, "17", yymmddToISO(v))
	}
	if v, ok := m.Get("11"); ok {
		set("production", &r.Production, "11", yymmddToISO(v))
	}
	if v, ok := m.Get("37"); ok {
		n, _ := strconv.Atoi(v)
		if r.QtyPerCarton == 0 {
			r.QtyPerCarton = n
		} else if r.QtyPerCarton != n && conflict == nil {
			conflict = invalid("qty_per_carton: %d differs from the scanned label's (37) %d: leave qty_per_carton out to take the label's, or scan the right label", r.QtyPerCarton, n)
		}
	}
	if v, ok := m.Get("00"); ok {
		switch {
		case len(r.SSCCs) == 0:
			r.SSCCs = []string{v}
			if r.Cartons == 0 {
				r.Cartons = 1
			}
		case !slices.Contains(r.SSCCs, v) && conflict == nil:
			conflict = invalid("ssccs: the scanned label's SSCC (00) %s is not among them: leave ssccs out to take the label's, or scan the right label", v)
		}
	}
	if v, ok := m.Get("400"); ok {
		set("po", &r.PO, "400", v)
	}
	return conflict
}

// ParseScan reads a scanned supplier label as a receipt's scan field does:
// scanner output (a symbology identifier, GS separators), HRI, an element
// string, a Digital Link URI, or a plain EAN/UPC or ITF-14 barcode (the
// GTIN alone).
func ParseScan(s string) (gs1.Message, error) {
	if s == "" {
		return gs1.Parse(s) // its error says what to give
	}
	// A plain EAN/UPC or ITF-14 barcode: the GTIN alone, no AIs (with or
	// without the scanner's symbology identifier: ]E0 EAN-13/UPC-A, ]E4
	// EAN-8, ]I1 ITF).
	plain := s
	for _, id := range []string{"]E0", "]E4", "]I1", "]I0"} {
		plain = strings.TrimPrefix(plain, id)
	}
	if g := gs1.GTIN14(plain); len(g) == 14 && strings.Trim(g, "0123456789") == "" && gs1.ValidateValue("01", g) == nil {
		s = "(01)" + g
	}
	return parseScan(s)
}

// parseScan reads a supplier label in any form: scanner output (symbology
// identifier, GS separators), HRI, an element string or a Digital Link.
func parseScan(s string) (gs1.Message, error) {
	if strings.HasPrefix(s, "]") || strings.IndexByte(s, gs1.GS) >= 0 {
		m, _, err := gs1.ParseScanData([]byte(s))
		return m, err
	}
	m, err := gs1.Parse(s)
	if err != nil && s[0] >= '0' && s[0] <= '9' {
		// Bare scan data without a symbology identifier.
		if m2, _, err2 := gs1.ParseScanData([]byte(s)); err2 == nil {
			return m2, nil
		}
	}
	return m, err
}

// yymmddToISO turns a GS1 date into YYYY-MM-DD (DD=00: the month's last day).
func yymmddToISO(v string) string {
	if len(v) != 6 {
		return v
	}
	yy, _ := strconv.Atoi(v[:2])
	mm, _ := strconv.Atoi(v[2:4])
	dd, _ := strconv.Atoi(v[4:])
	y := gs1.ResolveYear(yy, time.Now().Year())
	if dd == 0 {
		return time.Date(y, time.Month(mm)+1, 0, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, mm, dd)
}

func parseDate(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, invalid("%s: %q is not a date YYYY-MM-DD", field, v)
	}
	return t, nil
}

var unitPattern = regexp.MustCompile(`^[A-Z0-9]{2,3}$`)

// today is the current date where the gateway is, as a UTC midnight (the
// form parseDate gives).
func (s *Service) today() time.Time {
	loc := s.cfg.Location
	if loc == nil {
		loc = time.Local
	}
	y, m, d := s.now().In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// normalise validates a request and fills what follows from it.
func (s *Service) normalise(r *Request) (prod, exp time.Time, err error) {
	if err := applyScan(r); err != nil {
		return prod, exp, err
	}
	if _, ok := s.doors[r.Door]; !ok {
		names := make([]string, 0, len(s.doors))
		for n := range s.doors {
			names = append(names, n)
		}
		slices.Sort(names)
		if r.Door == "" {
			return prod, exp, invalid("door: required: name the receiving door (configured doors: %s)", strings.Join(names, ", "))
		}
		return prod, exp, fmt.Errorf("%w %q (configured doors: %s)", ErrUnknownDoor, r.Door, strings.Join(names, ", "))
	}
	if r.Cartons == 0 && len(r.SSCCs) > 0 {
		r.Cartons = len(r.SSCCs) // one carton per SSCC given
	}
	if r.Cartons < 1 || r.Cartons > s.cfg.MaxCartons {
		return prod, exp, invalid("cartons: %d must be between 1 and %d", r.Cartons, s.cfg.MaxCartons)
	}
	if len(r.SSCCs) > 0 && len(r.SSCCs) != r.Cartons {
		return prod, exp, invalid("ssccs: %d given for %d cartons (give one per carton, or none to allocate)", len(r.SSCCs), r.Cartons)
	}
	for _, sscc := range r.SSCCs {
		if err := gs1.ValidateValue("00", sscc); err != nil {
			return prod, exp, invalid("ssccs: %v", err)
		}
	}
	if r.GTIN == "" {
		return prod, exp, invalid("gtin: required (or scan a supplier label with (01))")
	}
	r.GTIN = gs1.GTIN14(r.GTIN)
	if err := gs1.ValidateValue("01", r.GTIN); err != nil {
		return prod, exp, invalid("gtin: %v", err)
	}
	if r.SupplierLot != "" {
		if err := gs1.ValidateValue("10", r.SupplierLot); err != nil {
			return prod, exp, invalid("supplier_lot: %v", err)
		}
		if r.Supplier == "" {
			return prod, exp, invalid("supplier: required when the supplier's lot %q is kept (FSMA 204 records who assigned it); name the supplier", r.SupplierLot)
		}
	}
	if r.Product == "" {
		// The item reference digits of the GTIN stand in for a product
		// code: short enough for a {PRODUCT} token.
		r.Product = r.GTIN[len(r.GTIN)-7 : len(r.GTIN)-1]
	}
	if r.QtyPerCarton < 0 {
		return prod, exp, invalid("qty_per_carton: %d must not be negative", r.QtyPerCarton)
	}
	if prod, err = parseDate("production", r.Production); err != nil {
		return prod, exp, err
	}
	if exp, err = parseDate("expiry", r.Expiry); err != nil {
		return prod, exp, err
	}
	if !prod.IsZero() && !exp.IsZero() && exp.Before(prod) {
		return prod, exp, invalid("expiry: %s is before the production date %s: check both dates", r.Expiry, r.Production)
	}
	if today := s.today(); !exp.IsZero() && exp.Before(today) && !r.AcceptExpired && !s.cfg.AcceptExpired {
		return prod, exp, fmt.Errorf("%w: expiry %s has passed (today is %s): check the label; to receive them anyway (into quarantine or for disposal) send \"accept_expired\": true, or set receiving.accept_expired", ErrExpired, r.Expiry, today.Format(time.DateOnly))
	}
	// Text fields end up in records, events and labels: bounded, one line.
	for _, f := range []struct {
		name, v string
		max     int
	}{{"product", r.Product, 64}, {"description", r.Description, 200}, {"supplier", r.Supplier, 128},
		{"po", r.PO, 64}, {"despatch_advice", r.DespatchAdvice, 64}, {"unit", r.Unit, 8},
		{"format", r.Format, 128}, {"source", r.Source, 64}} {
		if len(f.v) > f.max {
			return prod, exp, invalid("%s: %d bytes, at most %d", f.name, len(f.v), f.max)
		}
		if strings.ContainsFunc(f.v, unicode.IsControl) {
			return prod, exp, invalid("%s: %q contains a control character (a line break or tab): give one line of text", f.name, f.v)
		}
	}
	if r.Unit != "" && !unitPattern.MatchString(r.Unit) {
		return prod, exp, invalid("unit: %q is not a UN/CEFACT unit code (2-3 capital letters or digits, e.g. EA, KGM, CS)", r.Unit)
	}
	if r.Unit == "" {
		// UN/CEFACT codes: each item, or cases when only cartons are counted.
		r.Unit = "EA"
		if r.QtyPerCarton == 0 {
			r.Unit = "CS"
		}
	}
	if r.Source == "" {
		r.Source = "api"
	}
	if r.ID == "" {
		r.ID = newID()
	} else if !idPattern.MatchString(r.ID) {
		return prod, exp, invalid("id: %q must be 1-80 letters, digits, '.', '_', ':' or '-'", r.ID)
	}
	return prod, exp, nil
}

// recordChunk bounds the cartons written in one transaction (Badger refuses
// a transaction larger than a fraction of its memtable).
const recordChunk = 256

// Receive runs a receipt: lot, cartons, labels, jobs, records, events.
//
// The steps are made durable in order and a receipt remembers which of them
// are done: a retry with the same id (or Resume after a crash) finishes the
// missing ones — links, events, label jobs — with the same ids, and never
// makes a second lot or new SSCCs.
func (s *Service) Receive(ctx context.Context, r Request) (rc *Receipt, err error) {
	if s.cfg.OnReceipt != nil {
		defer func(start time.Time) { s.cfg.OnReceipt(time.Since(start), err) }(time.Now())
	}
	return s.receive(ctx, r)
}

func (s *Service) receive(ctx context.Context, r Request) (*Receipt, error) {
	prod, exp, err := s.normalise(&r)
	if err != nil {
		return nil, err
	}
	hash := requestHash(r)
	s.mu.Lock()
	defer s.mu.Unlock()

	if old, err := s.Receipt(r.ID); err == nil {
		if old.RequestHash != "" && old.RequestHash != hash {
			return nil, fmt.Errorf("%w: receipt id %q was already used for a different request (door, goods or cartons differ); use a new id", ErrConflict, r.ID)
		}
		return old, s.finish(ctx, old)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err := s.checkSSCCs(r.ID, r.SSCCs); err != nil {
		return nil, err
	}
	// The supplier's SSCCs' EPCs, made before anything is recorded.
	supplierEPCs := make([]epc.EPC, len(r.SSCCs))
	for i, sscc := range r.SSCCs {
		n := len(s.cfg.SSCC.CompanyPrefix)
		if s.cfg.CompanyPrefixLen != nil {
			if n, err = s.cfg.CompanyPrefixLen(sscc); err != nil {
				return nil, invalid("ssccs: SSCC %s: the length of its company prefix is not known, and its EPC needs it: add the supplier's company prefix and its length under gs1.company_prefixes (or gs1.company_prefix_file)", sscc)
			}
		}
		if supplierEPCs[i], err = epc.NewSSCC96(int(epc.FilterFullCase), n, sscc); err != nil {
			return nil, invalid("ssccs: SSCC %s: no EPC: %v", sscc, err)
		}
	}

	now := s.now().UTC()
	lr := LotRequest{Receipt: r.ID, Format: r.Format, Product: r.Product, GTIN: r.GTIN, Supplier: r.Supplier,
		SupplierLot: r.SupplierLot, Door: r.Door, PO: r.PO, DespatchAdvice: r.DespatchAdvice, Unit: r.Unit,
		Production: prod, Expiry: exp, Qty: r.Cartons * max(r.QtyPerCarton, 1), Time: now}
	if lr.Format == "" {
		lr.Format = s.cfg.DefaultFormat
	}
	rc := &Receipt{ID: r.ID, Door: r.Door, Source: r.Source, Time: now, SupplierLot: r.SupplierLot,
		Supplier: r.Supplier, GTIN: r.GTIN, Product: r.Product, Description: r.Description, PO: r.PO,
		DespatchAdvice: r.DespatchAdvice, Production: r.Production, Expiry: r.Expiry,
		QtyPerCarton: r.QtyPerCarton, Unit: r.Unit, Status: "open", RequestHash: hash}
	if !exp.IsZero() && exp.Before(s.today()) {
		rc.Expired = true
		s.log.Warn("expired goods received", "receipt", rc.ID, "expiry", r.Expiry, "gtin", r.GTIN)
	}
	if err := s.checkLabel(rc, supplierEPCs); err != nil {
		return nil, err
	}
	if r.SupplierLot != "" && r.Format == "" {
		rc.Lot, rc.LotAssigned, err = s.lots.KeepSupplierLot(ctx, lr)
	} else {
		// A format named with a supplier's lot: a lot of the gateway's
		// own, the supplier's linked to it.
		rc.Lot, err = s.lots.Issue(ctx, lr)
		rc.LotAssigned = true
	}
	if err != nil {
		return nil, err // the registry's errors name the lot ("lot: …", "lots: …")
	}
	if held, err := s.lots.Held(rc.Lot); err != nil {
		return nil, err
	} else if held {
		return nil, fmt.Errorf("%w: lot %s is on hold or recalled: release a held lot before receiving goods into it (a recall is final: receive them into another lot)", ErrConflict, rc.Lot)
	}

	ssccs := r.SSCCs
	if len(ssccs) == 0 {
		if ssccs, err = s.allocate(r.ID, r.Cartons); err != nil {
			return nil, err
		}
	}
	door := s.doors[r.Door]
	cartons := make([]Carton, len(ssccs))
	for i, sscc := range ssccs {
		var e epc.EPC
		if len(r.SSCCs) > 0 {
			e = supplierEPCs[i]
		} else if e, err = epc.NewSSCC96(int(epc.FilterFullCase), len(s.cfg.SSCC.CompanyPrefix), sscc); err != nil {
			return nil, fmt.Errorf("carton %s: EPC: %w", sscc, err)
		}
		if e, err = s.plusEPC(e, sscc, rc, rc.Lot); err != nil {
			return nil, fmt.Errorf("carton %s: EPC: %w", sscc, err)
		}
		cartons[i] = Carton{SSCC: sscc, EPC: epcHex(e), EPCURI: epcURI(e), Receipt: rc.ID, Lot: rc.Lot,
			GTIN: rc.GTIN, Qty: rc.QtyPerCarton, Door: rc.Door, Printer: door.Printer(), Time: now}
		if door.Printer() != "" {
			cartons[i].Job = rc.ID + ":" + sscc
		}
	}
	rc.Cartons = ssccs

	// No carton of another receipt is written over (a retry of this one
	// writes its own again). Checked whole before any chunk is written, so
	// a refusal leaves nothing behind; s.mu keeps other receipts out until
	// the cartons are written.
	if err := s.st.DB().View(func(txn *badger.Txn) error {
		for i := range cartons {
			var old Carton
			if err := getJSON(txn, keyCarton(cartons[i].SSCC), &old); err == nil && old.Receipt != rc.ID {
				return fmt.Errorf("%w: carton %s was already received in receipt %s", ErrConflict, cartons[i].SSCC, old.Receipt)
			} else if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	// Cartons first, in bounded transactions; the receipt record last, as
	// the commit mark. A crash in between leaves cartons that name a
	// receipt that does not exist: a retry writes them again.
	for start := 0; start < len(cartons); start += recordChunk {
		chunk := cartons[start:min(start+recordChunk, len(cartons))]
		if err := s.st.DB().Update(func(txn *badger.Txn) error {
			for i := range chunk {
				c := &chunk[i]
				if err := store.PutJSON(txn, keyCarton(c.SSCC), c); err != nil {
					return err
				}
				if err := txn.Set(keyLotCarton(c.Lot, c.SSCC), nil); err != nil {
					return err
				}
				if err := txn.Set(keyTag(c.EPC), []byte(c.SSCC)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("record the cartons of receipt %s: %w", rc.ID, err)
		}
	}
	// The receipt and its receipt.created event commit together.
	rc.Emitted = true
	if err := s.st.Update(func(txn *badger.Txn) error {
		if err := store.PutJSON(txn, keyReceipt(rc.ID), rc); err != nil {
			return err
		}
		if err := txn.Set(keyPending(rc.ID), nil); err != nil {
			return err
		}
		if err := txn.Set(keyLotReceipt(rc.Lot, rc.ID), nil); err != nil {
			return err
		}
		if err := txn.Set(keyDoorReceipt(rc.Door, rc.Time, rc.ID), nil); err != nil {
			return err
		}
		return s.stageEvent(txn, createdEvent(rc, cartons))
	}); err != nil {
		return nil, fmt.Errorf("record receipt %s: %w", rc.ID, err)
	}
	if err := s.finishWith(ctx, rc, cartons); err != nil {
		return rc, err
	}
	s.log.Info("receipt recorded", "receipt", rc.ID, "door", rc.Door, "lot", rc.Lot, "cartons", len(cartons))
	return rc, nil
}

// allocate takes n fresh SSCCs from the gateway's range, skipping any a
// carton of another receipt already has (a supplier's carton received with
// an SSCC of the gateway's own range): two cartons never share an SSCC.
func (s *Service) allocate(id string, n int) ([]string, error) {
	out := make([]string, 0, n)
	for len(out) < n {
		// Each round takes at least one number: the range's end bounds it.
		got, err := AllocateSSCCs(s.st, s.cfg.SSCC, n-len(out))
		if err != nil {
			return nil, err
		}
		for _, sscc := range got {
			c, err := s.Carton(sscc)
			if err == nil && c.Receipt != id {
				s.log.Warn("SSCC of the gateway's range skipped: a received carton already has it", "sscc", sscc, "receipt", c.Receipt)
				continue
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			out = append(out, sscc)
		}
	}
	return out, nil
}

// checkSSCCs refuses supplier SSCCs given twice, or already recorded for
// another receipt.
func (s *Service) checkSSCCs(id string, ssccs []string) error {
	seen := make(map[string]bool, len(ssccs))
	for _, sscc := range ssccs {
		if seen[sscc] {
			return fmt.Errorf("%w: ssccs: %s is given twice", ErrInvalid, sscc)
		}
		seen[sscc] = true
		if c, err := s.Carton(sscc); err == nil && c.Receipt != id {
			return fmt.Errorf("%w: ssccs: carton %s was already received in receipt %s", ErrConflict, sscc, c.Receipt)
		}
	}
	return nil
}

// requestHash identifies what a receipt request asked for, so that an id
// reused for another request is refused.
func requestHash(r Request) string {
	r.ID, r.Source, r.Scan = "", "", ""
	b, _ := json.Marshal(r)
	h := sha256.Sum256(b)
	return fmt.Sprintf("%x", h[:12])
}

// finish does what is left of a recorded receipt: links, its events and
// its label jobs, then drops it from the pending list.
func (s *Service) finish(ctx context.Context, rc *Receipt) error {
	cartons := make([]Carton, 0, len(rc.Cartons))
	for _, sscc := range rc.Cartons {
		c, err := s.Carton(sscc)
		if err != nil {
			return err
		}
		cartons = append(cartons, *c)
	}
	return s.finishWith(ctx, rc, cartons)
}

func (s *Service) finishWith(ctx context.Context, rc *Receipt, cartons []Carton) error {
	if !rc.Linked {
		if err := s.lots.LinkCartons(ctx, rc.Lot, cartons); err != nil {
			return fmt.Errorf("link cartons to lot %s: %w", rc.Lot, err)
		}
		rc.Linked = true
		if err := s.save(rc); err != nil {
			return err
		}
	}
	if !rc.Emitted {
		// Recorded by a version that published after the commit: its
		// event is staged now, with the mark.
		rc.Emitted = true
		if err := s.st.Update(func(txn *badger.Txn) error {
			if err := store.PutJSON(txn, keyReceipt(rc.ID), rc); err != nil {
				return err
			}
			return s.stageEvent(txn, createdEvent(rc, cartons))
		}); err != nil {
			rc.Emitted = false
			return err
		}
	}
	if err := s.spoolCartons(ctx, rc, cartons); err != nil {
		return err
	}
	if rc.Status != "open" && rc.Notified != rc.Status {
		return nil // notifyStatus has its event to stage first
	}
	return s.st.DB().Update(func(txn *badger.Txn) error { return txn.Delete(keyPending(rc.ID)) })
}

// createdEvent is a receipt's receipt.created event.
func createdEvent(rc *Receipt, cartons []Carton) Event {
	return Event{ID: stableID(rc.ID, "created"), Type: "receipt.created", Time: rc.Time,
		Lot: rc.Lot, Subject: rc.ID, Body: rc, Receipt: rc, Cartons: cartons}
}

func (s *Service) save(rc *Receipt) error {
	return s.st.DB().Update(func(txn *badger.Txn) error { return store.PutJSON(txn, keyReceipt(rc.ID), rc) })
}

// Resume finishes the receipts a crash or an error left unfinished (links,
// events, label jobs, a status change not yet published). The gateway calls
// it at start.
func (s *Service) Resume(ctx context.Context) (int, error) {
	var ids []string
	err := s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, keyPending(""), false, func(id, _ []byte) error {
			ids = append(ids, string(id))
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// One receipt that cannot be finished does not keep the others from it.
	var errs []error
	done := 0
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		rc, err := s.Receipt(id)
		if err == nil {
			if err = s.finish(ctx, rc); err == nil {
				err = s.notifyStatus(rc)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("resume receipt %s: %w", id, err))
			continue
		}
		done++
	}
	return done, errors.Join(errs...)
}

func (s *Service) spoolCartons(ctx context.Context, rc *Receipt, cartons []Carton) error {
	door := s.doors[rc.Door]
	if door == nil || door.Printer() == "" {
		return nil
	}
	jobs := make([]LabelJob, 0, len(cartons))
	for _, c := range cartons {
		zpl, err := door.Render(labelValues(rc, c))
		if err != nil {
			return fmt.Errorf("label for carton %s: %w", c.SSCC, err)
		}
		jobs = append(jobs, LabelJob{ID: c.Job, ZPL: zpl, Lot: rc.Lot, SSCC: c.SSCC})
	}
	if err := door.Submit(ctx, jobs); err != nil {
		return fmt.Errorf("spool the labels of receipt %s: %w", rc.ID, err)
	}
	return nil
}

// labelValues are the carton label's values.
func labelValues(rc *Receipt, c Carton) map[string]string {
	vals := map[string]string{
		"gtin": rc.GTIN, "lot": rc.Lot, "expiry": rc.Expiry, "production": rc.Production,
		"sscc": c.SSCC, "product": rc.Product, "description": rc.Description,
		"supplier": rc.Supplier, "po": rc.PO, "epc": c.EPC,
	}
	if rc.QtyPerCarton > 0 {
		vals["qty"] = strconv.Itoa(rc.QtyPerCarton)
	}
	for k, v := range vals {
		if v == "" {
			delete(vals, k)
		}
	}
	return vals
}

// checkLabel renders a carton label of the receipt before anything of it is
// recorded, so that a value the door's label refuses (a character the
// printer cannot print, a field too long for it) is a 400 naming it, not a
// receipt recorded without labels. The lot and carton are stand-ins: the
// supplier's lot or a generated code, the first supplier SSCC or one of the
// gateway's range.
func (s *Service) checkLabel(rc *Receipt, supplierEPCs []epc.EPC) error {
	door := s.doors[rc.Door]
	if door == nil || door.Printer() == "" {
		return nil
	}
	probe := *rc
	if probe.Lot = rc.SupplierLot; probe.Lot == "" {
		probe.Lot = "0"
	}
	var c Carton
	var e epc.EPC
	var err error
	if len(supplierEPCs) > 0 {
		e = supplierEPCs[0]
		c.SSCC = e.SSCC()
	} else {
		r := s.cfg.SSCC
		c.SSCC = makeSSCC(r.Extension, r.CompanyPrefix, r.Start, 16-len(r.CompanyPrefix))
		e, err = epc.NewSSCC96(int(epc.FilterFullCase), len(r.CompanyPrefix), c.SSCC)
	}
	if err == nil {
		// A '+' EPC is as long as its lot: the probe's is the longest.
		if e, err = s.plusEPC(e, c.SSCC, rc, probeLot); err != nil {
			return invalid("carton EPC (labels.epc_scheme %s): %v", s.cfg.EPCScheme, err)
		}
		c.EPC = epcHex(e)
	}
	if err := door.Check(labelValues(&probe, c)); err != nil {
		return invalid("the carton label of door %s refuses a value: %v", rc.Door, err)
	}
	return nil
}

// probeLot is a lot code of the most characters (20) in the encoding that
// takes most bits in an EPC (7-bit ASCII), for the label check.
const probeLot = "a-Z0a-Z0a-Z0a-Z0a-Z0"

// plusEPC is the EPC of carton sscc, whose SSCC-96 is e, in the scheme of
// labels.epc_scheme: e itself for sscc-96; with sscc+ or sgtin+ an EPC that
// carries the lot (10) and the expiry (17) itself, so that a door that never
// heard of the carton knows its lot from the read alone. GS1 ties a lot to a
// GTIN: sgtin+ is the receipt's GTIN with the SSCC as serial; sscc+ carries
// the GTIN (02) and count (37) of the contents with the lot. A receipt
// without a GTIN keeps e.
func (s *Service) plusEPC(e epc.EPC, sscc string, rc *Receipt, lot string) (epc.EPC, error) {
	scheme := s.cfg.EPCScheme
	if scheme == "" || scheme == "sscc-96" || rc.GTIN == "" {
		return e, nil
	}
	gtin := gs1.GTIN14(rc.GTIN)
	var els []gs1.Element
	var err error
	switch scheme {
	case "sscc+":
		e, err = epc.NewSSCCPlus(int(epc.FilterFullCase), sscc)
		els = append(els, gs1.Element{AI: "02", Value: gtin}, gs1.Element{AI: "37", Value: strconv.Itoa(max(rc.QtyPerCarton, 1))})
	case "sgtin+":
		e, err = epc.NewSGTINPlus(int(epc.FilterFullCase), gtin, sscc)
	default:
		return epc.EPC{}, fmt.Errorf("labels.epc_scheme %q: use sscc-96, sscc+ or sgtin+", scheme)
	}
	if err != nil {
		return epc.EPC{}, err
	}
	els = append(els, gs1.Element{AI: "10", Value: lot})
	if len(rc.Expiry) == 10 { // YYYY-MM-DD
		els = append(els, gs1.Element{AI: "17", Value: rc.Expiry[2:4] + rc.Expiry[5:7] + rc.Expiry[8:10]})
	}
	return e.WithAIDC(els...)
}

// epcHex is an EPC as readers report it and tags hold it: whole 16-bit
// words in upper-case hex (a '+' EPC's bits are padded).
func epcHex(e epc.EPC) string { return strings.ToUpper(hex.EncodeToString(e.Bytes())) }

// epcURI is the pure identity URI of an EPC, or for a '+' scheme, which has
// none, its GS1 Digital Link URI.
func epcURI(e epc.EPC) string {
	if u := e.PureURI(); u != "" {
		return u
	}
	return e.String()
}

// stageEvent stages ev in txn, with its reference for the lot's trace.
func (s *Service) stageEvent(txn *badger.Txn, ev Event) error {
	if err := s.emit.Emit(txn, ev); err != nil {
		return fmt.Errorf("event %s: %w", ev.Type, err)
	}
	// The trace names the event by the ID it is published with.
	ref := EventRef{EventID: "urn:uuid:" + ev.ID, Type: ev.Type, Time: ev.Time, Subject: ev.Subject}
	return store.PutJSON(txn, keyLotEvent(ev.Lot, ev.Time, ev.ID), ref)
}

// RecordEvent remembers an event about a lot that another part of the
// gateway emitted (label printed or failed, hold alert), for trace.
func (s *Service) RecordEvent(lot string, ref EventRef) error {
	return s.st.DB().Update(func(txn *badger.Txn) error { return RecordEventIn(txn, lot, ref) })
}

// RecordEventIn is RecordEvent in the transaction that stages the event.
func RecordEventIn(txn *badger.Txn, lot string, ref EventRef) error {
	return store.PutJSON(txn, keyLotEvent(lot, ref.Time, ref.EventID), ref)
}

// Receipt returns a recorded receipt.
func (s *Service) Receipt(id string) (*Receipt, error) {
	var rc Receipt
	err := s.st.DB().View(func(txn *badger.Txn) error { return getJSON(txn, keyReceipt(id), &rc) })
	if err != nil {
		return nil, fmt.Errorf("receipt %q: %w", id, err)
	}
	return &rc, nil
}

// DoorReceipts returns the last receipts recorded at a door, newest first,
// at most max (the door board's receipt in progress and those before it).
// Receipts recorded by a version without this index are not listed.
func (s *Service) DoorReceipts(door string, max int) ([]Receipt, error) {
	var out []Receipt
	err := s.st.DB().View(func(txn *badger.Txn) error {
		prefix := prefixDoorReceipts(door)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
		defer it.Close()
		for it.Seek(append(append([]byte(nil), prefix...), 0xff)); it.ValidForPrefix(prefix) && len(out) < max; it.Next() {
			k := it.Item().Key()[len(prefix):]
			if len(k) <= 20 {
				continue
			}
			var rc Receipt
			if err := getJSON(txn, keyReceipt(string(k[20:])), &rc); err != nil {
				return err
			}
			out = append(out, rc)
		}
		return nil
	})
	return out, err
}

// Carton returns a recorded carton by SSCC.
func (s *Service) Carton(sscc string) (*Carton, error) {
	var c Carton
	err := s.st.DB().View(func(txn *badger.Txn) error { return getJSON(txn, keyCarton(sscc), &c) })
	if err != nil {
		return nil, fmt.Errorf("carton %s: %w", sscc, err)
	}
	return &c, nil
}

// CartonByEPC returns the carton whose tag carries the EPC (hex).
func (s *Service) CartonByEPC(epcHex string) (*Carton, error) {
	var c Carton
	err := s.st.DB().View(func(txn *badger.Txn) error {
		item, err := txn.Get(keyTag(strings.ToUpper(epcHex)))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		sscc, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		return getJSON(txn, keyCarton(string(sscc)), &c)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// LotHeld reports whether a lot's goods must be stopped (a lot not
// recorded here is not held); the portal asks it about the lot a tag
// carries in its own EPC. A hold check that fails counts as held.
func (s *Service) LotHeld(lot string) bool {
	h, err := s.lots.Held(lot)
	if err != nil {
		s.log.Warn("hold check failed; treating the lot as held", "lot", lot, "err", err)
		return true
	}
	return h
}

// LotForEPC resolves a tag to its lot and whether the lot is held; it is the
// portal's lot resolver.
func (s *Service) LotForEPC(epcHex string) (lot string, held, ok bool) {
	c, err := s.CartonByEPC(epcHex)
	if err != nil {
		return "", false, false
	}
	h, err := s.lots.Held(c.Lot)
	if err != nil {
		s.log.Warn("hold check failed; treating the lot as held", "lot", c.Lot, "err", err)
		h = true
	}
	return c.Lot, h, true
}

// PassIndexRetention is how long the tags of a pass stay in the index of
// passes by door and time (TagsPassedAt): long enough for a cycle count of
// a sweep window to be recorded late, short enough that the index of a
// busy door stays bounded. The passes of a carton (its trace) are kept.
const PassIndexRetention = 31 * 24 * time.Hour

// ErrTooManyTags: a window of passes holds more tags than asked for.
var ErrTooManyTags = errors.New("too many tags")

// TagsPassedAt returns the EPCs (hex, each once, in the order first
// reported) of the passes at door that ended at or after from and before
// to, at most limit of them (more is ErrTooManyTags). Passes older than
// PassIndexRetention are no longer indexed.
func (s *Service) TagsPassedAt(door string, from, to time.Time, limit int) ([]string, error) {
	prefix := prefixDoorPasses(door)
	lo := keyDoorPass(door, from, "")
	hi := keyDoorPass(door, to, "")
	var out []string
	seen := map[string]bool{}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(lo); it.ValidForPrefix(prefix); it.Next() {
			k := it.Item().Key()
			if bytes.Compare(k, hi) >= 0 {
				break
			}
			h := string(k[len(prefix)+20:])
			if seen[h] {
				continue
			}
			if len(out) == limit {
				return fmt.Errorf("%w: more than %d tags passed door %s in the window", ErrTooManyTags, limit, door)
			}
			seen[h] = true
			out = append(out, h)
		}
		return nil
	})
	return out, err
}

// PassResult is what a portal pass did to receipts.
type PassResult struct {
	Matched    []string `json:"matched"`    // SSCCs of receipts' cartons
	Unexpected []string `json:"unexpected"` // EPCs that belong to no receipt
	Completed  []string `json:"completed"`  // receipts completed by this pass
}

// OnPass matches the EPCs (hex) of a pass at a door to receipts. Passes at
// a receiving door that are not outbound confirm cartons; every pass of a
// known carton is recorded for trace. also, when not nil, runs in the same
// transaction (the gateway stages the pass's own events there), so that the
// pass and what it changed commit together.
func (s *Service) OnPass(ctx context.Context, door, direction string, at time.Time, epcs []string, also func(txn *badger.Txn) error) (PassResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res PassResult
	receipts := map[string]*Receipt{}
	err := s.st.Update(func(txn *badger.Txn) error {
		res = PassResult{}
		clear(receipts)
		for _, h := range epcs {
			h = strings.ToUpper(h)
			item, err := txn.Get(keyTag(h))
			if errors.Is(err, badger.ErrKeyNotFound) {
				res.Unexpected = append(res.Unexpected, h)
				if err := txn.SetEntry(badger.NewEntry(keyDoorPass(door, at, h), nil).WithTTL(PassIndexRetention)); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			ssccB, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := txn.SetEntry(badger.NewEntry(keyDoorPass(door, at, h), ssccB).WithTTL(PassIndexRetention)); err != nil {
				return err
			}
			var c Carton
			if err := getJSON(txn, keyCarton(string(ssccB)), &c); err != nil {
				return err
			}
			p := Pass{Door: door, Direction: direction, Time: at.UTC()}
			if held, _ := s.lots.Held(c.Lot); held {
				p.Held = true // the portal raises the alert; trace shows it
			}
			if err := store.PutJSON(txn, keyPass(c.SSCC, at), p); err != nil {
				return err
			}
			if direction == "out" || door != c.Door || !c.SeenAt.IsZero() {
				continue
			}
			c.SeenAt = at.UTC()
			if err := store.PutJSON(txn, keyCarton(c.SSCC), c); err != nil {
				return err
			}
			res.Matched = append(res.Matched, c.SSCC)
			rc := receipts[c.Receipt]
			if rc == nil {
				rc = &Receipt{}
				if err := getJSON(txn, keyReceipt(c.Receipt), rc); err != nil {
					return err
				}
				receipts[c.Receipt] = rc
			}
			rc.Seen++
		}
		for _, rc := range sortedReceipts(receipts) {
			if rc.Status == "open" && rc.Seen >= len(rc.Cartons) {
				rc.Status = "complete"
				rc.ClosedAt = at.UTC()
				res.Completed = append(res.Completed, rc.ID)
				if err := s.stageStatus(txn, rc); err != nil {
					return err
				}
			}
			if err := store.PutJSON(txn, keyReceipt(rc.ID), rc); err != nil {
				return err
			}
		}
		if len(res.Unexpected) > 0 {
			if err := s.stageEvent(txn, Event{ID: stableID(door, at.String(), "unexpected"), Type: "carton.unexpected", Time: at.UTC(),
				Subject: door, Body: map[string]any{"door": door, "direction": direction, "epcs": res.Unexpected}}); err != nil {
				return err
			}
		}
		if also != nil {
			return also(txn)
		}
		return nil
	})
	return res, err
}

// sortedReceipts are the receipts of a pass in id order, so that their
// events are staged in the same order every time.
func sortedReceipts(m map[string]*Receipt) []*Receipt {
	out := make([]*Receipt, 0, len(m))
	for _, rc := range m {
		out = append(out, rc)
	}
	slices.SortFunc(out, func(a, b *Receipt) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Close ends the wait for a receipt's cartons: every carton not seen is
// named in a receipt.incomplete event. A complete receipt is left as it is.
func (s *Service) Close(ctx context.Context, id string) (*Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rc, err := s.Receipt(id)
	if err != nil {
		return nil, err
	}
	if rc.Status != "open" {
		return rc, s.notifyStatus(rc) // closed by an earlier version: its event, if it is not out
	}
	for _, sscc := range rc.Cartons {
		c, err := s.Carton(sscc)
		if err != nil {
			return nil, err
		}
		if c.SeenAt.IsZero() {
			rc.Missing = append(rc.Missing, sscc)
		}
	}
	rc.Status = "incomplete"
	rc.ClosedAt = s.now().UTC()
	if err := s.st.Update(func(txn *badger.Txn) error {
		if err := s.stageStatus(txn, rc); err != nil {
			return err
		}
		return store.PutJSON(txn, keyReceipt(id), rc)
	}); err != nil {
		return nil, err
	}
	return rc, nil
}

// stageStatus stages a closed receipt's status event (receipt.complete, or
// receipt.incomplete naming the missing cartons) in the transaction that
// closes it, and marks it notified; the caller writes the record.
func (s *Service) stageStatus(txn *badger.Txn, rc *Receipt) error {
	body := map[string]any{"receipt": rc.ID, "lot": rc.Lot, "door": rc.Door, "cartons": len(rc.Cartons)}
	if rc.Status == "incomplete" {
		body["missing"] = rc.Missing
	}
	if err := s.stageEvent(txn, Event{ID: stableID(rc.ID, rc.Status), Type: "receipt." + rc.Status, Time: rc.ClosedAt,
		Lot: rc.Lot, Subject: rc.ID, Body: body}); err != nil {
		return err
	}
	rc.Notified = rc.Status
	return nil
}

// notifyStatus stages the status event of a receipt closed by a version
// that published after the commit (Notified behind Status), with the mark,
// and drops it from the pending list.
func (s *Service) notifyStatus(rc *Receipt) error {
	if rc.Status == "open" || rc.Notified == rc.Status {
		return nil
	}
	return s.st.Update(func(txn *badger.Txn) error {
		if err := s.stageStatus(txn, rc); err != nil {
			return err
		}
		if err := store.PutJSON(txn, keyReceipt(rc.ID), rc); err != nil {
			return err
		}
		return txn.Delete(keyPending(rc.ID))
	})
}

// stableID derives a UUID-shaped id from its parts, so that a retried
// receipt emits events with the same ids.
func stableID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50 // version 5 shape
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,80}$`)

var idMu sync.Mutex
var idLast int64

// newID is a receipt id: R + time-ordered, unique within the process.
func newID() string {
	idMu.Lock()
	defer idMu.Unlock()
	n := time.Now().UnixNano()
	if n <= idLast {
		n = idLast + 1
	}
	idLast = n
	return "R" + strconv.FormatInt(n, 36)
}
