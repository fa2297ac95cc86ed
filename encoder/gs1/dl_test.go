package gs1

import (
	"errors"
	"reflect"
	"testing"
)

func TestParseDigitalLink(t *testing.T) {
	tests := []struct {
		uri  string
		want []Element
	}{
		{"https://id.gs1.org/01/09520123456788", els("01", "09520123456788")},
		{"http://example.com/01/09520123456788/", els("01", "09520123456788")},
		{"HTTPS://example.com/some/prefix/01/09520123456788/22/2A/10/ABC/21/S1?17=251231&linkType=gs1:pip#frag",
			els("01", "09520123456788", "22", "2A", "10", "ABC", "21", "S1", "17", "251231")},
		{"https://id.gs1.org/01/09520123456788/235/TPX1", els("01", "09520123456788", "235", "TPX1")},
		{"https://id.gs1.org/01/09520123456788/10/A%2FB%2bC%25D%26E%3FF", els("01", "09520123456788", "10", "A/B+C%D&E?F")},
		{"https://id.gs1.org/00/095012345678901237?02=09520123456788&37=12", els("00", "095012345678901237", "02", "09520123456788", "37", "12")},
		{"https://id.gs1.org/414/9520123456788/254/EXT1", els("414", "9520123456788", "254", "EXT1")},
		{"https://id.gs1.org/8004/9520123ABC/7040/1ABC", els("8004", "9520123ABC", "7040", "1ABC")},
		{"https://id.gs1.org/01/09520123456788/10/A%23G", nil}, // '#' is not in CSET 82
		// The same attribute twice with the same value is one element.
		{"https://id.gs1.org/01/09520123456788?17=251231&17=251231", els("01", "09520123456788", "17", "251231")},
		// Empty query parameters are skipped.
		{"https://id.gs1.org/01/09520123456788?&&17=251231&", els("01", "09520123456788", "17", "251231")},
	}
	for _, tt := range tests {
		m, err := ParseDigitalLink(tt.uri)
		if tt.want == nil {
			if !errors.Is(err, ErrCharset) {
				t.Errorf("ParseDigitalLink(%q) = %v, want ErrCharset", tt.uri, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDigitalLink(%q): %v", tt.uri, err)
			continue
		}
		if !reflect.DeepEqual(m.Elements, tt.want) {
			t.Errorf("ParseDigitalLink(%q) = %v, want %v", tt.uri, m.Elements, tt.want)
		}
	}
}

func TestParseDigitalLinkErrors(t *testing.T) {
	tests := []struct {
		uri      string
		sentinel error
		ai       string
	}{
		{"https://id.gs1.org/01/09520123456788?10=ABC", ErrDigitalLink, "10"},            // qualifier as query
		{"https://id.gs1.org/01/09520123456788?21=S1", ErrDigitalLink, "21"},             // qualifier as query
		{"https://id.gs1.org/01/09520123456788/21/S1/10/ABC", ErrDigitalLink, "10"},      // bad order
		{"https://id.gs1.org/01/09520123456788/10/ABC/22/X", ErrDigitalLink, "22"},       // bad order
		{"https://id.gs1.org/01/09520123456788/22/X/235/TPX", ErrDigitalLink, "235"},     // mixed alternatives
		{"https://id.gs1.org/01/9520123456788", ErrDigitalLink, "01"},                    // GTIN-13
		{"https://id.gs1.org/01/95201234", ErrDigitalLink, "01"},                         // GTIN-8 (zero-suppressed)
		{"https://id.gs1.org/01/09520123456789", ErrCheckDigit, "01"},                    // bad check digit
		{"https://id.gs1.org/01/09520123456788?17=250229", ErrDate, "17"},                // bad date
		{"https://id.gs1.org/01/09520123456788?8200=http", ErrDigitalLink, "8200"},       // not an attribute
		{"https://id.gs1.org/01/09520123456788?99999=1", ErrUnknownAI, "99999"},          // unknown AI
		{"https://id.gs1.org/01/09520123456788/10/A%2", ErrSyntax, ""},                   // bad escape
		{"https://id.gs1.org/10/ABC", ErrDigitalLink, ""},                                // no primary key
		{"https://id.gs1.org/", ErrDigitalLink, ""},                                      // no path
		{"https://id.gs1.org", ErrDigitalLink, ""},                                       // no path
		{"ftp://id.gs1.org/01/09520123456788", ErrSyntax, ""},                            // scheme
		{"https://id.gs1.org/01/09520123456788?17=251231&17=260101", ErrDuplicate, "17"}, // duplicate
		{"https://id.gs1.org/01/09520123456788?37=5", ErrAssociation, ""},                // (01) with (37)
		{"https://id.gs1.org/01//10/A", ErrSyntax, "01"},                                 // empty value
	}
	for _, tt := range tests {
		_, err := ParseDigitalLink(tt.uri)
		if !errors.Is(err, tt.sentinel) {
			t.Errorf("ParseDigitalLink(%q) = %v, want %v", tt.uri, err, tt.sentinel)
			continue
		}
		var e *Error
		if errors.As(err, &e) && tt.ai != "" && e.AI != tt.ai {
			t.Errorf("ParseDigitalLink(%q): AI = %q, want %q (%v)", tt.uri, e.AI, tt.ai, err)
		}
	}
}

func TestZeroSuppressedGTINOption(t *testing.T) {
	for _, uri := range []string{"https://id.gs1.org/01/9520123456788", "https://id.gs1.org/01/009520123456788"[0:0] + "https://id.gs1.org/01/95012346"} {
		m, err := ParseDigitalLinkWith(uri, DigitalLinkOptions{AllowZeroSuppressedGTIN: true})
		if err != nil {
			t.Errorf("%s: %v", uri, err)
			continue
		}
		if v, _ := m.Get("01"); len(v) != 14 {
			t.Errorf("%s: GTIN %q not padded to 14 digits", uri, v)
		}
	}
}

func TestBuildDigitalLink(t *testing.T) {
	tests := []struct {
		els    []Element
		domain string
		want   string
	}{
		// Qualifiers go to the path in dictionary order whatever the message order.
		{els("21", "S1", "17", "251231", "01", "09520123456788", "10", "L1", "22", "CPV"), "",
			"https://id.gs1.org/01/09520123456788/22/CPV/10/L1/21/S1?17=251231"},
		{els("01", "09520123456788", "235", "T1"), "example.com", "https://example.com/01/09520123456788/235/T1"},
		{els("01", "09520123456788"), "http://example.com/dl/", "http://example.com/dl/01/09520123456788"},
		{els("01", "09520123456788", "3103", "000195", "17", "251231"), "", "https://id.gs1.org/01/09520123456788?3103=000195&17=251231"},
		{els("01", "09520123456788", "10", "A B/C"), "", "https://id.gs1.org/01/09520123456788/10/A%20B%2FC"},
	}
	for _, tt := range tests {
		got, err := Message{Elements: tt.els}.DigitalLink(tt.domain)
		if err != nil || got != tt.want {
			t.Errorf("DigitalLink(%v, %q) = %q, %v; want %q", tt.els, tt.domain, got, err, tt.want)
		}
	}
	for _, d := range []string{"bad domain", "x.com?q", "x.com#f", "x\x01"} {
		if _, err := (Message{Elements: els("01", "09520123456788")}).DigitalLink(d); !errors.Is(err, ErrSyntax) {
			t.Errorf("DigitalLink(domain %q) = %v", d, err)
		}
	}
	for _, bad := range [][]Element{
		els("10", "L1"),                                    // no primary key
		els("01", "09520123456788", "8200", "x"),           // not an attribute
		els("01", "09520123456788", "21", "S", "235", "T"), // qualifiers from two alternatives
	} {
		if _, err := (Message{Elements: bad}).DigitalLink(""); !errors.Is(err, ErrDigitalLink) {
			t.Errorf("DigitalLink(%v) = %v", bad, err)
		}
	}
}
