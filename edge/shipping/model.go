package shipping

import (
	"errors"
	"time"
)

// Errors of the shipping service; returned errors wrap one of them.
var (
	// ErrInvalid: a request field is missing or malformed (400).
	ErrInvalid = errors.New("invalid request")
	// ErrUnknownDoor: the door is not configured. (A door that is no
	// shipping door is ErrInvalid.)
	ErrUnknownDoor = errors.New("unknown door")
	// ErrNotFound: no shipment, return, count or carton with that key.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request contradicts what is recorded (an id reused
	// for another request, a carton not in stock, a lot on hold, not
	// enough stock for a pick).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the change's events cannot be stored now (outbox
	// full, disk low); nothing was changed: retry with the same id.
	ErrUnavailable = errors.New("unavailable")
)

// Party is a customer: a name and its GLN or its id in the WMS.
type Party struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	GLN  string `json:"gln,omitempty"`
}

// Keys are what the party is traced by: its id and its GLN, or its name
// when it has neither.
func (p Party) Keys() []string {
	var out []string
	for _, k := range []string{p.ID, p.GLN} {
		if k != "" && (len(out) == 0 || out[0] != k) {
			out = append(out, k)
		}
	}
	if len(out) == 0 && p.Name != "" {
		out = append(out, p.Name)
	}
	return out
}

// Place is where goods go: a GLN, or an address line.
type Place struct {
	GLN     string `json:"gln,omitempty"`
	Address string `json:"address,omitempty"`
}

// String is the place as a spreadsheet cell: "GLN 4012345000009", the
// address, or both.
func (p Place) String() string {
	switch {
	case p.GLN != "" && p.Address != "":
		return p.Address + " (GLN " + p.GLN + ")"
	case p.GLN != "":
		return "GLN " + p.GLN
	}
	return p.Address
}

// LineRequest asks for cartons by lot ("lot" and "cartons"), or for
// cartons of a GTIN picked by FEFO ("gtin" and "cartons", no lot).
type LineRequest struct {
	Lot     string `json:"lot,omitempty"`
	GTIN    string `json:"gtin,omitempty"`
	Cartons int    `json:"cartons"`
}

// Request announces a shipment. JSON field names are those of the HTTP API
// and the MQTT ship command.
type Request struct {
	// ID is the idempotency key: the same id again returns the same
	// shipment (with the lots proposed the first time).
	ID       string `json:"id,omitempty"`
	Door     string `json:"door"`
	Order    string `json:"order"`
	Customer Party  `json:"customer"`
	ShipTo   Place  `json:"ship_to"`
	Carrier  string `json:"carrier,omitempty"`
	// DespatchAdvice and PO are the reference documents (EPCIS
	// bizTransactionList, FSMA reference document).
	DespatchAdvice string `json:"despatch_advice,omitempty"`
	PO             string `json:"po,omitempty"`
	// What should leave: SSCCs, and lines of lots or of GTINs to pick.
	SSCCs  []string      `json:"ssccs,omitempty"`
	Lines  []LineRequest `json:"lines,omitempty"`
	Source string        `json:"source,omitempty"`
}

// Shipment statuses.
const (
	StatusOpen    = "open"    // announced, loading
	StatusLoaded  = "loaded"  // every expected carton loaded, not closed
	StatusShipped = "shipped" // closed: what was loaded left
)

// Line is cartons of one lot a shipment expects.
type Line struct {
	Lot     string `json:"lot"`
	GTIN    string `json:"gtin,omitempty"`
	Expiry  string `json:"expiry,omitempty"`
	Cartons int    `json:"cartons"`
	Loaded  int    `json:"loaded"`
	// Pick is the GTIN of the FEFO pick that proposed the line, "" for
	// a line of a lot asked for.
	Pick string `json:"pick,omitempty"`
}

// SSCCLot counts a shipment's cartons of one lot asked for by SSCC.
type SSCCLot struct {
	Lot     string `json:"lot"`
	Cartons int    `json:"cartons"`
	Loaded  int    `json:"loaded"`
}

// Pick is what the gateway proposed for "N cartons of GTIN G": lots in
// FEFO order, and the lots of the GTIN in stock it did not take, with why.
type Pick struct {
	GTIN    string       `json:"gtin"`
	Cartons int          `json:"cartons"`
	Lots    []PickLot    `json:"lots"`
	Skipped []SkippedLot `json:"skipped"`
}

// PickLot is a lot a pick proposed.
type PickLot struct {
	Lot     string `json:"lot"`
	Expiry  string `json:"expiry,omitempty"`
	Cartons int    `json:"cartons"`
}

// SkippedLot is a lot with cartons in stock that a pick did not take.
type SkippedLot struct {
	Lot     string `json:"lot"`
	Expiry  string `json:"expiry,omitempty"`
	Status  string `json:"status"`
	Reason  string `json:"reason"` // held, recalled, expired
	InStock int    `json:"in_stock"`
}

