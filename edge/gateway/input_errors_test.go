package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/config"
)

// answer is the error of an API answer.
func answer(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	return e.Error
}

// Bad input is a 4xx on every route, never a 500, and its message names
// the field in JSON's words (no Go type) and quotes characters, not bytes:
// 'Ü', never the 'Ã' of its first byte.
func TestBadInputIsAClientError(t *testing.T) {
	g, h := apiGateway(t)
	for _, c := range []struct {
		target, body string
		code         int
		want         string
	}{
		// The example: a product outside CSET 82 for {PRODUCT}.
		{"/lots", `{"product":"ÜBER"}`, http.StatusBadRequest, `{PRODUCT} value "ÜBER" has 'Ü' at position 0`},
		{"/lots", `{"product":"P😀"}`, http.StatusBadRequest, `{PRODUCT} value "P😀" has '😀' at position 1`},
		{"/lots", `{"product":"P","brand":"ÜB"}`, http.StatusBadRequest, `{BRAND} value "ÜB" has 'Ü'`},
		{"/lots", `{"product":"P","format":"ÜBER-{SEQ:3}"}`, http.StatusBadRequest, `literal "ÜBER-" has 'Ü'`},
		{"/lots", `{"product":"P","format":"{SUPPLIER}-{SEQ:3}","supplier":"Ünic"}`, http.StatusBadRequest, `{SUPPLIER} value "Ünic" has 'Ü'`},
		{"/lots", `{"product":"P","format":"{YYMM}-{PRODUCT}-{SUPPLIER}-{SEQ:3}","supplier":"S"}`, http.StatusBadRequest, `can produce 22 characters`},
		{"/lots", `{"product":"P","gtin":"ÜBER"}`, http.StatusBadRequest, `GTIN "ÜBER" has 'Ü' at position 0`},
		{"/lots", `{"product":"P","quantity":"3"}`, http.StatusBadRequest, `body: field "quantity": want a number, got a string`},
		{"/lots/register", `{"code":"ÜBER","product":"P","supplier":"Acme"}`, http.StatusBadRequest, `lot code "ÜBER" has 'Ü' at position 0`},
		{"/lots/register", `{"code":123}`, http.StatusBadRequest, `body: field "code": want a string, got a number`},
		{"/lots/register", `[]`, http.StatusBadRequest, `body: want a JSON object, got an array`},
		{"/lots/HOLD-ME/hold", `{"reason":5}`, http.StatusBadRequest, `body: field "reason": want a string, got a number`},
		{"/receipts", `{"door":"DOOR1","gtin":"09506000134352","cartons":"3"}`, http.StatusBadRequest, `body: field "cartons": want a number, got a string`},
		{"/receipts", `{"door":"DOOR1","gtin":"09506000134352","cartons":2.5}`, http.StatusBadRequest, `body: field "cartons": want a whole number`},
		{"/receipts", `{"door":"DOOR1","gtin":"09506000134352","ssccs":[1],"cartons":1}`, http.StatusBadRequest, `body: field "ssccs[0]": want a string, got a number`},
		{"/receipts", `{"door":"DOOR1","gtin":"09506000134352","product":"ÜBER","cartons":1}`, http.StatusBadRequest, `invalid receipt: lot: character outside GS1 CSET 82: {PRODUCT} value "ÜBER" has 'Ü'`},
		{"/receipts", `{"door":"DOOR1","gtin":"09506000134352","format":"ÜBER-{SEQ:3}","cartons":1}`, http.StatusBadRequest, `invalid receipt: lot: character outside GS1 CSET 82`},
		{"/receipts", `{"door":"DOOR1","gtin":"09506000134352","supplier":"Acme","supplier_lot":"ÜBER","cartons":1}`, http.StatusBadRequest, `AI (10): character 'Ü' is not in CSET 82`},
		{"/receipts", `{"door":"DOOR1","gtin":"09506000134352","po":"AB😀","cartons":1}`, http.StatusBadRequest, `po: "AB😀" has '😀' at 2`},
		{"/print", `{"printer":"P1","zpl":"^XA^FDx^FS^XZ","qty":"3"}`, http.StatusBadRequest, `body: field "qty": want a number, got a string`},
		{"/print", `{"printer":"P1","template":"carton","values":{"gtin":"09506000134352","lot":"L1","qty":5}}`, http.StatusBadRequest, `body: field "values.qty": want a string, got a number`},
		{"/print", `{"printer":"P1","template":"carton","values":{"gtin":"09506000134352","lot":"ÜBER"}}`, http.StatusBadRequest, `lot: "ÜBER" has 'Ü' at 0`},
	} {
		code, body := postRaw(h, c.target, []byte(c.body))
		msg := answer(t, body)
		if code != c.code || !strings.Contains(msg, c.want) {
			t.Errorf("POST %s %s: %d %q; want %d with %q", c.target, c.body, code, msg, c.code, c.want)
		}
		for _, leak := range []string{"Ã", "ð", "Go value", "Go struct", "of type", "unmarshal"} {
			if strings.Contains(msg, leak) {
				t.Errorf("POST %s %s: %q shows %q", c.target, c.body, msg, leak)
			}
		}
	}
	unchanged(t, g, h, "bad input")
}

