package receiving

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// Receipt is one receiving of goods at a door: one lot, N cartons.
type Receipt struct {
	ID     string    `json:"id"`
	Door   string    `json:"door"`
	Source string    `json:"source"` // scan, mqtt, http, cli, demo
	Time   time.Time `json:"time"`

	Lot string `json:"lot"`
	// LotAssigned is true when the gateway generated the lot code, false
	// when the supplier's lot was kept.
	LotAssigned    bool   `json:"lot_assigned"`
	SupplierLot    string `json:"supplier_lot,omitempty"`
	Supplier       string `json:"supplier,omitempty"`
	GTIN           string `json:"gtin,omitempty"`
	Product        string `json:"product,omitempty"`
	Description    string `json:"description,omitempty"`
	PO             string `json:"po,omitempty"`
	DespatchAdvice string `json:"despatch_advice,omitempty"`
	Production     string `json:"production,omitempty"` // YYYY-MM-DD
	Expiry         string `json:"expiry,omitempty"`     // YYYY-MM-DD
	QtyPerCarton   int    `json:"qty_per_carton,omitempty"`
	Unit           string `json:"unit,omitempty"`
	// Expired: the goods were past their expiry date when received
	// (accepted by the request or receiving.accept_expired).
	Expired bool `json:"expired,omitempty"`

	Cartons []string `json:"cartons"` // SSCCs
	// Status: open (labels printed, cartons awaited at the door), complete
	// (every carton seen) or incomplete (closed with cartons missing).
	Status   string    `json:"status"`
	Seen     int       `json:"seen"`
	Missing  []string  `json:"missing,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`

	// RequestHash identifies the request; Linked and Emitted record the
	// steps done; Notified is the status whose event went out.
	RequestHash string `json:"request_hash,omitempty"`
	Linked      bool   `json:"linked"`
	Emitted     bool   `json:"emitted"`
	Notified    string `json:"notified,omitempty"`
}

// Carton is one carton of a receipt: its SSCC, its tag and its label job.
type Carton struct {
	SSCC    string    `json:"sscc"`
	EPC     string    `json:"epc"`     // hex of the SSCC-96 written to its tag
	EPCURI  string    `json:"epc_uri"` // pure identity URI
	Receipt string    `json:"receipt"`
	Lot     string    `json:"lot"`
	GTIN    string    `json:"gtin,omitempty"`
	Qty     int       `json:"qty,omitempty"`
	Door    string    `json:"door"`
	Printer string    `json:"printer,omitempty"`
	Job     string    `json:"job,omitempty"`
	Time    time.Time `json:"time"`
	// SeenAt is when the carton first passed the receiving door.
	SeenAt time.Time `json:"seen_at,omitzero"`
}

// Pass is one carton passing one door.
type Pass struct {
	Door      string    `json:"door"`
	Direction string    `json:"direction"`
	Time      time.Time `json:"time"`
	Held      bool      `json:"held,omitempty"`
}

// EventRef is an event the gateway emitted about a lot.
type EventRef struct {
	EventID string    `json:"eventID"`
	Type    string    `json:"type"`
	Time    time.Time `json:"time"`
	Subject string    `json:"subject,omitempty"` // receipt id, SSCC, job id
}

// ErrNotFound: no record with that key.
var ErrNotFound = errors.New("not found")

// Key layout (prefixes owned by receiving in edge/store/keys.go):
//
//	rcp/r/<id>                     Receipt
//	rcp/p/<id>                     receipts with steps left (Resume)
//	rcp/l/<lot>\x00<id>            receipts of a lot
//	rcp/d/<door>\x00<time><id>     receipts of a door, oldest first
//	rcp/e/<lot>\x00<time><eventID> EventRef
//	ctn/c/<sscc>                   Carton
//	ctn/l/<lot>\x00<sscc>          cartons of a lot
//	ctn/p/<sscc>\x00<time>         Pass
//	ctn/d/<door>\x00<time><EPC hex> the tags of passes at a door, by time;
//	                               value: the SSCC (empty for a tag of no
//	                               carton); kept PassIndexRetention
//	tag/<EPC hex>                  SSCC
func keyReceipt(id string) []byte { return []byte(store.PrefixReceipt + "r/" + id) }
func keyPending(id string) []byte { return []byte(store.PrefixReceipt + "p/" + id) }
func keyLotReceipt(lot, id string) []byte {
	return []byte(store.PrefixReceipt + "l/" + lot + "\x00" + id)
}
func prefixDoorReceipts(door string) []byte {
	return []byte(store.PrefixReceipt + "d/" + door + "\x00")
}
func keyDoorReceipt(door string, t time.Time, id string) []byte {
	return fmt.Appendf(prefixDoorReceipts(door), "%020d%s", t.UnixNano(), id)
}
func prefixLotEvents(lot string) []byte { return []byte(store.PrefixReceipt + "e/" + lot + "\x00") }
func keyLotEvent(lot string, t time.Time, id string) []byte {
	return fmt.Appendf(prefixLotEvents(lot), "%020d%s", t.UnixNano(), id)
}
func keyCarton(sscc string) []byte { return []byte(store.PrefixCarton + "c/" + sscc) }
func keyLotCarton(lot, sscc string) []byte {
	return []byte(store.PrefixCarton + "l/" + lot + "\x00" + sscc)
}
func prefixPasses(sscc string) []byte { return []byte(store.PrefixCarton + "p/" + sscc + "\x00") }
func keyPass(sscc string, t time.Time) []byte {
	return fmt.Appendf(prefixPasses(sscc), "%020d", t.UnixNano())
}
func prefixDoorPasses(door string) []byte {
	return []byte(store.PrefixCarton + "d/" + door + "\x00")
}
func keyDoorPass(door string, t time.Time, epcHex string) []byte {
	return fmt.Appendf(prefixDoorPasses(door), "%020d%s", t.UTC().UnixNano(), epcHex)
}
func keyTag(epcHex string) []byte { return []byte(store.PrefixTag + epcHex) }

// getJSON reads k into v; a missing key is ErrNotFound.
func getJSON(txn *badger.Txn, k []byte, v any) error { return store.GetJSON(txn, k, v, ErrNotFound) }
