package portal_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/dockgate/dockgate/rfid/portal"
)

// bigPass is a pallet of n item tags, about 240 bytes of JSON each.
func bigPass(n int) *portal.PassEvent {
	p := &portal.PassEvent{Door: "D1", Role: portal.RoleReceiving, Direction: portal.DirectionIn, Start: t0, End: t0,
		Items: n, GTINs: map[string]int{"00614141123452": n}, Lots: map[string]int{"L1": n}}
	for i := 0; i < n; i++ {
		epc := fmt.Sprintf("3074257BF7194E40%08X", i)
		p.Tags = append(p.Tags, portal.PassTag{EPC: epc, URI: "urn:epc:id:sgtin:0614141.812345." + fmt.Sprint(i),
			Kind: portal.KindItem, GTIN: "00614141123452", Direction: portal.DirectionIn, PeakRSSI: -50, Reads: 7,
			First: t0, Last: t0, Lot: "L1"})
	}
	return p
}

func TestPassSplitKeepsEveryTagUnderTheLimit(t *testing.T) {
	const limit = 256 << 10
	p := bigPass(2000)
	whole, _ := json.Marshal(p)
	parts, err := p.Split("pass-1", limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 2 || len(whole) <= limit {
		t.Fatalf("%d bytes in %d parts", len(whole), len(parts))
	}
	next := 0
	for i, part := range parts {
		b, err := json.Marshal(part)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > limit {
			t.Errorf("part %d is %d bytes, over %d", i+1, len(b), limit)
		}
		if part.ID != "pass-1" || part.Part != i+1 || part.Parts != len(parts) || part.Items != 2000 || part.GTINs["00614141123452"] != 2000 {
			t.Errorf("part %d: id %q, part %d/%d, items %d", i+1, part.ID, part.Part, part.Parts, part.Items)
		}
		for _, tag := range part.Tags {
			if tag.EPC != p.Tags[next].EPC {
				t.Fatalf("part %d has %s where %s was due", i+1, tag.EPC, p.Tags[next].EPC)
			}
			next++
		}
	}
	if next != len(p.Tags) {
		t.Fatalf("parts hold %d of %d tags", next, len(p.Tags))
	}
}

func TestPassSplitLeavesASmallPassWhole(t *testing.T) {
	p := bigPass(3)
	parts, err := p.Split("pass-1", 256<<10)
	if err != nil || len(parts) != 1 || parts[0] != p || p.ID != "" || p.Parts != 0 {
		t.Fatalf("%v, %+v", err, parts)
	}
}

func TestPassSplitFailsWhenOneTagDoesNotFit(t *testing.T) {
	if _, err := bigPass(3).Split("pass-1", 300); err == nil {
		t.Fatal("a 300-byte limit was met")
	}
}
