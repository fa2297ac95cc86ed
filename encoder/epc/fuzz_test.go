package epc

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, f := range fixtures {
		h := f.hex
		if len(h)%2 == 1 {
			h += "0"
		}
		b, _ := hex.DecodeString(h)
		seeds = append(seeds, b)
	}
	for _, h := range []string{
		"FB14359F0950600013435226ABC123", // DSGTIN+
		"F91106141412345678908",          // SSCC+, odd length
		"F737952114112345301F0",          // numeric serial overflow
		"FF",
		"F7B795211411234538566CB0AFC42E6B3E2047578000",         // SGTIN+ with (17) and (10)
		"F2306141411234520458B8",                               // SGLN+
		"F10006141411234528566CB0AFC4",                         // GRAI+
		"FA10614141E650010BED4",                                // GIAI+
		"F40061414112345678902",                                // GSRN+
		"F6006141411234520458B8",                               // GDTI+
		"FD3795211411234538566CB0AFC525065F1876F0D996D800",     // SGTIN++
		"EE3952114132E83C2BF1494197C61DBC3665B600",             // GIAI++
		"FC342CDE795211411234538566CB0AFC525065F1876F0D996D80", // DSGTIN++
	} {
		if len(h)%2 == 1 {
			h += "0"
		}
		b, _ := hex.DecodeString(h)
		seeds = append(seeds, b)
	}
	return seeds
}

// reencode builds e again from its decoded fields.
func reencode(e EPC) (EPC, error) {
	switch {
	case e.IsRaw():
		return ParseURI(e.RawURI())
	case e.Scheme().Plus():
		in := e.plusInput()
		in.aidc = e.AIDCElements()
		return encodePlus(in)
	}
	return ParseURI(e.TagURI())
}

// sameBits reports whether a and b agree on their first n bits.
func sameBits(a, b []byte, n int) bool {
	if len(a)*8 < n || len(b)*8 < n {
		return false
	}
	full := n / 8
	if !bytes.Equal(a[:full], b[:full]) {
		return false
	}
	if r := n % 8; r != 0 {
		m := byte(0xFF << (8 - r))
		return a[full]&m == b[full]&m
	}
	return true
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, 0)
		f.Add(s, len(s)*8-3)
	}
	f.Add([]byte("\xfb\xc4000A0C917B0\x1700"), 128) // DSGTIN+ (17) repeating its date
	f.Add([]byte{}, 0)
	f.Add([]byte{0x30}, -1)
	f.Fuzz(func(t *testing.T, b []byte, bitLen int) {
		e, err := Decode(b, bitLen)
		if err != nil {
			return
		}
		if !sameBits(e.Bytes(), b, e.BitLen()) {
			t.Fatalf("Bytes %X are not the first %d bits of the input %X", e.Bytes(), e.BitLen(), b)
		}
		_ = e.String()
		_ = e.GS1()
		r, err := reencode(e)
		if err != nil {
			t.Fatalf("%s (%v) decodes but does not re-encode: %v", e.Hex(), e.Scheme(), err)
		}
		// +AIDC values are re-encoded in the shortest encoding, which
		// the tag need not have used: there the data must agree.
		if r != e && !(e.AIDC() && r.GS1() == e.GS1()) {
			t.Fatalf("%s re-encodes to %s", e.Hex(), r.Hex())
		}
	})
}

func FuzzParseURI(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.tag)
		f.Add(fx.pure)
	}
	f.Add("urn:epc:id:sgtin:0614141.812345.a.b%2F")
	f.Add("urn:epc:raw:66.xE2801160600002084")
	f.Add("urn:epc:raw:16.65535")
	f.Add("urn:epC:rAw:96.X310000000000000000001000") // SSCC-96 header, reserved bits set
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseURI(s)
		if err != nil {
			return
		}
		r, err := reencode(e)
		if err != nil || r != e {
			t.Fatalf("%q parses to %s but does not round-trip: %v", s, e.Hex(), err)
		}
		if e.IsRaw() {
			return // a raw URI holds any bits, GS1 header or not
		}
		d, err := Decode(e.Bytes(), e.BitLen())
		if err != nil || d != e {
			t.Fatalf("%q: Decode(Bytes) = %v", s, err)
		}
	})
}
