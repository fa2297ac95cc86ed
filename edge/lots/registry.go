package lots

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/lot"
)

// Keys (see edge/store/keys.go: this package owns lot/ and loti/):
//
//	lot/c/<code>                          the lot record (JSON)
//	lot/h/<code>\x00<u32 index>           history events, append-only
//	lot/q/<id>                            an issue request's id: {code, hash}
//	loti/p/<product>\x00<code>            by product
//	loti/s/<supplier>\x00<code>           by supplier
//	loti/sl/<supplier>\x00<supplier lot>\x00<code>
//	loti/d/<YYYYMMDD>\x00<code>           by production date (else date received)
//	loti/st/<status>\x00<code>            by status
//	loti/fe/<product>\x00<expiry>\x00<production>\x00<code>   available lots, FEFO
//	loti/fi/<product>\x00<production>\x00<created>\x00<code>  available lots, FIFO
//	loti/x/<expiry>\x00<code>             lots not recalled or expired, by expiry
//	loti/l/<code>\x00<kind>\x00<id>       a lot's links
//	loti/r/<kind>\x00<id>\x00<code>       reverse links
const (
	kRec     = "lot/c/"
	kReq     = "lot/q/" // issue request id → {code, hash}
	kHist    = "lot/h/"
	iProduct = "loti/p/"
	iSupp    = "loti/s/"
	iSuppLot = "loti/sl/"
	iDate    = "loti/d/"
	iStatus  = "loti/st/"
	iFEFO    = "loti/fe/"
	iFIFO    = "loti/fi/"
	iExpiry  = "loti/x/"
	iLink    = "loti/l/"
	iRev     = "loti/r/"
	// counter names: lot/<template>/<product or *>/<period>
	ctrPrefix = "lot/"
)

// Options configure a Registry.
type Options struct {
	// Config holds the named formats (the gateway's lots section).
	Config lot.Config
	// Site and Gateway are this gateway's values for {SITE} and {GATEWAY}
	// when a request gives none.
	Site    string
	Gateway string
	// OnChange, when set, receives every change inside the transaction
	// that makes it, before the commit: the gateway stages the change's
	// events there (outbox.Stage), so that the change and its events
	// commit together or not at all. An error refuses the change. It may
	// be called again for the same change when the transaction is retried
	// after a conflict; it must not block.
	OnChange func(txn *badger.Txn, c Change) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Location is where "today" is (default production dates, expiry);
	// nil is time.Local.
	Location *time.Location
	// MinFreeBytes: writes are refused below this much free disk space
	// (Badger cannot survive a full disk). Default 32 MiB.
	MinFreeBytes uint64
	// Admit, when set, is asked before every change: an error refuses it
	// (as ErrStoreFull). The gateway asks its outbox, so that no change
	// is committed whose event would then be refused.
	Admit func() error
	// SiteSync, when set, is the site of gateways this one belongs to
	// (sync.enabled): a lot registered here takes the status the site
	// gave it, and a hold, release or recall of a lot with no record here
	// (received at another gateway) is made through it.
	SiteSync SiteSync
}

// SiteSync is what the registry needs of a site of gateways sharing lot
// statuses. Statuses the site sets are mirrored with ApplySite.
type SiteSync interface {
	// Status is the lot's status as the site knows it in txn; ok is
	// false when the site knows none.
	Status(txn *badger.Txn, code string) (status Status, reason string, ok bool, err error)
	// Change makes a status change of a lot this registry has no record
	// of: ev is the change (At, Action, To, Reason, By) and allowed tells
	// the statuses it may be made from. It returns the lot as the site
	// knows it after the change, ErrNotFound when the site knows no such
	// lot either, ErrStatus when its status does not allow the change.
	Change(ctx context.Context, code string, ev Event, allowed func(Status) bool) (Lot, error)
}

// Registry is the lot registry on the gateway's store. It is safe for
// concurrent use.
type Registry struct {
	s    *store.Store
	db   *badger.DB
	o    Options
	mu   sync.Mutex
	fmts map[string]*lot.Format
	// issueMu serialises issuing: the sequence number and the lot record
	// commit in one transaction, which concurrent issuers would conflict on.
	issueMu sync.Mutex
}

