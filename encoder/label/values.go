package label

import (
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
)

// ValueError names the variable whose value is missing or invalid.
type ValueError struct {
	Key, Value, Reason string
}

func (e *ValueError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Key, e.Reason)
	}
	return fmt.Sprintf("%s: %q %s", e.Key, e.Value, e.Reason)
}

// Unwrap returns ErrValue.
func (e *ValueError) Unwrap() error { return ErrValue }

// RecordKeys are the keys of a lot/carton record. A template that does
// not use one of them ignores it, so one record can feed every template;
// any other undeclared key is an error.
var RecordKeys = map[string]bool{"gtin": true, "lot": true, "expiry": true, "production": true, "qty": true,
	"sscc": true, "product": true, "description": true, "supplier": true, "po": true, "epc": true}

const cset82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

// Bind checks vals against the template's variables and returns the
// normalised values (GTINs padded to 14 digits, EPC hex upper-cased,
// defaults filled). Unknown keys, missing required values and invalid
// values are *ValueError.
func (t *Template) Bind(vals map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(t.Variables))
	declared := make(map[string]bool, len(t.Variables))
	for _, v := range t.Variables {
		declared[v.Name] = true
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !declared[k] && !RecordKeys[k] {
			names := make([]string, len(t.Variables))
			for i, v := range t.Variables {
				names[i] = v.Name
			}
			return nil, &ValueError{Key: k, Reason: fmt.Sprintf("template %s has no such key; it takes %s", t.Name, strings.Join(names, ", "))}
		}
	}
	for _, v := range t.Variables {
		val, ok := vals[v.Name]
		val = strings.TrimSpace(val)
		if !ok || val == "" {
			val = v.Default
		}
		if val == "" {
			if v.Required {
				return nil, &ValueError{Key: v.Name, Reason: fmt.Sprintf("missing; template %s requires it (%s)", t.Name, typeHelp(v))}
			}
			continue
		}
		norm, err := checkValue(v, val)
		if err != nil {
			return nil, &ValueError{Key: v.Name, Value: val, Reason: err.Error()}
		}
		if len(v.Choices) > 0 && !slices.Contains(v.Choices, norm) {
			return nil, &ValueError{Key: v.Name, Value: val, Reason: "is not one of " + strings.Join(v.Choices, ", ")}
		}
		out[v.Name] = norm
	}
	return out, nil
}

func typeHelp(v Variable) string {
	switch v.Type {
	case "gtin":
		return "a GTIN of 8, 12, 13 or 14 digits"
	case "sscc":
		return "an SSCC of 18 digits"
	case "lot":
		return "a lot code of 1 to 20 GS1 characters"
	case "date":
		return "a date as YYYY-MM-DD"
	case "int":
		return "a whole number from 1 to 99999999"
	case "epc":
		return "an EPC in hex, e.g. 3074257BF7194E4000001A85, or an EPC tag URI"
	}
	return v.Type
}

func checkValue(v Variable, val string) (string, error) {
	switch v.Type {
	case "gtin":
		if !allDigits(val) {
			return "", fmt.Errorf("is not a GTIN: use digits only")
		}
		switch len(val) {
		case 8, 12, 13, 14:
		default:
			return "", fmt.Errorf("is not a GTIN: %d digits; use 8, 12, 13 or 14", len(val))
		}
		val = gs1.GTIN14(val)
		if err := checkDigit(val); err != nil {
			return "", err
		}
		return val, nil
	case "sscc":
		if !allDigits(val) || len(val) != 18 {
			return "", fmt.Errorf("is not an SSCC: use 18 digits")
		}
		return val, checkDigit(val)
	case "lot", "cset82":
		max := v.MaxLen
		if max == 0 {
			max = 20
		}
		// The characters first: the length counts bytes, which are
		// characters only in CSET 82.
		for i, r := range val {
			if r >= utf8.RuneSelf || strings.IndexByte(cset82, byte(r)) < 0 {
				if _, n := utf8.DecodeRuneInString(val[i:]); r == utf8.RuneError && n <= 1 {
					return "", fmt.Errorf("is not valid UTF-8")
				}
				return "", fmt.Errorf("has %q at %d; GS1 allows A-Z a-z 0-9 and !\"%%&'()*+,-./:;<=>?_", r, utf8.RuneCountInString(val[:i]))
			}
		}
		if len(val) > max {
			return "", fmt.Errorf("is %d characters; at most %d", len(val), max)
		}
		return val, nil
	case "date":
		d, err := time.Parse("2006-01-02", val)
		if err != nil {
			return "", fmt.Errorf("is not a date: use YYYY-MM-DD, e.g. 2027-03-31")
		}
		if d.Year() < 1951 || d.Year() > 2149 {
			return "", fmt.Errorf("is outside the years a GS1 date (YYMMDD) can carry, 1951 to 2149")
		}
		return val, nil
	case "int":
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 99999999 {
			return "", fmt.Errorf("is not a whole number from 1 to 99999999")
		}
		return strconv.Itoa(n), nil
	case "epc":
		var e epc.EPC
		var err error
		if strings.HasPrefix(strings.ToLower(val), "urn:epc:") {
			e, err = epc.ParseURI(val)
		} else {
			e, err = epc.DecodeHex(val)
		}
		if err != nil {
			return "", fmt.Errorf("is not an EPC: %v; give the EPC bank in hex (e.g. 3074257BF7194E4000001A85) or a tag URI", err)
		}
		words := strings.ToUpper(hex.EncodeToString(e.Bytes()))
		if len(words)%4 != 0 || len(words) < 8 || len(words) > 124 {
			return "", fmt.Errorf("is %d bits; an EPC bank holds whole 16-bit words up to 496 bits", len(words)*4)
		}
		return words, nil
	default: // text
		max := v.MaxLen
		if max == 0 {
			max = 200
		}
		if !utf8.ValidString(val) {
			return "", fmt.Errorf("is not valid UTF-8")
		}
		if n := utf8.RuneCountInString(val); n > max {
			return "", fmt.Errorf("is %d characters; at most %d", n, max)
		}
		for _, r := range val {
			if unicode.IsControl(r) {
				return "", fmt.Errorf("contains control character %U; use printable text on one line", r)
			}
		}
		return val, nil
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func checkDigit(digits string) error {
	c, err := gs1.CheckDigit(digits[:len(digits)-1])
	if err != nil {
		return err
	}
	if c != digits[len(digits)-1] {
		return fmt.Errorf("has check digit %c; the right one is %c", digits[len(digits)-1], c)
	}
	return nil
}

// expand replaces {{var}} and {{var|filter}} with bound values (filters:
// yymmdd turns YYYY-MM-DD into YYMMDD, upper upper-cases).
func expand(s string, vals map[string]string) (string, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("%w: unclosed {{ in %q", ErrTemplate, s)
		}
		name, filter, _ := strings.Cut(s[i+2:i+j], "|")
		val := vals[strings.TrimSpace(name)]
		switch strings.TrimSpace(filter) {
		case "":
		case "upper":
			val = strings.ToUpper(val)
		case "yymmdd":
			if len(val) == 10 {
				val = val[2:4] + val[5:7] + val[8:10]
			}
		default:
			return "", fmt.Errorf("%w: unknown filter %q in %q; use yymmdd or upper", ErrTemplate, filter, s)
		}
		b.WriteString(val)
		s = s[i+j+2:]
	}
}
