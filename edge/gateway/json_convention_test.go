package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
)

// snakeCase is the shape of every field name the gateway writes.
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// rfc3339 matches a string that is meant as a time.
var rfc3339 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d`)

// dataKeyed are the fields whose objects are keyed by data, not by field
// names: the tags of a pass by GTIN and by lot, a label's template values,
// a reader's RF settings by antenna (as the configuration's antenna_rf).
var dataKeyed = []string{"gtins", "lots", "values", "antenna_rf"}

// checkJSON fails the test for every key of doc that is not snake_case
// (but eventID, the event identity consumers deduplicate by), for every
// time that is not RFC 3339 in UTC, and for every array of arrays (data
// is in labelled objects, not in positions). EPCIS documents (an object
// with "@context") keep the standard's names and are skipped.
func checkJSON(t *testing.T, what string, doc []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%s: not JSON: %v: %s", what, err, doc)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, epcis := v["@context"]; epcis {
				return
			}
			for k, e := range v {
				if !snakeCase.MatchString(k) && k != "eventID" {
					t.Errorf("%s: key %s.%s is not snake_case", what, path, k)
				}
				if slices.Contains(dataKeyed, k) {
					if m, ok := e.(map[string]any); ok {
						for dk, de := range m {
							walk(path+"."+k+"["+dk+"]", de)
						}
						continue
					}
				}
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range v {
				if _, nested := e.([]any); nested {
					t.Errorf("%s: %s[%d] is a positional array in an array: give its items names", what, path, i)
				}
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		case string:
			if !rfc3339.MatchString(v) {
				return
			}
			tm, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				t.Errorf("%s: %s %q is not an RFC 3339 time", what, path, v)
			} else if _, off := tm.Zone(); off != 0 || !strings.HasSuffix(v, "Z") {
				t.Errorf("%s: %s %q is not in UTC", what, path, v)
			}
		}
	}
	walk("", v)
}

// One convention for every JSON the gateway writes: the HTTP API's main
// outputs, the events' envelopes and bodies, command replies and the
// retained device statuses have snake_case field names (eventID aside),
// labelled objects rather than positional arrays, and times in RFC 3339
// UTC, even on a gateway whose clock is in another zone.
func TestJSONConvention(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	clock := &testClock{}
	clock.set(readsT0)
	now := func() time.Time { return clock.now().In(zone) }
	door := func(id, role string, out, in []uint16) config.Door {
		return config.Door{DoorConfig: portal.DoorConfig{ID: id, Role: role, Reader: "R1",
			AntennasOutside: out, AntennasInside: in, PresenceTimeout: 2 * time.Second}, Printer: "P1"}
	}
	g := openGateway(t, &config.Config{Site: "j", Gateway: "gw", DataDir: t.TempDir(),
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Readers:  []readers.Config{{ID: "R1", Type: readers.TypeLLRP, Address: "127.0.0.1:1"}},
		Doors: []config.Door{door("DOOR1", portal.RoleReceiving, []uint16{1, 2}, []uint16{3, 4}),
			door("DOOR2", portal.RoleShipping, []uint16{5, 6}, []uint16{7, 8})},
	}, Options{Now: now})
	g.api = api.New("", slog.New(slog.DiscardHandler), g.health)
	g.routes()
	h := g.api.Handler()
	ctx := context.Background()

	call := func(method, target, body string) []byte {
		t.Helper()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, target, strings.NewReader(body)))
		if w.Code >= 300 {
			t.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
		}
		b := w.Body.Bytes()
		checkJSON(t, method+" "+target, b)
		return b
	}

	// Devices report: a reader with an antenna down, a printer with paper out.
	g.onReaderEvent(rfid.ReaderEvent{Kind: rfid.EventConnected, Reader: "R1", Time: now()})
	g.onReaderEvent(rfid.ReaderEvent{Kind: rfid.EventAntennaDisconnected, Reader: "R1", Antenna: 2, Time: now()})
	g.printing.mu.Lock()
	st := printers.Unknown(now())
	st.Known, st.PaperOut = true, true
	g.printing.status["P1"] = &st
	g.printing.mu.Unlock()

	// A receipt, its lot held, a carton of it going out through DOOR2.
	var rc struct {
		ID, Lot string
		Cartons []string
	}
	if err := json.Unmarshal(call(http.MethodPost, "/receipts", `{"door":"DOOR1","gtin":"09520123456788","product":"WLD01","cartons":1}`), &rc); err != nil || rc.Lot == "" || len(rc.Cartons) != 1 {
		t.Fatalf("receipt %+v: %v", rc, err)
	}
	call(http.MethodPost, "/lots/"+rc.Lot+"/hold", `{"reason":"QA sample failed","by":"qa"}`)
	call(http.MethodPost, "/jobs/"+rc.ID+":"+rc.Cartons[0]+"/cancel", `{"reason":"carton damaged"}`)
	c, err := g.Receiving().Carton(rc.Cartons[0])
	if err != nil {
		t.Fatal(err)
	}
	g.observeReads(sweepReads(c.EPC, 5, 7, portal.DirectionOut, readsT0.In(zone)))
	g.eng.Tick(readsT0.Add(time.Minute))
	drainPortal(t, g)

	for _, target := range []string{"/healthz", "/outbox", "/readers", "/printers", "/printers/P1/jobs", "/lots", "/lots/" + rc.Lot,
		"/receipts/" + rc.ID, "/trace/lot/" + rc.Lot, "/trace/sscc/" + rc.Cartons[0], "/outbox/quarantined",
		"/lots/" + rc.Lot + "/labels", "/cartons/" + rc.Cartons[0] + "/labels", "/receipts/" + rc.ID + "/reconcile", "/lots/" + rc.Lot + "/reconcile"} {
		call(http.MethodGet, target, "")
	}
	// The outbox stats label the queued counts by priority.
	var ob map[string]any
	_ = json.Unmarshal(call(http.MethodGet, "/outbox", ""), &ob)
	if q, ok := ob["queued"].(map[string]any); !ok || q["lifecycle"] == nil || q["lot"] == nil || q["telemetry"] == nil {
		t.Errorf("GET /outbox queued: %v, want counts labelled lifecycle, lot, telemetry", ob["queued"])
	}
	// /readers shows the portal's counters by name.
	var rd struct {
		Portal map[string]any `json:"portal"`
	}
	if json.Unmarshal(call(http.MethodGet, "/readers", ""), &rd) != nil || rd.Portal["passes"] != 1.0 {
		t.Errorf("GET /readers portal: %v, want passes 1", rd.Portal)
	}

	// A command, and its replies.
	cmdCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- g.cmds.Run(cmdCtx) }()
	g.cmds.Submit(command.LotRelease, fmt.Appendf(nil, `{"id":"rel-1","expires_at":%q,"lot":%q,"reply_to":"central/replies"}`,
		now().Add(time.Hour).Format(time.RFC3339), rc.Lot))

	// Every event: its envelope (or the reply, or the EPCIS document, as
	// published) and body.
	types := map[string]bool{}
	replies := 0
	deadline := time.Now().Add(10 * time.Second)
	for replies < 2 && time.Now().Before(deadline) {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		evs, err := g.ob.Next(wctx, 1000)
		cancel()
		if err != nil {
			continue
		}
		for _, ev := range evs {
			b, err := ev.Payload()
			if err != nil {
				t.Fatal(err)
			}
			types[ev.Type] = true
			if ev.Type == "reply" {
				replies++
			}
			checkJSON(t, "event "+ev.Type+" on "+ev.RelTopic(), b)
			if ev.Topic == "" && !bytes.HasPrefix(b, []byte(`{"eventID":`)) {
				t.Errorf("event %s: envelope %s does not start with eventID", ev.Type, b)
			}
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"receipt.created", "lot.created", "lot.hold", "epcis.hold", "epcis.receiving", "portal.pass", "lot.hold.alert", "epcis.pass", "reply", "lot.release", "job.cancelled", "label.cancelled"} {
		if !types[typ] {
			t.Errorf("no %s event checked (have %v)", typ, types)
		}
	}
	if replies != 2 {
		t.Errorf("%d command replies, want accepted and done", replies)
	}

	// The retained statuses published at every session.
	for _, v := range []any{g.printing.status["P1"], g.readerStatus["R1"], g.pub.Stats()} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		checkJSON(t, fmt.Sprintf("%T", v), b)
	}
	// The quarantine's form of an event.
	b, err := json.Marshal(outbox.Quarantined{Event: outbox.Event{ID: "urn:uuid:1", Seq: 1, Type: "reply", Time: now().UTC(), Topic: "x/y", RawTopic: true}, At: now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	checkJSON(t, "quarantined event", b)
}
