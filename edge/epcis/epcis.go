package epcis

import (
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Context is the EPCIS 2.0 JSON-LD context.
const Context = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

// Namespace is the gateway's extension namespace, declared in @context with
// the prefix "dockgate".
const Namespace = "https://github.com/dockgate/dockgate/ns/epcis#"

// Topic is the gateway topic (under its prefix) EPCIS documents go to.
const Topic = "epcis"

// ErrInvalid: the input cannot be mapped; the message names the field.
var ErrInvalid = errors.New("invalid EPCIS input")

// Actions, business steps and dispositions used by the mappings (CBV 2.0).
const (
	ActionAdd     = "ADD"
	ActionObserve = "OBSERVE"

	BizStepReceiving = "receiving"
	BizStepShipping  = "shipping"
	BizStepHolding   = "holding"
	BizStepStoring   = "storing"

	DispositionInProgress            = "in_progress"
	DispositionInTransit             = "in_transit"
	DispositionNonSellableOther      = "non_sellable_other"
	DispositionSellableNotAccessible = "sellable_not_accessible"
	DispositionRecalled              = "recalled"
	DispositionReturned              = "returned"
	DispositionSellableAccessible    = "sellable_accessible"
	DispositionDamaged               = "damaged"
)

// ID is a readPoint or bizLocation.
type ID struct {
	ID string `json:"id"`
}

// QuantityElement is one entry of a quantityList.
type QuantityElement struct {
	EPCClass string   `json:"epcClass"`
	Quantity *float64 `json:"quantity,omitempty"`
	UOM      string   `json:"uom,omitempty"`
}

// BizTransaction is a reference document (FSMA: reference document type and
// number). Type is a CBV type (po, desadv, bol, inv, recadv …).
type BizTransaction struct {
	Type           string `json:"type,omitempty"`
	BizTransaction string `json:"bizTransaction"`
}

// Source is a sourceList entry (FSMA: immediate previous source). Type is
// owning_party, possessing_party or location.
type Source struct {
	Type   string `json:"type"`
	Source string `json:"source"`
}

// Destination is a destinationList entry (FSMA: the immediate subsequent
// recipient and its location). Type is owning_party, possessing_party or
// location.
type Destination struct {
	Type        string `json:"type"`
	Destination string `json:"destination"`
}

// ObjectEvent is an EPCIS 2.0 ObjectEvent. Extensions holds prefixed
// extension fields ("dockgate:…") marshalled beside the standard ones.
type ObjectEvent struct {
	Context             any               `json:"@context,omitempty"`
	Type                string            `json:"type"`
	EventTime           string            `json:"eventTime"`
	EventTimeZoneOffset string            `json:"eventTimeZoneOffset"`
	EventID             string            `json:"eventID"`
	EPCList             []string          `json:"epcList,omitempty"`
	QuantityList        []QuantityElement `json:"quantityList,omitempty"`
	Action              string            `json:"action"`
	BizStep             string            `json:"bizStep,omitempty"`
	Disposition         string            `json:"disposition,omitempty"`
	ReadPoint           *ID               `json:"readPoint,omitempty"`
	BizLocation         *ID               `json:"bizLocation,omitempty"`
	BizTransactionList  []BizTransaction  `json:"bizTransactionList,omitempty"`
	SourceList          []Source          `json:"sourceList,omitempty"`
	DestinationList     []Destination     `json:"destinationList,omitempty"`
	ILMD                map[string]any    `json:"ilmd,omitempty"`
	Extensions          map[string]any    `json:"-"`
}

// MarshalJSON writes the standard fields, then the extensions.
func (e ObjectEvent) MarshalJSON() ([]byte, error) {
	type plain ObjectEvent
	b, err := json.Marshal(plain(e))
	if err != nil {
		return nil, err
	}
	if len(e.Extensions) == 0 {
		return b, nil
	}
	ext, err := json.Marshal(e.Extensions)
	if err != nil {
		return nil, err
	}
	// Both are JSON objects: splice the extensions in.
	out := make([]byte, 0, len(b)+len(ext))
	out = append(out, b[:len(b)-1]...)
	out = append(out, ',')
	return append(out, ext[1:]...), nil
}

// Standalone returns a copy of e with the @context set, to be sent as a
// single event rather than inside a Document.
func (e ObjectEvent) Standalone() ObjectEvent {
	e.Context = ldContext()
	return e
}

func ldContext() any {
	return []any{Context, map[string]string{"dockgate": Namespace}}
}

// Document is an EPCISDocument.
type Document struct {
	Context       any    `json:"@context"`
	Type          string `json:"type"`
	SchemaVersion string `json:"schemaVersion"`
	CreationDate  string `json:"creationDate"`
	EPCISBody     struct {
		EventList []ObjectEvent `json:"eventList"`
	} `json:"epcisBody"`
}

// NewDocument wraps events in an EPCISDocument created at t.
func NewDocument(t time.Time, events ...ObjectEvent) Document {
	d := Document{Context: ldContext(), Type: "EPCISDocument", SchemaVersion: "2.0", CreationDate: formatTime(t)}
	d.EPCISBody.EventList = append([]ObjectEvent{}, events...)
	return d
}

func formatTime(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// times sets eventTime and eventTimeZoneOffset from t, in t's location.
func (e *ObjectEvent) times(t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("%w: the event time is zero", ErrInvalid)
	}
	e.EventTime = formatTime(t)
	e.EventTimeZoneOffset = t.Format("-07:00")
	return nil
}

// uuidNS is the namespace of the gateway's name-based event IDs.
var uuidNS = [16]byte{0x6b, 0x1d, 0x3e, 0x52, 0x9a, 0x47, 0x4c, 0x0e, 0x8f, 0x21, 0x55, 0xd0, 0x3c, 0x7a, 0x19, 0xe4}

// EventID derives a stable event ID (urn:uuid, RFC 9562 version 5) from the
// kind of fact and its key: the same fact always gets the same ID.
func EventID(kind, key string) string {
	h := sha1.New()
	h.Write(uuidNS[:])
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(key))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func eventID(given, kind, key, field string) (string, error) {
	if given != "" {
		return given, checkURI("EventID", given)
	}
	if key == "" {
		return "", fmt.Errorf("%w: set EventID or %s (the key a stable event ID is derived from)", ErrInvalid, field)
	}
	return EventID(kind, key), nil
}

func checkURI(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || strings.ContainsAny(s, " \t\n") {
		return fmt.Errorf("%w: %s %q is not an absolute URI (e.g. urn:epc:id:sgln:0614141.00777.0)", ErrInvalid, field, s)
	}
	return nil
}

var uomRE = regexp.MustCompile(`^[A-Z0-9]{2,3}$`)

// Quantity is an amount of an EPC class (FSMA: quantity and unit of measure).
type Quantity struct {
	// EPCClass, e.g. urn:epc:class:lgtin:0614141.012345.LOT42 (see LGTIN).
	EPCClass string
	// Quantity; 0 with Count false omits it.
	Quantity float64
	// UOM is a UN/CEFACT code (KGM, LTR); empty for a count of items.
	UOM string
}

func quantities(field string, qs []Quantity) ([]QuantityElement, error) {
	var out []QuantityElement
	for i, q := range qs {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := checkURI(f+".EPCClass", q.EPCClass); err != nil {
			return nil, err
		}
		if q.UOM != "" && !uomRE.MatchString(q.UOM) {
			return nil, fmt.Errorf("%w: %s.UOM %q is not a UN/CEFACT code of 2-3 capitals/digits (KGM, LTR); leave it empty for a count", ErrInvalid, f, q.UOM)
		}
		if q.Quantity < 0 {
			return nil, fmt.Errorf("%w: %s.Quantity %v is negative", ErrInvalid, f, q.Quantity)
		}
		qe := QuantityElement{EPCClass: q.EPCClass, UOM: q.UOM}
		if q.Quantity != 0 {
			v := q.Quantity
			qe.Quantity = &v
		} else if q.UOM != "" {
			return nil, fmt.Errorf("%w: %s has a UOM but no quantity", ErrInvalid, f)
		}
		out = append(out, qe)
	}
	return out, nil
}

func epcs(field string, list []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i, e := range list {
		if err := checkURI(fmt.Sprintf("%s[%d]", field, i), e); err != nil {
			return nil, err
		}
		if !seen[e] { // epcList items are unique
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}

func optID(field, s string) (*ID, error) {
	if s == "" {
		return nil, nil
	}
	if err := checkURI(field, s); err != nil {
		return nil, err
	}
	return &ID{ID: s}, nil
}

// Receipt is a receiving fact.
type Receipt struct {
	// EventID, or ReceiptID to derive a stable one from.
	EventID   string
	ReceiptID string
	// Time goods were received (FSMA: date received), in the site's zone.
	Time time.Time
	// ReadPoint is the dock door, BizLocation the site (SGLN URNs; FSMA:
	// location received).
	ReadPoint   string
	BizLocation string
	// EPCs are the cartons (SSCC) or items (SGTIN) received; Quantities the
	// lots received by class. At least one of them.
	EPCs       []string
	Quantities []Quantity
	// BizTransactions: PO, despatch advice, bill of lading (FSMA: reference
	// document type and number).
	BizTransactions []BizTransaction
	// Sources: the immediate previous source (FSMA).
	Sources []Source
	// AssignedLot is the lot the gateway assigned, if it did: the event is
	// then an ADD with ilmd; otherwise an OBSERVE keeping the supplier's lot.
	AssignedLot string
	// SupplierLot is the supplier's traceability lot code; with AssignedLot
	// it is linked in ilmd as dockgate:supplierLot, never overwritten.
	SupplierLot string
	// ExpirationDate of the lot assigned (YYYY-MM-DD), optional.
	ExpirationDate string
	// TLCSource is the traceability lot code source (FSMA), a GLN URN or a
	// description, sent as dockgate:tlcSource.
	TLCSource string
}

// Receiving maps a receipt to its ObjectEvent.
func Receiving(r Receipt) (ObjectEvent, error) {
	e := ObjectEvent{Type: "ObjectEvent", BizStep: BizStepReceiving, Disposition: DispositionInProgress}
	err := e.goods(goods{
		fact: "receipt", id: r.ReceiptID, idField: "ReceiptID", kind: "receiving", eventID: r.EventID,
		time: r.Time, epcs: r.EPCs, quantities: r.Quantities,
		readPoint: r.ReadPoint, bizLocation: r.BizLocation, site: "the receiving site",
		bizTransactions: r.BizTransactions, sources: r.Sources,
	})
	if err != nil {
		return e, err
	}
	if r.AssignedLot != "" {
		e.Action = ActionAdd
		e.ILMD = map[string]any{"cbvmda:lotNumber": r.AssignedLot}
		if r.ExpirationDate != "" {
			if _, err := time.Parse("2006-01-02", r.ExpirationDate); err != nil {
				return e, fmt.Errorf("%w: ExpirationDate %q is not YYYY-MM-DD", ErrInvalid, r.ExpirationDate)
			}
			e.ILMD["cbvmda:itemExpirationDate"] = r.ExpirationDate
		}
		if r.SupplierLot != "" {
			e.ILMD["dockgate:supplierLot"] = r.SupplierLot
		}
	} else {
		e.Action = ActionObserve
		if r.ExpirationDate != "" {
			return e, fmt.Errorf("%w: ExpirationDate needs AssignedLot (ilmd only goes with ADD)", ErrInvalid)
		}
	}
	if r.TLCSource != "" {
		e.Extensions = map[string]any{"dockgate:tlcSource": r.TLCSource}
	}
	return e, nil
}

// goods is what a receipt, a shipment and a return map alike: the
// event's ID and time, the goods (EPCs, lot quantities or both), the door
// and the site, and the business transactions and sources.
type goods struct {
	// fact ("receipt") and id name it in errors; kind ("receiving") and
	// idField derive the event ID from id where eventID is empty.
	fact, id, idField, kind, eventID string
	time                             time.Time
	epcs                             []string
	quantities                       []Quantity
	readPoint, bizLocation           string
	// site says what BizLocation is the SGLN of, in the error when it is
	// missing.
	site            string
	bizTransactions []BizTransaction
	sources         []Source
}

// goods sets what g carries on e, checked in the order its fields are
// listed, and returns the first error.
func (e *ObjectEvent) goods(g goods) error {
	var err error
	if e.EventID, err = eventID(g.eventID, g.kind, g.id, g.idField); err != nil {
		return err
	}
	if err := e.times(g.time); err != nil {
		return err
	}
	if e.EPCList, err = epcs("EPCs", g.epcs); err != nil {
		return err
	}
	if e.QuantityList, err = quantities("Quantities", g.quantities); err != nil {
		return err
	}
	if len(e.EPCList) == 0 && len(e.QuantityList) == 0 {
		return fmt.Errorf("%w: %s %s has neither EPCs nor Quantities", ErrInvalid, g.fact, g.id)
	}
	if e.ReadPoint, err = optID("ReadPoint", g.readPoint); err != nil {
		return err
	}
	if g.bizLocation == "" {
		return fmt.Errorf("%w: BizLocation (the SGLN of %s) is required", ErrInvalid, g.site)
	}
	if e.BizLocation, err = optID("BizLocation", g.bizLocation); err != nil {
		return err
	}
	for i, bt := range g.bizTransactions {
		if err := checkURI(fmt.Sprintf("BizTransactions[%d]", i), bt.BizTransaction); err != nil {
			return err
		}
	}
	e.BizTransactionList = g.bizTransactions
	for i, s := range g.sources {
		if s.Type == "" {
			return fmt.Errorf("%w: Sources[%d].Type is empty: use owning_party, possessing_party or location", ErrInvalid, i)
		}
		if err := checkURI(fmt.Sprintf("Sources[%d]", i), s.Source); err != nil {
			return err
		}
	}
	e.SourceList = g.sources
	return nil
}

// Pass directions.
const (
	Inbound  = "in"
	Outbound = "out"
	// Unknown: the portal could not tell the direction (the door's
	// role names none either): an OBSERVE at the door without a bizStep
	// or disposition, rather than one that may be wrong.
	Unknown = "unknown"
)

// Pass is tags seen passing a portal.
type Pass struct {
	// EventID, or PassID to derive a stable one from.
	EventID string
	PassID  string
	Time    time.Time
	// Door is the portal's SGLN URN (the readPoint); BizLocation the site.
	Door        string
	BizLocation string
	// Direction: Inbound (receiving), Outbound (shipping) or Unknown.
	Direction string
	EPCs      []string
}

// PortalPass maps a pass to an OBSERVE with the tags' EPCs.
func PortalPass(p Pass) (ObjectEvent, error) {
	e := ObjectEvent{Type: "ObjectEvent", Action: ActionObserve}
	var err error
	if e.EventID, err = eventID(p.EventID, "pass", p.PassID, "PassID"); err != nil {
		return e, err
	}
	if err := e.times(p.Time); err != nil {
		return e, err
	}
	switch p.Direction {
	case Inbound:
		e.BizStep, e.Disposition = BizStepReceiving, DispositionInProgress
	case Outbound:
		e.BizStep, e.Disposition = BizStepShipping, DispositionInTransit
	case Unknown:
	default:
		return e, fmt.Errorf("%w: Direction %q: use %q, %q or %q", ErrInvalid, p.Direction, Inbound, Outbound, Unknown)
	}
	if p.Door == "" {
		return e, fmt.Errorf("%w: Door (the portal's SGLN) is required", ErrInvalid)
	}
	if e.ReadPoint, err = optID("Door", p.Door); err != nil {
		return e, err
	}
	if e.BizLocation, err = optID("BizLocation", p.BizLocation); err != nil {
		return e, err
	}
	if e.EPCList, err = epcs("EPCs", p.EPCs); err != nil {
		return e, err
	}
	if len(e.EPCList) == 0 {
		return e, fmt.Errorf("%w: pass %s has no EPCs", ErrInvalid, p.PassID)
	}
	return e, nil
}

// Hold is a lot put on hold, or released.
type Hold struct {
	// EventID, or HoldID to derive a stable one from (a release needs its
	// own HoldID, e.g. the command id).
	EventID string
	HoldID  string
	Time    time.Time
	// Lot is the lot's class, an LGTIN URN (see LGTIN), with an optional
	// quantity held.
	Lot         Quantity
	BizLocation string
	ReadPoint   string
	// Release is false for a hold, true for its release.
	Release bool
	// Recall: the hold is a recall (disposition recalled; final).
	Recall bool
	// Reason is sent as dockgate:reason.
	Reason string
}

// LotHold maps a hold or release to an OBSERVE of the lot's class.
func LotHold(h Hold) (ObjectEvent, error) {
	e := ObjectEvent{Type: "ObjectEvent", Action: ActionObserve, BizStep: BizStepHolding, Disposition: DispositionNonSellableOther}
	kind := "hold"
	switch {
	case h.Release && h.Recall:
		return e, fmt.Errorf("%w: a recall is final: it has no release", ErrInvalid)
	case h.Release:
		kind = "release"
		e.BizStep, e.Disposition = BizStepStoring, DispositionSellableNotAccessible
	case h.Recall:
		kind = "recall"
		e.Disposition = DispositionRecalled
	}
	var err error
	if e.EventID, err = eventID(h.EventID, kind, h.HoldID, "HoldID"); err != nil {
		return e, err
	}
	if err := e.times(h.Time); err != nil {
		return e, err
	}
	if !strings.HasPrefix(h.Lot.EPCClass, "urn:epc:class:lgtin:") && !(strings.HasPrefix(h.Lot.EPCClass, "https://") && strings.Contains(h.Lot.EPCClass, "/01/") && strings.Contains(h.Lot.EPCClass, "/10/")) {
		return e, fmt.Errorf("%w: Lot.EPCClass %q is not a lot class (urn:epc:class:lgtin:…, or a GS1 Digital Link with /01/ and /10/)", ErrInvalid, h.Lot.EPCClass)
	}
	if e.QuantityList, err = quantities("Lot", []Quantity{h.Lot}); err != nil {
		return e, err
	}
	if e.BizLocation, err = optID("BizLocation", h.BizLocation); err != nil {
		return e, err
	}
	if e.ReadPoint, err = optID("ReadPoint", h.ReadPoint); err != nil {
		return e, err
	}
	if h.Reason != "" {
		e.Extensions = map[string]any{"dockgate:reason": h.Reason}
	}
	return e, nil
}

// lotEscapes are the characters of a GS1 lot that must be percent-encoded in
// an EPC URI (TDS §6.4).
var lotEscapes = strings.NewReplacer(`%`, "%25", `"`, "%22", `&`, "%26", `/`, "%2F", `<`, "%3C", `>`, "%3E", `?`, "%3F")

// EscapeURIPart percent-encodes the characters of a GS1 value (a lot, a
// GLN extension) that must be escaped in an EPC URI.
func EscapeURIPart(v string) string { return lotEscapes.Replace(v) }

// LGTIN returns the class URN urn:epc:class:lgtin:<CP>.<indicator+itemref>.<lot>
// of a GTIN-14 whose GS1 company prefix has cpLen digits.
func LGTIN(gtin14 string, cpLen int, lot string) (string, error) {
	if len(gtin14) != 14 || strings.Trim(gtin14, "0123456789") != "" {
		return "", fmt.Errorf("%w: GTIN %q is not 14 digits", ErrInvalid, gtin14)
	}
	if cpLen < 6 || cpLen > 12 {
		return "", fmt.Errorf("%w: company prefix length %d: use 6 to 12", ErrInvalid, cpLen)
	}
	sum := 0
	for i := 0; i < 13; i++ {
		d := int(gtin14[i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	if want := byte('0' + (10-sum%10)%10); gtin14[13] != want {
		return "", fmt.Errorf("%w: GTIN %s check digit is %c, want %c", ErrInvalid, gtin14, gtin14[13], want)
	}
	if lot == "" || len(lot) > 20 {
		return "", fmt.Errorf("%w: lot %q must be 1 to 20 characters (AI 10)", ErrInvalid, lot)
	}
	for _, r := range lot {
		if r < '!' || r > 'z' || strings.ContainsRune("#$@[\\]^`", r) {
			return "", fmt.Errorf("%w: lot %q has %q, outside the GS1 AI encodable character set 82", ErrInvalid, lot, r)
		}
	}
	cp := gtin14[1 : 1+cpLen]
	item := gtin14[:1] + gtin14[1+cpLen:13]
	return "urn:epc:class:lgtin:" + cp + "." + item + "." + lotEscapes.Replace(lot), nil
}

// WithExtensions returns a copy of e with more extension fields (prefixed,
// e.g. "dockgate:door"; the prefix must be declared in @context).
func (e ObjectEvent) WithExtensions(more map[string]any) ObjectEvent {
	m := maps.Clone(e.Extensions)
	if m == nil {
		m = map[string]any{}
	}
	maps.Copy(m, more)
	e.Extensions = m
	return e
}
