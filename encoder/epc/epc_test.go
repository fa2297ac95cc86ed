package epc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/encoder/gs1"
)

func TestFixturesDecode(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.desc, func(t *testing.T) {
			e, err := DecodeHex(f.hex)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, want %q", what, got, want)
				}
			}
			if e.Scheme() != f.scheme || e.Filter() != f.filter {
				t.Errorf("scheme %v filter %d, want %v %d", e.Scheme(), e.Filter(), f.scheme, f.filter)
			}
			check("Hex", e.Hex(), f.hex)
			check("TagURI", e.TagURI(), f.tag)
			check("PureURI", e.PureURI(), f.pure)
			if f.scheme.Plus() {
				check("PureURI", e.PureURI(), "")
			}
			check("GS1", e.GS1(), f.gs1)
			dl, err := e.DigitalLink("")
			if f.scheme == SchemeRaw {
				if !errors.Is(err, ErrScheme) {
					t.Errorf("raw DigitalLink error %v, want ErrScheme", err)
				}
			} else {
				check("DigitalLink", dl, f.dl)
			}
			// Bytes are whole words, zero-padded, and decode to the same EPC.
			b := e.Bytes()
			if len(b)%2 != 0 && f.scheme != SchemeRaw {
				t.Errorf("Bytes has %d bytes, not whole words", len(b))
			}
			e2, err := Decode(b, 0)
			if err != nil || e2 != e {
				t.Errorf("Decode(Bytes()) = %v, %v; want the same EPC", e2, err)
			}
			raw, _ := hex.DecodeString(f.hex + strings.Repeat("0", len(f.hex)%2))
			if !bytes.HasPrefix(b, raw[:len(f.hex)/2]) {
				t.Errorf("Bytes %X does not start with %s", b, f.hex)
			}
		})
	}
}

func TestFixturesEncode(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.desc, func(t *testing.T) {
			want, err := DecodeHex(f.hex)
			if err != nil {
				t.Fatal(err)
			}
			if f.tag != "" {
				e, err := ParseURI(f.tag)
				if err != nil || e != want {
					t.Errorf("ParseURI(tag) = %s, %v; want %s", e.Hex(), err, f.hex)
				}
			}
			if f.pure != "" {
				e, err := ParsePureURI(f.pure, f.scheme, int(f.filter))
				if f.scheme == SchemeRaw {
					e, err = ParseURI(f.pure)
				}
				if err != nil || e != want {
					t.Errorf("ParsePureURI = %s, %v; want %s", e.Hex(), err, f.hex)
				}
			}
			if f.gs1 == "" {
				return
			}
			for _, in := range []string{f.gs1, f.dl} {
				e, err := ParseGS1(in, f.scheme, int(f.filter), f.cpLen)
				if err != nil || e != want {
					t.Errorf("ParseGS1(%q) = %s, %v; want %s", in, e.Hex(), err, f.hex)
				}
			}
		})
	}
}

