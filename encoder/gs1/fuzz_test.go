package gs1

import (
	"reflect"
	"testing"
)

// roundTrip checks that an accepted message reads back unchanged from every
// form it can be written in.
func roundTrip(t *testing.T, m Message) {
	t.Helper()
	if err := Validate(m); err != nil {
		t.Fatalf("accepted message fails Validate: %v (%v)", err, m.Elements)
	}
	hri := m.HRI()
	if b, err := ParseHRI(hri); err != nil || !reflect.DeepEqual(b.Elements, m.Elements) {
		t.Fatalf("HRI %q read back as %v, %v; want %v", hri, b.Elements, err, m.Elements)
	}
	es := m.ElementString()
	if b, err := ParseElementString(es); err != nil || !reflect.DeepEqual(b.Elements, m.Elements) {
		t.Fatalf("element string %q read back as %v, %v; want %v", es, b.Elements, err, m.Elements)
	}
	for _, sym := range []string{"]C1", "]d2", ""} {
		sd := m.ScanData(sym)
		b, got, err := ParseScanData([]byte(sd))
		if err != nil || !reflect.DeepEqual(b.Elements, m.Elements) {
			t.Fatalf("scan data %q read back as %v, %v; want %v", sd, b.Elements, err, m.Elements)
		}
		if sym != "" && got != sym {
			t.Fatalf("scan data %q: symbology %q", sd, got)
		}
	}
	ordered := Message{Elements: OrderForSymbol(m.Elements)}
	if b, err := ParseElementString(ordered.ElementString()); err != nil || !sameSet(b.Elements, m.Elements) {
		t.Fatalf("ordered element string read back as %v, %v", b.Elements, err)
	}
	dl, err := m.DigitalLink("example.com")
	if err != nil {
		return // no primary key, or an AI a URI cannot carry
	}
	b, err := ParseDigitalLink(dl)
	if err != nil || !sameSet(b.Elements, m.Elements) {
		t.Fatalf("Digital Link %q read back as %v, %v; want %v", dl, b.Elements, err, m.Elements)
	}
	if dl2, err := b.DigitalLink("example.com"); err != nil || dl2 != dl {
		t.Fatalf("Digital Link %q rebuilt as %q, %v", dl, dl2, err)
	}
}

func TestRoundTrips(t *testing.T) {
	for _, in := range fuzzSeeds {
		m, err := Parse(in)
		if err != nil {
			continue
		}
		roundTrip(t, m)
	}
}

var fuzzSeeds = []string{
	"(01)09520123456788(10)ABC123(17)251231",
	"^010952012345678810ABC123^17251231",
	"]C1010952012345678810ABC123\x1d17251231",
	"]d2010952012345678810ABC1\x1d2112345\x1d17180426",
	"]Q3(01)",
	"]Q1https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
	"https://example.com/x/01/09520123456788/22/C%2F1/10/L%25?3103=000195&linkType=all",
	"(00)095012345678901237(02)09520123456788(37)24(10)LOT-7(3103)000195",
	"(414)9520123456788(254)32a%2Fb",
	"(01)09520123456788(10)L\\(A)(21)X(Y",
	"(255)9520123456788(8111)0100(17)251231",
	"(8006)095201234567880203(10)X",
	"(00)095012345678901237(4300)AB%2FC(4307)DE(4321)1",
	"(415)9520123456788(8020)R1(8007)GB82WEST12345698765432",
	"(8013)1987654Ad4X4bL5ttr2310c2K",
	"(01)09520123456788(8200)https://example.com",
	"^0109520123456788^",
	"(01)0952012345678",
	"\x1d0109520123456788",
	"https://id.gs1.org/01/9520123456788",
	"(8010)0123ABC(8011)0(8030)QUJD",
	"(253)9520123456788ABC(8030)QUJD==",
}

// FuzzParse: no input panics, and every accepted input survives
// parse→build→parse unchanged in every form.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		m, err := Parse(in)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			return
		}
		roundTrip(t, m)
	})
}

// FuzzScanData feeds raw scanner bytes.
func FuzzScanData(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, _, err := ParseScanData(b)
		if err != nil {
			return
		}
		roundTrip(t, m)
	})
}

// FuzzDigitalLink feeds URIs: no panic, and an accepted URI gives a message
// whose rebuilt URI reads back the same.
func FuzzDigitalLink(f *testing.F) {
	for _, s := range []string{
		"https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
		"https://example.com/a/b/01/09520123456788/22/X%2FY/10/L?3103=000195&linkType=all#x",
		"http://h/00/095012345678901237?02=09520123456788&37=24",
		"https://h/414/9520123456788/254/A%25",
		"https://h/8004/9520123ABC/7040/1ABC",
		"https://id.gs1.org/01/9520123456788",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		m, err := ParseDigitalLink(uri)
		if err != nil {
			return
		}
		roundTrip(t, m)
	})
}
