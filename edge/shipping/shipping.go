package shipping

import (
	"context"
	"crypto/sha256"
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
	"unicode/utf8"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/rfid/portal"
)

// Lots is what shipping needs of the lot registry.
type Lots interface {
	// Lookup returns a lot's record (without history and links).
	Lookup(code string) (lots.Lot, error)
	// List lists lots (shipping lists them all to pick by GTIN).
	List(ctx context.Context, q lots.Query) ([]lots.Lot, error)
}

// Receiving is what shipping needs of the receiving service: the cartons
// received and their receipts.
type Receiving interface {
	Carton(sscc string) (*receiving.Carton, error)
	CartonByEPC(epcHex string) (*receiving.Carton, error)
	Receipt(id string) (*receiving.Receipt, error)
	ReceiptsOfLot(lot string) ([]receiving.Receipt, error)
	ReceiptIDsOfLot(lot string) ([]string, error)
	EachReceipt(from, to time.Time, f func(*receiving.Receipt) error) error
	TagsPassedAt(door string, from, to time.Time, limit int) ([]string, error)
}

// Event is what shipping emits; the gateway turns it into an outbox event
// (and an EPCIS document for shipment.shipped and carton.returned).
type Event struct {
	ID      string // stable: the same fact has the same id
	Type    string // shipment.created, shipment.loaded, shipment.mismatch, shipment.shipped, carton.returned, count.recorded
	Time    time.Time
	Subject string
	// Lots are the lots it is about: their traces list it.
	Lots []string
	Body any
	// Shipment and Cartons are set on shipment.shipped, Return on
	// carton.returned: their EPCIS documents are made of them.
	Shipment *Shipment
	Cartons  []LoadedCarton
	Return   *Return
}

// Emitter stages events in the transaction of the change they report
// (outbox.Stage). An event that cannot be stored is an error wrapping
// ErrUnavailable, and the change is refused with it.
type Emitter interface {
	Emit(txn *badger.Txn, ev Event) error
}

// Config of the shipping service.
type Config struct {
	// Doors maps every configured door to its role (portal.RoleReceiving,
	// RoleShipping, RoleBoth): shipments leave through shipping doors.
	Doors map[string]string
	// ReturnsDoors maps the doors whose in passes record returns to the
	// condition the returned cartons get (ConditionResaleable,
	// ConditionDamaged, ConditionQuarantine).
	ReturnsDoors map[string]string
	// MaxCartons bounds the cartons of one shipment (default 2000).
	MaxCartons int
	// MaxEventBytes is the outbox's bound on an event body (default 256
	// KiB): a shipment.shipped that would pass it leaves its SSCCs out.
	MaxEventBytes int
	// Location is where dates are (today for expiry, FSMA 204 dates);
	// nil is time.Local.
	Location *time.Location
	// Site describes this site in FSMA 204 rows (the receiving location,
	// the ship-from location): "lyon, GLN 0614141000012".
	Site string
	// PalletSSCC, when set, allocates the SSCC of a closing shipment's
	// pallet (Shipment.PalletSSCC); PalletLabel then prints its label.
	PalletSSCC  func() (string, error)
	PalletLabel PalletLabeler
}

// PalletLabeler prints the pallet-ship label of a shipment that left
// (the gateway: on the printer of its door, through the spooler). It is
// called on every close of a shipment with a pallet SSCC, the retries
// too, and prints the label once.
type PalletLabeler interface {
	PalletLabel(ctx context.Context, sh *Shipment) error
}

// Service is the shipping service.
type Service struct {
	cfg  Config
	st   *store.Store
	lots Lots
	recv Receiving
	emit Emitter
	log  *slog.Logger
	now  func() time.Time

	// mu serialises every change of shipping's records, passes included
	// (see LockPass): no two of them read and write the same shipment.
	mu sync.Mutex

	// receiptCartons caches the number of cartons of each receipt (a
	// recorded receipt's cartons never change): a lot's stock is then a
	// key scan of its receipts, not a read of every receipt.
	rcMu           sync.Mutex
	receiptCartons map[string]int
}

