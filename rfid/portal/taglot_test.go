package portal_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

// holdsByCode resolves no EPC (or every EPC to other) and holds the lots
// in held.
type holdsByCode struct {
	other string
	held  map[string]bool
}

func (h holdsByCode) LotForEPC(string) (string, bool, bool) { return h.other, false, h.other != "" }
func (h holdsByCode) LotHeld(lot string) bool               { return h.held[lot] }

// A tag with its lot in its own EPC (SSCC+ with (10) and (17)) is of that
// lot whatever the resolver knows, and held when that lot is: a door that
// never heard of the carton stops it.
func TestTagsOwnLot(t *testing.T) {
	e, err := epc.NewSSCCPlus(int(epc.FilterFullCase), "106141412345678908")
	if err != nil {
		t.Fatal(err)
	}
	// On a logistic unit the lot goes with the GTIN of the contents (02)
	// and their count (37).
	if e, err = e.WithAIDC(gs1.Element{AI: "02", Value: "09520123456788"}, gs1.Element{AI: "37", Value: "12"},
		gs1.Element{AI: "10", Value: "SUP-4711"}, gs1.Element{AI: "17", Value: "270531"}); err != nil {
		t.Fatal(err)
	}
	tag := strings.ToUpper(hex.EncodeToString(e.Bytes())) // as a reader reports it: whole words
	door := portal.DoorConfig{ID: "D17", Role: portal.RoleShipping, Reader: "r1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}
	for _, c := range []struct {
		name   string
		lots   portal.LotResolver
		alerts int
	}{
		{"unknown carton, lot held", holdsByCode{held: map[string]bool{"SUP-4711": true}}, 1},
		{"the resolver names another lot", holdsByCode{other: "OTHER", held: map[string]bool{"SUP-4711": true}}, 1},
		{"lot not held", holdsByCode{held: map[string]bool{"OTHER": true}}, 0},
		{"a resolver that cannot tell", lots{}, 0},
	} {
		var col collector
		eng, err := portal.New(portal.Config{Doors: []portal.DoorConfig{door}, Sink: col.sink, Lots: c.lots})
		if err != nil {
			t.Fatal(err)
		}
		var rs []rfid.Read
		for i := 0; i < 6; i++ { // inside, then outside: going out
			ant := uint16(2)
			if i >= 3 {
				ant = 1
			}
			rs = append(rs, read(tag, ant, -45, time.Duration(i)*200*time.Millisecond))
		}
		eng.Observe(rs)
		eng.Flush(t0.Add(10 * time.Second))
		if len(col.passes) != 1 || col.passes[0].Tags[0].Lot != "SUP-4711" {
			t.Fatalf("%s: passes %+v", c.name, col.passes)
		}
		if len(col.alerts) != c.alerts || c.alerts == 1 && (col.alerts[0].Lot != "SUP-4711" || col.alerts[0].Direction != "out") {
			t.Fatalf("%s: alerts %+v", c.name, col.alerts)
		}
	}
}