func TestPureURIChoosesScheme(t *testing.T) {
	tests := []struct {
		uri  string
		want Scheme
	}{
		{"urn:epc:id:sgtin:0614141.812345.6789", SGTIN96},
		{"urn:epc:id:sgtin:0614141.812345.06789", SGTIN198},
		{"urn:epc:id:sgtin:0614141.812345.274877906944", SGTIN198},
		{"urn:epc:id:sgtin:0614141.812345.274877906943", SGTIN96},
		{"urn:epc:id:sgtin:0614141.812345.A%2FB", SGTIN198},
		{"urn:epc:id:sgln:0614141.12345.0", SGLN96},
		{"urn:epc:id:sgln:0614141.12345.X1", SGLN195},
		{"urn:epc:id:grai:0614141.12345.0012", GRAI170},
		{"urn:epc:id:giai:0614141.5678", GIAI96},
		{"urn:epc:id:giai:0614141.05678", GIAI202},
		{"urn:epc:id:sscc:0614141.1234567890", SSCC96},
		{"urn:epc:id:gdti:0614141.12345.5678", GDTI96},
		{"urn:epc:id:gsrn:0614141.1234567890", GSRN96},
	}
	for _, tt := range tests {
		e, err := ParseURI(tt.uri)
		if err != nil {
			t.Errorf("%s: %v", tt.uri, err)
			continue
		}
		if e.Scheme() != tt.want || e.Filter() != 0 {
			t.Errorf("%s: scheme %v filter %d, want %v 0", tt.uri, e.Scheme(), e.Filter(), tt.want)
		}
		if e.PureURI() != tt.uri {
			t.Errorf("%s: PureURI %s", tt.uri, e.PureURI())
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		hex      string
		sentinel error
		field    string
	}{
		{"", ErrHex, "hex"},
		{"30G4", ErrHex, "hex"},
		{"3074257BF7194E40", ErrLength, "bit length"},
		{"307C257BF7194E4000001A85", ErrPartition, "partition"},
		{"3063FFFFFFFFFE4000001A85", ErrRange, "company prefix"}, // 12 digits of 40 bits > 10^12
		{"3074257BFFFFFE4000001A85", ErrRange, "item reference"},
		{"3174257BF4499602D2000001", ErrPadding, "reserved bits"},
		{"3674257BF6B7A659B2C2BF1000000000000000001000000000", ErrPadding, "serial"},
		{"3674257BF6000000000000000000000000000000000000000000", ErrSerial, "serial"},
		{"3674257BF6B7A601000000000000000000000000000000000000", ErrCharset, "serial"},
		{"F737952114112345385", ErrLength, "serial"},
		{"F73795211411234438566CB0AFC4", ErrCheckDigit, "gtin"},
		{"F737952A1411234538566CB0AFC4", ErrDigits, "gtin"},
		{"F7379521141123453C4000000000", ErrSerial, "serial"},       // indicator 6 reserved
		{"F737952114112345380", ErrRange, "serial"},                 // length 0
		{"FB303400795211411234538566CB0AFC4", ErrDate, "date"},      // month 0
		{"FB38359F795211411234538566CB0AFC4", ErrDate, "date type"}, // type 8
		{"F737952114112345301F0", ErrRange, "serial"},               // numeric overflow
		{"F93000000000000000001", ErrCheckDigit, "sscc"},
	}
	for _, tt := range tests {
		_, err := DecodeHex(tt.hex)
		var e *Error
		if !errors.Is(err, tt.sentinel) || !errors.As(err, &e) || e.Field != tt.field {
			t.Errorf("DecodeHex(%s) = %v; want %v on field %q", tt.hex, err, tt.sentinel, tt.field)
		}
	}
}

func TestPlusZeroSSCC(t *testing.T) {
	e, err := DecodeHex("F9300000000000000000000")
	if err != nil || e.SSCC() != "000000000000000000" || e.BitLen() != 84 {
		t.Fatalf("%v %q %d", err, e.SSCC(), e.BitLen())
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name     string
		encode   func() (EPC, error)
		sentinel error
		rule     string
	}{
		{"sgtin-96 filter", func() (EPC, error) { return NewSGTIN96(8, 7, "80614141123458", 1) }, ErrFilter, "0–7"},
		{"sgtin-96 negative filter", func() (EPC, error) { return NewSGTIN96(-1, 7, "80614141123458", 1) }, ErrFilter, "0–7"},
		{"sgtin-96 serial 2^38", func() (EPC, error) { return NewSGTIN96(1, 7, "80614141123458", 1<<38) }, ErrSerial, "sgtin-198"},
		{"sgtin-96 check digit", func() (EPC, error) { return NewSGTIN96(1, 7, "80614141123457", 1) }, ErrCheckDigit, "should be 8"},
		{"sgtin-96 gtin length", func() (EPC, error) { return NewSGTIN96(1, 7, "8061414112345", 1) }, ErrCheckDigit, ""},
		{"sgtin-96 gtin letters", func() (EPC, error) { return NewSGTIN96(1, 7, "8061414112345X", 1) }, ErrDigits, "digits"},
		{"sgtin-96 cp length 5", func() (EPC, error) { return NewSGTIN96(1, 5, "80614141123458", 1) }, ErrCompanyPrefix, "6–12"},
		{"sgtin-96 cp length 13", func() (EPC, error) { return NewSGTIN96(1, 13, "80614141123458", 1) }, ErrCompanyPrefix, "6–12"},
		{"sgtin-198 serial too long", func() (EPC, error) { return NewSGTIN198(1, 7, "80614141123458", strings.Repeat("A", 21)) }, ErrSerial, "20 characters"},
		{"sgtin-198 serial charset", func() (EPC, error) { return NewSGTIN198(1, 7, "80614141123458", "A#B") }, ErrCharset, "character set 82"},
		{"sgtin-198 empty serial", func() (EPC, error) { return NewSGTIN198(1, 7, "80614141123458", "") }, ErrSerial, "empty"},
		{"sgtin-96 via Encode leading zero", func() (EPC, error) {
			return Encode(SGTIN96, 1, 7, Values{GTIN: "80614141123458", Serial: "007"})
		}, ErrSerial, "leading zeros"},
		{"sgtin-96 via Encode letters", func() (EPC, error) {
			return Encode(SGTIN96, 1, 7, Values{GTIN: "80614141123458", Serial: "7A"})
		}, ErrSerial, "all digits"},
		{"sscc digits", func() (EPC, error) { return NewSSCC96(6, 7, "10614141123456789") }, ErrDigits, "18 digits"},
		{"sgln-96 extension too big", func() (EPC, error) { return NewSGLN96(0, 7, "0614141123452", "2199023255552") }, ErrSerial, "sgln-195"},
		{"grai-96 serial letters", func() (EPC, error) { return NewGRAI96(0, 7, "0614141123452", "A1") }, ErrSerial, "grai-170"},
		{"grai-170 too long", func() (EPC, error) { return NewGRAI170(0, 7, "0614141123452", strings.Repeat("1", 17)) }, ErrSerial, "16 characters"},
		{"giai-96 too big", func() (EPC, error) { return NewGIAI96(0, 12, "061414100000"+"4398046511104") }, ErrSerial, "less than 4398046511104"},
		{"giai-202 too long", func() (EPC, error) { return NewGIAI202(0, 12, "061414100000"+strings.Repeat("A", 19)) }, ErrRange, "30 characters"},
		{"gdti-96 leading zero", func() (EPC, error) { return NewGDTI96(0, 7, "0614141123452", "0123") }, ErrSerial, "leading zeros"},
		{"gsrn check digit", func() (EPC, error) { return NewGSRN96(0, 7, "061414112345678901") }, ErrCheckDigit, "should be 2"},
		{"dsgtin+ date", func() (EPC, error) { return NewDSGTINPlus(1, DateExpiration, "250230", "80614141123458", "1") }, ErrDate, "YYMMDD"},
		{"dsgtin+ leap", func() (EPC, error) { return NewDSGTINPlus(1, DateExpiration, "250229", "80614141123458", "1") }, ErrDate, "YYMMDD"},
		{"sgtin+ serial charset", func() (EPC, error) { return NewSGTINPlus(1, "80614141123458", "a b") }, ErrCharset, "character set 82"},
		{"sscc+ filter", func() (EPC, error) { return NewSSCCPlus(9, "106141412345678908") }, ErrFilter, "0–7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.encode()
			var e *Error
			if !errors.Is(err, tt.sentinel) || !errors.As(err, &e) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			if !strings.Contains(err.Error(), tt.rule) {
				t.Errorf("err %q does not say %q", err, tt.rule)
			}
		})
	}
}