// New returns the registry on s. The configuration is validated.
func New(s *store.Store, o Options) (*Registry, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.MinFreeBytes == 0 {
		o.MinFreeBytes = 32 << 20
	}
	return &Registry{s: s, db: s.DB(), o: o, fmts: map[string]*lot.Format{}}, nil
}

// Format compiles (once) a format name or template; "" is the default.
func (r *Registry) Format(name string) (*lot.Format, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f, ok := r.fmts[name]; ok {
		return f, nil
	}
	f, err := r.o.Config.Format(name)
	if err != nil {
		return nil, err
	}
	r.fmts[name] = f
	return f, nil
}

func (r *Registry) today() time.Time {
	y, m, d := r.o.Now().In(r.o.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (r *Registry) checkSpace() error {
	free, err := r.s.FreeBytes()
	if err != nil {
		return fmt.Errorf("lots: free disk space: %w", err)
	}
	if free < r.o.MinFreeBytes {
		return fmt.Errorf("%w: %d bytes free, below %d; free disk space in %s", ErrStoreFull, free, r.o.MinFreeBytes, r.s.Dir())
	}
	if r.o.Admit != nil {
		if err := r.o.Admit(); err != nil {
			return fmt.Errorf("%w: the change's event could not be queued: %v", ErrStoreFull, err)
		}
	}
	return nil
}

// errCodeTaken: the code being created is registered already.
var errCodeTaken = errors.New("code taken")

// Issue generates a new lot code and records the lot. The code is recorded as
// issued in the same synced step that makes it, and never issued again.
func (r *Registry) Issue(ctx context.Context, req IssueRequest) (Lot, error) {
	var reqHash string
	if req.ID != "" {
		if !reqIDPattern.MatchString(req.ID) {
			return Lot{}, fmt.Errorf("%w: id %q: use 1-80 letters, digits, '.', '_', ':' or '-'", ErrInvalid, req.ID)
		}
		reqHash = req.hash() // as given: defaults such as today's date may change on a retry
		// A retry is answered first: neither a format taken out of the
		// configuration nor a low disk stops it from getting its lot.
		if l, ok, err := r.issuedBefore(req.ID, reqHash); ok || err != nil {
			return l, err
		}
	}
	f, err := r.Format(req.Format)
	if err != nil {
		return Lot{}, err
	}
	if req.Site == "" {
		req.Site = r.o.Site
	}
	if req.Gateway == "" {
		req.Gateway = r.o.Gateway
	}
	if req.Production.IsZero() {
		req.Production = r.today()
	}
	if err := req.Details.check(); err != nil {
		return Lot{}, err
	}
	v := lot.Values{Date: req.Production, Brand: req.Brand, Site: req.Site, Gateway: req.Gateway,
		Door: req.Door, Line: req.Line, Product: req.Product, Supplier: req.Supplier}
	if err := f.CheckValues(v); err != nil {
		return Lot{}, err
	}
	if err := r.checkSpace(); err != nil {
		return Lot{}, err
	}
	part := "*"
	if f.Per() == lot.PerProduct {
		part = req.Product
	}
	counter := ctrPrefix + f.Template() + "/" + part + "/" + f.Period(req.Production)
	r.issueMu.Lock()
	defer r.issueMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return Lot{}, err
		}
		// The number and the record commit together, in one sync: a code
		// is recorded as issued in the step that makes it. A number whose
		// code is taken already (a supplier lot with that code) is spent
		// and the next one tried.
		var l Lot
		var ev Event
		var before issued // what req.ID issued before
		taken := false
		err := r.s.Update(func(txn *badger.Txn) error {
			if req.ID != "" {
				item, err := txn.Get([]byte(kReq + req.ID))
				if err == nil {
					return item.Value(func(b []byte) error { return json.Unmarshal(b, &before) })
				} else if !errors.Is(err, badger.ErrKeyNotFound) {
					return err
				}
			}
			seq, err := store.NextInTxn(txn, counter, 1, 1, f.SeqMax())
			if err != nil {
				return err
			}
			code, err := f.Generate(v, seq)
			if err != nil {
				return err
			}
			l = r.newLot(code, SourceGenerated, req.Details)
			l.Format = f.Template()
			ev = Event{At: l.Created, Action: "created", To: StatusActive, By: req.By}
			if _, err := txn.Get([]byte(kRec + l.Code)); err == nil {
				taken = true
				return nil
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			if req.ID != "" {
				b, err := json.Marshal(issued{Code: l.Code, Hash: reqHash})
				if err != nil {
					return err
				}
				if err := txn.Set([]byte(kReq+req.ID), b); err != nil {
					return err
				}
			}
			if err := writeNew(txn.Set, &stored{Lot: l}, ev); err != nil {
				return err
			}
			return r.notify(txn, Change{Code: l.Code, Event: ev, Lot: l})
		})
		switch {
		case err == nil && before.Code != "":
			return r.repeat(req.ID, reqHash, before)
		case errors.Is(err, store.ErrExhausted):
			return Lot{}, fmt.Errorf("%w: format %q has used all %d numbers of {SEQ} for %s %s; widen {SEQ:n} or add a finer date token: %v",
				ErrExhausted, f.Template(), f.SeqMax(), part, periodName(f, req.Production), err)
		case errors.Is(err, badger.ErrConflict):
			continue // a Register of the same code at the same moment: look again
		case err != nil:
			if errors.Is(err, lot.ErrValue) || errors.Is(err, lot.ErrSeqRange) {
				return Lot{}, err // the format's own message
			}
			return Lot{}, fmt.Errorf("lots: issue with sequence %s: %w", counter, err)
		case taken:
			continue
		}
		return l, nil
	}
}

// issued is what an issue request id is stored with.
type issued struct {
	Code string `json:"code"`
	Hash string `json:"hash"`
}

var reqIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,80}$`)

// issuedBefore returns the lot id issued, if it did.
func (r *Registry) issuedBefore(id, hash string) (Lot, bool, error) {
	var before issued
	err := r.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(kReq + id))
		if err != nil {
			return err
		}
		return item.Value(func(b []byte) error { return json.Unmarshal(b, &before) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return Lot{}, false, nil
	}
	if err != nil {
		return Lot{}, false, fmt.Errorf("lots: issue request %q: %w", id, err)
	}
	l, err := r.repeat(id, hash, before)
	return l, true, err
}

// repeat answers a retry of the request that issued before.
func (r *Registry) repeat(id, hash string, before issued) (Lot, error) {
	if before.Hash != hash {
		return Lot{}, fmt.Errorf("%w: id %q already issued lot %s for a different request; use a new id for a new lot", ErrExists, id, before.Code)
	}
	return r.Get(before.Code)
}

// hash identifies the request's content, field by field (a field added to
// Details later does not change the hash of an earlier request): what the
// lot is, not who asked.
func (req IssueRequest) hash() string {
	d := req.Details
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	fields := []string{"v1", req.Format, req.Brand, req.Gateway,
		d.Product, d.GTIN, d.Supplier, d.SupplierLot, d.Site, d.Door, d.Line,
		date(d.Production), date(d.Expiry), date(d.BestBefore),
		strconv.FormatFloat(d.Quantity, 'g', -1, 64), d.Unit, d.PO, d.DespatchAdvice}
	h := sha256.New()
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func periodName(f *lot.Format, d time.Time) string {
	if p := f.Period(d); p != "" {
		return string(f.Scope()) + " " + p
	}
	return "all time"
}

// Register records a lot whose code is the supplier's lot code, as read
// from the supplier's label. Registering the same supplier lot of the same
// product and supplier again returns the existing lot; a code registered for
// another product or supplier is ErrExists (issue a lot of your own and give
// the supplier lot in Details.SupplierLot instead).
func (r *Registry) Register(ctx context.Context, code string, d Details) (Lot, error) {
	if err := ctx.Err(); err != nil {
		return Lot{}, err
	}
	if err := checkCode(code); err != nil {
		return Lot{}, err
	}
	if d.SupplierLot == "" {
		d.SupplierLot = code
	}
	if d.SupplierLot != code {
		return Lot{}, fmt.Errorf("%w: registering supplier lot %q with supplier_lot %q: they must be the same", ErrInvalid, code, d.SupplierLot)
	}
	if err := d.check(); err != nil {
		return Lot{}, err
	}
	if err := r.checkSpace(); err != nil {
		return Lot{}, err
	}
	l := r.newLot(code, SourceSupplier, d)
	for range 3 {
		err := r.create(&l, d.By)
		if !errors.Is(err, errCodeTaken) {
			return l, err
		}
		old, gerr := r.Get(code)
		if errors.Is(gerr, ErrNotFound) {
			continue
		}
		if gerr != nil {
			return Lot{}, gerr
		}
		if old.Source == SourceSupplier && old.Product == d.Product && old.Supplier == d.Supplier && (old.GTIN == d.GTIN || d.GTIN == "") {
			// One lot has one expiry: FEFO and recalls go by the
			// recorded one, so a label that says otherwise is refused.
			if e := dateString(d.Expiry); e != "" && old.Expiry != "" && e != old.Expiry {
				return Lot{}, fmt.Errorf("%w: supplier lot %q is recorded with expiry %s, this one says %s: check the label (ask the supplier if both are on their goods)", ErrInvalid, code, old.Expiry, e)
			}
			return old, nil
		}
		return Lot{}, fmt.Errorf("%w: lot code %q is registered for product %q GTIN %q supplier %q; issue a lot of your own and link supplier lot %q to it", ErrExists, code, old.Product, old.GTIN, old.Supplier, code)
	}
	return Lot{}, fmt.Errorf("%w: lot code %q: concurrent registrations", ErrExists, code)
}

func (r *Registry) newLot(code, source string, d Details) Lot {
	return Lot{
		Code: code, Source: source, Product: d.Product, GTIN: d.GTIN,
		Supplier: d.Supplier, SupplierLot: d.SupplierLot,
		Production: dateString(d.Production), Expiry: dateString(d.Expiry), BestBefore: dateString(d.BestBefore),
		Quantity: d.Quantity, Unit: d.Unit, PO: d.PO, DespatchAdvice: d.DespatchAdvice,
		Site: d.Site, Door: d.Door, Line: d.Line,
		Created: r.o.Now().UTC(), Status: StatusActive,
	}
}

// stored is the record as kept: the lot without history and links, and the
// number of history events.
type stored struct {
	Lot
	Events uint32 `json:"events"`
}

// create writes a new lot record, its first history event and its indexes in
// one synced transaction, unless the code exists (errCodeTaken).
func (r *Registry) create(l *Lot, by string) error {
	ev := Event{At: l.Created, Action: "created", To: StatusActive, By: by}
	for attempt := 0; ; attempt++ {
		err := r.s.Update(func(txn *badger.Txn) error {
			_, err := txn.Get([]byte(kRec + l.Code))
			if err == nil {
				return errCodeTaken
			}
			if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			st := &stored{Lot: *l}
			if err := writeNew(txn.Set, st, ev); err != nil {
				return err
			}
			if err := r.notify(txn, Change{Code: l.Code, Event: ev, Lot: *l}); err != nil {
				return err
			}
			// A lot the site holds already (a hold made at another
			// gateway before its goods came here) is held from the start.
			return r.adoptSite(txn, st)
		})
		if errors.Is(err, badger.ErrConflict) && attempt < 5 {
			continue // another writer touched this code: look again
		}
		if err != nil {
			if errors.Is(err, errCodeTaken) {
				return err
			}
			return fmt.Errorf("lots: record lot %s: %w", l.Code, err)
		}
		return nil
	}
}

// writeNew sets the keys of a new lot (also used to bulk-load benchmarks).
func writeNew(set func(k, v []byte) error, st *stored, ev Event) error {
	st.Events = 1
	rec, err := putRecord(set, st)
	if err != nil {
		return err
	}
	if err := putEvent(set, st.Code, 0, ev); err != nil {
		return err
	}
	return setIndexes(set, &st.Lot, rec)
}

// putRecord writes the record and returns its encoding.
func putRecord(set func(k, v []byte) error, st *stored) ([]byte, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	return b, set([]byte(kRec+st.Code), b)
}

// setIndexes writes a lot's index keys. The FEFO and FIFO entries carry the
// record itself (a covering index): picking a product's available lots in
// order is then one sequential scan, not a read per lot. Only available lots
// have these entries, and every record change rewrites them.
func setIndexes(set func(k, v []byte) error, l *Lot, rec []byte) error {
	for _, k := range indexKeys(l) {
		var v []byte
		if bytes.HasPrefix(k, []byte(iFEFO)) || bytes.HasPrefix(k, []byte(iFIFO)) {
			v = rec
		}
		if err := set(k, v); err != nil {
			return err
		}
	}
	return nil
}

func histKey(code string, i uint32) []byte {
	k := make([]byte, 0, len(kHist)+len(code)+5)
	k = append(append(append(k, kHist...), code...), 0)
	return binary.BigEndian.AppendUint32(k, i)
}

func putEvent(set func(k, v []byte) error, code string, i uint32, ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return set(histKey(code, i), b)
}

func ymd(date string) string { return strings.ReplaceAll(date, "-", "") }

func key(parts ...string) []byte { return []byte(strings.Join(parts, "\x00")) }

// indexKeys are the secondary index keys of a lot in its current state.
func indexKeys(l *Lot) [][]byte {
	date := ymd(l.Production)
	if date == "" {
		date = l.Created.Format("20060102")
	}
	ks := [][]byte{
		key(iProduct+l.Product, l.Code),
		key(iDate+date, l.Code),
		key(iStatus+string(l.Status), l.Code),
	}
	if l.Supplier != "" {
		ks = append(ks, key(iSupp+l.Supplier, l.Code))
		if l.SupplierLot != "" {
			ks = append(ks, key(iSuppLot+l.Supplier, l.SupplierLot, l.Code))
		}
	}
	if l.Status.Available() {
		exp := ymd(l.Expiry)
		if exp == "" {
			exp = "99999999" // no expiry: last in FEFO order
		}
		prod := ymd(l.Production)
		if prod == "" {
			prod = l.Created.Format("20060102")
		}
		ks = append(ks,
			key(iFEFO+l.Product, exp, prod, l.Code),
			key(iFIFO+l.Product, prod, fmt.Sprintf("%016x", l.Created.UnixNano()), l.Code))
	}
	if l.Expiry != "" && l.Status != StatusRecalled && l.Status != StatusExpired {
		ks = append(ks, key(iExpiry+ymd(l.Expiry), l.Code))
	}
	return ks
}

// notify hands a change to OnChange inside its transaction.
func (r *Registry) notify(txn *badger.Txn, c Change) error {
	if r.o.OnChange == nil {
		return nil
	}
	c.Lot.History, c.Lot.Links = nil, nil
	return r.o.OnChange(txn, c)
}

func getRecord(txn *badger.Txn, code string) (*stored, error) {
	item, err := txn.Get([]byte(kRec + code))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, code)
	}
	if err != nil {
		return nil, err
	}
	st := new(stored)
	if err := item.Value(func(v []byte) error { return jsonUnmarshal(v, st) }); err != nil {
		return nil, fmt.Errorf("lots: record %s: %w", code, err)
	}
	return st, nil
}

// Get returns a lot with its history and links.
func (r *Registry) Get(code string) (Lot, error) {
	var l Lot
	err := r.db.View(func(txn *badger.Txn) error {
		st, err := getRecord(txn, code)
		if err != nil {
			return err
		}
		l = st.Lot
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(kHist + code + "\x00"), PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var ev Event
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &ev) }); err != nil {
				return fmt.Errorf("lots: history of %s: %w", code, err)
			}
			l.History = append(l.History, ev)
		}
		l.Links, err = links(txn, code, "")
		return err
	})
	return l, err
}

// IsHeld reports whether a lot is on hold or recalled.
func (r *Registry) IsHeld(code string) (bool, error) {
	var held bool
	err := r.db.View(func(txn *badger.Txn) error {
		st, err := getRecord(txn, code)
		if err == nil {
			held = st.Status.Held()
		}
		return err
	})
	return held, err
}

// Hold puts a lot on hold (from active or released). reason is required.
func (r *Registry) Hold(ctx context.Context, code, reason, by string) (Lot, error) {
	if strings.TrimSpace(reason) == "" {
		return Lot{}, fmt.Errorf("%w: a hold needs a reason", ErrInvalid)
	}
	if err := checkReason(reason, by); err != nil {
		return Lot{}, err
	}
	return r.change(ctx, code, "hold", StatusOnHold, reason, by, func(s Status) bool { return s.Available() })
}

// maxReason bounds a hold's or recall's reason: it travels in the lot's
// history, its events and EPCIS documents.
const maxReason = 500

func checkReason(reason, by string) error {
	if len(reason) > maxReason {
		return fmt.Errorf("%w: reason: %d bytes, at most %d; put the details in the quality record and its reference here", ErrInvalid, len(reason), maxReason)
	}
	if strings.ContainsFunc(reason, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: reason contains a control character (a line break or tab): give one line", ErrInvalid)
	}
	return checkText("by", by, false)
}

// Release releases a lot on hold; it becomes available again.
func (r *Registry) Release(ctx context.Context, code, by string) (Lot, error) {
	if err := checkText("by", by, false); err != nil {
		return Lot{}, err
	}
	return r.change(ctx, code, "release", StatusReleased, "", by, func(s Status) bool { return s == StatusOnHold })
}

// ReleaseBecause is Release with a reason, kept in the lot's history (the
// dock console asks for one, as for a hold).
func (r *Registry) ReleaseBecause(ctx context.Context, code, reason, by string) (Lot, error) {
	if strings.TrimSpace(reason) == "" {
		return Lot{}, fmt.Errorf("%w: a release needs a reason", ErrInvalid)
	}
	if err := checkReason(reason, by); err != nil {
		return Lot{}, err
	}
	return r.change(ctx, code, "release", StatusReleased, reason, by, func(s Status) bool { return s == StatusOnHold })
}

// Recall recalls a lot (from any status but recalled); a recall is final.
func (r *Registry) Recall(ctx context.Context, code, reason, by string) (Lot, error) {
	if strings.TrimSpace(reason) == "" {
		return Lot{}, fmt.Errorf("%w: a recall needs a reason", ErrInvalid)
	}
	if err := checkReason(reason, by); err != nil {
		return Lot{}, err
	}
	return r.change(ctx, code, "recall", StatusRecalled, reason, by, func(s Status) bool { return s != StatusRecalled })
}

// errNoRecord: the lot of a change has no record here.
var errNoRecord = errors.New("no record")

// change moves a lot to status to if allowed(from), appending the history
// event and rewriting the status-dependent indexes in one transaction. A
// lot with no record here is changed through the site, when there is one.
func (r *Registry) change(ctx context.Context, code, action string, to Status, reason, by string, allowed func(Status) bool) (Lot, error) {
	if err := ctx.Err(); err != nil {
		return Lot{}, err
	}
	if err := r.checkSpace(); err != nil {
		return Lot{}, err
	}
	var out Lot
	for attempt := 0; ; attempt++ {
		err := r.s.Update(func(txn *badger.Txn) error {
			st, err := getRecord(txn, code)
			if errors.Is(err, ErrNotFound) && r.o.SiteSync != nil {
				return errNoRecord
			}
			if err != nil {
				return err
			}
			if !allowed(st.Status) {
				what := string(st.Status)
				if st.HoldReason != "" {
					what += " (" + st.HoldReason + ")"
				}
				return fmt.Errorf("%w: cannot %s lot %s: it is %s", ErrStatus, action, code, what)
			}
			ev := Event{At: r.o.Now().UTC(), Action: action, From: st.Status, To: to, Reason: reason, By: by}
			out, err = r.apply(txn, st, ev, false)
			return err
		})
		if errors.Is(err, badger.ErrConflict) && attempt < 10 {
			continue
		}
		if errors.Is(err, errNoRecord) {
			return r.o.SiteSync.Change(ctx, code, Event{At: r.o.Now().UTC(), Action: action, To: to, Reason: reason, By: by}, allowed)
		}
		if err != nil {
			return Lot{}, err
		}
		return out, nil
	}
}

// apply writes change ev of the lot st in txn: its history event, its
// record and its status-dependent indexes, and hands it to OnChange.
func (r *Registry) apply(txn *badger.Txn, st *stored, ev Event, fromSite bool) (Lot, error) {
	for _, k := range indexKeys(&st.Lot) {
		if err := txn.Delete(k); err != nil {
			return Lot{}, err
		}
	}
	st.Status = ev.To
	if ev.To.Held() {
		st.HoldReason = ev.Reason
	} else if ev.To != StatusExpired {
		st.HoldReason = ""
	}
	if err := putEvent(txn.Set, st.Code, st.Events, ev); err != nil {
		return Lot{}, err
	}
	st.Events++
	out := st.Lot
	rec, err := putRecord(txn.Set, st)
	if err != nil {
		return Lot{}, err
	}
	if err := setIndexes(txn.Set, &st.Lot, rec); err != nil {
		return Lot{}, err
	}
	return out, r.notify(txn, Change{Code: st.Code, Event: ev, Lot: out, FromSite: fromSite})
}

// ApplySite mirrors in txn a status the site set (a hold, release or
// recall made at another gateway or by a central system) on the lot's
// record here, if there is one, and reports whether it changed it. The
// change is in the lot's history, by by, and reaches OnChange marked
// FromSite: it is not this gateway's to publish. A recall is final; a
// release (or active) only ends a hold; expiry is each gateway's own, by
// date, and is not mirrored.
func (r *Registry) ApplySite(txn *badger.Txn, code string, to Status, reason, by string, at time.Time) (bool, error) {
	st, err := getRecord(txn, code)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return r.applySite(txn, st, to, reason, by, at)
}

func (r *Registry) applySite(txn *badger.Txn, st *stored, to Status, reason, by string, at time.Time) (bool, error) {
	from := st.Status
	var action string
	switch {
	case from == StatusRecalled:
		return false, nil
	case to == StatusOnHold:
		action = "hold"
	case to == StatusRecalled:
		action = "recall"
	case (to == StatusReleased || to == StatusActive) && from == StatusOnHold:
		action, to = "release", StatusReleased
	default:
		return false, nil
	}
	if from == to && st.HoldReason == reason {
		return false, nil
	}
	_, err := r.apply(txn, st, Event{At: at.UTC(), Action: action, From: from, To: to, Reason: reason, By: by}, true)
	return err == nil, err
}

// adoptSite gives a lot just recorded the status the site knows for it.
func (r *Registry) adoptSite(txn *badger.Txn, st *stored) error {
	if r.o.SiteSync == nil {
		return nil
	}
	status, reason, ok, err := r.o.SiteSync.Status(txn, st.Code)
	if err != nil || !ok {
		return err
	}
	_, err = r.applySite(txn, st, status, reason, "site", r.o.Now())
	return err
}

// ExpireDue marks active and released lots whose expiry date is before
// today as expired, and returns how many. The gateway runs it daily; lots on
// hold stay on hold.
func (r *Registry) ExpireDue(ctx context.Context) (int, error) {
	today := r.today().Format("20060102")
	var due []string
	err := r.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(iExpiry)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key()[len(iExpiry):])
			date, code, _ := strings.Cut(k, "\x00")
			if date >= today {
				break
			}
			due = append(due, code)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, code := range due {
		_, err := r.change(ctx, code, "expire", StatusExpired, "", "expiry", func(s Status) bool { return s.Available() })
		if errors.Is(err, ErrStatus) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RunExpiry calls ExpireDue now and then every interval until ctx ends. A
// full store (or outbox) only postpones the expiries to the next round:
// it is raised as an alarm where it is found, and ending the gateway over
// it would keep the backlog from draining.
func (r *Registry) RunExpiry(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.ExpireDue(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrStoreFull) {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func checkLink(kind, id string) error {
	if kind == "" || strings.IndexFunc(kind, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return fmt.Errorf("%w: link kind %q must be lower-case letters (carton, sscc, epc)", ErrInvalid, kind)
	}
	if id == "" || len(id) > 256 || strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("%w: %s id %q must be 1 to 256 bytes without NUL", ErrInvalid, kind, id)
	}
	return nil
}

// Link records that the identifier id of kind (carton, sscc, epc …) belongs
// to lot code. Linking again is a no-op; an identifier may belong to several
// lots (a mixed pallet's SSCC).
func (r *Registry) Link(ctx context.Context, code, kind, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkLink(kind, id); err != nil {
		return err
	}
	if err := r.checkSpace(); err != nil {
		return err
	}
	return r.s.Update(func(txn *badger.Txn) error {
		st, err := getRecord(txn, code)
		if err != nil {
			return err
		}
		fwd := key(iLink+code, kind, id)
		if _, err := txn.Get(fwd); err == nil {
			return nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if err := txn.Set(fwd, nil); err != nil {
			return err
		}
		if err := txn.Set(key(iRev+kind, id, code), nil); err != nil {
			return err
		}
		return r.notify(txn, Change{Code: code, Event: Event{At: r.o.Now().UTC(), Action: "link", From: st.Status, To: st.Status},
			Link: &Link{Kind: kind, ID: id}, Lot: st.Lot})
	})
}

func links(txn *badger.Txn, code, kind string) ([]Link, error) {
	prefix := iLink + code + "\x00"
	if kind != "" {
		prefix += kind + "\x00"
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	defer it.Close()
	var out []Link
	for it.Rewind(); it.Valid(); it.Next() {
		rest := string(it.Item().Key()[len(iLink)+len(code)+1:])
		k, id, _ := strings.Cut(rest, "\x00")
		out = append(out, Link{Kind: k, ID: id})
	}
	return out, nil
}

// LinksOf lists a lot's links of kind ("" for all kinds).
func (r *Registry) LinksOf(code, kind string) ([]Link, error) {
	var out []Link
	err := r.db.View(func(txn *badger.Txn) error {
		if _, err := txn.Get([]byte(kRec + code)); errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%w: %q", ErrNotFound, code)
		}
		var err error
		out, err = links(txn, code, kind)
		return err
	})
	return out, err
}

func lotsOf(txn *badger.Txn, kind, id string) []string {
	prefix := iRev + kind + "\x00" + id + "\x00"
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
	defer it.Close()
	var out []string
	for it.Rewind(); it.Valid(); it.Next() {
		out = append(out, string(it.Item().Key()[len(prefix):]))
	}
	return out
}

// LotsOf returns the codes of the lots an identifier is linked to (none:
// an empty slice and no error).
func (r *Registry) LotsOf(kind, id string) ([]string, error) {
	var out []string
	err := r.db.View(func(txn *badger.Txn) error {
		out = lotsOf(txn, kind, id)
		return nil
	})
	return out, err
}

// IsHeldLinked reports whether an identifier belongs to a lot on hold or
// recalled, and names the first such lot. It is the portal's per-carton
// check: one key scan and one record read per linked lot.
func (r *Registry) IsHeldLinked(kind, id string) (bool, string, error) {
	var held bool
	var code string
	err := r.db.View(func(txn *badger.Txn) error {
		for _, c := range lotsOf(txn, kind, id) {
			st, err := getRecord(txn, c)
			if err != nil {
				return err
			}
			if st.Status.Held() {
				held, code = true, c
				return nil
			}
		}
		return nil
	})
	return held, code, err
}

// SupplierLots returns the codes of the lots made from a supplier's lot.
func (r *Registry) SupplierLots(supplier, supplierLot string) ([]string, error) {
	var out []string
	err := r.db.View(func(txn *badger.Txn) error {
		prefix := string(key(iSuppLot+supplier, supplierLot)) + "\x00"
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			out = append(out, string(it.Item().Key()[len(prefix):]))
		}
		return nil
	})
	return out, err
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
