package gs1

import "testing"

func TestGTIN14(t *testing.T) {
	for in, want := range map[string]string{
		"96385074":       "00000096385074",
		"036000291452":   "00036000291452",
		"9520123456788":  "09520123456788",
		"09520123456788": "09520123456788",
		"952012345678X":  "952012345678X", // not a GTIN: left for validation
		"":               "",
	} {
		if got := GTIN14(in); got != want {
			t.Errorf("GTIN14(%q) = %q, want %q", in, got, want)
		}
	}
}
