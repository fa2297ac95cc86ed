package epc

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/encoder/gs1"
)

// The hex values below were assembled bit by bit outside this package from
// TDS §14.5 and Table F.
func TestAIDCDecode(t *testing.T) {
	e, err := DecodeHex("F7B795211411234538566CB0AFC42E6B3E2047578000")
	if err != nil {
		t.Fatal(err)
	}
	want := []gs1.Element{{AI: "17", Value: "261231"}, {AI: "10", Value: "ABC"}}
	if !e.AIDC() || !reflect.DeepEqual(e.AIDCElements(), want) {
		t.Fatalf("AIDC %v %v", e.AIDC(), e.AIDCElements())
	}
	if e.BitLen() != 163 || e.Hex() != "F7B795211411234538566CB0AFC42E6B3E2047578" {
		t.Errorf("%d bits, hex %s", e.BitLen(), e.Hex())
	}
	if got := e.GS1(); got != "(01)79521141123453(21)32a/b(17)261231(10)ABC" {
		t.Errorf("GS1 %s", got)
	}
	dl, err := e.DigitalLink("")
	if err != nil || dl != "https://id.gs1.org/01/79521141123453/10/ABC/21/32a%2Fb?17=261231" {
		t.Errorf("DigitalLink %s %v", dl, err)
	}
	if g, err := ParseGS1(dl, SGTINPlus, 3, 0); err != nil || !sameElements(g, e) {
		t.Errorf("ParseGS1(%s) = %s %v", dl, g.GS1(), err)
	}
	g, _ := ParseGS1(e.GS1(), SGTINPlus, 3, 0)
	if g != e {
		t.Errorf("ParseGS1 encodes %s, want %s", g.Hex(), e.Hex())
	}
	base, _ := DecodeHex("F73795211411234538566CB0AFC4")
	w, err := base.WithAIDC(want...)
	if err != nil || w != e {
		t.Errorf("WithAIDC = %s %v", w.Hex(), err)
	}
	none, err := e.WithAIDC()
	if err != nil || none != base {
		t.Errorf("WithAIDC() = %s %v, want %s", none.Hex(), err, base.Hex())
	}
}

func TestPlusVectors(t *testing.T) {
	d, err := DecodeHex("FB14359F0950600013435226ABC12300")
	if err != nil {
		t.Fatal(err)
	}
	if date, typ, _ := d.Date(); d.Scheme() != DSGTINPlus || date != "261231" || typ != DateExpiration || d.GTIN() != "09506000134352" || d.Serial() != "ABC123" || d.BitLen() != 120 {
		t.Errorf("DSGTIN+: %v %s %v %s %s %d", d.Scheme(), date, typ, d.GTIN(), d.Serial(), d.BitLen())
	}
	s, err := DecodeHex("F96106141412345678908000")
	if err != nil {
		t.Fatal(err)
	}
	if s.Scheme() != SSCCPlus || s.Filter() != 6 || s.SSCC() != "106141412345678908" || s.BitLen() != 84 || s.Hex() != "F96106141412345678908" {
		t.Errorf("SSCC+: %v %d %s %d %s", s.Scheme(), s.Filter(), s.SSCC(), s.BitLen(), s.Hex())
	}
}

