package lots

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/encoder/lot"
)

// Errors of the registry; returned errors wrap one of them.
var (
	// ErrNotFound: no lot with that code.
	ErrNotFound = errors.New("lots: no such lot")
	// ErrExists: a lot with that code is registered already.
	ErrExists = errors.New("lots: lot code already registered")
	// ErrStatus: the status change is not allowed from the lot's status.
	ErrStatus = errors.New("lots: status change not allowed")
	// ErrExhausted: a format's sequence ran out for its period.
	ErrExhausted = errors.New("lots: sequence exhausted")
	// ErrInvalid: a request field is missing or malformed.
	ErrInvalid = errors.New("lots: invalid lot data")
	// ErrStoreFull: no room for the change: the disk is too full to write
	// safely, or its event cannot be queued (the message says which).
	ErrStoreFull = errors.New("lots: change refused for lack of room")
)

// Status is where a lot is in its life.
type Status string

// Lot statuses.
const (
	StatusActive   Status = "active"
	StatusOnHold   Status = "on_hold"
	StatusReleased Status = "released"
	StatusRecalled Status = "recalled"
	StatusExpired  Status = "expired"
)

// ParseStatus reads a status name.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusActive, StatusOnHold, StatusReleased, StatusRecalled, StatusExpired:
		return st, nil
	}
	return "", fmt.Errorf("%w: status %q is not one of active, on_hold, released, recalled, expired", ErrInvalid, s)
}

// Available reports whether goods of a lot in this status may be used
// (active or released).
func (s Status) Available() bool { return s == StatusActive || s == StatusReleased }

// Held reports whether goods of a lot in this status must be stopped
// (on_hold or recalled).
func (s Status) Held() bool { return s == StatusOnHold || s == StatusRecalled }

// Lot source: where the lot code came from.
const (
	SourceGenerated = "generated" // issued by this gateway
	SourceSupplier  = "supplier"  // the supplier's lot code, registered as is
)

// Lot is one lot record. Dates are calendar dates, YYYY-MM-DD.
type Lot struct {
	Code   string `json:"code"`
	Source string `json:"source"`
	// Format is the template a generated code was made with.
	Format   string `json:"format,omitempty"`
	Product  string `json:"product"`
	GTIN     string `json:"gtin,omitempty"`
	Supplier string `json:"supplier,omitempty"`
	// SupplierLot is the supplier's traceability lot code, kept as received.
	SupplierLot    string    `json:"supplier_lot,omitempty"`
	Production     string    `json:"production_date,omitempty"`
	Expiry         string    `json:"expiry_date,omitempty"`
	BestBefore     string    `json:"best_before_date,omitempty"`
	Quantity       float64   `json:"quantity,omitempty"`
	Unit           string    `json:"unit,omitempty"`
	PO             string    `json:"po,omitempty"`
	DespatchAdvice string    `json:"despatch_advice,omitempty"`
	Site           string    `json:"site,omitempty"`
	Door           string    `json:"door,omitempty"`
	Line           string    `json:"line,omitempty"`
	Created        time.Time `json:"created"`
	Status         Status    `json:"status"`
	// HoldReason is the reason of the current hold or recall.
	HoldReason string `json:"hold_reason,omitempty"`
	// History is every change, oldest first (filled by Get).
	History []Event `json:"history,omitempty"`
	// Links are the lot's cartons, SSCCs and EPCs (filled by Get).
	Links []Link `json:"links,omitempty"`
}

// Event is one entry of a lot's history.
type Event struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"` // created, hold, release, recall, expire
	From   Status    `json:"from,omitempty"`
	To     Status    `json:"to"`
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"`
}

// Link ties an identifier (a carton, SSCC or EPC) to a lot.
type Link struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Link kinds the gateway uses; others are allowed (lower-case letters).
const (
	LinkCarton = "carton"
	LinkSSCC   = "sscc"
	LinkEPC    = "epc"
)

// Change is a committed change, handed to Options.OnChange.
type Change struct {
	Code string `json:"code"`
	// Event is the history entry; for a link its Action is "link" and
	// From/To are the lot's unchanged status.
	Event
	Link *Link `json:"link,omitempty"`
	// Lot is the lot after the change (without history and links).
	Lot Lot `json:"lot"`
	// FromSite: the site made the change (another gateway of the site,
	// or a central system) and the registry mirrors it (ApplySite); it
	// is not this gateway's to publish.
	FromSite bool `json:"-"`
}

// Details are what the dock knows about a lot when it is made.
type Details struct {
	Product     string // SKU or item code; required
	GTIN        string // 8, 12, 13 or 14 digits with a valid check digit
	Supplier    string
	SupplierLot string
	Site        string
	Door        string
	Line        string
	// Production is the production date; zero is today (Issue) or unknown
	// (Register).
	Production     time.Time
	Expiry         time.Time
	BestBefore     time.Time
	Quantity       float64
	Unit           string
	PO             string
	DespatchAdvice string
	// By names who asked (user, device, command), for the history.
	By string
}