// Shipment is one shipment: what should leave, what was loaded, and on
// close what left.
type Shipment struct {
	ID             string    `json:"id"`
	Door           string    `json:"door"`
	Order          string    `json:"order"`
	Customer       Party     `json:"customer"`
	ShipTo         Place     `json:"ship_to"`
	Carrier        string    `json:"carrier,omitempty"`
	DespatchAdvice string    `json:"despatch_advice,omitempty"`
	PO             string    `json:"po,omitempty"`
	Source         string    `json:"source"`
	Status         string    `json:"status"`
	Created        time.Time `json:"created"`
	LoadedAt       time.Time `json:"loaded_at,omitzero"`
	ShippedAt      time.Time `json:"shipped_at,omitzero"`
	// SSCCs are the cartons asked for by SSCC; Lines the cartons asked
	// for by lot or picked.
	SSCCs []string `json:"ssccs"`
	Lines []Line   `json:"lines"`
	Picks []Pick   `json:"picks,omitempty"`
	// SSCCLots counts the cartons asked for by SSCC by lot.
	SSCCLots []SSCCLot `json:"sscc_lots"`
	// Expected counts the cartons asked for, Loaded those loaded of them;
	// Unplanned the cartons that left through the door without being
	// asked for (each raised a mismatch) and were not taken back.
	Expected   int `json:"expected"`
	Loaded     int `json:"loaded"`
	Unplanned  int `json:"unplanned"`
	Mismatches int `json:"mismatches"`
	// Shipped is what left, by lot; Missing what was asked for and did
	// not (both set on close).
	Shipped []LotQuantity `json:"shipped,omitempty"`
	Missing *Missing      `json:"missing,omitempty"`
	// PalletSSCC is the SSCC of the shipment's pallet, allocated on
	// close; its pallet-ship label is printed on the door's printer.
	PalletSSCC string `json:"pallet_sscc,omitempty"`

	RequestHash string `json:"request_hash,omitempty"`
}

// Missing is what a closed shipment lacked.
type Missing struct {
	SSCCs []string      `json:"ssccs"`
	Lines []MissingLine `json:"lines"`
}

// MissingLine is how many cartons of a lot line did not leave.
type MissingLine struct {
	Lot     string `json:"lot"`
	Cartons int    `json:"cartons"`
}

// LotQuantity is an amount of one lot (FSMA: traceability lot code,
// quantity and unit of measure).
type LotQuantity struct {
	Lot      string  `json:"lot"`
	GTIN     string  `json:"gtin,omitempty"`
	Cartons  int     `json:"cartons"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
}

// LoadedCarton is a carton on a shipment.
type LoadedCarton struct {
	SSCC string    `json:"sscc"`
	EPC  string    `json:"epc"`
	Lot  string    `json:"lot"`
	GTIN string    `json:"gtin,omitempty"`
	Qty  int       `json:"qty,omitempty"`
	Time time.Time `json:"time"`
	// Line is the index of the lot line it counts for, LineSSCC for a
	// carton asked for by SSCC, LineUnplanned for one not asked for.
	Line int `json:"line"`
	// Reason is the mismatch an unplanned carton raised.
	Reason string `json:"reason,omitempty"`
}

// Line values of a LoadedCarton that are no lot line.
const (
	LineSSCC      = -1
	LineUnplanned = -2
)

// Mismatch reasons: why a carton passing out at a shipping door is not
// loaded.
const (
	ReasonHeld           = "held"             // its lot is on hold
	ReasonRecalled       = "recalled"         // its lot is recalled
	ReasonExpired        = "expired"          // its lot is expired or past its expiry date
	ReasonQuarantined    = "quarantined"      // it came back in quarantine or damaged
	ReasonOtherShipment  = "other_shipment"   // another shipment asked for it, or it left with one
	ReasonNotOrdered     = "not_ordered"      // no open shipment at the door asks for it
	ReasonUnknown        = "unknown"          // no carton received here has this tag
	ReasonNoOpenShipment = "no_open_shipment" // the door has no open shipment
)

// Mismatch is a carton that passed out and was not loaded.
type Mismatch struct {
	EPC  string `json:"epc"`
	SSCC string `json:"sscc,omitempty"`
	Lot  string `json:"lot,omitempty"`
	// Reason is one of the Reason constants; Shipment the other shipment
	// of other_shipment.
	Reason   string `json:"reason"`
	Shipment string `json:"shipment,omitempty"`
}

// PassResult is what a pass at a shipping door did.
type PassResult struct {
	Loaded     []string   `json:"loaded"`   // SSCCs loaded
	Unloaded   []string   `json:"unloaded"` // SSCCs taken back
	Mismatches []Mismatch `json:"mismatches"`
	Complete   []string   `json:"complete"` // shipments now loaded
	Returned   []string   `json:"returned"` // returns recorded at a returns door
}

// LotShipment is one shipment of one lot: the trace of a lot, its recall
// report and its FSMA 204 shipping rows read these.
type LotShipment struct {
	Shipment       string    `json:"shipment"`
	Order          string    `json:"order"`
	Customer       Party     `json:"customer"`
	ShipTo         Place     `json:"ship_to"`
	Door           string    `json:"door"`
	Time           time.Time `json:"time"`
	Carrier        string    `json:"carrier,omitempty"`
	PO             string    `json:"po,omitempty"`
	DespatchAdvice string    `json:"despatch_advice,omitempty"`
	LotQuantity
}

// ShipmentSummary is a closed shipment with its lots: a customer's and an
// order's trace read these.
type ShipmentSummary struct {
	Shipment string        `json:"shipment"`
	Order    string        `json:"order"`
	Customer Party         `json:"customer"`
	ShipTo   Place         `json:"ship_to"`
	Door     string        `json:"door"`
	Time     time.Time     `json:"time"`
	Carrier  string        `json:"carrier,omitempty"`
	Lots     []LotQuantity `json:"lots"`
}

// Conditions of a returned carton or unit.
const (
	ConditionResaleable = "resaleable"
	ConditionDamaged    = "damaged"
	ConditionQuarantine = "quarantine"
)

// ReturnRequest records goods coming back: a carton by its EPC or SSCC, or
// units by a scan of their (01)+(10).
type ReturnRequest struct {
	ID   string `json:"id,omitempty"`
	Door string `json:"door,omitempty"`
	EPC  string `json:"epc,omitempty"`
	SSCC string `json:"sscc,omitempty"`
	Scan string `json:"scan,omitempty"`
	// Quantity of units returned with a scan (default 1).
	Quantity  float64 `json:"quantity,omitempty"`
	Condition string  `json:"condition"`
	Reason    string  `json:"reason,omitempty"`
	RMA       string  `json:"rma,omitempty"`
	// Shipment the units came from, when known (a carton's is known).
	Shipment string `json:"shipment,omitempty"`
	Source   string `json:"source,omitempty"`
}

// Return is recorded goods coming back.
type Return struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Door string    `json:"door,omitempty"`
	SSCC string    `json:"sscc,omitempty"`
	EPC  string    `json:"epc,omitempty"`
	Lot  string    `json:"lot"`
	GTIN string    `json:"gtin,omitempty"`
	// Cartons is 1 for a carton, 0 for units; Quantity and Unit what came
	// back.
	Cartons  int     `json:"cartons"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
	// Condition is where the goods went; Requested the condition asked
	// for, and Routed why they went elsewhere (a recalled lot goes to
	// quarantine).
	Condition string `json:"condition"`
	Requested string `json:"requested_condition,omitempty"`
	Routed    string `json:"routed,omitempty"`
	Reason    string `json:"reason,omitempty"`
	RMA       string `json:"rma,omitempty"`
	Shipment  string `json:"shipment,omitempty"`
	Order     string `json:"order,omitempty"`
	Customer  *Party `json:"customer,omitempty"`
	Source    string `json:"source"`

	RequestHash string `json:"request_hash,omitempty"`
}

