package epcis

import (
	"fmt"
	"time"
)

// Shipment is goods leaving the site for a customer.
type Shipment struct {
	// EventID, or ShipmentID to derive a stable one from.
	EventID    string
	ShipmentID string
	// Time the goods left (FSMA: ship date), in the site's zone.
	Time time.Time
	// ReadPoint is the shipping door, BizLocation the site (SGLN URNs;
	// FSMA: the location the food was shipped from).
	ReadPoint   string
	BizLocation string
	// EPCs are the cartons (SSCC) that left; Quantities the lots by
	// class (FSMA: traceability lot code, quantity and unit). At least
	// one of them.
	EPCs       []string
	Quantities []Quantity
	// BizTransactions: the customer's PO, the despatch advice (FSMA:
	// reference document type and number).
	BizTransactions []BizTransaction
	// Sources: the shipping party and location; Destinations: the
	// customer (owning_party) and the ship-to location (FSMA: the
	// immediate subsequent recipient, not the transporter).
	Sources      []Source
	Destinations []Destination
	// Order and Carrier are sent as dockgate:order and dockgate:carrier.
	Order   string
	Carrier string
}

// Shipping maps a shipment to an OBSERVE with bizStep shipping and
// disposition in_transit.
func Shipping(s Shipment) (ObjectEvent, error) {
	e := ObjectEvent{Type: "ObjectEvent", Action: ActionObserve, BizStep: BizStepShipping, Disposition: DispositionInTransit}
	err := e.goods(goods{
		fact: "shipment", id: s.ShipmentID, idField: "ShipmentID", kind: "shipping", eventID: s.EventID,
		time: s.Time, epcs: s.EPCs, quantities: s.Quantities,
		readPoint: s.ReadPoint, bizLocation: s.BizLocation, site: "the shipping site",
		bizTransactions: s.BizTransactions, sources: s.Sources,
	})
	if err != nil {
		return e, err
	}
	if len(s.Destinations) == 0 {
		return e, fmt.Errorf("%w: Destinations: name the customer or the ship-to location (FSMA: immediate subsequent recipient)", ErrInvalid)
	}
	if e.DestinationList, err = destinations(s.Destinations); err != nil {
		return e, err
	}
	ext := map[string]any{}
	if s.Order != "" {
		ext["dockgate:order"] = s.Order
	}
	if s.Carrier != "" {
		ext["dockgate:carrier"] = s.Carrier
	}
	if len(ext) > 0 {
		e.Extensions = ext
	}
	return e, nil
}

// Return conditions: what a returned carton or unit is fit for.
const (
	ConditionResaleable = "resaleable"
	ConditionDamaged    = "damaged"
	ConditionQuarantine = "quarantine"
)

// ReturnDisposition is the disposition of goods returned in a condition:
// resaleable goods are sellable_accessible, damaged ones damaged, and
// goods in quarantine non_sellable_other.
func ReturnDisposition(condition string) (string, error) {
	switch condition {
	case ConditionResaleable:
		return DispositionSellableAccessible, nil
	case ConditionDamaged:
		return DispositionDamaged, nil
	case ConditionQuarantine:
		return DispositionNonSellableOther, nil
	}
	return "", fmt.Errorf("%w: condition %q: use %s, %s or %s", ErrInvalid, condition, ConditionResaleable, ConditionDamaged, ConditionQuarantine)
}

// Return is a carton or units coming back from a customer.
type Return struct {
	// EventID, or ReturnID to derive a stable one from.
	EventID  string
	ReturnID string
	Time     time.Time
	// ReadPoint is the door, BizLocation the site.
	ReadPoint   string
	BizLocation string
	// EPCs are the returned cartons; Quantities the returned units by
	// lot class. At least one of them.
	EPCs       []string
	Quantities []Quantity
	// Condition sets the disposition (see ReturnDisposition).
	Condition string
	// BizTransactions: the RMA, the original order's PO or despatch
	// advice.
	BizTransactions []BizTransaction
	// Sources: the customer returning the goods.
	Sources []Source
	// Reason is sent as dockgate:reason.
	Reason string
}

// Returning maps a return to an OBSERVE with bizStep receiving and the
// disposition of its condition.
func Returning(r Return) (ObjectEvent, error) {
	e := ObjectEvent{Type: "ObjectEvent", Action: ActionObserve, BizStep: BizStepReceiving}
	var err error
	if e.Disposition, err = ReturnDisposition(r.Condition); err != nil {
		return e, err
	}
	err = e.goods(goods{
		fact: "return", id: r.ReturnID, idField: "ReturnID", kind: "return", eventID: r.EventID,
		time: r.Time, epcs: r.EPCs, quantities: r.Quantities,
		readPoint: r.ReadPoint, bizLocation: r.BizLocation, site: "the site the goods come back to",
		bizTransactions: r.BizTransactions, sources: r.Sources,
	})
	if err != nil {
		return e, err
	}
	if r.Reason != "" {
		e.Extensions = map[string]any{"dockgate:reason": r.Reason}
	}
	return e, nil
}

func destinations(ds []Destination) ([]Destination, error) {
	for i, d := range ds {
		if d.Type == "" {
			return nil, fmt.Errorf("%w: Destinations[%d].Type is empty: use owning_party, possessing_party or location", ErrInvalid, i)
		}
		if err := checkURI(fmt.Sprintf("Destinations[%d]", i), d.Destination); err != nil {
			return nil, err
		}
	}
	return ds, nil
}