// IssueRequest asks for a new generated lot.
type IssueRequest struct {
	// Format is a format name under lots.formats, an ad-hoc template
	// ("{YYMM}-{PRODUCT}-{SEQ:3}") or "" for lots.default_format.
	Format  string
	Brand   string // {BRAND}; "" takes the format's configured brand
	Gateway string // {GATEWAY}; "" takes Options.Gateway
	// ID is an optional idempotency key: an Issue with an ID used before
	// returns the lot that ID issued instead of a second one (a client's
	// retry after a lost answer), and is ErrExists when the request
	// differs. 1–80 letters, digits, '.', '_', ':' or '-'.
	ID string
	Details
}

const maxField = 64

// maxQuantity bounds a lot's quantity: a billion units, and never Inf or NaN,
// which its stored JSON cannot hold.
const maxQuantity = 1e9

// checkText rejects empty-when-required, over-long and control-character
// values.
func checkText(field, v string, required bool) error {
	if v == "" {
		if required {
			return fmt.Errorf("%w: %s is required", ErrInvalid, field)
		}
		return nil
	}
	if utf8.RuneCountInString(v) > maxField {
		return fmt.Errorf("%w: %s %q is longer than %d characters", ErrInvalid, field, v, maxField)
	}
	if strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return fmt.Errorf("%w: %s %q contains a control character", ErrInvalid, field, v)
	}
	return nil
}

// quoteChar quotes the character at byte offset i of s: 'Ü', not the 'Ã'
// of its first byte; a byte that is not UTF-8 shows as byte 0xNN.
func quoteChar(s string, i int) string {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n <= 1 {
		return fmt.Sprintf("byte 0x%02X", s[i])
	}
	return strconv.QuoteRune(r)
}

// checkCode checks a lot code: 1 … 20 GS1 CSET 82 characters (AI (10)).
func checkCode(code string) error {
	// The characters first: the length counts bytes, which are characters
	// only in CSET 82.
	for i, r := range code {
		if r >= utf8.RuneSelf || !lot.InCSET82(byte(r)) {
			return fmt.Errorf("%w: lot code %q has %s at position %d, outside GS1 CSET 82", ErrInvalid, code, quoteChar(code, i), utf8.RuneCountInString(code[:i]))
		}
	}
	if code == "" || len(code) > lot.MaxLength {
		return fmt.Errorf("%w: lot code %q must have 1 to %d characters (GS1 AI (10))", ErrInvalid, code, lot.MaxLength)
	}
	return nil
}

// checkGTIN checks a GTIN-8/12/13/14 and its mod-10 check digit.
func checkGTIN(g string) error {
	if g == "" {
		return nil
	}
	for i, r := range g {
		if r < '0' || r > '9' {
			return fmt.Errorf("%w: GTIN %q has %s at position %d; give digits only", ErrInvalid, g, quoteChar(g, i), utf8.RuneCountInString(g[:i]))
		}
	}
	switch len(g) {
	case 8, 12, 13, 14:
	default:
		return fmt.Errorf("%w: GTIN %q has %d digits; give 8, 12, 13 or 14", ErrInvalid, g, len(g))
	}
	sum, w := 0, 3
	for i := len(g) - 2; i >= 0; i-- {
		sum += int(g[i]-'0') * w
		w = 4 - w
	}
	if want := byte('0' + (10-sum%10)%10); g[len(g)-1] != want {
		return fmt.Errorf("%w: GTIN %q has check digit %c, want %c", ErrInvalid, g, g[len(g)-1], want)
	}
	return nil
}

func (d *Details) check() error {
	for _, f := range []struct {
		name, v string
		req     bool
	}{
		{"product", d.Product, true}, {"supplier", d.Supplier, false}, {"site", d.Site, false},
		{"door", d.Door, false}, {"line", d.Line, false}, {"unit", d.Unit, false},
		{"po", d.PO, false}, {"despatch_advice", d.DespatchAdvice, false}, {"by", d.By, false},
	} {
		if err := checkText(f.name, f.v, f.req); err != nil {
			return err
		}
	}
	if d.SupplierLot != "" {
		if err := checkCode(d.SupplierLot); err != nil {
			return fmt.Errorf("supplier lot: %w", err)
		}
		if d.Supplier == "" {
			return fmt.Errorf("%w: a supplier lot needs its supplier (FSMA 204 traceability lot code source)", ErrInvalid)
		}
	}
	if d.Quantity < 0 || d.Quantity > maxQuantity || math.IsNaN(d.Quantity) {
		return fmt.Errorf("%w: quantity %v: give a number from 0 to %g", ErrInvalid, d.Quantity, float64(maxQuantity))
	}
	if d.Quantity > 0 && d.Unit == "" {
		return fmt.Errorf("%w: quantity %v needs a unit (e.g. EA, KGM, CS)", ErrInvalid, d.Quantity)
	}
	if !d.Production.IsZero() && !d.Expiry.IsZero() && d.Expiry.Before(d.Production) {
		return fmt.Errorf("%w: expiry %s is before the production date %s: check both dates", ErrInvalid, dateString(d.Expiry), dateString(d.Production))
	}
	if err := checkGTIN(d.GTIN); err != nil {
		return err
	}
	// Every form of a GTIN is recorded as the GTIN-14 it is, so that the
	// same goods compare alike whatever form a request used.
	d.GTIN = gs1.GTIN14(d.GTIN)
	return nil
}

func dateString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}