// A format whose {SEQ:n} is used up for its period is a conflict (409),
// not a server error.
func TestExhaustedFormatIsAConflict(t *testing.T) {
	_, h := apiGateway(t)
	body := `{"product":"P","format":"{YYMM}-{PRODUCT}-{SEQ:1}"}`
	for i := 1; i <= 9; i++ {
		if code, answer := postRaw(h, "/lots", []byte(body)); code != http.StatusOK {
			t.Fatalf("lot %d: %d %s", i, code, answer)
		}
	}
	code, body := postRaw(h, "/lots", []byte(body))
	if msg := answer(t, body); code != http.StatusConflict || !strings.Contains(msg, "{SEQ}") {
		t.Fatalf("10th lot: %d %q; want 409", code, msg)
	}
}

// A print request whose zpl or qty the spooler would refuse is a bad print
// request naming the field, over HTTP and in the print command's reply:
// never "invalid job", which is the spooler's word for its own jobs.
func TestPrintRequestErrorsNameTheRequest(t *testing.T) {
	g, h := printGateway(t, nil)
	cmds := handlerMap{}
	g.printing.commands(cmds)
	for i, c := range []struct {
		zpl  string
		qty  int
		want string
	}{
		{"ÜBER", 0, "bad print request: zpl: ZPL is not a sequence of complete label formats: no label format"},
		{"^XA^FDx^FS^XZ^XA", 0, "bad print request: zpl: ZPL is not a sequence of complete label formats: format 2 opens with ^XA and has no ^XZ"},
		{"^XA^FDx^FS^XZ~JR", 0, "bad print request: zpl: ZPL carries a command a print job may not carry: ~JR"},
		{"Ü^XA^FDx^FS^XZ", 0, `bad print request: zpl: ZPL is not a sequence of complete label formats: "Ü" before the first ^XA`},
		{"^XA^PQ600^FDx^FS^XZ", 2, "bad print request: qty 2: job prints too many labels: the zpl prints 600 labels per copy"},
	} {
		req := map[string]any{"printer": "P1", "zpl": c.zpl, "qty": c.qty}
		b, _ := json.Marshal(req)
		code, body := postRaw(h, "/print", b)
		if msg := answer(t, body); code != http.StatusBadRequest || !strings.HasPrefix(msg, c.want) || strings.Contains(msg, "invalid job") {
			t.Errorf("POST /print %s: %d %q; want 400 %q", b, code, msg, c.want)
		}
		id := fmt.Sprintf("c-%d", i)
		req["id"] = id
		b, _ = json.Marshal(req)
		_, err := cmds["print"](context.Background(), command.Command{Name: "print", ID: id, Payload: b})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "invalid job") {
			t.Errorf("print command %s: %v; want %q", b, err, c.want)
		}
	}
	if code := serve(t, h, http.MethodPost, "/print", map[string]any{"printer": "P1", "zpl": testZPL, "qty": 2}, nil); code != http.StatusOK {
		t.Fatalf("a good request: %d", code)
	}
}

// Values the printer cannot print (text beyond ASCII on a profile without
// UTF-8) are the request's: a 400 that says so, not a 500.
func TestPrintValuesThePrinterCannotCarry(t *testing.T) {
	_, h := printGateway(t, func(c *config.Config) { c.Printers[0].Profile = "generic-zpl-203" })
	b := []byte(`{"printer":"P1","template":"carton","values":{"gtin":"09506000134352","lot":"L1","product":"Über"}}`)
	code, body := postRaw(h, "/print", b)
	if msg := answer(t, body); code != http.StatusBadRequest || !strings.Contains(msg, `text "Über" is not ASCII`) {
		t.Fatalf("%d %q; want 400", code, msg)
	}
}
