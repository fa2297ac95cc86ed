package gs1

import (
	"errors"
	"strings"
	"testing"
)

// sampleComponent builds a value for one component that its linters accept.
func sampleComponent(t *testing.T, c Component) string {
	t.Helper()
	n := c.Min
	if c.Min != c.Max {
		n = min(c.Max, 6)
	}
	has := func(name string) bool {
		for _, l := range c.Linters {
			if l.String() == name {
				return true
			}
		}
		return false
	}
	fixed := map[string]string{
		"yymmd0": "250100", "yymmdd": "250101", "yyyymmdd": "20240229", "hhmi": "2359", "hh": "23", "mi": "59", "ss": "59",
		"iso3166": "276", "iso3166999": "999", "iso3166alpha2": "DE", "iso4217": "978", "iso5218": "9",
		"mediatype": "80", "winding": "9", "yesno": "1", "zero": "0", "hyphen": "-", "importeridx": "_",
		"packagetype": "PX", "posinseqslash": "2/3", "iban": "GB82WEST12345698765432",
		"latitude": "1800000000", "longitude": "3600000000", "pieceoftotal": "0202", "pcenc": "A%2FB",
		"couponcode": "012345612345611110123", "couponposoffer": "001234561234560123456",
	}
	for name, v := range fixed {
		if has(name) {
			return v
		}
	}
	switch {
	case has("csum"):
		body := strings.Repeat("0952012345678901234567890", 2)[:n-1]
		cd, err := CheckDigit(body)
		if err != nil {
			t.Fatal(err)
		}
		return body + string(cd)
	case has("csumalpha"):
		n = max(n, 7)
		body := ("1234" + strings.Repeat("Ab", 20))[:n-2]
		pair, err := CheckPair(body)
		if err != nil {
			t.Fatal(err)
		}
		return body + pair
	}
	switch c.Charset {
	case CharsetN:
		return strings.Repeat("1", n)
	case CharsetZ:
		return strings.Repeat("Q", n)
	default:
		return strings.Repeat("1", min(n, 4)) + strings.Repeat("A", n-min(n, 4))
	}
}

// TestEveryAIOfTheDictionary builds a value for every AI from its
// components and checks that it is accepted, and that a value that is too
// long, or that has a letter where digits belong, is rejected.
func TestEveryAIOfTheDictionary(t *testing.T) {
	for _, a := range AIs() {
		var v strings.Builder
		for _, c := range a.Components {
			v.WriteString(sampleComponent(t, c))
		}
		good := v.String()
		if err := ValidateValue(a.Code, good); err != nil {
			t.Errorf("AI (%s) %q: %v", a.Code, good, err)
			continue
		}
		long := good + strings.Repeat("9", a.MaxLen())
		if err := ValidateValue(a.Code, long); err == nil {
			t.Errorf("AI (%s): too long value %q accepted", a.Code, long)
		}
		if a.Components[0].Charset == CharsetN {
			bad := "A" + good[1:]
			if err := ValidateValue(a.Code, bad); !errors.Is(err, ErrCharset) {
				t.Errorf("AI (%s): %q gave %v, want ErrCharset", a.Code, bad, err)
			}
		}
		if mn := a.MinLen(); mn > 1 {
			if err := ValidateValue(a.Code, good[:mn-1]); err == nil {
				t.Errorf("AI (%s): too short value %q accepted", a.Code, good[:mn-1])
			}
		}
		// The element string of a predefined-length AI needs no separator.
		m := Message{Elements: []Element{{AI: a.Code, Value: good}, {AI: "90", Value: "X"}}}
		es := m.ElementString()
		if a.Predefined == strings.Contains(es[1:], "^") {
			t.Errorf("AI (%s): element string %q", a.Code, es)
		}
	}
}
