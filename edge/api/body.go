package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxBodyBytes bounds the JSON body of a POST (DecodeBody).
const MaxBodyBytes = 1 << 20

// DecodeBody decodes the JSON body of a POST into v, strictly (see
// DecodeJSON). On an error it answers, 413 for a body over MaxBodyBytes
// and 400 otherwise, and returns false. An empty body leaves v as it is.
func DecodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		Error(w, http.StatusRequestEntityTooLarge, fmt.Errorf("body: larger than %d bytes; send a smaller JSON object", MaxBodyBytes))
		return false
	case err != nil:
		Error(w, http.StatusBadRequest, fmt.Errorf("body: %v", err))
		return false
	}
	if err := DecodeJSON(b, v); err != nil {
		Error(w, http.StatusBadRequest, err)
		return false
	}
	return true
}

// ErrUnknownField is wrapped by DecodeJSON's error for a field v does not
// have (a misspelt name).
var ErrUnknownField = errors.New("unknown field")

// DecodeJSON decodes one JSON value from b into v and refuses what
// encoding/json lets through: a field v does not have, anything but
// whitespace after the value (a second object, garbage, a NUL), and text
// that is not UTF-8, which encoding/json would store as U+FFFD. The error
// starts with "body: " and names the field by its path in the body; a
// value of the wrong type reads like `body: field "cartons": want a
// number, got a string`, in JSON's words, not Go's. It quotes characters,
// never single bytes of one. Whitespace alone decodes to nothing.
func DecodeJSON(b []byte, v any) error { return DecodeJSONAs("body", b, v) }

// DecodeJSONAs is DecodeJSON for JSON that is not a request body, such as
// an MQTT command's payload: its errors start with what instead of "body".
func DecodeJSONAs(what string, b []byte, v any) error {
	if len(bytes.TrimLeft(b, jsonSpace)) == 0 {
		return nil
	}
	valid := utf8.Valid(b)
	if !valid {
		if err := invalidUTF8(b); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", what, jsonError(b, err))
	}
	if rest := bytes.TrimLeft(b[dec.InputOffset():], jsonSpace); len(rest) > 0 {
		return fmt.Errorf("%s: %s after the JSON value; send one JSON object and nothing after it but whitespace", what, invalidChar(rest))
	}
	if !valid { // not found above: refused all the same
		return fmt.Errorf("%s: not valid UTF-8; send the text as UTF-8", what)
	}
	return nil
}

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

// jsonError is err from decoding b in words for the sender: without the
// "json: " prefix, with the character of a syntax error quoted whole
// (encoding/json quotes it one byte at a time, so that 'é' reads 'Ã'), and
// a value of the wrong type named by its path and described in JSON's
// words rather than Go's (see typeError).
func jsonError(b []byte, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return typeError(b, te)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if name, ok := strings.CutPrefix(msg, ErrUnknownField.Error()+" "); ok {
		return fmt.Errorf("%w %s", ErrUnknownField, name)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && se.Offset <= int64(len(b)) {
		if c := b[se.Offset-1]; c >= utf8.RuneSelf {
			q := strconv.Quote(string(rune(c))) // as encoding/json quotes c
			msg = strings.Replace(msg, "invalid character '"+q[1:len(q)-1]+"'", invalidChar(b[se.Offset-1:]), 1)
		}
	}
	return errors.New(msg)
}

// typeError says which value of b has the wrong type, by its path, and
// what it should be: `field "cartons": want a number, got a string`,
// `field "ssccs[0]": want a string, got a number`, `field "qty": want a
// whole number, got 2.5`, or for the whole body `want a JSON object, got
// an array`. Go's names (int, lots.Request, Request.cartons) stay out.
func typeError(b []byte, te *json.UnmarshalTypeError) error {
	// The value is the one that ends at te.Offset: a literal ends there,
	// an array or object has just been opened.
	path, found, raw := "", false, ""
	walkJSON(b, func(t jsonToken) bool {
		if t.key || t.end != te.Offset {
			return false
		}
		if d, ok := t.tok.(json.Delim); ok && d != '[' && d != '{' {
			return false
		}
		path, found = t.path, true
		raw = strings.TrimLeft(string(b[t.start:t.end]), jsonSpace+",:")
		return true
	})
	if !found {
		path = te.Field // Go's path: the best there is
	}
	want, got := wantWords(te.Type), gotWords(te.Value, raw)
	if number, ok := strings.CutPrefix(te.Value, "number "); ok {
		// A number of the wrong kind or size for the field.
		want = numberWords(te.Type, number)
	}
	if path == "" {
		if want == "an object" {
			want = "a JSON object"
		}
		return fmt.Errorf("want %s, got %s", want, got)
	}
	return fmt.Errorf("field %q: want %s, got %s", path, want, got)
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// wantWords names what a value of Go type t is in JSON: a number, a
// string, an array of strings…
func wantWords(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.String && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "a string" // such as a time
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return "a string (base64)"
		}
		switch elem := wantWords(t.Elem()); elem {
		case "a number", "a string", "an object", "an array":
			return "an array of " + strings.SplitN(elem, " ", 2)[1] + "s"
		case "true or false":
			return "an array of true or false values"
		}
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another JSON value"
}

// numberWords says what number a field of Go type t takes, for a number
// (as written in the JSON) that it cannot hold.
func numberWords(t reflect.Type, number string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if strings.ContainsAny(number, ".eE") {
			return "a whole number, written without a fraction or exponent"
		}
		bits := t.Bits()
		return fmt.Sprintf("a whole number from %d to %d", int64(-1)<<(bits-1), int64(1)<<(bits-1)-1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if strings.ContainsAny(number, ".eE") {
			return "a whole number, written without a fraction or exponent"
		}
		return fmt.Sprintf("a whole number from 0 to %d", uint64(1)<<t.Bits()-1)
	case reflect.Float32, reflect.Float64:
		return "a number within range"
	}
	return wantWords(t)
}

// gotWords describes the JSON value that did not fit: encoding/json's kind
// ("string", "number 2.5", "bool", "array", "object") and the value as
// written in the JSON text (raw, "" when unknown).
func gotWords(kind, raw string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "number":
		return "a number"
	case strings.HasPrefix(kind, "number "):
		return strings.TrimPrefix(kind, "number ")
	case kind == "bool" && (raw == "true" || raw == "false"):
		return raw
	case kind == "bool":
		return "true or false"
	case kind == "array":
		return "an array"
	case kind == "object":
		return "an object"
	}
	return kind
}

