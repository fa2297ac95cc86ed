package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
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

// DecodeJSON decodes one JSON value from b into v and refuses what
// encoding/json lets through: a field v does not have, anything but
// whitespace after the value (a second object, garbage, a NUL), and text
// that is not UTF-8, which encoding/json would store as U+FFFD. The error
// names the field; it quotes characters, never single bytes of one.
// Whitespace alone decodes to nothing.
func DecodeJSON(b []byte, v any) error {
	if len(bytes.TrimLeft(b, jsonSpace)) == 0 {
		return nil
	}
	valid := utf8.Valid(b)
	if !valid {
		if err := invalidUTF8(b); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body: %s", jsonError(b, err))
	}
	if rest := bytes.TrimLeft(b[dec.InputOffset():], jsonSpace); len(rest) > 0 {
		return fmt.Errorf("body: %s after the JSON value; send one JSON object and nothing after it but whitespace", invalidChar(rest))
	}
	if !valid { // not found above: refused all the same
		return errors.New("body: not valid UTF-8; send the text as UTF-8")
	}
	return nil
}

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

// jsonError is err's text without the "json: " prefix. encoding/json
// quotes the character of a syntax error one byte at a time, so that
// 'é' reads 'Ã': the character is quoted again from b.
func jsonError(b []byte, err error) string {
	msg := strings.TrimPrefix(err.Error(), "json: ")
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > 0 && se.Offset <= int64(len(b)) {
		if c := b[se.Offset-1]; c >= utf8.RuneSelf {
			q := strconv.Quote(string(rune(c))) // as encoding/json quotes c
			msg = strings.Replace(msg, "invalid character '"+q[1:len(q)-1]+"'", invalidChar(b[se.Offset-1:]), 1)
		}
	}
	return msg
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

// invalidUTF8 walks the tokens of the JSON value b starts with and names
// the first string (a field's value or a field's name) that holds bytes
// which are not UTF-8. Its path is written as in the request:
// product, ssccs[2], values.lot. It returns nil when there is no such
// string before a syntax error or the end of the value; DecodeJSON then
// says what else is wrong.
func invalidUTF8(b []byte) error {
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
			return nil
		}
		bad := !utf8.Valid(b[start:dec.InputOffset()])
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if key, ok := tok.(string); ok {
				if bad {
					if in := path(stack[:top]); in != "" {
						return fmt.Errorf("body: field name %q in %q: not valid UTF-8; send the text as UTF-8", key, in)
					}
					return fmt.Errorf("body: field name %q: not valid UTF-8; send the text as UTF-8", key)
				}
				stack[top].key, stack[top].wantKey = key, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, level{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
		default:
			if bad {
				if p := path(stack); p != "" {
					return fmt.Errorf("body: field %q: not valid UTF-8; send the text as UTF-8", p)
				}
				return errors.New("body: not valid UTF-8; send the text as UTF-8")
			}
		}
		// A value ended: the next is its object's next field or its
		// array's next element, or, at the top, what follows the body's.
		if len(stack) == 0 {
			return nil
		}
		if l := &stack[len(stack)-1]; l.object {
			l.wantKey = true
		} else {
			l.index++
		}
	}
}
