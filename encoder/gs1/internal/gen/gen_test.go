package gen

import (
	"os"
	"reflect"
	"testing"
)

func TestParseDictionary(t *testing.T) {
	src, err := os.ReadFile("gs1-syntax-dictionary.txt")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if d.Release != "2026-01-27" {
		t.Errorf("Release = %q", d.Release)
	}
	byCode := map[string]Entry{}
	for _, e := range d.Entries {
		if _, dup := byCode[e.Code]; dup {
			t.Errorf("AI %s twice", e.Code)
		}
		byCode[e.Code] = e
	}
	for _, c := range []string{"3100", "3105", "3950", "3955", "91", "99", "7039"} {
		if _, ok := byCode[c]; !ok {
			t.Errorf("range member %s missing", c)
		}
	}
	gtin := byCode["01"]
	if !gtin.Predefined || !gtin.DLAttribute || !gtin.DLPKey || gtin.Title != "GTIN" {
		t.Errorf("01 = %+v", gtin)
	}
	if want := [][]string{{"22", "10", "21"}, {"235"}}; !reflect.DeepEqual(gtin.DLQuals, want) {
		t.Errorf("01 dlpkey = %v", gtin.DLQuals)
	}
	if want := []Component{{Charset: 'N', Min: 14, Max: 14, Linters: []string{"csum", "gcppos2"}}}; !reflect.DeepEqual(gtin.Components, want) {
		t.Errorf("01 components = %+v", gtin.Components)
	}
	// Two req= keys, '+' groups.
	if want := [][][]string{{{"01"}, {"8006"}}, {{"21"}}}; !reflect.DeepEqual(byCode["250"].Req, want) {
		t.Errorf("250 req = %v", byCode["250"].Req)
	}
	if want := [][][]string{{{"01", "10"}}}; !reflect.DeepEqual(byCode["7004"].Req, want) {
		t.Errorf("7004 req = %v", byCode["7004"].Req)
	}
	// Optional components carry their linters.
	c := byCode["423"].Components
	if len(c) != 5 || !c[1].Optional || c[1].Linters[0] != "iso3166" || c[0].Optional {
		t.Errorf("423 components = %+v", c)
	}
	if e := byCode["8110"]; e.Title != "" || len(e.Components) != 1 {
		t.Errorf("8110 = %+v", e)
	}
}

func TestParseRejects(t *testing.T) {
	for _, src := range []string{
		"# Release: x\n01 *? \n",
		"# Release: x\n01 *? N14 bogus\n",
		"01 *? N14\n",
		"# Release: x\n3105-3100 N6\n",
		"# Release: x\n01 N1a4\n",
		"# Release: x\n01 [N14\n",
		"# Release: x\nAB N14\n",
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("Parse(%q) succeeded", src)
		}
	}
}