func TestAIDCErrors(t *testing.T) {
	base, _ := NewSGTINPlus(1, "09506000134352", "1")
	tests := []struct {
		name string
		els  []gs1.Element
		rule string
	}{
		{"own AI", []gs1.Element{{AI: "21", Value: "2"}}, "already part"},
		{"not in Table F", []gs1.Element{{AI: "03", Value: "09506000134352"}}, "Table F"},
		{"bad date", []gs1.Element{{AI: "17", Value: "261332"}}, "AI (17)"},
		{"too long", []gs1.Element{{AI: "91", Value: strings.Repeat("x", 90)}, {AI: "92", Value: strings.Repeat("x", 90)}}, "496 bits"},
		{"not in Table F either", []gs1.Element{{AI: "8014", Value: "A1"}}, "Table F"},
	}
	for _, tt := range tests {
		_, err := base.WithAIDC(tt.els...)
		if !errors.Is(err, ErrAIDC) && !errors.Is(err, ErrLength) || err == nil || !strings.Contains(err.Error(), tt.rule) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// (4321) needs (00): fine after an SSCC+, not after an SGTIN+.
	if _, err := base.WithAIDC(gs1.Element{AI: "4321", Value: "1"}); !errors.Is(err, ErrAIDC) || !strings.Contains(err.Error(), "requires (00)") {
		t.Errorf("(4321) after SGTIN+: %v", err)
	}
	ss, _ := NewSSCCPlus(6, "106141412345678908")
	if w, err := ss.WithAIDC(gs1.Element{AI: "4321", Value: "1"}); err != nil || w.GS1() != "(00)106141412345678908(4321)1" {
		t.Errorf("(4321) after SSCC+: %v %s", err, w.GS1())
	}
	sg, _ := DecodeHex("3074257BF7194E4000001A85")
	if _, err := sg.WithAIDC(gs1.Element{AI: "10", Value: "A"}); !errors.Is(err, ErrScheme) {
		t.Errorf("sgtin-96 with AIDC: %v", err)
	}
	// Decoding: a reserved data header, an AI no AI starts like, a value
	// cut short. The EPC ends at bit 111, so "5" + "4" puts 0xA2 there.
	for _, h := range []string{
		"F7B795211411234538566CB0AFC5" + "4000", // header A2: reserved
		"F7B795211411234538566CB0AFC4" + "1C00", // header 38: no such AI
		"F7B795211411234538566CB0AFC4" + "2E6B", // (17) cut short
	} {
		if _, err := DecodeHex(h); err == nil {
			t.Errorf("DecodeHex(%s) accepted", h)
		}
	}
	if _, err := DecodeHex("F7B795211411234538566CB0AFC4"); !errors.Is(err, ErrAIDC) {
		t.Errorf("toggle without data: %v", err)
	}
}

// sameElements reports whether a and b carry the same GS1 elements, in any
// order.
func sameElements(a, b EPC) bool {
	x, y := a.GS1Message().Elements, b.GS1Message().Elements
	if len(x) != len(y) {
		return false
	}
	m := map[gs1.Element]int{}
	for _, el := range x {
		m[el]++
	}
	for _, el := range y {
		m[el]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestAIDCRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(20261126, 7))
	gen := []func() gs1.Element{
		func() gs1.Element { return gs1.Element{AI: "10", Value: randString(r, cset82Chars, 20)} },
		func() gs1.Element { return gs1.Element{AI: "17", Value: "2612" + padded(uint64(r.IntN(32)), 2)} },
		func() gs1.Element { return gs1.Element{AI: "11", Value: "250228"} },
		func() gs1.Element { return gs1.Element{AI: "7003", Value: "2512312359"} },
		func() gs1.Element { return gs1.Element{AI: "30", Value: randDigits(r, 1+r.IntN(8))} },
		func() gs1.Element { return gs1.Element{AI: "3103", Value: randDigits(r, 6)} },
		func() gs1.Element {
			return gs1.Element{AI: "8008", Value: []string{"25123123", "2512312359", "251231235959"}[r.IntN(3)]}
		},
		func() gs1.Element { return gs1.Element{AI: "7011", Value: []string{"251231", "2512312359"}[r.IntN(2)]} },
		func() gs1.Element {
			return gs1.Element{AI: "7007", Value: []string{"251231", "251201251231"}[r.IntN(2)]}
		},
		func() gs1.Element { return gs1.Element{AI: "4307", Value: "DE"} },
		func() gs1.Element { return gs1.Element{AI: "422", Value: "276"} },
		func() gs1.Element {
			return gs1.Element{AI: "4330", Value: randDigits(r, 6) + []string{"", "-"}[r.IntN(2)]}
		},
		func() gs1.Element {
			return gs1.Element{AI: "253", Value: "0614141123452" + randDigits(r, 1+r.IntN(17))}
		},
		func() gs1.Element {
			return gs1.Element{AI: "8004", Value: "0614141" + []string{"12345", "1A-B", "0"}[r.IntN(3)]}
		},
		func() gs1.Element { return gs1.Element{AI: "7023", Value: "12" + randString(r, "ABC", 5)} },
		func() gs1.Element { return gs1.Element{AI: "3910", Value: "978" + randDigits(r, 1+r.IntN(15))} },
		func() gs1.Element {
			return gs1.Element{AI: "8003", Value: "00614141123452" + randString(r, "ABC12", 16)}
		},
		func() gs1.Element { return gs1.Element{AI: "00", Value: "106141412345678908"} },
		func() gs1.Element { return gs1.Element{AI: "4309", Value: randDigits(r, 20)} },
		func() gs1.Element { return gs1.Element{AI: "91", Value: randString(r, cset82Chars, 40)} },
	}
	checked := 0
	for i := 0; i < 400; i++ {
		var els []gs1.Element
		seen := map[string]bool{}
		for k := 0; k < 1+r.IntN(3); k++ {
			el := gen[r.IntN(len(gen))]()
			if seen[el.AI] || el.AI == "00" && i%3 == 2 {
				continue
			}
			seen[el.AI] = true
			els = append(els, el)
		}
		var e EPC
		var err error
		switch i % 3 {
		case 0:
			e, err = NewSGTINPlus(r.IntN(8), withCheckDigit(randDigits(r, 13)), randString(r, cset82Chars, 20))
		case 1:
			e, err = NewDSGTINPlus(r.IntN(8), DateProduction, "260101", withCheckDigit(randDigits(r, 13)), randDigits(r, 1+r.IntN(20)))
		case 2:
			e, err = NewSSCCPlus(r.IntN(8), withCheckDigit(randDigits(r, 17)))
		}
		if err != nil {
			t.Fatal(err)
		}
		w, err := e.WithAIDC(els...)
		if errors.Is(err, ErrLength) {
			continue // more than 496 bits
		}
		all := gs1.Message{Elements: append(e.GS1Message().Elements, els...)}
		if gs1.Validate(all) != nil {
			if !errors.Is(err, ErrAIDC) {
				t.Fatalf("%v: GS1 rejects the data, WithAIDC says %v", all, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v with %v: %v", e.Scheme(), els, err)
		}
		if got := w.AIDCElements(); !reflect.DeepEqual(got, els) {
			t.Fatalf("%v: AIDC %v, want %v", w.Hex(), got, els)
		}
		roundTrip(t, w, 0)
		checked++
	}
	if checked < 150 {
		t.Errorf("only %d of 400 cases were valid GS1 data", checked)
	}
}

// The other '+' schemes of TDS 2.0 (§14.6 coding tables: the key's AIs as
// Table F writes them); hex assembled bit by bit outside this package.
func TestOtherPlusSchemes(t *testing.T) {
	tests := []struct {
		hex    string
		scheme Scheme
		bits   int
		gs1    string
		encode func() (EPC, error)
	}{
		{"F2306141411234520458B8", SGLNPlus, 86, "(414)0614141123452(254)5678",
			func() (EPC, error) { return NewSGLNPlus(3, "0614141123452", "5678") }},
		{"F10006141411234528566CB0AFC4", GRAIPlus, 111, "(8003)0061414112345232a/b",
			func() (EPC, error) { return NewGRAIPlus(0, "0614141123452", "32a/b") }},
		{"FA10614141E650010BED4", GIAIPlus, 82, "(8004)0614141ABC-1",
			func() (EPC, error) { return NewGIAIPlus(1, "0614141ABC-1") }},
		{"FA206141415678F", GIAIPlus, 60, "(8004)06141415678",
			func() (EPC, error) { return NewGIAIPlus(2, "06141415678") }},
		{"F40061414112345678902", GSRNPlus, 84, "(8018)061414112345678902",
			func() (EPC, error) { return NewGSRNPlus(0, "061414112345678902") }},
		{"F6006141411234520458B8", GDTIPlus, 86, "(253)06141411234525678",
			func() (EPC, error) { return NewGDTIPlus(0, "0614141123452", "5678") }},
	}
	for _, tt := range tests {
		e, err := DecodeHex(tt.hex)
		if err != nil {
			t.Errorf("%s: %v", tt.hex, err)
			continue
		}
		if e.Scheme() != tt.scheme || e.BitLen() != tt.bits || e.GS1() != tt.gs1 || e.Hex() != tt.hex {
			t.Errorf("%s: %v %d bits %s, hex %s", tt.hex, e.Scheme(), e.BitLen(), e.GS1(), e.Hex())
		}
		if e.TagURI() != "" || e.PureURI() != "" || e.CompanyPrefix() != "" {
			t.Errorf("%s: a '+' scheme has a URI or a company prefix", tt.hex)
		}
		f, err := tt.encode()
		if err != nil || f != e {
			t.Errorf("%v: encode = %s %v, want %s", tt.scheme, f.Hex(), err, tt.hex)
		}
		roundTrip(t, e, 0)
	}
	// SGLN+ without an extension writes "0" and stands for the GLN alone.
	g, err := NewSGLNPlus(0, "0614141123452", "")
	if err != nil || g.Extension() != "0" || g.GS1() != "(414)0614141123452" {
		t.Errorf("SGLN+ without extension: %v %q %s", err, g.Extension(), g.GS1())
	}
	// GRAI+ and GDTI+ take the serial inside the AI value too.
	a, err := NewGRAIPlus(0, "0061414112345232a/b", "")
	if err != nil || a.GRAI() != "0061414112345232a/b" || a.Serial() != "32a/b" {
		t.Errorf("GRAI+ from (8003): %v %s", err, a.GRAI())
	}
	if _, err := NewGRAIPlus(0, "0061414112345232a/b", "1"); !errors.Is(err, ErrGS1) {
		t.Errorf("GRAI+ with two serials: %v", err)
	}
	if _, err := NewGRAIPlus(0, "0614141123452", ""); !errors.Is(err, ErrSerial) {
		t.Errorf("GRAI+ without serial: %v", err)
	}
	if _, err := DecodeHex("F10106141411234528566CB0AFC4"); !errors.Is(err, ErrDigits) {
		t.Errorf("GRAI+ without its pad 0: %v", err)
	}
	if _, err := NewGIAIPlus(0, strings.Repeat("1", 31)); !errors.Is(err, ErrRange) {
		t.Errorf("GIAI+ of 31 characters: %v", err)
	}
	if _, err := NewGIAIPlus(0, "0614141 1"); !errors.Is(err, ErrGS1) {
		t.Errorf("GIAI+ with a space: %v", err)
	}
}

func TestAIDCSequenceIndicator(t *testing.T) {
	g, err := NewGSRNPlus(0, "061414112345678902")
	if err != nil {
		t.Fatal(err)
	}
	w, err := g.WithAIDC(gs1.Element{AI: "7258", Value: "1/2"}, gs1.Element{AI: "7259", Value: "BABY"})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.GS1(); got != "(8018)061414112345678902(7258)1/2(7259)BABY" {
		t.Errorf("GS1 %s", got)
	}
	roundTrip(t, w, 0)
	if _, err := g.WithAIDC(gs1.Element{AI: "7258", Value: "0/2"}, gs1.Element{AI: "7259", Value: "BABY"}); !errors.Is(err, ErrAIDC) {
		t.Errorf("sequence 0/2: %v", err)
	}
}
