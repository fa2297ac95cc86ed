package shipping

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// Key layout (store.PrefixShipping, shp/):
//
//	shp/s/<id>                            Shipment
//	shp/o/<door>\x00<created><id>         open shipments of a door, oldest first
//	shp/e/<sscc>                          the shipment that asked for a carton by SSCC
//	shp/l/<id>\x00<sscc>                  LoadedCarton: cartons on a shipment
//	shp/c/<sscc>                          cartonState: where a carton last went
//	shp/n/<lot>                           lotCounts: a lot's cartons loaded, shipped, returned
//	shp/ls/<lot>\x00<id>                  LotShipment (on close)
//	shp/cu/<customer>\x00<time><id>       ShipmentSummary by customer key, binary (summary.go; on close)
//	shp/or/<order>\x00<id>                ShipmentSummary by order, binary (on close)
//	shp/t/<time><id>                      shipments by the time they left (on close)
//	shp/r/<id>                            Return
//	shp/rl/<lot>\x00<time><id>            Return, by lot
//	shp/k/<id>                            Count
//	shp/kl/<lot>\x00<time><id>            counts of a lot
//
// <time> is the UTC time in nanoseconds, 20 decimal digits: keys sort by
// it. The indexes written on close make every trace and report a scan of
// one prefix: none of them reads cartons.
const (
	pShipment  = store.PrefixShipping + "s/"
	pOpen      = store.PrefixShipping + "o/"
	pExpected  = store.PrefixShipping + "e/"
	pLoaded    = store.PrefixShipping + "l/"
	pCarton    = store.PrefixShipping + "c/"
	pLotCounts = store.PrefixShipping + "n/"
	pLotShip   = store.PrefixShipping + "ls/"
	pCustomer  = store.PrefixShipping + "cu/"
	pOrder     = store.PrefixShipping + "or/"
	pTime      = store.PrefixShipping + "t/"
	pReturn    = store.PrefixShipping + "r/"
	pLotReturn = store.PrefixShipping + "rl/"
	pCount     = store.PrefixShipping + "k/"
	pLotCount  = store.PrefixShipping + "kl/"
)

func stamp(t time.Time) string { return fmt.Sprintf("%020d", t.UTC().UnixNano()) }

func kShipment(id string) []byte          { return []byte(pShipment + id) }
func kOpenPrefix(door string) []byte      { return []byte(pOpen + door + "\x00") }
func kOpen(s *Shipment) []byte            { return []byte(pOpen + s.Door + "\x00" + stamp(s.Created) + s.ID) }
func kExpected(sscc string) []byte        { return []byte(pExpected + sscc) }
func kLoadedPrefix(id string) []byte      { return []byte(pLoaded + id + "\x00") }
func kLoaded(id, sscc string) []byte      { return []byte(pLoaded + id + "\x00" + sscc) }
func kCarton(sscc string) []byte          { return []byte(pCarton + sscc) }
func kLotCounts(lot string) []byte        { return []byte(pLotCounts + lot) }
func kLotShipPrefix(lot string) []byte    { return []byte(pLotShip + lot + "\x00") }
func kLotShip(lot, id string) []byte      { return []byte(pLotShip + lot + "\x00" + id) }
func kCustomerPrefix(c string) []byte     { return []byte(pCustomer + c + "\x00") }
func kOrderPrefix(o string) []byte        { return []byte(pOrder + o + "\x00") }
func kTime(t time.Time, id string) []byte { return []byte(pTime + stamp(t) + id) }
func kReturn(id string) []byte            { return []byte(pReturn + id) }
func kLotReturnPrefix(lot string) []byte  { return []byte(pLotReturn + lot + "\x00") }
func kCount(id string) []byte             { return []byte(pCount + id) }
func kLotCount(lot string, t time.Time, id string) []byte {
	return []byte(pLotCount + lot + "\x00" + stamp(t) + id)
}

// cartonState is where a carton last went: loaded on (or shipped with) a
// shipment, or back with a return.
type cartonState struct {
	Shipment  string `json:"shipment,omitempty"`
	Return    string `json:"return,omitempty"`
	Condition string `json:"condition,omitempty"`
}

// lotCounts are a lot's cartons as shipping sees them. In stock are the
// cartons received less Loaded, Shipped, Damaged and Quarantined.
type lotCounts struct {
	Loaded  int `json:"loaded"`  // on open shipments
	Shipped int `json:"shipped"` // left and not back
	// Returned counts cartons come back, Damaged and Quarantined those of
	// them not fit for sale; ReturnedUnits the units returned by scan.
	Returned      int     `json:"returned"`
	Damaged       int     `json:"damaged"`
	Quarantined   int     `json:"quarantined"`
	ReturnedUnits float64 `json:"returned_units,omitempty"`
}

// getJSON reads k into v; a missing key is ErrNotFound.
func getJSON(txn *badger.Txn, k []byte, v any) error { return store.GetJSON(txn, k, v, ErrNotFound) }

func getCounts(txn *badger.Txn, lot string) (lotCounts, error) {
	var c lotCounts
	err := getJSON(txn, kLotCounts(lot), &c)
	if errors.Is(err, ErrNotFound) {
		err = nil
	}
	return c, err
}