// New makes the service.
func New(cfg Config, st *store.Store, l Lots, recv Receiving, emit Emitter, log *slog.Logger, now func() time.Time) *Service {
	if cfg.MaxCartons <= 0 {
		cfg.MaxCartons = 2000
	}
	if cfg.MaxEventBytes <= 0 {
		cfg.MaxEventBytes = 256 << 10
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, st: st, lots: l, recv: recv, emit: emit, log: log, now: now, receiptCartons: map[string]int{}}
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

func conflict(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, a...))
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,80}$`)

// checkText refuses a value that is too long or holds a control character.
func checkText(field, v string, max int) error {
	if utf8.RuneCountInString(v) > max {
		return invalid("%s: %d characters, at most %d", field, utf8.RuneCountInString(v), max)
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return invalid("%s contains a control character (a line break or tab): give one line", field)
	}
	if !utf8.ValidString(v) {
		return invalid("%s is not UTF-8 text", field)
	}
	return nil
}

// text is a request's text field and the most characters it takes.
type text struct {
	name, v string
	max     int
}

// checkTexts checks fields in order (checkText) and returns the first
// error.
func checkTexts(fields ...text) error {
	for _, f := range fields {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}

// requestID gives a request without an id a new one starting with
// prefix, and checks one given.
func requestID(id *string, prefix string) error {
	if *id == "" {
		*id = newID(prefix)
		return nil
	}
	if !idPattern.MatchString(*id) {
		return invalid("id: %q must be 1-80 letters, digits, '.', '_', ':' or '-'", *id)
	}
	return nil
}

// checkGLN checks a 13-digit GLN and its check digit.
func checkGLN(field, gln string) error {
	if gln == "" {
		return nil
	}
	if len(gln) != 13 || strings.Trim(gln, "0123456789") != "" {
		return invalid("%s: %q is not a GLN (13 digits)", field, gln)
	}
	if cd, _ := gs1.CheckDigit(gln[:12]); cd != gln[12] {
		return invalid("%s: GLN %s has check digit %c, it should be %c", field, gln, gln[12], cd)
	}
	return nil
}

// normSSCC accepts an SSCC with or without its (00).
func normSSCC(field, s string) (string, error) {
	s = strings.TrimPrefix(s, "(00)")
	if len(s) == 20 && strings.HasPrefix(s, "00") {
		s = s[2:]
	}
	if err := gs1.ValidateValue("00", s); err != nil {
		return "", invalid("%s: %v", field, err)
	}
	return s, nil
}

// doorRole returns a configured door's role, or why there is none.
func (s *Service) doorRole(door string) (string, error) {
	role, ok := s.cfg.Doors[door]
	if ok {
		return role, nil
	}
	names := make([]string, 0, len(s.cfg.Doors))
	for n := range s.cfg.Doors {
		names = append(names, n)
	}
	slices.Sort(names)
	if door == "" {
		return "", invalid("door: required: name the door (configured doors: %s)", strings.Join(names, ", "))
	}
	return "", fmt.Errorf("%w %q (configured doors: %s)", ErrUnknownDoor, door, strings.Join(names, ", "))
}

// normalise validates a shipment request and fills what follows from it.
func (s *Service) normalise(r *Request) error {
	role, err := s.doorRole(r.Door)
	if err != nil {
		return err
	}
	if role != portal.RoleShipping && role != portal.RoleBoth {
		return invalid("door: %q is a %s door; shipments leave through a door of role shipping or both", r.Door, role)
	}
	if err := requestID(&r.ID, "S"); err != nil {
		return err
	}
	if r.Order == "" {
		return invalid("order: required: the customer order this shipment fulfils")
	}
	if r.Customer.Name == "" || r.Customer.GLN == "" && r.Customer.ID == "" {
		return invalid("customer: give its name and its GLN or id (FSMA 204: the immediate subsequent recipient)")
	}
	if r.ShipTo.GLN == "" && r.ShipTo.Address == "" {
		return invalid("ship_to: give the GLN or the address line of the location the goods go to")
	}
	if err := checkTexts(text{"order", r.Order, 80}, text{"customer.id", r.Customer.ID, 80}, text{"customer.name", r.Customer.Name, 120},
		text{"ship_to.address", r.ShipTo.Address, 200}, text{"carrier", r.Carrier, 80}, text{"despatch_advice", r.DespatchAdvice, 80},
		text{"po", r.PO, 80}, text{"source", r.Source, 64}); err != nil {
		return err
	}
	if err := checkGLN("customer.gln", r.Customer.GLN); err != nil {
		return err
	}
	if err := checkGLN("ship_to.gln", r.ShipTo.GLN); err != nil {
		return err
	}
	if len(r.SSCCs) == 0 && len(r.Lines) == 0 {
		return invalid("ssccs, lines: say what should leave: SSCCs, lines of a lot with cartons, or lines of a GTIN with cartons to pick by FEFO")
	}
	seen := map[string]bool{}
	for i := range r.SSCCs {
		sscc, err := normSSCC(fmt.Sprintf("ssccs[%d]", i), r.SSCCs[i])
		if err != nil {
			return err
		}
		if seen[sscc] {
			return invalid("ssccs: %s is given twice", sscc)
		}
		seen[sscc] = true
		r.SSCCs[i] = sscc
	}
	total := len(r.SSCCs)
	for i := range r.Lines {
		l := &r.Lines[i]
		f := fmt.Sprintf("lines[%d]", i)
		if l.Cartons < 1 {
			return invalid("%s.cartons: %d: give how many cartons, at least 1", f, l.Cartons)
		}
		if l.Lot == "" && l.GTIN == "" {
			return invalid("%s: give a lot, or a GTIN to pick by FEFO", f)
		}
		if err := checkText(f+".lot", l.Lot, 20); err != nil {
			return err
		}
		if l.GTIN != "" {
			l.GTIN = gs1.GTIN14(l.GTIN)
			if err := gs1.ValidateValue("01", l.GTIN); err != nil {
				return invalid("%s.gtin: %v", f, err)
			}
		}
		total += l.Cartons
	}
	if total > s.cfg.MaxCartons {
		return invalid("%d cartons: a shipment has at most %d; split it", total, s.cfg.MaxCartons)
	}
	if r.Source == "" {
		r.Source = "api"
	}
	return nil
}

// requestHash identifies what a request asked for, so that an id reused
// for another request is refused: r is the request (a shipment's, a
// return's, a count's) with its id and source cleared.
func requestHash(r any) string {
	b, _ := json.Marshal(r)
	h := sha256.Sum256(b)
	return fmt.Sprintf("%x", h[:12])
}

// requested is a record a request with an id made; its RequestHash (of the
// request without its id and source) tells a repeat from a reuse of the id.
type requested interface{ requestHash() string }

func (sh *Shipment) requestHash() string { return sh.RequestHash }
func (r *Return) requestHash() string    { return r.RequestHash }
func (c *Count) requestHash() string     { return c.RequestHash }

// earlier returns the record of kind stored at key by an earlier request
// with id: the record for the same request (hash), a conflict for another,
// nil and nil when there is none. The caller holds s.mu.
func earlier[T any, P interface {
	*T
	requested
}](s *Service, kind, id string, key []byte, hash string) (*T, error) {
	var old T
	switch err := s.st.DB().View(func(txn *badger.Txn) error { return getJSON(txn, key, &old) }); {
	case err == nil:
		if P(&old).requestHash() != hash {
			return nil, conflict("%s id %q was already used for a different request; use a new id", kind, id)
		}
		return &old, nil
	case errors.Is(err, ErrNotFound):
		return nil, nil
	default:
		return nil, err
	}
}

// today is the current date where the gateway is, YYYY-MM-DD.
func (s *Service) today() string { return s.now().In(s.cfg.Location).Format(time.DateOnly) }

// unusable says why cartons of a lot may not leave ("" when they may).
func (s *Service) unusable(l *lots.Lot) string {
	switch {
	case l.Status == lots.StatusOnHold:
		return ReasonHeld
	case l.Status == lots.StatusRecalled:
		return ReasonRecalled
	case l.Status == lots.StatusExpired, l.Expiry != "" && l.Expiry < s.today():
		return ReasonExpired
	}
	return ""
}

// Create records a shipment. The same id again returns the recorded one.
func (s *Service) Create(ctx context.Context, r Request) (*Shipment, error) {
	if err := s.normalise(&r); err != nil {
		return nil, err
	}
	rr := r
	rr.ID, rr.Source = "", ""
	hash := requestHash(rr)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := earlier[Shipment](s, "shipment", r.ID, kShipment(r.ID), hash); old != nil || err != nil {
		return old, err
	}
	sh := &Shipment{ID: r.ID, Door: r.Door, Order: r.Order, Customer: r.Customer, ShipTo: r.ShipTo, Carrier: r.Carrier,
		DespatchAdvice: r.DespatchAdvice, PO: r.PO, Source: r.Source, Status: StatusOpen, Created: s.now().UTC(),
		SSCCs: append([]string{}, r.SSCCs...), Lines: []Line{}, SSCCLots: []SSCCLot{}, RequestHash: hash}
	stock := newStockView(s)
	if err := stock.reserveOpen(); err != nil {
		return nil, err
	}
	for _, sscc := range r.SSCCs {
		c, err := s.checkCartonForShipment(stock, sscc)
		if err != nil {
			return nil, err
		}
		sh.addSSCCLot(c.Lot)
	}
	for i, lr := range r.Lines {
		if lr.Lot == "" {
			continue
		}
		l, err := s.lots.Lookup(lr.Lot)
		if errors.Is(err, lots.ErrNotFound) {
			return nil, conflict("lines[%d].lot: lot %s is not in the lot registry", i, lr.Lot)
		} else if err != nil {
			return nil, err
		}
		if lr.GTIN != "" && l.GTIN != "" && lr.GTIN != l.GTIN {
			return nil, conflict("lines[%d].gtin: lot %s is GTIN %s, not %s", i, lr.Lot, l.GTIN, lr.GTIN)
		}
		if why := s.unusable(&l); why != "" {
			return nil, conflict("lines[%d].lot: lot %s is %s (%s): its cartons may not leave", i, lr.Lot, l.Status, why)
		}
		avail, err := stock.available(lr.Lot)
		if err != nil {
			return nil, err
		}
		if avail < lr.Cartons {
			return nil, conflict("lines[%d]: %d cartons of lot %s asked for, %d in stock and not promised to another shipment", i, lr.Cartons, lr.Lot, max(avail, 0))
		}
		stock.reserve(lr.Lot, lr.Cartons)
		sh.Lines = append(sh.Lines, Line{Lot: lr.Lot, GTIN: l.GTIN, Expiry: l.Expiry, Cartons: lr.Cartons})
	}
	for i, lr := range r.Lines {
		if lr.Lot != "" {
			continue
		}
		p, lines, err := s.pick(ctx, stock, i, lr)
		if err != nil {
			return nil, err
		}
		sh.Picks = append(sh.Picks, p)
		sh.Lines = append(sh.Lines, lines...)
	}
	sh.Expected = len(sh.SSCCs)
	for _, l := range sh.Lines {
		sh.Expected += l.Cartons
	}
	lotsOf := sh.lotCodes()
	err := s.st.Update(func(txn *badger.Txn) error {
		if err := store.PutJSON(txn, kShipment(sh.ID), sh); err != nil {
			return err
		}
		if err := txn.Set(kOpen(sh), []byte(sh.ID)); err != nil {
			return err
		}
		for _, sscc := range sh.SSCCs {
			if err := txn.Set(kExpected(sscc), []byte(sh.ID)); err != nil {
				return err
			}
		}
		return s.stageEvent(txn, Event{ID: stableID(sh.ID, "created"), Type: "shipment.created", Time: sh.Created,
			Subject: sh.ID, Lots: lotsOf, Body: sh})
	})
	if err != nil {
		return nil, fmt.Errorf("record shipment %s: %w", sh.ID, err)
	}
	s.log.Info("shipment recorded", "shipment", sh.ID, "door", sh.Door, "order", sh.Order, "cartons", sh.Expected)
	return sh, nil
}

func (sh *Shipment) addSSCCLot(lot string) {
	for i := range sh.SSCCLots {
		if sh.SSCCLots[i].Lot == lot {
			sh.SSCCLots[i].Cartons++
			return
		}
	}
	sh.SSCCLots = append(sh.SSCCLots, SSCCLot{Lot: lot, Cartons: 1})
}

// lotCodes are the lots a shipment asks for, sorted.
func (sh *Shipment) lotCodes() []string {
	var out []string
	for _, l := range sh.SSCCLots {
		out = append(out, l.Lot)
	}
	for _, l := range sh.Lines {
		out = append(out, l.Lot)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkCartonForShipment refuses a carton asked for by SSCC that may not
// leave: not received here, not in stock, of a lot that may not leave, or
// asked for by another open shipment.
func (s *Service) checkCartonForShipment(stock *stockView, sscc string) (*receiving.Carton, error) {
	c, err := s.recv.Carton(sscc)
	if errors.Is(err, receiving.ErrNotFound) {
		return nil, conflict("ssccs: no carton %s was received here", sscc)
	} else if err != nil {
		return nil, err
	}
	l, err := s.lots.Lookup(c.Lot)
	if err != nil {
		return nil, fmt.Errorf("ssccs: carton %s: lot %s: %w", sscc, c.Lot, err)
	}
	if why := s.unusable(&l); why != "" {
		return nil, conflict("ssccs: carton %s is of lot %s, which is %s (%s): it may not leave", sscc, c.Lot, l.Status, why)
	}
	var where string
	err = s.st.DB().View(func(txn *badger.Txn) error {
		var e error
		where, e = s.cartonWhere(txn, sscc)
		if e != nil || where != "" {
			return e
		}
		var other []byte
		if item, e := txn.Get(kExpected(sscc)); e == nil {
			other, _ = item.ValueCopy(nil)
		} else if !errors.Is(e, badger.ErrKeyNotFound) {
			return e
		}
		if len(other) > 0 {
			var o Shipment
			if e := getJSON(txn, kShipment(string(other)), &o); e == nil && o.Status != StatusShipped {
				where = "asked for by open shipment " + o.ID
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if where != "" {
		return nil, conflict("ssccs: carton %s is %s", sscc, where)
	}
	stock.reserve(c.Lot, 1)
	return c, nil
}

// cartonWhere says where a carton is when it is not in stock ("" when it
// is): loaded on or shipped with a shipment, or returned unfit for sale.
func (s *Service) cartonWhere(txn *badger.Txn, sscc string) (string, error) {
	var st cartonState
	switch err := getJSON(txn, kCarton(sscc), &st); {
	case errors.Is(err, ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	case st.Return != "":
		if st.Condition == ConditionResaleable {
			return "", nil
		}
		return fmt.Sprintf("returned %s (return %s)", st.Condition, st.Return), nil
	}
	var sh Shipment
	if err := getJSON(txn, kShipment(st.Shipment), &sh); err != nil {
		return "", fmt.Errorf("carton %s: shipment %s: %w", sscc, st.Shipment, err)
	}
	if sh.Status == StatusShipped {
		return "shipped with shipment " + sh.ID, nil
	}
	return "loaded on shipment " + sh.ID, nil
}

// Get returns a recorded shipment.
func (s *Service) Get(id string) (*Shipment, error) {
	var sh Shipment
	err := s.st.DB().View(func(txn *badger.Txn) error { return getJSON(txn, kShipment(id), &sh) })
	if err != nil {
		return nil, fmt.Errorf("shipment %q: %w", id, err)
	}
	return &sh, nil
}

// Cartons returns the cartons on a shipment (loaded, or shipped with it).
func (s *Service) Cartons(id string) ([]LoadedCarton, error) {
	out := []LoadedCarton{}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		if _, err := txn.Get(kShipment(id)); errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("shipment %q: %w", id, ErrNotFound)
		}
		return store.Scan(txn, kLoadedPrefix(id), true, func(_, v []byte) error {
			var c LoadedCarton
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// Close ends a shipment: what is loaded left. shipment.shipped says what
// left by lot and names what is missing; its EPCIS document is a shipping
// event. Closing a shipped shipment returns it as it is.
//
// A shipment that left with cartons gets a pallet SSCC (when the gateway
// allocates them) and its pallet-ship label is printed: on the first
// close, and again on a retried close only if it was not (a label that
// could not be spooled is logged; the close stands).
func (s *Service) Close(ctx context.Context, id string) (*Shipment, error) {
	sh, err := s.close(id)
	if err != nil {
		return nil, err
	}
	if sh.PalletSSCC != "" && s.cfg.PalletLabel != nil {
		if err := s.cfg.PalletLabel.PalletLabel(ctx, sh); err != nil {
			s.log.Error("pallet label not printed: close the shipment again to retry", "shipment", sh.ID, "sscc", sh.PalletSSCC, "err", err)
		}
	}
	return sh, nil
}

func (s *Service) close(id string) (*Shipment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, err := s.Get(id)
	if err != nil {
		return nil, err
	}
	if sh.Status == StatusShipped {
		return sh, nil
	}
	cartons, err := s.Cartons(id)
	if err != nil {
		return nil, err
	}
	loaded := map[string]bool{}
	byLot := map[string]*LotQuantity{}
	var order []string
	var unplanned []LoadedCarton
	counted := map[string]bool{} // lots whose cartons all carry a quantity
	for _, c := range cartons {
		loaded[c.SSCC] = true
		q := byLot[c.Lot]
		if q == nil {
			q = &LotQuantity{Lot: c.Lot, GTIN: c.GTIN}
			byLot[c.Lot] = q
			order = append(order, c.Lot)
			counted[c.Lot] = true
		}
		q.Cartons++
		q.Quantity += float64(c.Qty)
		if c.Qty <= 0 {
			counted[c.Lot] = false
		}
		if c.Line == LineUnplanned {
			unplanned = append(unplanned, c)
		}
	}
	slices.Sort(order)
	sh.Shipped = []LotQuantity{}
	for _, lot := range order {
		q := byLot[lot]
		q.Unit = "CS"
		if counted[lot] {
			q.Unit = "EA"
			if l, err := s.lots.Lookup(lot); err == nil && l.Unit != "" && l.Unit != "CS" {
				q.Unit = l.Unit
			}
		} else {
			q.Quantity = float64(q.Cartons) // cartons are what is counted
		}
		sh.Shipped = append(sh.Shipped, *q)
	}
	sh.Missing = &Missing{SSCCs: []string{}, Lines: []MissingLine{}}
	for _, sscc := range sh.SSCCs {
		if !loaded[sscc] {
			sh.Missing.SSCCs = append(sh.Missing.SSCCs, sscc)
		}
	}
	for _, l := range sh.Lines {
		if l.Loaded < l.Cartons {
			sh.Missing.Lines = append(sh.Missing.Lines, MissingLine{Lot: l.Lot, Cartons: l.Cartons - l.Loaded})
		}
	}
	wasOpen := *sh
	if len(cartons) > 0 && s.cfg.PalletSSCC != nil {
		sscc, err := s.cfg.PalletSSCC()
		if err != nil {
			s.log.Error("no pallet SSCC for the shipment: it is closed without a pallet label", "shipment", sh.ID, "err", err)
		}
		sh.PalletSSCC = sscc
	}
	sh.Status = StatusShipped
	sh.ShippedAt = s.now().UTC()
	body := shippedBody(sh, cartons, unplanned, s.cfg.MaxEventBytes)
	err = s.st.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(kOpen(&wasOpen)); err != nil {
			return err
		}
		if err := putShipped(txn.Set, sh); err != nil {
			return err
		}
		for _, q := range sh.Shipped {
			n, err := getCounts(txn, q.Lot)
			if err != nil {
				return err
			}
			n.Loaded -= q.Cartons
			n.Shipped += q.Cartons
			if err := store.PutJSON(txn, kLotCounts(q.Lot), n); err != nil {
				return err
			}
		}
		return s.stageEvent(txn, Event{ID: stableID(sh.ID, "shipped"), Type: "shipment.shipped", Time: sh.ShippedAt,
			Subject: sh.ID, Lots: order, Body: body, Shipment: sh, Cartons: cartons})
	})
	if err != nil {
		return nil, fmt.Errorf("close shipment %s: %w", id, err)
	}
	s.log.Info("shipment shipped", "shipment", sh.ID, "cartons", len(cartons), "missing", len(sh.Missing.SSCCs)+len(sh.Missing.Lines))
	return sh, nil
}

// putShipped writes a closed shipment's record and the indexes it is
// traced by: its lots', its customer's, its order's and its time's.
func putShipped(set func(k, v []byte) error, sh *Shipment) error {
	put := func(k []byte, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return set(k, b)
	}
	if err := put(kShipment(sh.ID), sh); err != nil {
		return err
	}
	for _, q := range sh.Shipped {
		ls := LotShipment{Shipment: sh.ID, Order: sh.Order, Customer: sh.Customer, ShipTo: sh.ShipTo, Door: sh.Door,
			Time: sh.ShippedAt, Carrier: sh.Carrier, PO: sh.PO, DespatchAdvice: sh.DespatchAdvice, LotQuantity: q}
		if err := put(kLotShip(q.Lot, sh.ID), ls); err != nil {
			return err
		}
	}
	summary := sh.summary()
	enc := appendSummary(nil, &summary)
	for _, k := range sh.Customer.Keys() {
		if err := set([]byte(pCustomer+k+"\x00"+stamp(sh.ShippedAt)+sh.ID), enc); err != nil {
			return err
		}
	}
	if err := set([]byte(pOrder+sh.Order+"\x00"+sh.ID), enc); err != nil {
		return err
	}
	return set(kTime(sh.ShippedAt, sh.ID), nil)
}

func (sh *Shipment) summary() ShipmentSummary {
	return ShipmentSummary{Shipment: sh.ID, Order: sh.Order, Customer: sh.Customer, ShipTo: sh.ShipTo, Door: sh.Door,
		Time: sh.ShippedAt, Carrier: sh.Carrier, Lots: sh.Shipped}
}

// shippedBody is the body of shipment.shipped: what left by lot and carton,
// what is missing, and the unplanned cartons. The SSCCs are left out (and
// counted in ssccs_omitted) when they would make it larger than an event
// may be.
func shippedBody(sh *Shipment, cartons []LoadedCarton, unplanned []LoadedCarton, maxBytes int) map[string]any {
	ssccs := make([]string, len(cartons))
	for i, c := range cartons {
		ssccs[i] = c.SSCC
	}
	up := make([]map[string]string, 0, len(unplanned))
	for _, c := range unplanned {
		up = append(up, map[string]string{"sscc": c.SSCC, "lot": c.Lot, "reason": c.Reason})
	}
	body := map[string]any{"shipment": sh.ID, "order": sh.Order, "customer": sh.Customer, "ship_to": sh.ShipTo,
		"door": sh.Door, "carrier": sh.Carrier, "po": sh.PO, "despatch_advice": sh.DespatchAdvice,
		"shipped_at": sh.ShippedAt, "cartons": len(cartons), "expected": sh.Expected, "lots": sh.Shipped,
		"missing": sh.Missing, "unplanned": up, "ssccs": ssccs}
	if sh.PalletSSCC != "" {
		body["pallet_sscc"] = sh.PalletSSCC
	}
	if b, _ := json.Marshal(body); len(b) > maxBytes {
		body["ssccs"] = []string{}
		body["ssccs_omitted"] = len(ssccs)
		if b, _ := json.Marshal(body); len(b) > maxBytes {
			body["missing"] = map[string]int{"ssccs": len(sh.Missing.SSCCs), "lines": len(sh.Missing.Lines)}
			body["unplanned"] = len(unplanned)
		}
	}
	return body
}

// stageEvent stages ev in txn, with its reference in the trace of each of
// its lots.
func (s *Service) stageEvent(txn *badger.Txn, ev Event) error {
	if err := s.emit.Emit(txn, ev); err != nil {
		return fmt.Errorf("event %s: %w", ev.Type, err)
	}
	for _, lot := range ev.Lots {
		ref := receiving.EventRef{EventID: "urn:uuid:" + ev.ID, Type: ev.Type, Time: ev.Time, Subject: ev.Subject}
		if err := receiving.RecordEventIn(txn, lot, ref); err != nil {
			return err
		}
	}
	return nil
}

// stableID derives a UUID-shaped id from its parts, so that the same fact
// (a retried request, a replayed pass) gets the same event id.
func stableID(parts ...string) string {
	h := sha256.Sum256([]byte("shipping\x00" + strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50 // version 5 shape
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

var idMu sync.Mutex
var idLast int64

// newID is an id: prefix + time-ordered, unique within the process.
func newID(prefix string) string {
	idMu.Lock()
	defer idMu.Unlock()
	n := time.Now().UnixNano()
	if n <= idLast {
		n = idLast + 1
	}
	idLast = n
	return prefix + strconv.FormatInt(n, 36)
}
