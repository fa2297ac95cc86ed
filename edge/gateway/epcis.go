package gateway

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/dockgate/dockgate/edge/epcis"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/rfid/portal"
)

// siteGLN is the configured GLN, or the company prefix's first location.
func (g *Gateway) siteGLN() string {
	if g.cfg.GS1.GLN != "" {
		return g.cfg.GS1.GLN
	}
	body := g.cfg.GS1.CompanyPrefix + strings.Repeat("0", 12-len(g.cfg.GS1.CompanyPrefix))
	cd, _ := gs1.CheckDigit(body)
	return body + string(cd)
}

// sgln is the SGLN URN of the site (extension "0") or of a door.
func (g *Gateway) sgln(ext string) string {
	cp := g.cfg.GS1.CompanyPrefix
	gln := g.siteGLN()
	if ext == "" {
		ext = "0"
	}
	return "urn:epc:id:sgln:" + cp + "." + gln[len(cp):12] + "." + epcis.EscapeURIPart(ext)
}

func (g *Gateway) doorSGLN(id string) string {
	if d, ok := g.cfg.Door(id); ok && d.Location != "" {
		return g.sgln(d.Location)
	}
	return g.sgln(id)
}

// setupEPCIS binds the EPCIS 2.0 mappings of edge/epcis to the gateway's
// events: a receipt, a portal pass and a lot hold each become a document
// on the epcis topic.
func (g *Gateway) setupEPCIS() {
	g.epcisReceipt = func(rc *receiving.Receipt, cartons []receiving.Carton) ([]byte, error) {
		// Times in the gateway's zone, as a pass's are: the offset says
		// the site's local time (FSMA 204).
		r := epcis.Receipt{ReceiptID: rc.ID, Time: rc.Time.Local(), ReadPoint: g.doorSGLN(rc.Door), BizLocation: g.sgln("")}
		// FSMA 204: the immediate previous source, and who assigned the
		// traceability lot code (the supplier for a kept lot, this site
		// for its own).
		if rc.Supplier != "" {
			r.Sources = []epcis.Source{{Type: "owning_party", Source: partyURI(rc.Supplier)}}
		}
		switch {
		case rc.LotAssigned:
			r.TLCSource = g.sgln("")
		case rc.Supplier != "":
			r.TLCSource = partyURI(rc.Supplier)
		}
		for _, c := range cartons {
			r.EPCs = append(r.EPCs, c.EPCURI)
		}
		if cls, err := g.lotClass(rc.GTIN, rc.Lot); err == nil {
			// FSMA 204's quantity and unit: items per carton times the
			// cartons, or the cartons themselves when only they are
			// counted (the class is then the cartons' GTIN). A unit
			// that is not a count (KGM, LTR …) is the uom.
			q := epcis.Quantity{EPCClass: cls, Quantity: float64(len(cartons))}
			if rc.QtyPerCarton > 0 {
				q.Quantity = float64(rc.QtyPerCarton * len(cartons))
			}
			switch rc.Unit {
			case "", "EA", "C62", "H87", "CS", "CT", "PK":
			default:
				q.UOM = rc.Unit
			}
			r.Quantities = append(r.Quantities, q)
		}
		if rc.PO != "" {
			r.BizTransactions = append(r.BizTransactions, epcis.BizTransaction{Type: "po", BizTransaction: "urn:dockgate:po:" + rc.PO})
		}
		if rc.DespatchAdvice != "" {
			r.BizTransactions = append(r.BizTransactions, epcis.BizTransaction{Type: "desadv", BizTransaction: "urn:dockgate:desadv:" + rc.DespatchAdvice})
		}
		if rc.LotAssigned {
			r.AssignedLot, r.ExpirationDate = rc.Lot, rc.Expiry
		}
		r.SupplierLot = rc.SupplierLot
		ev, err := epcis.Receiving(r)
		if err != nil {
			return nil, err
		}
		return json.Marshal(epcis.NewDocument(g.now(), ev))
	}
	g.epcisPass = func(p *portal.PassEvent, location string) ([]byte, error) {
		// A direction the portal could not tell is the door's own when
		// it has one role; at a door of both roles it stays unknown.
		var dir string
		switch p.Direction {
		case portal.DirectionIn:
			dir = epcis.Inbound
		case portal.DirectionOut:
			dir = epcis.Outbound
		default:
			dir = epcis.Unknown
			if d, ok := g.cfg.Door(p.Door); ok {
				switch d.Role {
				case portal.RoleReceiving:
					dir = epcis.Inbound
				case portal.RoleShipping:
					dir = epcis.Outbound
				}
			}
		}
		readPoint := g.doorSGLN(p.Door)
		if location != "" {
			readPoint = g.sgln(location)
		}
		passID := p.Door + "/" + p.Start.String()
		if p.Parts > 1 {
			passID += fmt.Sprintf("/part-%d", p.Part) // a document per part, each its own event
		}
		ev, err := epcis.PortalPass(epcis.Pass{PassID: passID, Time: p.End, Door: readPoint,
			BizLocation: g.sgln(""), Direction: dir, EPCs: passURIs(p)})
		if err != nil {
			return nil, err
		}
		return json.Marshal(epcis.NewDocument(g.now(), ev))
	}
	g.epcisHold = func(c lots.Change) ([]byte, error) {
		cls, err := g.lotClass(c.Lot.GTIN, c.Code)
		if err != nil {
			return nil, err
		}
		ev, err := epcis.LotHold(epcis.Hold{HoldID: c.Action + "/" + c.Code + "/" + c.At.String(), Time: c.At.Local(),
			Lot: epcis.Quantity{EPCClass: cls}, BizLocation: g.sgln(""), Reason: c.Reason,
			Release: c.Action == "release", Recall: c.Action == "recall"})
		if err != nil {
			return nil, err
		}
		return json.Marshal(epcis.NewDocument(g.now(), ev))
	}
}

