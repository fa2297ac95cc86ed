package epc

import (
	"errors"
	"testing"
)

func TestCompanyPrefixTable(t *testing.T) {
	tab, err := NewCompanyPrefixTable([]CompanyPrefixEntry{
		{Prefix: "0614141", Length: 7},
		{Prefix: "95", Length: 11},
		{Prefix: "950600", Length: 9},  // a longer prefix wins
		{Prefix: "0614141", Length: 7}, // the same entry twice is fine
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		scheme Scheme
		v      Values
		want   int
	}{
		{SGTIN96, Values{GTIN: "80614141123458"}, 7},
		{SGTIN96, Values{GTIN: "09506000134352"}, 9},
		{SGTIN96, Values{GTIN: "9512345000016"}, 11}, // GTIN-13
		{SSCC96, Values{SSCC: "106141412345678908"}, 7},
		{SGLN96, Values{GLN: "0614141123452"}, 7},
		{GRAI96, Values{GRAI: "00614141123452"}, 7},
		{GIAI96, Values{GIAI: "06141415678"}, 7},
		{GDTI96, Values{GDTI: "0614141123452"}, 7},
		{GSRN96, Values{GSRN: "061414112345678902"}, 7},
	}
	for _, tt := range tests {
		got, err := tab.ForValues(tt.scheme, tt.v)
		if err != nil || got != tt.want {
			t.Errorf("%v %+v: %d %v, want %d", tt.scheme, tt.v, got, err, tt.want)
		}
	}
	if _, err := tab.ForGTIN("04012345000009"); !errors.Is(err, ErrCompanyPrefix) {
		t.Errorf("unknown prefix: %v", err)
	}
	if _, err := tab.ForGTIN("04012345000008"); !errors.Is(err, ErrCheckDigit) {
		t.Errorf("bad GTIN: %v", err)
	}
	if n := len(tab.Entries()); n != 3 {
		t.Errorf("%d entries", n)
	}
	var none *CompanyPrefixTable
	if _, ok := none.Lookup("0614141"); ok {
		t.Error("nil table found a prefix")
	}
	for _, bad := range [][]CompanyPrefixEntry{
		{{Prefix: "", Length: 7}},
		{{Prefix: "06A", Length: 7}},
		{{Prefix: "0614141", Length: 5}},
		{{Prefix: "0614141", Length: 7}, {Prefix: "0614141", Length: 8}},
	} {
		if _, err := NewCompanyPrefixTable(bad); !errors.Is(err, ErrCompanyPrefix) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestParseGCPPrefixFormatList(t *testing.T) {
	tab, err := ParseGCPPrefixFormatList([]byte(`{"GCPPrefixFormatList":{"entry":[
		{"prefix":"0614141","gcpLength":7},{"prefix":"977","gcpLength":0},{"prefix":"95","gcpLength":11},
		{"prefix":"40","gcpLength":7},{"prefix":"401234","gcpLength":0},{"prefix":"0000123","gcpLength":4}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	for digits, want := range map[string]int{"061414112345": 7, "95000000000": 11, "4099999999": 7, "00001239999": 4} {
		if n, ok := tab.Lookup(digits); !ok || n != want {
			t.Errorf("%s: %d %v, want %d", digits, n, ok, want)
		}
	}
	// Length 0: no company prefix there, also under a shorter entry.
	for _, digits := range []string{"9771234", "4012345678"} {
		if n, ok := tab.Lookup(digits); ok {
			t.Errorf("%s: length %d in a range without company prefixes", digits, n)
		}
	}
	// A 4-digit company prefix has no EPC binary encoding: it says so.
	if _, err := NewSSCC96(2, 4, "100001234567890125"); !errors.Is(err, ErrCompanyPrefix) {
		t.Errorf("SSCC-96 with a 4-digit company prefix: %v", err)
	}
	// With: later entries replace the table's.
	tab2, err := tab.With([]CompanyPrefixEntry{{Prefix: "401234", Length: 8}, {Prefix: "95", Length: 9}})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := tab2.Lookup("4012345678"); !ok || n != 8 {
		t.Errorf("overridden 401234: %d %v", n, ok)
	}
	if n, _ := tab2.Lookup("95000000000"); n != 9 {
		t.Errorf("overridden 95: %d", n)
	}
	if n, _ := tab.Lookup("95000000000"); n != 11 {
		t.Errorf("With changed the original table: %d", n)
	}
	if _, err := tab.With([]CompanyPrefixEntry{{Prefix: "95", Length: 5}}); !errors.Is(err, ErrCompanyPrefix) {
		t.Errorf("With of a 5-digit length: %v", err)
	}
	if _, err := ParseGCPPrefixFormatList([]byte("{")); !errors.Is(err, ErrCompanyPrefix) {
		t.Errorf("bad JSON: %v", err)
	}
}

// GS1's list is outside bytes: any input gives a table or an error, and a
// table answers every lookup.
func FuzzParseGCPPrefixFormatList(f *testing.F) {
	f.Add([]byte(`{"GCPPrefixFormatList":{"entry":[{"prefix":"0614141","gcpLength":7},{"prefix":"401234","gcpLength":0}]}}`), "06141412345")
	f.Add([]byte(`{"GCPPrefixFormatList":{"entry":[{"prefix":"95","gcpLength":-3}]}}`), "95")
	f.Add([]byte(`{`), "")
	f.Fuzz(func(t *testing.T, b []byte, digits string) {
		tab, err := ParseGCPPrefixFormatList(b)
		if err != nil {
			if !errors.Is(err, ErrCompanyPrefix) {
				t.Fatalf("error %v does not wrap ErrCompanyPrefix", err)
			}
			return
		}
		if n, ok := tab.Lookup(digits); ok && (n < 1 || n > 12) {
			t.Fatalf("length %d", n)
		}
		_, _ = tab.ForSSCC(digits)
		_, _ = tab.ForGTIN(digits)
	})
}