func TestDSGTINPlus(t *testing.T) {
	e, err := NewDSGTINPlus(1, DateExpiration, "261231", "09506000134352", "ABC123")
	if err != nil {
		t.Fatal(err)
	}
	if d, typ, ok := e.Date(); !ok || d != "261231" || typ != DateExpiration {
		t.Errorf("Date() = %q %v %v", d, typ, ok)
	}
	if got, want := e.GS1(), "(01)09506000134352(21)ABC123(17)261231"; got != want {
		t.Errorf("GS1 = %s, want %s", got, want)
	}
	// Header FB, toggle 0, filter 1, date type 4, 26-12-31.
	if !strings.HasPrefix(e.Hex(), "FB14359F") {
		t.Errorf("hex %s", e.Hex())
	}
	e2, err := DecodeHex(e.Hex())
	if err != nil || e2 != e {
		t.Errorf("decode of own hex: %v", err)
	}
	e3, err := ParseGS1("(01)09506000134352(21)ABC123(17)261231", DSGTINPlus, 1, 0)
	if err != nil || e3 != e {
		t.Errorf("ParseGS1: %v %s", err, e3.Hex())
	}
	// DD = 00 is allowed.
	if _, err := NewDSGTINPlus(1, DateBestBefore, "261100", "09506000134352", "1"); err != nil {
		t.Error(err)
	}
}

