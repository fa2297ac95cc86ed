package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/receiving"
)

// Every page answers with its content; the API's paths keep answering
// JSON to everything but a browser.
func TestConsolePages(t *testing.T) {
	r := newRig(t)
	rc := r.receive("ASN-P", 2)
	for _, tc := range []struct {
		path string
		code int
		want []string
	}{
		{"/", 200, []string{"<h1>Doors</h1>", `href="/doors/DOOR1"`, "Receipt ASN-P", `data-topics="doors"`}},
		{"/doors/DOOR1", 200, []string{"Door DOOR1", "Receipt ASN-P", "Lot <strong>" + rc.Lot, `data-expected="2"`, "Seen at the portal", `data-topics="door/DOOR1"`}},
		{"/doors/DOOR1/board", 200, []string{`class="board"`, "Receipt ASN-P"}},
		{"/doors/NOPE", 404, []string{"door &#34;NOPE&#34; is not configured"}},
		{"/receive", 200, []string{`id="scan"`, `name="cartons"`, `<option value="DOOR1" selected>`}},
		{"/receive?scan=" + url.QueryEscape("]C10109520123456788\x1d10ABC\x1d17300531"), 200, []string{`data-ai="01"`, "09520123456788", `data-ai="10"`, "ABC", "2030-05-31"}},
		{"/receive/parse?scan=" + url.QueryEscape("https://id.gs1.org/01/09520123456788/10/DL-1"), 200, []string{`data-ai="10"`, "DL-1"}},
		{"/receive/parse?scan=" + url.QueryEscape("(01)09520123456789"), 200, []string{`class="error"`}},
		{"/lots", 200, []string{"<h1>Lots</h1>", rc.Lot, "● active"}},
		{"/lots?code=" + url.QueryEscape(rc.Lot[:3]) + "&status=active", 200, []string{rc.Lot}},
		{"/lots?from=May", 400, []string{"from: &#34;May&#34; is not a date"}},
		{"/lots/" + rc.Lot, 200, []string{"Lot " + rc.Lot, `value="hold"`, `value="recall"`, "required", rc.Cartons[0]}},
		{"/lots/NO-SUCH-LOT", 404, nil},
		{"/trace?key=" + rc.Cartons[1], 200, []string{"SSCC " + rc.Cartons[1], `href="/lots/` + rc.Lot}},
		{"/trace?key=" + url.QueryEscape("not a key"), 400, []string{"is no EPC"}},
		{"/printers", 200, []string{"<h1>Printers</h1>", `href="/printers/P1"`, "zebra-zt411r-203", `<tr data-printer="P1">`, `data-label="Queue">0</td>`}},
		{"/printers/P1", 200, []string{"Printer P1", "History", "ASN-P:"}},
		{"/printers/P9", 404, []string{"not found: printer &#34;P9&#34; is not configured"}},
		{"/labels", 200, []string{"<h1>Labels</h1>", `href="/labels?template=carton"`, "data:image/png;base64,"}},
		{"/labels?template=carton&printer=P1&gtin=09520123456788&lot=X1&sscc=123", 200, []string{`class="error"`, "sscc"}},
		{"/labels?template=nope", 404, []string{"No such template", `href="/labels?template=carton"`}},
		{"/health", 200, []string{"<h1>Health", "Outbox", "Broker", "R1"}},
		{"/login", 200, []string{`name="name"`}},
		{"/assets/htmx-2.0.4.min.js", 200, []string{"htmx"}},
		{"/assets/htmx-2.0.4.LICENSE", 200, []string{"Zero-Clause BSD"}},
	} {
		code, body, h := r.page(tc.path)
		if code != tc.code {
			t.Errorf("GET %s: %d, want %d\n%.400s", tc.path, code, tc.code, body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q\n%.3000s", tc.path, w, body)
			}
		}
		if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "text/html") && ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", tc.path, ct)
		}
	}
	// The same paths without a browser's Accept are the API's JSON.
	for _, p := range []string{"/lots", "/lots/" + rc.Lot, "/printers"} {
		resp, err := http.Get(r.base + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !json.Valid(b) {
			t.Errorf("API GET %s: %d %s %.200s", p, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	// A lot held and released from its page, each with its reason.
	if code, _, _ := r.form("/lots/"+rc.Lot+"/change", url.Values{"action": {"hold"}, "by": {"qa"}}); code != http.StatusBadRequest {
		t.Errorf("a hold without a reason: %d", code)
	}
	for _, a := range []string{"hold", "release"} {
		if code, _, h := r.form("/lots/"+rc.Lot+"/change", url.Values{"action": {a}, "reason": {"check " + a}, "by": {"qa"}}); code != http.StatusSeeOther {
			t.Errorf("%s: %d %v", a, code, h)
		}
	}
	if l, _ := r.g.Lots().Get(rc.Lot); len(l.History) < 3 || l.History[len(l.History)-1].Reason != "check release" || l.History[len(l.History)-1].By != "qa" {
		t.Errorf("history %+v", l.History)
	}
	// The console claims none of the API's own routes.
	resp0, err := http.Post(r.base+"/lots/register", "application/json", strings.NewReader(`{"code":"REG-1","product":"P","supplier":"Acme"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp0.Body.Close()
	if resp0.StatusCode != 200 || resp0.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST /lots/register: %d %s, want the API's 200", resp0.StatusCode, resp0.Header.Get("Content-Type"))
	}
	// The label image is a PNG.
	resp, err := http.Get(r.base + "/labels/image?template=carton&printer=P1&gtin=09520123456788&lot=L1&qty=3&expiry=2030-05-31")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(b), "\x89PNG") {
		t.Errorf("label image: %d %s %.100q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	// A printer that is not configured is the request's fault, named.
	for _, printer := range []string{"P9", ""} {
		resp, err := http.Get(r.base + "/labels/image?template=carton&printer=" + printer + "&gtin=09520123456788&lot=L1")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "give one of P1") {
			t.Errorf("label image for printer %q: %d %s, want 400 naming the printers", printer, resp.StatusCode, b)
		}
	}
}

// The receive form makes the receipt POST /receipts makes and shows the
// door's board; a bad scan is shown with the form, nothing received.
func TestConsoleReceiveForm(t *testing.T) {
	r := newRig(t)
	code, _, h := r.form("/receive", url.Values{"id": {"C-1"}, "door": {"DOOR1"}, "scan": {"]C10109520123456788\u241d10FORM-1\u241d17300531"},
		"cartons": {"3"}, "supplier": {"Acme"}})
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/doors/DOOR1?done=") {
		t.Fatalf("POST /receive: %d %v", code, h)
	}
	rc, err := r.g.Receiving().Receipt("C-1")
	if err != nil || rc.Lot != "FORM-1" || len(rc.Cartons) != 3 || rc.Source != "console" || rc.Supplier != "Acme" {
		t.Fatalf("receipt %+v %v", rc, err)
	}
	// Sent twice (a double tap): one receipt.
	if code, _, _ := r.form("/receive", url.Values{"id": {"C-1"}, "door": {"DOOR1"}, "scan": {"]C10109520123456788\u241d10FORM-1\u241d17300531"},
		"cartons": {"3"}, "supplier": {"Acme"}}); code != http.StatusSeeOther {
		t.Fatalf("again: %d", code)
	}
	code, body, _ := r.form("/receive", url.Values{"id": {"C-2"}, "door": {"DOOR1"}, "scan": {"(01)09520123456789"}, "cartons": {"1"}})
	if code != http.StatusBadRequest || !strings.Contains(body, `class="error"`) || !strings.Contains(body, `id="scan"`) {
		t.Fatalf("bad scan: %d %.500s", code, body)
	}
	if _, err := r.g.Receiving().Receipt("C-2"); err == nil {
		t.Fatal("a bad scan was received")
	}
}

// sse reads a Server-Sent Events stream.
type sse struct {
	resp *http.Response
	rd   *bufio.Reader
}

func openSSE(t testing.TB, url string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &sse{resp: resp, rd: bufio.NewReader(resp.Body)}
}

// next reads events until one of the kind whose data contains want.
func (s *sse) next(t testing.TB, d time.Duration, event, want string) string {
	t.Helper()
	return s.until(t, d, event, want, func(data string) bool { return strings.Contains(data, want) })
}

// until reads events until one of the kind whose data satisfies ok.
func (s *sse) until(t testing.TB, d time.Duration, event, what string, ok func(string) bool) string {
	t.Helper()
	want := what
	got := make(chan string, 1)
	go func() {
		var ev, data strings.Builder
		for {
			line, err := s.rd.ReadString('\n')
			if err != nil {
				got <- ""
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.WriteString(line[len("event: "):])
			case strings.HasPrefix(line, "data: "):
				data.WriteString(line[len("data: "):] + "\n")
			case line == "":
				if ev.String() == event && ok(data.String()) {
					got <- data.String()
					return
				}
				ev.Reset()
				data.Reset()
			}
		}
	}()
	select {
	case d := <-got:
		if d == "" {
			t.Fatalf("stream ended before a %s event with %q", event, want)
		}
		return d
	case <-time.After(d):
		t.Fatalf("no %s event with %q within %s", event, want, d)
	}
	return ""
}

// The door's stream starts with its board and carries it again, rendered,
// as the receipt's events are committed: created, labels printed, cartons
// seen, complete. Other pages hear that they changed.
func TestConsoleEventStream(t *testing.T) {
	r := newRig(t)
	door := openSSE(t, r.base+"/events?topic=door/DOOR1")
	door.next(t, 5*time.Second, "board", "No receipt yet")
	printers := openSSE(t, r.base+"/events?topic=printers&topic=doors")
	rc := r.receive("ASN-S", 2)
	door.next(t, 5*time.Second, "board", "Receipt ASN-S")
	door.next(t, 10*time.Second, "board", `data-printed="2"`)
	printers.next(t, 10*time.Second, "changed", "printers")
	r.movePortal(rc)
	b := door.next(t, 30*time.Second, "board", `data-status="complete"`)
	if !strings.Contains(b, `data-seen="2"`) || !strings.Contains(b, "⬇ in") {
		t.Fatalf("complete board:\n%s", b)
	}
	for _, bad := range []string{"/events", "/events?topic=door/NOPE", "/events?topic=everything"} {
		if code, _, _ := r.page(bad); code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, code)
		}
	}
}

// A lot received at the door put on hold is an alert on the door's board
// until someone acknowledges it; the acknowledgement records who and when,
// with its event and in the lot's trace.
func TestConsoleHoldAlertAcknowledged(t *testing.T) {
	r := newRig(t)
	rc := r.receive("ASN-H", 1)
	door := openSSE(t, r.base+"/events?topic=door/DOOR1")
	door.next(t, 5*time.Second, "board", "Receipt ASN-H")
	if _, err := r.g.Lots().Hold(context.Background(), rc.Lot, "QA sample failed", "qa"); err != nil {
		t.Fatal(err)
	}
	b := door.next(t, 5*time.Second, "board", "alert-banner")
	if !strings.Contains(b, "Lot "+rc.Lot+", received at this door, was put on hold") || !strings.Contains(b, "QA sample failed") {
		t.Fatalf("banner:\n%s", b)
	}
	i := strings.Index(b, `data-alert="`) + len(`data-alert="`)
	id := b[i : i+strings.IndexByte(b[i:], '"')]
	if code, _, _ := r.form("/doors/DOOR1/alerts/"+id+"/ack", url.Values{"by": {"Ana\nB"}}); code != http.StatusBadRequest {
		t.Fatalf("ack with a name of two lines: %d", code)
	}
	if code, _, h := r.form("/doors/DOOR1/alerts/"+id+"/ack", url.Values{"by": {"Ana at door 1"}}); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "Ana") {
		t.Fatalf("ack: %d %v", code, h)
	}
	door.until(t, 5*time.Second, "board", "a board without the banner", func(b string) bool {
		return strings.Contains(b, "Receipt ASN-H") && !strings.Contains(b, "alert-banner")
	})
	if code, _, _ := r.form("/doors/DOOR1/alerts/"+id+"/ack", url.Values{"by": {"Ana"}}); code != http.StatusNotFound {
		t.Fatalf("second ack: %d", code)
	}
	var tr receiving.LotTrace
	eventually(t, 5*time.Second, "the acknowledgement in the lot's trace", func() bool {
		t2, err := r.g.Receiving().TraceLot(rc.Lot)
		if err != nil {
			t.Fatal(err)
		}
		tr = *t2
		for _, e := range tr.Events {
			if e.Type == "lot.hold.alert.acknowledged" && e.Subject == "Ana at door 1" {
				return true
			}
		}
		return false
	})
}

// Forms from another site are refused.
func TestConsoleRefusesCrossSiteForms(t *testing.T) {
	r := newRig(t)
	req, _ := http.NewRequest("POST", r.base+"/receive", strings.NewReader("door=DOOR1&cartons=1&scan=(01)09520123456788"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site form: %d", resp.StatusCode)
	}
}
