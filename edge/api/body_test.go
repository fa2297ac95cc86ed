package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// The error names the string that is not UTF-8 by its path in the body.
func TestDecodeJSONNamesTheField(t *testing.T) {
	for _, c := range []struct {
		body string
		want string // "" for no error
	}{
		{``, ""},
		{" \r\n\t", ""},
		{`{"a":"x"}` + "\r\n", ""},
		{`{"a":"\ufffd"}`, ""}, // written as an escape: a character like any other
		{`{"a":"` + "\ufffd" + `"}`, ""},
		{`{"product":"a` + "\xff\xfe" + `"}`, `body: field "product": not valid UTF-8; send the text as UTF-8`},
		{`{"ssccs":["1","2","` + "\xc3" + `"]}`, `body: field "ssccs[2]": not valid UTF-8`},
		{`{"a":1,"values":{"gtin":"1","lot":"` + "\xed\xa0\x80" + `"}}`, `body: field "values.lot": not valid UTF-8`},
		{`{"m":[[1],[{"x":null,"y":"` + "\x80" + `"}]]}`, `body: field "m[1][0].y": not valid UTF-8`},
		{`{"values":{"` + "l\xffot" + `":"x"}}`, `body: field name "l` + "\ufffd" + `ot" in "values": not valid UTF-8`},
		{`"` + "\xff" + `"`, `body: not valid UTF-8; send the text as UTF-8`},
		{`{"a":"x"}` + "\xff", `body: a byte that is not UTF-8 after the JSON value`},
		{`{"a":"` + "\xff" + `"}{}`, `body: field "a": not valid UTF-8`},
		{`{"a":"x"} {"a":"y"}`, `body: invalid character '{' after the JSON value; send one JSON object and nothing after it but whitespace`},
		{`{"a":"x"}` + "\x00", `body: invalid character '\x00' after the JSON value`},
		{`{"a":"x"}` + "\u00a0", `body: invalid character '\u00a0' after the JSON value`},
		{`{"a":"x"}` + "é", `body: invalid character 'é' after the JSON value`},
		{`{"a":"x` + "\x00" + `"}`, `body: invalid character '\x00' in string literal`},
		{`{"a":é}`, `body: invalid character 'é' looking for beginning of value`},
		{`{"a":` + "\xff" + `}`, `body: a byte that is not UTF-8 looking for beginning of value`},
		{`{"a":` + "\u0080" + `}`, `body: invalid character '\u0080' looking for beginning of value`},
		{`{"b":"x"}`, `body: unknown field "b"`},
	} {
		var v map[string]any
		if strings.Contains(c.body, `"b"`) {
			err := DecodeJSON([]byte(c.body), &struct{ A string }{})
			if err == nil || err.Error() != c.want {
				t.Errorf("%q: %v; want %s", c.body, err, c.want)
			}
			continue
		}
		err := DecodeJSON([]byte(c.body), &v)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.body, err)
		case c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)):
			t.Errorf("%q: %v; want %s", c.body, err, c.want)
		case err != nil && !utf8.ValidString(err.Error()):
			t.Errorf("%q: the message %q is not UTF-8", c.body, err)
		}
	}
}

// FuzzDecodeBody: a body DecodeBody accepts is UTF-8, one JSON value and
// whitespace, and decodes as encoding/json decodes it; every other body
// is a 400 (or 413) whose message is UTF-8. The body arrives in chunks.
func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(`{"printer":"P1","values":{"lot":"L1"},"tags":["a","b"]}`), uint16(3))
	f.Add([]byte(`{"printer":"P1"}`+"\r\n"), uint16(0))
	f.Add([]byte(`{"printer":"P1"}{"printer":"P2"}`), uint16(7))
	f.Add([]byte(`{"printer":"P1"}]`), uint16(1))
	f.Add([]byte(`{"printer":"P1"}`+"\x00"), uint16(1))
	f.Add([]byte(`{"values":{"lot":"`+"\xff\xfe"+`"}}`), uint16(2))
	f.Add([]byte(`{"tags":["x","`+"\xc3"+`"]}`), uint16(5))
	f.Add([]byte(`{"`+"\xff"+`":1}`), uint16(5))
	f.Add([]byte(`{"printer":é}`), uint16(1))
	f.Add([]byte(``), uint16(0))
	f.Add([]byte(`null`), uint16(0))
	type target struct {
		Printer string            `json:"printer"`
		Qty     int               `json:"qty"`
		Values  map[string]string `json:"values"`
		Tags    []string          `json:"tags"`
		Any     any               `json:"any"`
	}
	f.Fuzz(func(t *testing.T, body []byte, chunk uint16) {
		var got target
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/print", &chunks{b: body, n: int(chunk)})
		ok := DecodeBody(w, r, &got)
		if !ok {
			var e struct {
				Error string `json:"error"`
			}
			if w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("refused with %d", w.Code)
			}
			// encoding/json would write a byte that is not UTF-8 as \ufffd.
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || !strings.HasPrefix(e.Error, "body: ") || bytes.Contains(w.Body.Bytes(), []byte(`\ufffd`)) {
				t.Fatalf("answer %q (%v)", w.Body, err)
			}
			// JSON's words, not Go's.
			for _, goism := range []string{"Go value", "Go struct", "of type", "unmarshal", "target."} {
				if strings.Contains(e.Error, goism) {
					t.Fatalf("answer %q shows %q", e.Error, goism)
				}
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted %q, which is not UTF-8", body)
		}
		trimmed := bytes.Trim(body, jsonSpace)
		if len(trimmed) == 0 {
			if !reflect.DeepEqual(got, target{}) {
				t.Fatalf("empty body decoded to %+v", got)
			}
			return
		}
		var want target
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: decoded %+v; encoding/json %+v", body, got, want)
		}
	})
}