func TestSerialEncodings(t *testing.T) {
	// Each serial picks the encoding with the fewest bits.
	tests := []struct {
		serial string
		enc    uint8
	}{
		{"0123456789", encNumeric},
		{"00000000000000000000", encNumeric},
		{"99999999999999999999", encNumeric},
		{"ABCDEF0", encUpperHex},
		{"abcdef0", encLowerHex},
		{"AbC-_z", encBase64},
		{"ABC.DEF:GHI-JKL", encCode40},
		{"AB.", encCode40},
		{"32a/b", encASCII7},
		{"A", encUpperHex},
	}
	for _, tt := range tests {
		e, err := NewSGTINPlus(0, "09506000134352", tt.serial)
		if err != nil {
			t.Errorf("%q: %v", tt.serial, err)
			continue
		}
		if e.enc != tt.enc || e.Serial() != tt.serial {
			t.Errorf("%q: encoding %d serial %q, want %d", tt.serial, e.enc, e.Serial(), tt.enc)
		}
		for enc := 0; enc <= encCode40; enc++ {
			if !alnumFits(enc, tt.serial) {
				continue
			}
			f, err := newPlus(SGTINPlus, 0, "09506000134352", tt.serial, 0, "", enc)
			if err != nil || f.Serial() != tt.serial || int(f.enc) != enc {
				t.Errorf("%q with encoding %d: %v %q", tt.serial, enc, err, f.Serial())
			}
			if f.BitLen() < e.BitLen() {
				t.Errorf("%q: encoding %d takes %d bits, fewer than the chosen %d", tt.serial, enc, f.BitLen(), e.BitLen())
			}
		}
	}
}

func TestRawURIOfGS1Bits(t *testing.T) {
	e, err := ParseURI("urn:epc:raw:96.x3074257BF7194E4000001A85")
	if err != nil || e.Scheme() != SGTIN96 || e.PureURI() != "urn:epc:id:sgtin:0614141.812345.6789" {
		t.Errorf("%v %v %s", err, e.Scheme(), e.PureURI())
	}
	// Bits no scheme accepts stay raw.
	e, err = ParseURI("urn:epc:raw:96.x310000000000000000001000")
	if err != nil || !e.IsRaw() {
		t.Errorf("%v %v", err, e.Scheme())
	}
}

func TestRawURI(t *testing.T) {
	e, err := ParseURI("urn:epc:raw:66.xE2801160600002084")
	if err != nil {
		t.Fatal(err)
	}
	if e.BitLen() != 66 || !e.IsRaw() || e.PureURI() != "urn:epc:raw:66.xE2801160600002084" {
		t.Errorf("%d %v %s", e.BitLen(), e.IsRaw(), e.PureURI())
	}
	if _, err := ParseURI("urn:epc:raw:66.xE2801160600002085"); !errors.Is(err, ErrPadding) {
		t.Errorf("bits past the length: %v", err)
	}
	// The decimal form of TDS §12.3.3 (the GRAI-170 tag of a public test
	// suite, read as 176 bits), decoded as the GRAI-170 it holds.
	d, err := ParseURI("urn:epc:raw:176.20607387083275411281233370441387565389886411352571904")
	if err != nil || d.Scheme() != GRAI170 || d.Hex() != "3714257BF40C0E5A306000000000000000000000000" || d.TagURI() != "urn:epc:tag:grai-170:0.0614141.12345.400" {
		t.Errorf("decimal raw URI: %v %v %s %s", err, d.Scheme(), d.Hex(), d.TagURI())
	}
	if _, err := ParseURI("urn:epc:raw:8.256"); err == nil {
		t.Error("decimal raw URI past its bits accepted")
	}
	for _, bad := range []string{"urn:epc:raw:96", "urn:epc:raw:96.x30", "urn:epc:raw:0.x", "urn:epc:raw:9999.x00", "urn:epc:raw:8.xZZ", "urn:epc:foo:1"} {
		if _, err := ParseURI(bad); err == nil {
			t.Errorf("ParseURI(%q) succeeded", bad)
		}
	}
}

