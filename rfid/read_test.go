package rfid_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/rfid"
)

func TestEPC(t *testing.T) {
	e, err := rfid.ParseEPC("0x3074257bf7194e4000001a85")
	if err != nil || e.String() != "3074257BF7194E4000001A85" || e.BitLen() != 96 {
		t.Fatalf("ParseEPC: %v %v", e, err)
	}
	if e != rfid.MustParseEPC("3074257BF7194E4000001A85") {
		t.Error("equal EPCs compare unequal")
	}
	odd, err := rfid.ParseEPC("ABC")
	if err != nil || odd.BitLen() != 12 || odd.String() != "ABC0" {
		t.Errorf("odd length: %v %d %v", odd, odd.BitLen(), err)
	}
	m, err := rfid.NewEPC([]byte{0xFF, 0xFF}, 10)
	if err != nil || m.String() != "FFC0" {
		t.Errorf("bits past the length must be cleared: %v %v", m, err)
	}
	if m == rfid.MustParseEPC("FFC0") {
		t.Error("EPCs of different bit lengths compare equal")
	}
	for _, bad := range []string{"", "xyz", strings.Repeat("A", 126)} {
		if _, err := rfid.ParseEPC(bad); err == nil {
			t.Errorf("ParseEPC(%q) succeeded", bad)
		}
	}
	if _, err := rfid.NewEPC([]byte{1}, 16); !errors.Is(err, rfid.ErrEPCLength) {
		t.Errorf("short bytes: %v", err)
	}
	if !(rfid.EPC{}).IsZero() || e.IsZero() {
		t.Error("IsZero")
	}
	if rfid.EventBufferWarning.String() != "buffer_warning" || rfid.EventKind(99).String() != "event(99)" {
		t.Error("event names")
	}
}
