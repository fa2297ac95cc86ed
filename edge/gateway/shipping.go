package gateway

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/epcis"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/shipping"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/printers/spool"
	"github.com/dockgate/dockgate/rfid/portal"
)

// openShipping makes the shipping service: shipments leave through the
// doors of role shipping or both, returns come in at the doors with
// returns set, and FSMA 204 rows name the site by its id and GLN.
func (g *Gateway) openShipping() {
	doors, returns := map[string]string{}, map[string]string{}
	for _, d := range g.cfg.Doors {
		doors[d.ID] = d.Role
		if d.Returns != "" {
			returns[d.ID] = d.Returns
		}
	}
	g.ship = shipping.New(shipping.Config{Doors: doors, ReturnsDoors: returns, MaxEventBytes: g.maxEventBytes(),
		Site: g.cfg.Site + ", GLN " + g.siteGLN(), PalletSSCC: g.palletSSCC, PalletLabel: palletLabeler{g}},
		g.store, g.lots, g.recv, shippingEmitter{g}, g.log.With("component", "shipping"), g.now)
}

// palletSSCC allocates the SSCC of a shipment's pallet from the range
// the cartons' come from.
func (g *Gateway) palletSSCC() (string, error) {
	gs := g.cfg.GS1
	ss, err := receiving.AllocateSSCCs(g.store, receiving.SSCCRange{Extension: gs.SSCCExtension, CompanyPrefix: gs.CompanyPrefix,
		Start: gs.SSCCSerialStart, End: gs.SSCCSerialEnd}, 1)
	if err != nil {
		return "", err
	}
	return ss[0], nil
}

// palletLabeler prints a shipment's pallet-ship label on its door's
// printer, as job pallet-<shipment id>: a job of that id already spooled
// is the label printed, so a retried close prints nothing again. A door
// without a printer prints no label.
type palletLabeler struct{ g *Gateway }

func (l palletLabeler) PalletLabel(ctx context.Context, sh *shipping.Shipment) error {
	g := l.g
	d, ok := g.cfg.Door(sh.Door)
	if !ok || d.Printer == "" {
		return nil
	}
	id := localID("pallet-"+sh.ID, maxJobID)
	if _, err := g.printing.spool.Get(id); err == nil {
		return nil
	} else if !errors.Is(err, spool.ErrNotFound) {
		return err
	}
	vals := g.palletValues(sh)
	if t, err := g.printing.requestTemplate("pallet-ship"); err == nil {
		shortenTexts(t, vals)
	}
	_, err := g.printing.print(ctx, id, // by whoever closed the shipment
		printRequest{Printer: d.Printer, Template: "pallet-ship", Values: vals})
	if err != nil {
		return fmt.Errorf("pallet label of shipment %s on printer %s: %w", sh.ID, d.Printer, err)
	}
	return nil
}

// palletValues are the pallet-ship label's values of a shipment: its
// pallet SSCC, ship-to (410) and consignment (401: the company prefix and
// the shipment id, when that is a GINC), and, for a pallet of one lot, the
// lot, its GTIN and the cartons.
func (g *Gateway) palletValues(sh *shipping.Shipment) map[string]string {
	v := map[string]string{"sscc": sh.PalletSSCC, "ship_from": g.cfg.Site}
	set := func(k, val string) {
		if val != "" {
			v[k] = val
		}
	}
	set("customer", cmp.Or(sh.Customer.Name, sh.Customer.ID))
	set("ship_to", sh.ShipTo.Address)
	set("ship_to_gln", sh.ShipTo.GLN)
	set("order", sh.Order)
	set("carrier", sh.Carrier)
	set("po", sh.PO)
	if ginc := g.cfg.GS1.CompanyPrefix + sh.ID; g.cfg.GS1.CompanyPrefix != "" && gs1.ValidateValue("401", ginc) == nil {
		v["consignment"] = ginc
	}
	if len(sh.Shipped) == 1 {
		q := sh.Shipped[0]
		set("lot", q.Lot)
		set("gtin", q.GTIN)
		v["qty"] = strconv.Itoa(q.Cartons)
	}
	return v
}

// shortenTexts cuts the text values of vals that are longer than t takes
// to its max_len, ending in "..." (ASCII: every printer font has it): a
// shipment takes a longer customer, ship-to, carrier or order than its
// pallet label prints, and its label must print all the same (the
// barcodes carry none of them).
func shortenTexts(t *label.Template, vals map[string]string) {
	for _, v := range t.Variables {
		if v.Type != "text" && v.Type != "" || v.MaxLen < 4 {
			continue
		}
		if r := []rune(vals[v.Name]); len(r) > v.MaxLen {
			vals[v.Name] = string(r[:v.MaxLen-3]) + "..."
		}
	}
}