// invalidChar names the character b starts with in an error: "invalid
// character 'é'", or "a byte that is not UTF-8".
func invalidChar(b []byte) string {
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n <= 1 {
		return "a byte that is not UTF-8"
	}
	return "invalid character " + strconv.QuoteRune(r)
}

// invalidUTF8 names the first string of the JSON value b starts with (a
// field's value or a field's name) that holds bytes which are not UTF-8,
// by its path (see walkJSON). It returns nil when there is no such string
// before a syntax error or the end of the value; DecodeJSON then says what
// else is wrong.
func invalidUTF8(b []byte) error {
	var err error
	walkJSON(b, func(t jsonToken) bool {
		if _, ok := t.tok.(json.Delim); ok || utf8.Valid(b[t.start:t.end]) {
			return false
		}
		switch {
		case t.key && t.path != "":
			err = fmt.Errorf("field name %q in %q: not valid UTF-8; send the text as UTF-8", t.tok, t.path)
		case t.key:
			err = fmt.Errorf("field name %q: not valid UTF-8; send the text as UTF-8", t.tok)
		case t.path != "":
			err = fmt.Errorf("field %q: not valid UTF-8; send the text as UTF-8", t.path)
		default:
			err = errors.New("not valid UTF-8; send the text as UTF-8")
		}
		return true
	})
	return err
}

// jsonToken is a token of a JSON text as walkJSON meets it.
type jsonToken struct {
	// path is where the token stands, written as in the request:
	// product, ssccs[2], values.lot; "" at the top level. For a field's
	// name it is the path of its object.
	path string
	key  bool // tok is a field's name
	tok  json.Token
	// start and end bound the bytes the token was read from, with the
	// whitespace and separator before it.
	start, end int64
}

// walkJSON calls f with each token of the JSON value b starts with, until
// f returns true, a syntax error, or the end of the value.
func walkJSON(b []byte, f func(jsonToken) bool) {
	type level struct {
		object  bool
		key     string // object: the field being read
		wantKey bool   // object: a field's name comes next
		index   int    // array: the element being read
	}
	var stack []level
	path := func(levels []level) string {
		var p strings.Builder
		for _, l := range levels {
			switch {
			case !l.object:
				fmt.Fprintf(&p, "[%d]", l.index)
			case p.Len() > 0:
				p.WriteString("." + l.key)
			default:
				p.WriteString(l.key)
			}
		}
		return p.String()
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // no number is out of range
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return
		}
		t := jsonToken{tok: tok, start: start, end: dec.InputOffset()}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if key, ok := tok.(string); ok {
				t.key, t.path = true, path(stack[:top])
				if f(t) {
					return
				}
				stack[top].key, stack[top].wantKey = key, false
				continue
			}
		}
		switch tok {
		case json.Delim('}'), json.Delim(']'):
			t.path = path(stack[:top])
			if f(t) {
				return
			}
			stack = stack[:top]
		default:
			t.path = path(stack)
			if f(t) {
				return
			}
			switch tok {
			case json.Delim('{'):
				stack = append(stack, level{object: true, wantKey: true})
				continue
			case json.Delim('['):
				stack = append(stack, level{})
				continue
			}
		}
		// A value ended: the next is its object's next field or its
		// array's next element, or, at the top, what follows the body's.
		if len(stack) == 0 {
			return
		}
		if l := &stack[len(stack)-1]; l.object {
			l.wantKey = true
		} else {
			l.index++
		}
	}
}
