package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/epcis/epcistest"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/shipping"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// move is one carton moving through a door in a scenario.
type move struct {
	epc string
	dir string
	at  time.Duration
}

func movesScenario(t *testing.T, door string, moves []move) *readersim.Scenario {
	sc := &readersim.Scenario{Name: "ship-" + door, Cycle: 20 * time.Millisecond,
		Doors: []readersim.Door{{ID: door, Outside: []uint16{1, 2}, Inside: []uint16{3, 4}}}}
	for i, m := range moves {
		sc.Cartons = append(sc.Cartons, readersim.Carton{Name: fmt.Sprintf("c%d", i), Door: door, Direction: m.dir,
			At: m.at, Dwell: 800 * time.Millisecond, EPCs: []string{m.epc}, ReadRate: 1})
	}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	return sc
}

func getBody(t *testing.T, url string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// The round trip of the issue on the simulators: two lots received, three
// orders shipped from a shipping door watched by the LLRP reader simulator
// (a carton of a lot put on hold raises a mismatch and is taken back), one
// carton returned, a lot recalled; then the recall report names exactly
// the customers and quantities, trace customer reaches the supplier's lot,
// the FSMA 204 export's rows are right field by field in CSV and in XLSX,
// and every EPCIS document published validates against the schema.
func TestShippingRoundTrip(t *testing.T) {
	ln := listen(t)
	c := &config.Config{Site: "e2e", Gateway: "gw", DataDir: t.TempDir(),
		Broker:   config.Broker{Listen: "127.0.0.1:0"},
		HTTP:     config.HTTP{Listen: "127.0.0.1:0"},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Readers:  []readers.Config{{ID: "R2", Type: readers.TypeLLRP, Address: ln.Addr().String(), KeepAlive: time.Second}},
		Doors: []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1", Role: portal.RoleReceiving}, Printer: "P1"},
			{DoorConfig: portal.DoorConfig{ID: "DOOR2", Role: portal.RoleShipping, Reader: "R2", AntennasOutside: []uint16{1, 2},
				AntennasInside: []uint16{3, 4}, PresenceTimeout: 700 * time.Millisecond}}},
	}
	cfg, err := config.Complete(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(cfg, Info{Version: "test"}, slog.New(slog.NewTextHandler(testWriter{t}, nil)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	}()
	sub := subscribe(t, g.MQTTURL, cfg.MQTT.TopicPrefix+"/#")
	base := "http://" + g.API().Addr()
	const gtin = "09520123456788"

	// Two lots of one GTIN: the supplier's SUP-L1 kept, and one of the
	// gateway's own that expires first.
	var l1, l2 receiving.Receipt
	if code := post(t, base+"/receipts", receiving.Request{ID: "RCV-1", Door: "DOOR1", Scan: "(01)" + gtin + "(10)SUP-L1(17)270630",
		Supplier: "Acme Farms", Description: "Greek yogurt 500 g", Cartons: 8, QtyPerCarton: 12, PO: "PO-100", DespatchAdvice: "ASN-100"}, &l1); code != 201 {
		t.Fatalf("receipt 1: %d", code)
	}
	if code := post(t, base+"/receipts", receiving.Request{ID: "RCV-2", Door: "DOOR1", GTIN: gtin, Supplier: "Blue Dairy",
		Description: "Greek yogurt 500 g", Expiry: "2027-03-31", Cartons: 3, QtyPerCarton: 12, PO: "PO-200"}, &l2); code != 201 {
		t.Fatalf("receipt 2: %d", code)
	}
	epcOf := func(sscc string) string {
		c, err := g.Receiving().Carton(sscc)
		if err != nil {
			t.Fatal(err)
		}
		return c.EPC
	}
	acme := shipping.Party{ID: "C-ACME", Name: "Acme Retail", GLN: "4012345000016"}
	bistro := shipping.Party{Name: "Bistro Lyon", GLN: "4012345000023"}
	var a, b, cc shipping.Shipment
	if code := post(t, base+"/shipments", shipping.Request{ID: "SHP-A", Door: "DOOR2", Order: "8812", Customer: acme,
		ShipTo: shipping.Place{GLN: "4012345000023"}, Carrier: "DHL", PO: "PO-C-8812",
		Lines: []shipping.LineRequest{{Lot: "SUP-L1", Cartons: 3}}}, &a); code != 201 {
		t.Fatalf("shipment A: %d %+v", code, a)
	}
	if code := post(t, base+"/shipments", shipping.Request{ID: "SHP-B", Door: "DOOR2", Order: "8813", Customer: bistro,
		ShipTo: shipping.Place{Address: "12 rue Mercière, 69002 Lyon"}, DespatchAdvice: "DA-8813",
		SSCCs: []string{l1.Cartons[3], l1.Cartons[4], l2.Cartons[0]}}, &b); code != 201 {
		t.Fatalf("shipment B: %d %+v", code, b)
	}
	var held map[string]any
	if code := post(t, base+"/lots/"+l2.Lot+"/hold", map[string]string{"reason": "QA sample", "by": "qa"}, &held); code != 200 {
		t.Fatalf("hold: %d %v", code, held)
	}
	// The third order by MQTT: 2 cartons of the GTIN picked by FEFO; the
	// held lot, first to expire, is skipped.
	ship := fmt.Sprintf(`{"id":"SHP-C","expires_at":%q,"door":"DOOR2","order":"8814","customer":{"id":"C-ACME","name":"Acme Retail","gln":"4012345000016"},"ship_to":{"gln":"4012345000023"},"lines":[{"gtin":%q,"cartons":2}]}`,
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339), gtin)
	eventually(t, 20*time.Second, "shipment C by MQTT", func() bool {
		if code := get(t, base+"/shipments/SHP-C", &cc); code == 200 {
			return true
		}
		sub.c.Publish(cfg.MQTT.TopicPrefix+"/cmd/ship", 1, false, ship).WaitTimeout(5 * time.Second)
		time.Sleep(200 * time.Millisecond)
		return false
	})
	if len(cc.Lines) != 1 || cc.Lines[0].Lot != "SUP-L1" || cc.Picks[0].Skipped[0].Lot != l2.Lot || cc.Picks[0].Skipped[0].Reason != "held" {
		t.Fatalf("FEFO pick %+v", cc)
	}

	// Loading: A's 3, B's 2 and held 1, C's 2 go out; the held carton
	// comes back in.
	var moves []move
	for i, sscc := range []string{l1.Cartons[0], l1.Cartons[1], l1.Cartons[2], l1.Cartons[3], l1.Cartons[4], l2.Cartons[0], l1.Cartons[5], l1.Cartons[6]} {
		moves = append(moves, move{epcOf(sscc), "out", 300*time.Millisecond + time.Duration(i)*100*time.Millisecond})
	}
	moves = append(moves, move{epcOf(l2.Cartons[0]), "in", 5 * time.Second})
	rctx, stopReader := context.WithCancel(ctx)
	defer stopReader()
	go readersim.New(movesScenario(t, "DOOR2", moves)).Serve(rctx, ln)
	defer func() {
		if t.Failed() {
			for _, id := range []string{"SHP-A", "SHP-B", "SHP-C"} {
				_, b, _ := getBody(t, base+"/shipments/"+id)
				t.Logf("%s: %s", id, b)
			}
			t.Logf("passes %v", sub.events("portal.pass"))
			t.Logf("portal %+v", g.Portal().Stats())
		}
	}()
	eventually(t, 40*time.Second, "every shipment loaded and the held carton back", func() bool {
		var sa, sb, sc shipping.Shipment
		get(t, base+"/shipments/SHP-A", &sa)
		get(t, base+"/shipments/SHP-B", &sb)
		get(t, base+"/shipments/SHP-C", &sc)
		return sa.Status == "loaded" && sb.Loaded == 2 && sb.Unplanned == 0 && sb.Mismatches > 0 && sc.Status == "loaded"
	})
	mm := sub.events("shipment.mismatch")
	if len(mm) == 0 {
		t.Fatal("no shipment.mismatch event")
	}
	m := mm[0]["body"].(map[string]any)["cartons"].([]any)[0].(map[string]any)
	if m["sscc"] != l2.Cartons[0] || m["reason"] != "held" || m["lot"] != l2.Lot {
		t.Fatalf("mismatch %v", m)
	}
	for _, id := range []string{"SHP-A", "SHP-B", "SHP-C"} {
		var sh shipping.Shipment
		if code := post(t, base+"/shipments/"+id+"/close", nil, &sh); code != 200 || sh.Status != "shipped" {
			t.Fatalf("close %s: %d %+v", id, code, sh)
		}
		if id == "SHP-B" && (len(sh.Missing.SSCCs) != 1 || sh.Missing.SSCCs[0] != l2.Cartons[0]) {
			t.Fatalf("B missing %+v", sh.Missing)
		}
	}
	eventually(t, 10*time.Second, "shipment.shipped events", func() bool { return len(sub.events("shipment.shipped")) == 3 })

	// One carton comes back damaged; then lot SUP-L1 is recalled.
	var ret shipping.Return
	if code := post(t, base+"/returns", shipping.ReturnRequest{ID: "RT-1", EPC: epcOf(l1.Cartons[0]), Condition: "damaged", RMA: "RMA-7", Door: "DOOR1"}, &ret); code != 201 {
		t.Fatalf("return: %d %+v", code, ret)
	}
	if ret.Shipment != "SHP-A" || ret.Customer.ID != "C-ACME" {
		t.Fatalf("return %+v", ret)
	}
	var recalled map[string]any
	if code := post(t, base+"/lots/SUP-L1/recall", map[string]string{"reason": "Listeria found by the supplier", "by": "qa"}, &recalled); code != 200 {
		t.Fatalf("recall: %d %v", code, recalled)
	}

	var rep shipping.RecallReport
	if code := get(t, base+"/lots/SUP-L1/recall-report", &rep); code != 200 {
		t.Fatalf("recall report: %d", code)
	}
	type custQty struct {
		name    string
		cartons int
		qty     float64
		orders  string
	}
	var got []custQty
	for _, c := range rep.Customers {
		var orders []string
		for _, o := range c.Orders {
			orders = append(orders, fmt.Sprintf("%s:%d", o.Order, o.Cartons))
		}
		got = append(got, custQty{c.Customer.Name, c.Cartons, c.Quantity, strings.Join(orders, ",")})
	}
	want := []custQty{{"Acme Retail", 5, 60, "8812:3,8814:2"}, {"Bistro Lyon", 2, 24, "8813:2"}}
	if !slices.Equal(got, want) {
		t.Fatalf("recall customers %+v, want %+v", got, want)
	}
	if rep.Status != "recalled" || rep.Supplier != "Acme Farms" || rep.SupplierLot != "SUP-L1" || rep.Received.Cartons != 8 ||
		rep.Shipped.Cartons != 7 || rep.Orders != 3 || rep.InStock.Cartons != 1 || rep.Returned.Cartons != 1 || rep.Returns[0].Condition != "damaged" {
		t.Fatalf("recall report %+v", rep)
	}

	var tc shipping.PartyTrace
	if code := get(t, base+"/trace/customer/C-ACME", &tc); code != 200 || len(tc.Shipments) != 2 || len(tc.Lots) != 1 ||
		tc.Lots[0].Supplier != "Acme Farms" || tc.Lots[0].SupplierLot != "SUP-L1" || tc.Lots[0].Cartons != 5 {
		t.Fatalf("trace customer: %+v", tc)
	}
	var tl receiving.LotTrace
	if code := get(t, base+"/trace/lot/SUP-L1", &tl); code != 200 || len(tl.Shipments.([]any)) != 3 {
		t.Fatalf("trace lot shipments: %+v", tl.Shipments)
	}

	// FSMA 204: two receiving events and three shipping events.
	siteName := "e2e, GLN " + g.siteGLN()
	rcv1, _ := g.Receiving().Receipt("RCV-1")
	rcv2, _ := g.Receiving().Receipt("RCV-2")
	shipped := map[string]time.Time{}
	for _, id := range []string{"SHP-A", "SHP-B", "SHP-C"} {
		sh, _ := g.Shipping().Get(id)
		shipped[id] = sh.ShippedAt
	}
	day := time.Now().Format(time.DateOnly)
	local := func(t time.Time) string { return t.Local().Format(time.RFC3339) }
	descr := "Greek yogurt 500 g (345678)"
	wantRows := map[string][]string{
		"RCV-1": {"Receiving", rcv1.Time.Local().Format(time.DateOnly), local(rcv1.Time), "SUP-L1", "Acme Farms", descr, gtin, "96", "EA",
			"Acme Farms", siteName, "Acme Farms", "", "Purchase Order; Despatch Advice; Receipt", "PO-100; ASN-100; RCV-1", "RCV-1", "DOOR1"},
		"RCV-2": {"Receiving", rcv2.Time.Local().Format(time.DateOnly), local(rcv2.Time), l2.Lot, siteName, descr, gtin, "36", "EA",
			"Blue Dairy", siteName, "Blue Dairy", "", "Purchase Order; Receipt", "PO-200; RCV-2", "RCV-2", "DOOR1"},
		"SHP-A": {"Shipping", shipped["SHP-A"].Local().Format(time.DateOnly), local(shipped["SHP-A"]), "SUP-L1", "Acme Farms", descr, gtin, "36", "EA",
			siteName, "GLN 4012345000023", "", "Acme Retail (GLN 4012345000016)", "Purchase Order; Order; Shipment", "PO-C-8812; 8812; SHP-A", "SHP-A", "DOOR2"},
		"SHP-B": {"Shipping", shipped["SHP-B"].Local().Format(time.DateOnly), local(shipped["SHP-B"]), "SUP-L1", "Acme Farms", descr, gtin, "24", "EA",
			siteName, "12 rue Mercière, 69002 Lyon", "", "Bistro Lyon (GLN 4012345000023)", "Despatch Advice; Order; Shipment", "DA-8813; 8813; SHP-B", "SHP-B", "DOOR2"},
		"SHP-C": {"Shipping", shipped["SHP-C"].Local().Format(time.DateOnly), local(shipped["SHP-C"]), "SUP-L1", "Acme Farms", descr, gtin, "24", "EA",
			siteName, "GLN 4012345000023", "", "Acme Retail (GLN 4012345000016)", "Order; Shipment", "8814; SHP-C", "SHP-C", "DOOR2"},
	}
	check := func(format string, rows [][]string) {
		t.Helper()
		if len(rows) != 6 || !slices.Equal(rows[0], shipping.FSMAColumns) {
			t.Fatalf("%s export: %q", format, rows)
		}
		for _, row := range rows[1:] {
			w := wantRows[row[15]]
			if w == nil {
				t.Fatalf("%s row of record %q", format, row[15])
			}
			for j := range w {
				if row[j] != w[j] {
					t.Errorf("%s row %s, %s: %q, want %q", format, row[15], shipping.FSMAColumns[j], row[j], w[j])
				}
			}
		}
	}
	code, body, hdr := getBody(t, base+"/fsma204?from="+day+"&to="+day)
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET /fsma204: %d %s", code, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	check("CSV", rows)
	code, body, _ = getBody(t, base+"/fsma204?from="+day+"&to="+day+"&format=xlsx")
	if code != 200 {
		t.Fatalf("GET /fsma204 xlsx: %d", code)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xrows, err := f.GetRows(shipping.FSMASheet)
	if err != nil {
		t.Fatal(err)
	}
	check("XLSX", xrows)
	if code, body, _ := getBody(t, base+"/fsma204?from="+day+"&to="+day+"&lot="+l2.Lot); code != 200 || strings.Count(string(body), "\n") != 2 {
		t.Fatalf("export of one lot: %d %s", code, body)
	}

	// Every EPCIS document validates; the shipments' and the return's are
	// among them.
	eventually(t, 10*time.Second, "EPCIS of the return", func() bool { return len(sub.events("carton.returned")) == 1 })
	steps := map[string]int{}
	sub.mu.Lock()
	msgs := slices.Clone(sub.msgs)
	sub.mu.Unlock()
	for _, msg := range msgs {
		if !strings.HasSuffix(msg.Topic, "/epcis") {
			continue
		}
		epcistest.Validate(t, "EPCIS document", msg.Payload)
		var d epcisDoc
		json.Unmarshal(msg.Payload, &d)
		for _, e := range d.Body.EventList {
			steps[e.BizStep+"/"+e.Disposition]++
			if e.Order != "" { // a shipment's, not a pass's
				steps["shipment"]++
				if len(e.DestinationList) != 2 || len(e.QuantityList) != 1 {
					t.Errorf("shipment event without its destinations or lots: %+v", e)
				}
			}
		}
	}
	if steps["shipment"] != 3 || steps["receiving/damaged"] != 1 || steps["holding/recalled"] != 1 {
		t.Fatalf("EPCIS events by step: %v", steps)
	}
	// The gateway's JSON convention holds for the new answers and events.
	for _, path := range []string{"/shipments/SHP-B", "/lots/SUP-L1/recall-report", "/trace/customer/C-ACME", "/returns/RT-1"} {
		_, body, _ := getBody(t, base+path)
		checkJSON(t, path, body)
	}
	for _, typ := range []string{"shipment.created", "shipment.mismatch", "shipment.loaded", "shipment.shipped", "carton.returned"} {
		for _, ev := range sub.events(typ) {
			b, _ := json.Marshal(ev)
			checkJSON(t, typ, b)
		}
	}
}

type epcisDoc struct {
	Body struct {
		EventList []struct {
			BizStep         string `json:"bizStep"`
			Disposition     string `json:"disposition"`
			DestinationList []any  `json:"destinationList"`
			QuantityList    []any  `json:"quantityList"`
			Order           string `json:"dockgate:order"`
		} `json:"eventList"`
	} `json:"epcisBody"`
}

// The shipping routes answer bad input with a 4xx naming it, and change
// nothing.
func TestShippingRouteErrors(t *testing.T) {
	cfg, err := config.Complete(&config.Config{Site: "t", Gateway: "gw", DataDir: t.TempDir(),
		Doors: []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}}, {DoorConfig: portal.DoorConfig{ID: "DOOR2", Role: portal.RoleShipping}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	g.api = api.New("", slog.New(slog.DiscardHandler), g.health)
	g.routes()
	h := g.api.Handler()
	if code := serve(t, h, http.MethodPost, "/receipts", receiving.Request{Door: "DOOR1", GTIN: "09506000134352", Cartons: 1}, nil); code != http.StatusCreated {
		t.Fatalf("receipt: %d", code)
	}
	ship := `{"id":"S1","door":"DOOR2","order":"1","customer":{"name":"A","id":"A"},"ship_to":{"address":"x"},"ssccs":[]}`
	for _, c := range []struct {
		method, target, body string
		code                 int
		want                 string
	}{
		{"POST", "/shipments", `{"door":"DOOR2","ordr":"1"}`, 400, `unknown field \"ordr\"`},
		{"POST", "/shipments", strings.Replace(ship, "DOOR2", "DOOR1", 1), 400, "is a receiving door; shipments leave"},
		{"POST", "/shipments", ship, 400, "say what should leave"},
		{"POST", "/shipments", strings.Replace(ship, `"ssccs":[]`, `"lines":[{"lot":"NOPE","cartons":1}]`, 1), 409, "not in the lot registry"},
		{"GET", "/shipments/NOPE", "", 404, `shipment \"NOPE\": not found`},
		{"POST", "/shipments/NOPE/close", "", 404, "not found"},
		{"POST", "/returns", `{"sscc":"123","condition":"damaged"}`, 400, "sscc:"},
		{"POST", "/returns", `{"scan":"(01)09506000134352(10)NOPE","condition":"damaged"}`, 409, "not in the lot registry"},
		{"POST", "/counts", `{"lot":"NOPE"}`, 400, "quantity, epcs"},
		{"POST", "/counts", `{"door":"DOOR2","from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}`, 400, "from, to: from 2026-01-02T00:00:00Z is not before to"},
		{"POST", "/counts", `{"door":"DOOR2","from":"2026-01-01T00:00:00Z","to":"2026-01-03T00:00:00Z"}`, 400, "at most 24h0m0s"},
		{"POST", "/counts", `{"door":"DOOR2","from":"yesterday","to":"2026-01-01T00:00:00Z"}`, 400, "from: \\\"yesterday\\\" is not an RFC 3339 time"},
		{"POST", "/counts", `{"from":"2026-01-01T00:00:00Z","to":"2026-01-01T01:00:00Z"}`, 400, "door: a count of a window"},
		{"GET", "/lots/NOPE/recall-report", "", 404, "not found"},
		{"GET", "/trace/customer/NOPE", "", 404, "no shipment to it"},
		{"GET", "/trace/order/NOPE", "", 404, "no shipment of it"},
		{"GET", "/fsma204?from=2026-01-01&to=2026-01-31&format=pdf", "", 400, "format"},
		{"GET", "/fsma204?from=2026-01-01&to=2026-01-31&lots=X", "", 400, "lots: not a parameter"},
		{"GET", "/fsma204?from=2026-01-01", "", 400, "to:"},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(c.method, c.target, strings.NewReader(c.body)))
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", c.method, c.target, c.body, w.Code, w.Body, c.code, c.want)
		}
	}
	if sh, _ := g.Shipping().Get("S1"); sh != nil {
		t.Fatalf("a refused shipment was recorded: %+v", sh)
	}
}