// Shipping is the shipping service.
func (g *Gateway) Shipping() *shipping.Service { return g.ship }

// shipPass matches a pass to the door's shipments in the pass's
// transaction (the caller holds g.ship.LockPass).
func (g *Gateway) shipPass(txn *badger.Txn, ev *portal.PassEvent, epcs []string) error {
	res, err := g.ship.OnPass(txn, ev.Door, ev.Direction, ev.End, epcs)
	if err != nil {
		return fmt.Errorf("shipments at door %s: %w", ev.Door, err)
	}
	for _, m := range res.Mismatches {
		g.log.Warn("carton at the shipping door is not for its shipment", "door", ev.Door, "epc", m.EPC, "sscc", m.SSCC,
			"lot", m.Lot, "reason", m.Reason, "shipment", m.Shipment)
	}
	return nil
}

// shippingEmitter gives shipping the outbox: its events, and the EPCIS
// documents of a shipment that left and of a return.
type shippingEmitter struct{ g *Gateway }

func (e shippingEmitter) Emit(txn *badger.Txn, ev shipping.Event) error {
	err := e.stage(txn, ev)
	if errors.Is(err, outbox.ErrStoreFull) {
		return fmt.Errorf("%w: %w", shipping.ErrUnavailable, err)
	}
	return err
}

func (e shippingEmitter) stage(txn *badger.Txn, ev shipping.Event) error {
	g := e.g
	if err := g.stage(txn, outbox.Event{ID: "urn:uuid:" + ev.ID, Type: ev.Type, Time: ev.Time,
		Source: "shipping/" + g.cfg.Gateway, Priority: outbox.PriorityLot}, ev.Body); err != nil {
		return err
	}
	var doc []byte
	var err error
	switch {
	case ev.Shipment != nil:
		doc, err = g.epcisShipment(ev.Shipment, ev.Cartons)
	case ev.Return != nil:
		doc, err = g.epcisReturn(ev.Return)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("EPCIS document of %s %s: %w", ev.Type, ev.Subject, err)
	}
	if doc == nil {
		return nil
	}
	return g.stage(txn, outbox.Event{ID: "urn:uuid:" + ev.ID + "-epcis", Type: "epcis." + ev.Type, Time: ev.Time,
		Topic: "epcis", Priority: outbox.PriorityLot, Body: doc}, nil)
}

// epcisShipment is the EPCIS document of a shipment that left: its cartons
// (when they fit in an event) and its lots by class, from this site to the
// customer and its ship-to location.
func (g *Gateway) epcisShipment(sh *shipping.Shipment, cartons []shipping.LoadedCarton) ([]byte, error) {
	s := epcis.Shipment{ShipmentID: sh.ID, Time: sh.ShippedAt.Local(), ReadPoint: g.doorSGLN(sh.Door), BizLocation: g.sgln(""),
		Sources:      []epcis.Source{{Type: "owning_party", Source: g.partyOf(g.siteGLN(), "")}, {Type: "location", Source: g.sgln("")}},
		Destinations: []epcis.Destination{{Type: "owning_party", Destination: g.partyOf(sh.Customer.GLN, cmp.Or(sh.Customer.ID, sh.Customer.Name))}},
		Order:        sh.Order, Carrier: sh.Carrier}
	if loc := g.locationOf(sh.ShipTo.GLN, sh.ShipTo.Address); loc != "" {
		s.Destinations = append(s.Destinations, epcis.Destination{Type: "location", Destination: loc})
	}
	for _, q := range sh.Shipped {
		cls, err := g.lotClass(q.GTIN, q.Lot)
		if err != nil {
			return nil, err
		}
		s.Quantities = append(s.Quantities, epcis.Quantity{EPCClass: cls, Quantity: q.Quantity, UOM: measure(q.Unit)})
	}
	for _, c := range cartons {
		if e, err := epc.DecodeHex(c.EPC); err == nil && e.PureURI() != "" {
			s.EPCs = append(s.EPCs, e.PureURI())
		}
	}
	if sh.PO != "" {
		s.BizTransactions = append(s.BizTransactions, epcis.BizTransaction{Type: "po", BizTransaction: "urn:dockgate:po:" + url.PathEscape(sh.PO)})
	}
	if sh.DespatchAdvice != "" {
		s.BizTransactions = append(s.BizTransactions, epcis.BizTransaction{Type: "desadv", BizTransaction: "urn:dockgate:desadv:" + url.PathEscape(sh.DespatchAdvice)})
	}
	if len(s.Quantities) == 0 && len(s.EPCs) == 0 {
		// Nothing left: no EPCIS event (one must name what it is
		// about); shipment.shipped says so.
		return nil, nil
	}
	doc, err := g.epcisDoc(epcis.Shipping(s))
	if err == nil && len(doc) > g.maxEventBytes() && len(s.Quantities) > 0 {
		s.EPCs = nil // the lots by class say what left; the event lists the SSCCs
		doc, err = g.epcisDoc(epcis.Shipping(s))
	}
	return doc, err
}