func TestURIErrors(t *testing.T) {
	for _, bad := range []string{
		"urn:epc:tag:sgtin-96:8.0614141.812345.6789",
		"urn:epc:tag:sgtin-96:3.0614141.812345",
		"urn:epc:tag:sgtin-96:3.061414.812345.6789",
		"urn:epc:tag:sgtin-97:3.0614141.812345.6789",
		"urn:epc:tag:sgtin+:3.0614141.812345.6789",
		"urn:epc:id:sgtin:0614141.812345.67%8",
		"urn:epc:id:sgtin:0614141.812345.",
		"urn:epc:id:foo:1.2",
		"urn:epc:id:sgtin",
		"urn:epc:id:sscc:0614141.123456789",
		"urn:epc:id:sgtin:06141A1.812345.1",
	} {
		if e, err := ParseURI(bad); err == nil {
			t.Errorf("ParseURI(%q) = %s, want an error", bad, e.Hex())
		}
	}
}

func TestLGTINClass(t *testing.T) {
	e, _ := DecodeHex("3074257BF7194E4000001A85")
	got, err := e.LGTINClass("LOT/7")
	if err != nil || got != "urn:epc:class:lgtin:0614141.812345.LOT%2F7" {
		t.Errorf("%q %v", got, err)
	}
	if _, err := e.LGTINClass(""); !errors.Is(err, ErrSerial) {
		t.Errorf("empty lot: %v", err)
	}
	p, _ := DecodeHex("F73795211411234538566CB0AFC4")
	if _, err := p.LGTINClass("L1"); !errors.Is(err, ErrScheme) {
		t.Errorf("sgtin+: %v", err)
	}
	got, err = LGTINClassURI(7, p.GTIN(), "L1")
	if err != nil || got != "urn:epc:class:lgtin:9521141.712345.L1" {
		t.Errorf("%q %v", got, err)
	}
}

func TestAccessorsOnOtherSchemes(t *testing.T) {
	e, _ := DecodeHex("3174257BF4499602D2000000")
	if e.GTIN() != "" || e.Serial() != "" || e.GLN() != "" || e.GRAI() != "" || e.GIAI() != "" || e.GDTI() != "" || e.GSRN() != "" || e.Extension() != "" {
		t.Error("SSCC answers for another key")
	}
	if _, _, ok := e.Date(); ok {
		t.Error("SSCC has a date")
	}
	r, _ := DecodeHex("E2801160600002084F4A4A11")
	if r.CompanyPrefix() != "" || r.SSCC() != "" || r.GS1() != "" || r.GS1Message().Elements != nil {
		t.Error("raw EPC answers for a key")
	}
	s, _ := DecodeHex("3274257BF46072000000162E")
	noExt, err := NewSGLN96(3, 7, s.GLN(), "")
	if err != nil || noExt.Extension() != "0" || noExt.GS1() != "(414)0614141123452" {
		t.Errorf("SGLN without extension: %v %q %q", err, noExt.Extension(), noExt.GS1())
	}
}

