package gs1

import (
	"errors"
	"strings"
	"testing"

	"github.com/boombuler/barcode/code128"
)

func TestGS1128Modules(t *testing.T) {
	tests := []struct {
		els  []Element
		want int
	}{
		// Start C, FNC1, 8 pairs, check: 11 characters; +13 stop +20 quiet zone.
		{els("01", "09520123456788"), 11*11 + 13 + 20},
		// Start C, FNC1, 9 pairs (the last is "10"), latch B, A, B, C, check:
		// 16 characters.
		{els("01", "09520123456788", "10", "ABC"), 16*11 + 13 + 20},
	}
	for _, tt := range tests {
		if got := GS1128Modules(Message{Elements: tt.els}); got != tt.want {
			t.Errorf("GS1128Modules(%v) = %d, want %d", tt.els, got, tt.want)
		}
	}
}

// The shortest encoding is never longer than a greedy Code 128 encoder's.
func TestGS1128ModulesAgainstGreedyEncoder(t *testing.T) {
	for _, e := range [][]Element{
		els("01", "09520123456788", "17", "251231", "10", "LOT-7"),
		els("00", "095012345678901237"),
		els("01", "09520123456788", "10", "abc123XYZ", "21", "12345678"),
		els("02", "09520123456788", "37", "24", "10", "1"),
	} {
		m := Message{Elements: e}
		content := string(code128.FNC1) + m.Join("", string(code128.FNC1))
		bc, err := code128.Encode(content)
		if err != nil {
			t.Fatal(err)
		}
		greedy := bc.Bounds().Dx() + 2*gs1128QuietZone
		if got := GS1128Modules(m); got > greedy || got < greedy-44 {
			t.Errorf("%v: %d modules, greedy encoder %d", e, got, greedy)
		}
	}
}

func TestCheckGS1128Width(t *testing.T) {
	m := Message{Elements: els("01", "09520123456788", "17", "251231", "10", "LOT1")}
	if err := CheckGS1128Width(m, 0.495); err != nil {
		t.Errorf("0.495 mm: %v", err)
	}
	if err := CheckGS1128Width(m, 1.016); !errors.Is(err, ErrCapacity) || !strings.Contains(err.Error(), "165 mm") {
		t.Errorf("1.016 mm: %v", err)
	}
	if n := GS1128Modules(Message{Elements: els("10", "\x80")}); n != -1 {
		t.Errorf("non-ASCII: %d", n)
	}
}
