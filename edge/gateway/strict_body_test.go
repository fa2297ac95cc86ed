package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
	"github.com/dockgate/dockgate/rfid/portal"
)

// apiGateway opens an offline gateway with printer P1 at DOOR1 and its
// whole HTTP API (no listener: requests are served in the test), with the
// lots HOLD-ME and RECALL-ME registered.
func apiGateway(t *testing.T) (*Gateway, http.Handler) {
	t.Helper()
	cfg, err := config.Complete(&config.Config{Site: "t", Gateway: "gw", DataDir: t.TempDir(),
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411-203", Transport: config.TransportSim}},
		Doors:    []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}, Printer: "P1"}},
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
	for _, code := range []string{"HOLD-ME", "RECALL-ME"} {
		if _, err := g.lots.Register(context.Background(), code, lots.Details{Product: "P", Supplier: "Acme"}); err != nil {
			t.Fatal(err)
		}
	}
	return g, g.api.Handler()
}

// postRaw posts body as it is and returns the status and the answer.
func postRaw(h http.Handler, target string, body []byte) (int, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body)))
	return w.Code, w.Body.String()
}

// jsonBodyRoutes are the POST routes that take a JSON body, each with a
// valid body whose "product", "reason" or "printer" field holds text.
var jsonBodyRoutes = []struct {
	target string
	valid  string
	field  string // a text field of valid
}{
	{target: "/lots", valid: `{"product":"P","supplier":"Acme"}`, field: "product"},
	{target: "/lots/register", valid: `{"code":"SUP-1","product":"P","supplier":"Acme"}`, field: "product"},
	{target: "/lots/HOLD-ME/hold", valid: `{"reason":"lab","by":"qa"}`, field: "reason"},
	{target: "/lots/RECALL-ME/recall", valid: `{"reason":"lab","by":"qa"}`, field: "reason"},
	{target: "/print", valid: `{"printer":"P1","zpl":"^XA^FDx^FS^XZ"}`, field: "printer"},
	{target: "/receipts", valid: `{"door":"DOOR1","gtin":"09506000134352","cartons":1}`, field: "door"},
}

// unchanged fails the test when a refused request left a trace: a lot, a
// held or recalled lot, a print job (a receipt makes a lot and a job).
func unchanged(t *testing.T, g *Gateway, h http.Handler, what string) {
	t.Helper()
	var ls []lots.Lot
	if code := serve(t, h, http.MethodGet, "/lots", nil, &ls); code != http.StatusOK || len(ls) != 2 {
		t.Fatalf("%s: GET /lots: %d, %d lots; want the 2 registered", what, code, len(ls))
	}
	for _, l := range ls {
		if l.Status != lots.StatusActive {
			t.Fatalf("%s: lot %s is %s", what, l.Code, l.Status)
		}
	}
	if jobs, err := g.Spooler().List(spool.Filter{Printer: "P1"}); err != nil || len(jobs) != 0 {
		t.Fatalf("%s: %d print jobs (%v)", what, len(jobs), err)
	}
}

// A body with anything but whitespace after its JSON object, or with text
// that is not UTF-8, is a 400 that says so (naming the field) and changes
// nothing; the same body with a trailing newline is served.
func TestPostBodiesAreStrict(t *testing.T) {
	for _, rt := range jsonBodyRoutes {
		t.Run(strings.TrimPrefix(rt.target, "/"), func(t *testing.T) {
			g, h := apiGateway(t)
			text := `"` + rt.field + `":"`
			for _, c := range []struct {
				name, body, want string
			}{
				{"garbage", rt.valid + "garbage", `invalid character 'g' after the JSON value`},
				{"second object", rt.valid + rt.valid, `invalid character '{' after the JSON value`},
				{"second object after a newline", rt.valid + "\n" + rt.valid, `invalid character '{' after the JSON value`},
				{"trailing ]", rt.valid + "]", `invalid character ']' after the JSON value`},
				{"trailing NUL", rt.valid + "\x00", `invalid character '\x00' after the JSON value`},
				{"trailing byte not UTF-8", rt.valid + " \xff", `a byte that is not UTF-8 after the JSON value`},
				{"not UTF-8", strings.Replace(rt.valid, text, text+"a\xff\xfeb", 1), `field "` + rt.field + `": not valid UTF-8; send the text as UTF-8`},
				{"not UTF-8 in a field name", strings.Replace(rt.valid, `"`+rt.field+`"`, "\"\xff"+rt.field+`"`, 1), "field name \"\ufffd" + rt.field + `": not valid UTF-8`},
				{"a character outside the object", "{é}", `invalid character 'é' looking for beginning of object key string`},
			} {
				code, answer := postRaw(h, rt.target, []byte(c.body))
				var e struct {
					Error string `json:"error"`
				}
				if err := json.Unmarshal([]byte(answer), &e); err != nil {
					t.Fatalf("%s: answer %q: %v", c.name, answer, err)
				}
				if code != http.StatusBadRequest || !strings.HasPrefix(e.Error, "body: ") || !strings.Contains(e.Error, c.want) {
					t.Errorf("%s: %d %q; want 400 with %q", c.name, code, e.Error, c.want)
				}
				unchanged(t, g, h, c.name)
			}
			if code, answer := postRaw(h, rt.target, []byte(rt.valid+" \t\r\n")); code != http.StatusOK && code != http.StatusCreated {
				t.Errorf("valid body and whitespace: %d %s", code, answer)
			}
		})
	}
}

// A body over the limit is a 413 and changes nothing.
func TestPostBodyTooLarge(t *testing.T) {
	for _, rt := range jsonBodyRoutes {
		t.Run(strings.TrimPrefix(rt.target, "/"), func(t *testing.T) {
			g, h := apiGateway(t)
			text := `"` + rt.field + `":"`
			body := strings.Replace(rt.valid, text, text+strings.Repeat("x", api.MaxBodyBytes), 1)
			if code, answer := postRaw(h, rt.target, []byte(body)); code != http.StatusRequestEntityTooLarge || !strings.Contains(answer, "larger than 1048576 bytes") {
				t.Errorf("%d %s; want 413", code, answer)
			}
			unchanged(t, g, h, "too large")
		})
	}
}