// epcisReturn is the EPCIS document of a return: the carton, or the units
// by lot class, coming back in their condition.
func (g *Gateway) epcisReturn(r *shipping.Return) ([]byte, error) {
	e := epcis.Return{ReturnID: r.ID, Time: r.Time.Local(), BizLocation: g.sgln(""), Condition: r.Condition, Reason: r.Reason}
	if r.Door != "" {
		e.ReadPoint = g.doorSGLN(r.Door)
	}
	if r.EPC != "" {
		if x, err := epc.DecodeHex(r.EPC); err == nil && x.PureURI() != "" {
			e.EPCs = []string{x.PureURI()}
		}
	}
	if len(e.EPCs) == 0 {
		cls, err := g.lotClass(r.GTIN, r.Lot)
		if err != nil {
			return nil, err
		}
		e.Quantities = []epcis.Quantity{{EPCClass: cls, Quantity: r.Quantity, UOM: measure(r.Unit)}}
	}
	if r.Customer != nil {
		e.Sources = []epcis.Source{{Type: "owning_party", Source: g.partyOf(r.Customer.GLN, cmp.Or(r.Customer.ID, r.Customer.Name))}}
	}
	if r.RMA != "" {
		e.BizTransactions = []epcis.BizTransaction{{Type: "rma", BizTransaction: "urn:dockgate:rma:" + url.PathEscape(r.RMA)}}
	}
	return g.epcisDoc(epcis.Returning(e))
}

func (g *Gateway) epcisDoc(ev epcis.ObjectEvent, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return json.Marshal(epcis.NewDocument(g.now(), ev))
}

// measure is the EPCIS uom of a unit: none for a count (items, cases),
// the unit itself for a measure (KGM, LTR …).
func measure(unit string) string {
	switch unit {
	case "", "EA", "C62", "H87", "CS", "CT", "PK":
		return ""
	}
	return unit
}

// partyOf names a party: its PGLN when its GLN's company prefix length is
// known, its GLN as a Digital Link when not, else by name.
func (g *Gateway) partyOf(gln, name string) string {
	if gln != "" {
		if n, ok := g.prefixes.Lookup(gln); ok && n < 13 {
			return "urn:epc:id:pgln:" + gln[:n] + "." + gln[n:12]
		}
		return "https://id.gs1.org/417/" + gln
	}
	return partyURI(name)
}

// locationOf names a location: its SGLN when its GLN's company prefix
// length is known, its GLN as a Digital Link when not, else its address.
func (g *Gateway) locationOf(gln, address string) string {
	switch {
	case gln != "":
		if n, ok := g.prefixes.Lookup(gln); ok && n < 13 {
			return "urn:epc:id:sgln:" + gln[:n] + "." + gln[n:12] + ".0"
		}
		return "https://id.gs1.org/414/" + gln
	case address != "":
		return "urn:dockgate:location:" + url.PathEscape(address)
	}
	return ""
}

// shippingCommands binds the MQTT commands of shipping:
//
//	ship        a shipment (see shipping.Request); the command id is the shipment id
//	ship.close  {"shipment"}: the shipment left
func (g *Gateway) shippingCommands() {
	g.cmds.Handle(command.Ship, func(ctx context.Context, c command.Command) (any, error) {
		ctx = context.WithoutCancel(ctx)
		var req shipping.Request
		if err := c.Decode(&req); err != nil {
			return nil, err
		}
		req.ID, req.Source = localID(c.ID, maxReceiptID), "mqtt"
		return g.ship.Create(ctx, req)
	})
	g.cmds.Handle(command.ShipClose, func(ctx context.Context, c command.Command) (any, error) {
		var p struct {
			Shipment string `json:"shipment"`
		}
		if err := c.Decode(&p); err != nil {
			return nil, err
		}
		if p.Shipment == "" {
			return nil, errors.New("shipment: required")
		}
		return g.ship.Close(context.WithoutCancel(ctx), p.Shipment)
	})
}
