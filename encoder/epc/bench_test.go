package epc

import (
	"encoding/hex"
	"testing"
)

func reportRate(b *testing.B, unit string) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, unit)
	}
}

// BenchmarkDecodeHexSGTIN96 is hex text to EPC, as a reader's JSON or an
// MQTT command delivers it.
func BenchmarkDecodeHexSGTIN96(b *testing.B) {
	b.ReportAllocs()
	var e EPC
	for b.Loop() {
		e, _ = DecodeHex("3074257BF7194E4000001A85")
	}
	if e.Scheme() != SGTIN96 {
		b.Fatal(e.Scheme())
	}
	reportRate(b, "decodes/s")
}

// BenchmarkDecode96 is the portal's hot path: the EPC bytes of a tag read
// to an EPC, for each 96-bit scheme.
func BenchmarkDecode96(b *testing.B) {
	seen := map[Scheme]bool{}
	for _, f := range fixtures {
		if len(f.hex) != 24 || seen[f.scheme] {
			continue
		}
		seen[f.scheme] = true
		raw, _ := hex.DecodeString(f.hex)
		b.Run(f.scheme.String(), func(b *testing.B) {
			b.ReportAllocs()
			var e EPC
			for b.Loop() {
				e, _ = Decode(raw, 96)
			}
			if e.Scheme() != f.scheme {
				b.Fatal(e.Scheme())
			}
			reportRate(b, "reads/s")
		})
	}
}

func BenchmarkDecodeSGTINPlus(b *testing.B) {
	raw, _ := hex.DecodeString("F73795211411234538566CB0AFC4")
	b.ReportAllocs()
	for b.Loop() {
		_, _ = Decode(raw, 112)
	}
	reportRate(b, "reads/s")
}

// BenchmarkPureURI is EPC to pure identity URI, as every EPCIS event
// names an EPC.
func BenchmarkPureURI(b *testing.B) {
	e, _ := DecodeHex("3074257BF7194E4000001A85")
	b.ReportAllocs()
	var s string
	for b.Loop() {
		s = e.PureURI()
	}
	if s != "urn:epc:id:sgtin:0614141.812345.6789" {
		b.Fatal(s)
	}
	reportRate(b, "uris/s")
}

func BenchmarkTagURI(b *testing.B) {
	e, _ := DecodeHex("3074257BF7194E4000001A85")
	b.ReportAllocs()
	for b.Loop() {
		_ = e.TagURI()
	}
}

func BenchmarkNewSGTIN96(b *testing.B) {
	b.ReportAllocs()
	serial := uint64(0)
	for b.Loop() {
		serial++
		if _, err := NewSGTIN96(1, 7, "80614141123458", serial); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, "encodes/s")
}

func BenchmarkDigitalLink(b *testing.B) {
	e, _ := DecodeHex("3074257BF7194E4000001A85")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.DigitalLink(""); err != nil {
			b.Fatal(err)
		}
	}
}