// partyURI names a party known only by name (a supplier without a GLN in
// the configuration) as a URI.
func partyURI(name string) string {
	return "urn:dockgate:party:" + url.PathEscape(name)
}

// lotClass is the EPCIS class of a lot: its LGTIN URN, split at the
// company prefix length the prefix table gives (a supplier's GTIN is not
// split at the gateway's own length). For a GTIN whose length is not known
// it is the GS1 Digital Link of (01)+(10), which EPCIS 2.0 takes as a
// class identifier as well.
func (g *Gateway) lotClass(gtin, lot string) (string, error) {
	if n, err := g.prefixes.ForGTIN(gtin); err == nil {
		return epcis.LGTIN(gtin, n, lot)
	}
	if _, err := epcis.LGTIN(gtin, 6, lot); err != nil {
		return "", err // the GTIN or the lot itself is wrong
	}
	return gs1.Message{Elements: []gs1.Element{{AI: "01", Value: gtin}, {AI: "10", Value: lot}}}.DigitalLink("https://id.gs1.org")
}

// passURIs lists a pass's tags as URIs: the pure identity URI (raw EPCs:
// urn:epc:raw:…), or the Digital Link of a '+' scheme.
func passURIs(p *portal.PassEvent) []string {
	out := make([]string, 0, len(p.Tags))
	for _, t := range p.Tags {
		switch e, err := epc.DecodeHex(t.EPC); {
		case t.URI != "":
			out = append(out, t.URI)
		case t.Kind == portal.KindOther || err != nil:
			// As the portal read it: an EPC it could not take for a GS1
			// key is listed raw, never dropped or decoded otherwise.
			if b, herr := hex.DecodeString(t.EPC); herr == nil && len(b) > 0 {
				if raw, rerr := epc.NewRaw(b, 8*len(b)); rerr == nil {
					out = append(out, raw.RawURI())
				}
			}
		case e.PureURI() != "":
			out = append(out, e.PureURI())
		default:
			if dl, err := e.DigitalLink(""); err == nil {
				out = append(out, dl)
			}
		}
	}
	return out
}