func TestDecodeTruncatesPadding(t *testing.T) {
	// A 128-bit EPC bank holding an SGTIN-96: the last 32 bits are not
	// part of the EPC (TDS §14.4 step 3).
	b, _ := hex.DecodeString("3074257BF7194E4000001A85DEADBEEF")
	e, err := Decode(b, 128)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := DecodeHex("3074257BF7194E4000001A85")
	if e != want || e.BitLen() != 96 || len(e.Bytes()) != 12 {
		t.Errorf("got %s (%d bits)", e.Hex(), e.BitLen())
	}
	if _, err := Decode(b, 129); !errors.Is(err, ErrLength) {
		t.Errorf("bitLen past the bytes: %v", err)
	}
	if _, err := Decode(b, -1); !errors.Is(err, ErrLength) {
		t.Errorf("negative bitLen: %v", err)
	}
	short, err := Decode([]byte{0x30}, 4)
	if err != nil || !short.IsRaw() || short.Hex() != "3" {
		t.Errorf("4 bits: %v %s", err, short.Hex())
	}
}

func TestValuesFromGS1(t *testing.T) {
	m, err := gs1.ParseHRI("(01)80614141123458(10)LOT1(21)6789")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ValuesFromGS1(SSCC96, m); !errors.Is(err, ErrGS1) {
		t.Errorf("SSCC from an SGTIN message: %v", err)
	}
	if _, err := ValuesFromGS1(DSGTINPlus, m); !errors.Is(err, ErrGS1) {
		t.Errorf("DSGTIN+ without a date: %v", err)
	}
	v, err := ValuesFromGS1(SGTIN96, m)
	if err != nil || v.GTIN != "80614141123458" || v.Serial != "6789" {
		t.Errorf("%+v %v", v, err)
	}
}

func TestSchemeNames(t *testing.T) {
	for s := SchemeRaw + 1; s < numSchemes; s++ {
		got, err := ParseScheme(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseScheme(%q) = %v, %v", s.String(), got, err)
		}
		if byHeader[s.Header()] != s {
			t.Errorf("header %02X does not map back to %v", s.Header(), s)
		}
	}
	if _, err := ParseScheme("raw"); err == nil {
		t.Error("raw is not an encodable scheme")
	}
	if Scheme(200).String() != "scheme(200)" || DateType(9).String() != "date-type(9)" {
		t.Error("out-of-range names")
	}
	for typ := DateProduction; typ < numDateTypes; typ++ {
		if got, err := ParseDateType(typ.AI()); err != nil || got != typ {
			t.Errorf("ParseDateType(%s) = %v %v", typ.AI(), got, err)
		}
		if got, err := ParseDateType(typ.String()); err != nil || got != typ {
			t.Errorf("ParseDateType(%s) = %v %v", typ, got, err)
		}
	}
}

// A character beyond ASCII is quoted whole ('Ü', not the 'Ã' of its first
// byte), its position counts characters, and it is named before a length
// that counts its bytes.
func TestErrorsQuoteCharacters(t *testing.T) {
	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"hex", func() error { _, err := DecodeHex("30ÜBER"); return err }, `character 'Ü' at position 3 is not a hexadecimal digit`},
		{"hex after one", func() error { _, err := DecodeHex("ÄÜ"); return err }, `character 'Ä' at position 1 is not`},
		{"hex, byte not UTF-8", func() error { _, err := DecodeHex("30\xff0"); return err }, `character byte 0xFF at position 3 is not`},
		{"uri hex", func() error { _, err := ParseURI("urn:epc:raw:12.x3Ü"); return err }, `character 'Ü' is not a hexadecimal digit`},
		{"serial", func() error { _, err := NewSGTIN198(1, 7, "80614141123458", "AÜ"); return err }, `character 'Ü' is not in the GS1 character set 82`},
		{"long serial", func() error { _, err := NewSGTIN198(1, 7, "80614141123458", strings.Repeat("Ü", 15)); return err }, `character 'Ü' is not in the GS1 character set 82`},
		{"serial+", func() error { _, err := NewSGTINPlus(1, "80614141123458", "😀"); return err }, `character '😀' is not in the GS1 character set 82`},
		{"grai+", func() error { _, err := NewGRAIPlus(1, "0614141123452", strings.Repeat("é", 9)); return err }, `character 'é'`},
	} {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.name, err, c.want)
		}
	}
}
