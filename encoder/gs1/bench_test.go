package gs1

import "testing"

const benchES = "^010952012345678810ABC123^17251231"

// BenchmarkParseElementString parses and validates a typical 3-AI element
// string (GTIN, lot, expiry).
func BenchmarkParseElementString(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseElementString(benchES); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkParseHRI(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseHRI("(01)09520123456788(10)ABC123(17)251231"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseScanData(b *testing.B) {
	in := []byte("]C1010952012345678810ABC123\x1d17251231")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseScanData(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseDigitalLink(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDigitalLink("https://id.gs1.org/01/09520123456788/10/ABC123?17=251231"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	m := Message{Elements: els("01", "09520123456788", "10", "ABC123", "17", "251231")}
	b.ReportAllocs()
	for b.Loop() {
		if err := Validate(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuildDigitalLink(b *testing.B) {
	m := Message{Elements: els("01", "09520123456788", "10", "ABC123", "17", "251231")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.DigitalLink(""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uris/s")
}

func BenchmarkBuildElementString(b *testing.B) {
	m := Message{Elements: els("01", "09520123456788", "10", "ABC123", "17", "251231")}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.ElementString()
	}
}
