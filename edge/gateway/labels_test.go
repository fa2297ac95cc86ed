package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/labels"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
	"github.com/dockgate/dockgate/rfid/portal"
)

// labelConfig is one door, DOOR1, with printer P1 of the given profile.
func labelConfig(t *testing.T, profile string) *config.Config {
	return &config.Config{Site: "t", Gateway: "gw", DataDir: t.TempDir(),
		Printers: []printers.Config{{ID: "P1", Profile: profile, Transport: config.TransportSim}},
		Doors:    []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}, Printer: "P1"}},
	}
}

// apiOf is the gateway's whole HTTP API on a server with token (none:
// the loopback API) and its name.
func apiOf(g *Gateway, token, name string) http.Handler {
	a := api.New(token, slog.New(slog.DiscardHandler), g.health)
	a.SetTokenName(name)
	g.api = a
	g.routes()
	return a.Handler()
}

// call makes a request with an optional bearer token and returns the
// status and body; a JSON answer is checked against the convention.
func call(t *testing.T, h http.Handler, method, target, token, body string) (int, []byte) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code == http.StatusOK {
		checkJSON(t, method+" "+target, w.Body.Bytes())
	}
	return w.Code, w.Body.Bytes()
}

func records(t *testing.T, b []byte) []labels.Record {
	t.Helper()
	var recs []labels.Record
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return recs
}