// CountRequest records a cycle count: a counted quantity of a lot or GTIN,
// or the EPCs of an RFID sweep (a handheld's, or what a portal reported).
type CountRequest struct {
	ID       string `json:"id,omitempty"`
	Location string `json:"location,omitempty"`
	Door     string `json:"door,omitempty"`
	Lot      string `json:"lot,omitempty"`
	GTIN     string `json:"gtin,omitempty"`
	// Quantity counted, in Unit: cartons (CS, the default) or the lot's
	// unit (items of the lot's cartons).
	Quantity *float64 `json:"quantity,omitempty"`
	Unit     string   `json:"unit,omitempty"`
	// EPCs of a sweep (hex or URI): each carton found counts for its lot.
	EPCs []string `json:"epcs,omitempty"`
	// From and To (RFC 3339), with Door, count a portal's sweep instead:
	// the tags of the passes at the door in [From, To), as EPCs would.
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	By     string `json:"by,omitempty"`
	Source string `json:"source,omitempty"`
}

// Count is a recorded cycle count.
type Count struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Location string    `json:"location,omitempty"`
	Door     string    `json:"door,omitempty"`
	Lot      string    `json:"lot,omitempty"`
	GTIN     string    `json:"gtin,omitempty"`
	Unit     string    `json:"unit"`
	// From and To are the window of a count of the passes at Door.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	// Lots are the lots counted with what the gateway expected; the
	// totals are their sums (Variance = Counted - Expected).
	Lots     []CountLot `json:"lots"`
	Expected float64    `json:"expected"`
	Counted  float64    `json:"counted"`
	Variance float64    `json:"variance"`
	// Unknown are swept EPCs of no carton received here.
	Unknown []string `json:"unknown,omitempty"`
	By      string   `json:"by,omitempty"`
	Source  string   `json:"source"`

	RequestHash string `json:"request_hash,omitempty"`
}

// CountLot is one lot of a count.
type CountLot struct {
	Lot      string  `json:"lot"`
	GTIN     string  `json:"gtin,omitempty"`
	Expected float64 `json:"expected"`
	// Counted is null for a lot of a GTIN counted as a whole (its lots'
	// share is not known).
	Counted  *float64 `json:"counted"`
	Variance *float64 `json:"variance"`
}
