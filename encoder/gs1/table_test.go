package gs1

import (
	"bytes"
	"os"
	"testing"

	"github.com/dockgate/dockgate/encoder/gs1/internal/gen"
)

// TestTableUpToDate regenerates the AI table from the dictionary in memory
// and compares it with the committed table_gen.go.
func TestTableUpToDate(t *testing.T) {
	src, err := os.ReadFile("internal/gen/gs1-syntax-dictionary.txt")
	if err != nil {
		t.Fatal(err)
	}
	want, err := gen.Generate(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("table_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("table_gen.go is stale: run \"go generate ./encoder/gs1\"")
	}
	if DictionaryRelease != "2026-01-27" {
		t.Errorf("DictionaryRelease = %q", DictionaryRelease)
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		ai         string
		title      string
		predefined bool
		fixed      int
		pkey       bool
		attr       bool
	}{
		{"00", "SSCC", true, 18, true, true},
		{"01", "GTIN", true, 14, true, true},
		{"10", "BATCH/LOT", false, 0, false, true},
		{"17", "USE BY or EXPIRY", true, 6, false, true},
		{"21", "SERIAL", false, 0, false, false},
		{"3103", "NET WEIGHT (kg)", true, 6, false, true},
		{"400", "ORDER NUMBER", false, 0, false, true},
		{"414", "LOC No.", true, 13, true, true},
		{"8111", "POINTS", false, 4, false, true}, // N4 but not predefined: needs FNC1
		{"99", "INTERNAL", false, 0, false, true},
	}
	for _, tt := range tests {
		a, ok := Lookup(tt.ai)
		if !ok {
			t.Fatalf("Lookup(%q) not found", tt.ai)
		}
		if a.Code != tt.ai || a.Title != tt.title || a.Predefined != tt.predefined || a.FixedLen() != tt.fixed || a.DLPrimaryKey != tt.pkey || a.DLAttribute != tt.attr {
			t.Errorf("Lookup(%q) = %+v", tt.ai, a)
		}
	}
	for _, bad := range []string{"", "0", "04", "23", "3106", "12345", "1a"} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found an AI", bad)
		}
	}
	a, _ := Lookup("01")
	if len(a.DLQualifiers) != 2 || a.DLQualifiers[0][0] != "22" || a.DLQualifiers[1][0] != "235" {
		t.Errorf("01 qualifiers = %v", a.DLQualifiers)
	}
	q, _ := Lookup("10")
	if !q.IsDLQualifier() {
		t.Error("(10) should be a Digital Link key qualifier")
	}
	if n := len(AIs()); n < 500 {
		t.Errorf("table has %d AIs", n)
	}
}

// Every AI whose first two digits are 00-04, 11-20, 31-36 or 41 needs no
// separator (GenSpecs figure 7.8.4-2); the dictionary's '*' flag must agree.
func TestPredefinedPrefixes(t *testing.T) {
	pre := map[string]bool{}
	for _, p := range []string{"00", "01", "02", "03", "04", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "31", "32", "33", "34", "35", "36", "41"} {
		pre[p] = true
	}
	for _, a := range AIs() {
		if a.Predefined != pre[a.Code[:2]] {
			t.Errorf("AI (%s): Predefined = %v, want %v", a.Code, a.Predefined, pre[a.Code[:2]])
		}
	}
}

func TestUnimplementedLinters(t *testing.T) {
	if got := UnimplementedLinters(); len(got) != 0 {
		t.Fatalf("UnimplementedLinters() = %v, want none", got)
	}
}

func TestGenParseErrors(t *testing.T) {
	for _, src := range []string{
		"# Release: x\n01 *? \n",
		"# Release: x\n01 *? N14 bogus\n",
		"01 *? N14\n",
		"# Release: x\n3105-3100 N6\n",
	} {
		if _, err := gen.Generate([]byte(src)); err == nil {
			t.Errorf("Generate(%q) succeeded", src)
		}
	}
}