func trailOf(recs []labels.Record) string {
	var out []string
	for _, r := range recs {
		s := string(r.Action) + " " + r.Job + " by " + r.By.String()
		if r.Reason != "" {
			s += ": " + r.Reason
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// Reprints and cancels say why, or are refused (400 on the API, a failed
// command on MQTT) and change nothing; each one done is an audit record
// naming who asked — the API token's name, "local" on the loopback API, the
// MQTT command's sender — with a label.* event staged with its job event.
// The records survive a restart.
func TestLabelAuditReprintCancel(t *testing.T) {
	cfg := labelConfig(t, "zebra-zt411-203")
	g := openGateway(t, cfg, Options{Offline: true})
	local := apiOf(g, "", "")
	wms := apiOf(g, "s3cret", "wms-central")
	cmds := handlerMap{}
	g.printing.commands(cmds)
	const sscc = "095201230000000011"
	print := func(h http.Handler, token, id string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"id": id, "printer": "P1", "template": "carton",
			"values": map[string]string{"gtin": "09520123456788", "lot": "L1", "sscc": sscc}})
		if code, b := call(t, h, "POST", "/print", token, string(body)); code != http.StatusOK {
			t.Fatalf("print %s: %d %s", id, code, b)
		}
	}
	print(local, "", "J1")
	print(wms, "s3cret", "J2")
	if j, _ := g.Spooler().Get("J2"); j.By == nil || j.By.String() != "api:wms-central" || j.Template != "carton" {
		t.Fatalf("job J2 by %v, template %q: want the token's name and the template", j.By, j.Template)
	}
	if j, _ := g.Spooler().Get("J1"); j.By == nil || j.By.String() != "api:local" {
		t.Fatalf("job J1 by %v, want api:local", j.By)
	}

	// No reason: refused, naming the field and how to give it.
	for _, body := range []string{"", `{}`, `{"reason":"  "}`} {
		code, b := call(t, local, "POST", "/jobs/J1/cancel", "", body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), "reason: required") || !strings.Contains(string(b), `{\"reason\": `) {
			t.Fatalf("cancel with body %q: %d %s, want a 400 naming reason", body, code, b)
		}
	}
	_, err := cmds["reprint"](context.Background(), command.Command{Name: "reprint", ID: "m1", Payload: []byte(`{"job":"J1"}`)})
	if err == nil || !strings.Contains(err.Error(), "reason: required") {
		t.Fatalf("reprint command without a reason: %v", err)
	}
	if j, _ := g.Spooler().Get("J1"); j.State != spool.Queued {
		t.Fatalf("a refused cancel changed the job: %s", j.State)
	}
	if recs, _ := g.LabelTrail().Job("J1"); len(recs) != 0 {
		t.Fatalf("a refused change left records: %+v", recs)
	}

	// With reasons: the loopback API is "local", the token its name, the
	// MQTT command its "by".
	if code, b := call(t, local, "POST", "/jobs/J1/cancel", "", `{"reason":"wrong carton"}`); code != http.StatusOK {
		t.Fatalf("cancel: %d %s", code, b)
	}
	if j, _ := g.Spooler().Get("J1"); j.State != spool.Cancelled || j.Reason != "cancelled by api:local: wrong carton" {
		t.Fatalf("job J1 %s %q", j.State, j.Reason)
	}
	if _, err := cmds["reprint"](context.Background(), command.Command{Name: "reprint", ID: "m2",
		Payload: []byte(`{"job":"J1","reason":"carton found","by":"wms-7"}`)}); err != nil {
		t.Fatal(err)
	}
	if code, b := call(t, wms, "POST", "/jobs/J2/cancel", "s3cret", `{"reason":"duplicate"}`); code != http.StatusOK {
		t.Fatalf("cancel with the token: %d %s", code, b)
	}
	if _, err := cmds["cancel"](context.Background(), command.Command{Name: "cancel", ID: "m3",
		Payload: []byte(`{"job":"J1","reason":"printed elsewhere","by":"wms-7"}`)}); err != nil {
		t.Fatal(err)
	}
	if code, _ := call(t, local, "POST", "/jobs/J1/cancel", "", `{"reason":"x"}`); code != http.StatusOK {
		t.Fatal("cancelling a cancelled job again is not a no-op")
	}
	if code, _ := call(t, wms, "GET", "/lots/L1/labels", "", ""); code != http.StatusUnauthorized {
		t.Fatal("the token's API answered without the token")
	}

	want := "cancelled J1 by api:local: wrong carton; reprinted J1 by mqtt:wms-7: carton found; " +
		"cancelled J2 by api:wms-central: duplicate; cancelled J1 by mqtt:wms-7: printed elsewhere"
	code, b := call(t, local, "GET", "/lots/L1/labels", "", "")
	if got := trailOf(records(t, b)); code != http.StatusOK || got != want {
		t.Fatalf("GET /lots/L1/labels: %d\n got %s\nwant %s", code, got, want)
	}
	recs := records(t, b)
	if r := recs[0]; r.Carton != sscc || r.Lot != "L1" || r.Template != "carton" || r.Copies != 1 || r.Printer != "P1" || r.JobState != "cancelled" || r.ID == "" {
		t.Fatalf("record %+v", r)
	}
	// Paged: the Link header's next page continues after the first.
	w := httptest.NewRecorder()
	local.ServeHTTP(w, httptest.NewRequest("GET", "/lots/L1/labels?limit=3", nil))
	if link := w.Header().Get("Link"); len(records(t, w.Body.Bytes())) != 3 || !strings.Contains(link, "after=") {
		t.Fatalf("page of 3: Link %q", link)
	}
	if code, b := call(t, local, "GET", "/cartons/(00)"+sscc+"/labels", "", ""); code != http.StatusOK || len(records(t, b)) != 4 {
		t.Fatalf("GET /cartons/…/labels: %d %s", code, b)
	}
	if code, b := call(t, local, "GET", "/jobs/J2/labels", "", ""); code != http.StatusOK || trailOf(records(t, b)) != "cancelled J2 by api:wms-central: duplicate" {
		t.Fatalf("GET /jobs/J2/labels: %d %s", code, b)
	}
	for _, target := range []string{"/lots/NOPE/labels", "/cartons/095201230000000028/labels", "/jobs/NOPE/labels"} {
		if code, _ := call(t, local, "GET", target, "", ""); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", target, code)
		}
	}
	// Each record's event is queued with its job event.
	n := pendingTypes(t, g)
	if n["label.cancelled"] != 3 || n["label.reprinted"] != 1 || n["job.cancelled"] != 3 || n["job.reprint"] != 1 {
		t.Fatalf("events queued %v", n)
	}

	// A restart keeps them.
	g.Close()
	g2 := openGateway(t, cfg, Options{Offline: true})
	again, err := g2.LotLabels("L1", 0, 0)
	if err != nil || !reflect.DeepEqual(again, recs) {
		t.Fatalf("after a restart: %v\n got %s\nwant %s", err, trailOf(again), trailOf(recs))
	}
}