// chunks reads b at most n bytes at a time (n 0: all at once).
type chunks struct {
	b []byte
	n int
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	if c.n > 0 && len(p) > c.n {
		p = p[:c.n]
	}
	n := copy(p, c.b)
	c.b = c.b[n:]
	return n, nil
}

// A value of the wrong type is named by its path in the body and described
// in JSON's words: no Go type, struct or field name.
func TestDecodeJSONTypeErrors(t *testing.T) {
	type inner struct {
		Lot string `json:"lot"`
	}
	type request struct {
		Cartons  int               `json:"cartons"`
		Antenna  uint16            `json:"antenna"`
		Quantity float64           `json:"quantity"`
		Accept   bool              `json:"accept_expired"`
		Door     string            `json:"door"`
		SSCCs    []string          `json:"ssccs"`
		Values   map[string]string `json:"values"`
		Nested   []inner           `json:"nested"`
	}
	type embedded struct {
		ID string `json:"id"`
		request
	}
	for _, c := range []struct {
		body, want string
	}{
		{`{"cartons":"3"}`, `body: field "cartons": want a number, got a string`},
		{`{"cartons":3.5}`, `body: field "cartons": want a whole number, written without a fraction or exponent, got 3.5`},
		{`{"cartons":1e3}`, `body: field "cartons": want a whole number, written without a fraction or exponent, got 1e3`},
		{`{"cartons":99999999999999999999}`, `body: field "cartons": want a whole number from -9223372036854775808 to 9223372036854775807, got 99999999999999999999`},
		{`{"antenna":-1}`, `body: field "antenna": want a whole number from 0 to 65535, got -1`},
		{`{"antenna":70000}`, `body: field "antenna": want a whole number from 0 to 65535, got 70000`},
		{`{"quantity":1e400}`, `body: field "quantity": want a number within range, got 1e400`},
		{`{"quantity":[1]}`, `body: field "quantity": want a number, got an array`},
		{`{"accept_expired":"yes"}`, `body: field "accept_expired": want true or false, got a string`},
		{`{"door":5}`, `body: field "door": want a string, got a number`},
		{`{"door":true}`, `body: field "door": want a string, got true`},
		{`{"door":{"id":"D1"}}`, `body: field "door": want a string, got an object`},
		{`{"ssccs":"x"}`, `body: field "ssccs": want an array of strings, got a string`},
		{`{"ssccs":["1", 2]}`, `body: field "ssccs[1]": want a string, got a number`},
		{`{"values":{"gtin":"1","qty":5}}`, `body: field "values.qty": want a string, got a number`},
		{`{"values":"x"}`, `body: field "values": want an object, got a string`},
		{`{"nested":[{"lot":"a"},{"lot":false}]}`, `body: field "nested[1].lot": want a string, got false`},
		{` {"door":"D1", "cartons" : "3" }`, `body: field "cartons": want a number, got a string`},
		{`[]`, `body: want a JSON object, got an array`},
		{`"x"`, `body: want a JSON object, got a string`},
		{`{"id":"a","cartons":"3"}`, `body: field "cartons": want a number, got a string`}, // through an embedded struct
	} {
		err := DecodeJSON([]byte(c.body), &embedded{})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v; want %s", c.body, err, c.want)
		}
	}
	// DecodeJSONAs names its JSON; an unknown field wraps ErrUnknownField.
	err := DecodeJSONAs("payload", []byte(`{"cartons":"3"}`), &request{})
	if err == nil || err.Error() != `payload: field "cartons": want a number, got a string` {
		t.Errorf("payload: %v", err)
	}
	err = DecodeJSONAs("payload", []byte(`{"carton":3}`), &request{})
	if !errors.Is(err, ErrUnknownField) || err.Error() != `payload: unknown field "carton"` {
		t.Errorf("unknown field: %v", err)
	}
}