// A change whose label record's event cannot be stored is refused whole:
// no job change, no record.
func TestLabelRecordRefusedWithItsChange(t *testing.T) {
	cfg := labelConfig(t, "zebra-zt411-203")
	cfg.Outbox = outbox.Options{MaxBytes: 16 << 10}
	g := openGateway(t, cfg, Options{Offline: true})
	ctx := context.Background()
	if err := g.Spooler().Submit(ctx, spool.Job{ID: "J1", Printer: "P1", ZPL: testZPL, Lot: "L1"}); err != nil {
		t.Fatal(err)
	}
	body := json.RawMessage(`{"pad":"` + strings.Repeat("x", 100) + `"}`)
	for {
		if _, err := g.ob.Append(ctx, outbox.Event{Type: "lot.created", Priority: outbox.PriorityLot, Body: body}); errors.Is(err, outbox.ErrStoreFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	err := g.Spooler().CancelBy("J1", spool.Request{By: printers.Actor{Via: printers.ViaCLI, Name: "alice"}, Reason: "test"})
	if !errors.Is(err, spool.ErrEventNotStored) {
		t.Fatalf("cancel with a full outbox: %v", err)
	}
	if j, _ := g.Spooler().Get("J1"); j.State != spool.Queued {
		t.Fatalf("job %s", j.State)
	}
	if recs, _ := g.LabelTrail().Lot("L1", 0, 0); len(recs) != 0 {
		t.Fatalf("records of a refused change: %s", trailOf(recs))
	}
}

// runPrinting runs the gateway's printer simulators and spooler (no MQTT,
// no readers) until the test ends.
func runPrinting(t *testing.T, g *Gateway) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range g.printing.sims {
		wg.Go(func() { _ = s.serve(ctx) })
	}
	wg.Go(func() {
		if err := g.Spooler().Run(ctx); err != nil {
			t.Errorf("spooler: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func waitJobs(t *testing.T, g *Gateway, state spool.State, ids ...string) {
	t.Helper()
	eventually(t, 20*time.Second, "jobs "+string(state), func() bool {
		for _, id := range ids {
			if j, err := g.Spooler().Get(id); err != nil || j.State != state {
				return false
			}
		}
		return true
	})
}

// A receipt of three cartons on an RFID printer whose first tag takes no
// write (the simulator fails it on every try the format's ^RS allows): the
// first carton's job fails with label.encode_failed and a voided record;
// the others print with a verified tag (a record naming the API caller, the
// template, the tag and its outcome). The third carton never passes the
// portal. The reconciliation names both, in its route, the lot's and the
// lot's trace; a reprint that writes the tag clears the first.
func TestReconcileDeadTagAndUnseenCarton(t *testing.T) {
	g := openGateway(t, labelConfig(t, "zebra-zt411r-203"), Options{})
	h := apiOf(g, "", "")
	g.PrinterSim("P1").FailTags(3) // ^RS default: 3 labels tried
	runPrinting(t, g)

	code, b := call(t, h, "POST", "/receipts", "", `{"id":"ASN-9","door":"DOOR1","gtin":"09520123456788","product":"WLD01","cartons":3}`)
	var rc receiving.Receipt
	if code != http.StatusCreated || json.Unmarshal(b, &rc) != nil || len(rc.Cartons) != 3 {
		t.Fatalf("POST /receipts: %d %s", code, b)
	}
	jobs := make([]string, 3)
	cartons := make([]*receiving.Carton, 3)
	for i, sscc := range rc.Cartons {
		c, err := g.recv.Carton(sscc)
		if err != nil {
			t.Fatal(err)
		}
		cartons[i], jobs[i] = c, c.Job
	}
	dead := cartons[0]
	waitJobs(t, g, spool.Failed, dead.Job)
	waitJobs(t, g, spool.Confirmed, jobs[1:]...)
	for i, c := range cartons[1:] {
		recs, err := g.CartonLabels(c.SSCC)
		if err != nil || len(recs) != 1 {
			t.Fatalf("carton %d: %+v %v", i+1, recs, err)
		}
		r := recs[0]
		if r.Action != labels.Printed || r.By.String() != "api:local" || r.EPC != c.EPC || r.Template != g.cfg.Labels.Carton ||
			r.Lot != rc.Lot || r.Job != c.Job || r.Copies != 1 || r.JobState != "confirmed" ||
			r.Encode == nil || r.Encode.Outcome != labels.Encoded || r.Encode.EPCRead != c.EPC {
			t.Fatalf("carton %d: printed record %+v", i+1, r)
		}
	}

	// Cartons 1 and 2 pass the portal; carton 3 never does.
	at := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	var tags []portal.PassTag
	for _, c := range cartons[:2] {
		tags = append(tags, portal.PassTag{EPC: c.EPC, Kind: portal.KindCase, Direction: portal.DirectionIn, First: at, Last: at})
	}
	g.handlePortalEvent(context.Background(), &portal.PassEvent{Door: "DOOR1", Role: portal.RoleReceiving, Direction: portal.DirectionIn,
		Start: at, End: at, Cases: 2, Lots: map[string]int{rc.Lot: 2}, Tags: tags})

	check := func(what string, r labels.Reconciliation, dead []string) {
		t.Helper()
		want := labels.Counts{Received: 3, Printed: 3 - len(dead), Encoded: 3 - len(dead), Seen: 2}
		if r.Counts != want || r.Balanced || r.Lot != rc.Lot {
			t.Errorf("%s: counts %+v (balanced %v), want %+v", what, r.Counts, r.Balanced, want)
		}
		wantDiff := labels.Differences{NoLabel: dead, NoTag: dead, NotSeen: []string{cartons[2].SSCC}}
		if !reflect.DeepEqual(r.Differences, wantDiff) {
			t.Errorf("%s: differences %+v, want %+v", what, r.Differences, wantDiff)
		}
	}
	var byReceipt, byLot labels.Reconciliation
	code, b = call(t, h, "GET", "/receipts/ASN-9/reconcile", "", "")
	if code != http.StatusOK || json.Unmarshal(b, &byReceipt) != nil {
		t.Fatalf("GET /receipts/ASN-9/reconcile: %d %s", code, b)
	}
	check("receipt", byReceipt, []string{dead.SSCC})
	if byReceipt.Receipt != "ASN-9" || len(byReceipt.Cartons) != 3 || byReceipt.Cartons[0].Tag != labels.TagEncodeFailed {
		t.Errorf("receipt reconciliation %s", b)
	}
	code, b = call(t, h, "GET", "/lots/"+rc.Lot+"/reconcile", "", "")
	if code != http.StatusOK || json.Unmarshal(b, &byLot) != nil {
		t.Fatalf("GET /lots/…/reconcile: %d %s", code, b)
	}
	check("lot", byLot, []string{dead.SSCC})
	if len(byLot.Receipts) != 1 || byLot.Receipts[0].Receipt != "ASN-9" || byLot.Receipts[0].Counts != byLot.Counts {
		t.Errorf("lot reconciliation by receipt %+v", byLot.Receipts)
	}
	var tr struct {
		Reconciliation labels.Reconciliation `json:"reconciliation"`
	}
	code, b = call(t, h, "GET", "/trace/lot/"+rc.Lot, "", "")
	if code != http.StatusOK || json.Unmarshal(b, &tr) != nil {
		t.Fatalf("trace: %d %s", code, b)
	}
	check("trace", tr.Reconciliation, []string{dead.SSCC})
	var it struct {
		Labels []labels.Record `json:"labels"`
	}
	code, b = call(t, h, "GET", "/trace/sscc/"+dead.SSCC, "", "")
	if code != http.StatusOK || json.Unmarshal(b, &it) != nil || len(it.Labels) != 1 || it.Labels[0].Action != labels.Voided ||
		it.Labels[0].By.String() != "printer:P1" || it.Labels[0].Job != dead.Job {
		t.Fatalf("trace of the dead carton: %d %s", code, b)
	}
	if v := it.Labels[0]; v.Encode == nil || v.Encode.Outcome != labels.EncodeFailed || v.Encode.Attempts != 3 || v.EPC != dead.EPC || v.Reason == "" {
		t.Errorf("voided record %+v", v)
	}
	if code, _ := call(t, h, "GET", "/receipts/NOPE/reconcile", "", ""); code != http.StatusNotFound {
		t.Errorf("unknown receipt: %d", code)
	}
	if code, _ := call(t, h, "GET", "/lots/NOPE/reconcile", "", ""); code != http.StatusNotFound {
		t.Errorf("unknown lot: %d", code)
	}

	// Reprinted on fresh stock, the label writes a new tag.
	if code, b := call(t, h, "POST", "/jobs/"+dead.Job+"/reprint", "", `{"reason":"dead tag: reprint on fresh stock"}`); code != http.StatusOK {
		t.Fatalf("reprint: %d %s", code, b)
	}
	waitJobs(t, g, spool.Confirmed, dead.Job)
	r, err := g.ReconcileReceipt("ASN-9")
	if err != nil {
		t.Fatal(err)
	}
	check("after the reprint", *r, []string{})
	if c := r.Cartons[0]; c.Prints != 1 || c.Tag != labels.TagEncoded {
		t.Errorf("reprinted carton %+v", c)
	}
	events := pendingTypes(t, g)
	if events["label.printed"] != 3 || events["label.voided"] != 1 || events["label.reprinted"] != 1 || events["label.encode_failed"] != 1 ||
		events["job.confirmed"] != 3 || events["job.failed"] != 1 {
		t.Errorf("events %v", events)
	}
}

// A carton EPC in a '+' scheme (lot and expiry in the EPC, 240 bits and
// more) is written, reported and read back whole on the RFID printer: the
// read-back is sized to the EPC, and the label's tag is encoded.
func TestPlusEPCVerifiedOnTheRFIDPrinter(t *testing.T) {
	for _, scheme := range []string{"sscc+", "sgtin+"} {
		t.Run(scheme, func(t *testing.T) {
			cfg := labelConfig(t, "zebra-zt411r-203")
			cfg.Labels.EPCScheme = scheme
			g := openGateway(t, cfg, Options{})
			h := apiOf(g, "", "")
			runPrinting(t, g)
			code, b := call(t, h, "POST", "/receipts", "", `{"id":"ASN-P","door":"DOOR1","gtin":"09520123456788","product":"WLD01","cartons":2,"expiry":"2027-05-31"}`)
			var rc receiving.Receipt
			if code != http.StatusCreated || json.Unmarshal(b, &rc) != nil {
				t.Fatalf("POST /receipts: %d %s", code, b)
			}
			for _, sscc := range rc.Cartons {
				c, err := g.recv.Carton(sscc)
				if err != nil {
					t.Fatal(err)
				}
				if len(c.EPC) <= 24 {
					t.Fatalf("%s EPC %s is not longer than 96 bits", scheme, c.EPC)
				}
				waitJobs(t, g, spool.Confirmed, c.Job)
				j, _ := g.Spooler().Get(c.Job)
				if j.Encode == nil || j.Encode.Outcome != printers.EncodeEncoded || j.Encode.EPCRead != c.EPC {
					t.Fatalf("job %s encode %+v, want encoded with %s read back", c.Job, j.Encode, c.EPC)
				}
			}
		})
	}
}

// Finished print jobs older than labels.keep_jobs are deleted; a queued
// job and a recent one are kept, and the label audit trail keeps every
// label regardless.
func TestFinishedJobsPruned(t *testing.T) {
	cfg := labelConfig(t, "zebra-zt411-203")
	cfg.Labels.KeepJobs = 48 * time.Hour
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	g := openGateway(t, cfg, Options{Offline: true, Now: clock})
	ctx := context.Background()
	sp := g.Spooler()
	for _, id := range []string{"OLD", "RECENT", "QUEUED"} {
		if err := sp.Submit(ctx, spool.Job{ID: id, Printer: "P1", ZPL: testZPL, Lot: "L1"}); err != nil {
			t.Fatal(err)
		}
	}
	by := spool.Request{By: printers.Actor{Via: printers.ViaCLI, Name: "alice"}, Reason: "test"}
	if err := sp.CancelBy("OLD", by); err != nil {
		t.Fatal(err)
	}
	now = now.Add(24 * time.Hour)
	if err := sp.CancelBy("RECENT", by); err != nil {
		t.Fatal(err)
	}
	now = now.Add(25 * time.Hour) // OLD finished 49 h ago, RECENT 25 h ago
	g.printing.pruneJobsOnce()
	if _, err := sp.Get("OLD"); !errors.Is(err, spool.ErrNotFound) {
		t.Fatalf("a job cancelled 49 h ago with keep_jobs 48h: %v", err)
	}
	for _, id := range []string{"RECENT", "QUEUED"} {
		if _, err := sp.Get(id); err != nil {
			t.Fatalf("job %s: %v", id, err)
		}
	}
	recs, err := g.LabelTrail().Lot("L1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	cancelled := 0
	for _, r := range recs {
		if r.Job == "OLD" {
			cancelled++
		}
	}
	if cancelled == 0 {
		t.Fatalf("the pruned job's label records went with it: %s", trailOf(recs))
	}
}
