package portal_test

import (
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

func twoDoors() []portal.DoorConfig {
	return []portal.DoorConfig{
		{ID: "D1", Role: portal.RoleReceiving, Reader: "r1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}},
		{ID: "D2", Role: portal.RoleShipping, Reader: "r1", AntennasOutside: []uint16{3}, AntennasInside: []uint16{4}},
	}
}

// sweep reads a tag going through a door over 2 s from start: outside
// antenna first for "in", inside first for "out".
func sweep(epc string, outside, inside uint16, dir string, start time.Duration) []rfid.Read {
	first, second := outside, inside
	if dir == portal.DirectionOut {
		first, second = inside, outside
	}
	var rs []rfid.Read
	for i := 0; i < 10; i++ {
		at := start + time.Duration(i)*100*time.Millisecond
		rs = append(rs, read(epc, first, int8(-40-abs(i-3)*3), at))
		rs = append(rs, read(epc, second, int8(-40-abs(i-7)*3), at+50*time.Millisecond))
	}
	return rs
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// A held carton that goes in at D1 and, half a second later, out at the
// shipping door D2 makes a pass at each door, and an alert at D2.
func TestTagMovingToAnotherDoorEndsItsPassAtTheFirst(t *testing.T) {
	const held = "3034257BF40C0E40000007D1"
	var c collector
	e, err := portal.New(portal.Config{Doors: twoDoors(), Sink: c.sink, Lots: lots{held: {"L-HELD", true}}})
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(sweep(held, 1, 2, portal.DirectionIn, 0))
	e.Tick(t0.Add(2 * time.Second))
	e.Observe(sweep(held, 3, 4, portal.DirectionOut, 2500*time.Millisecond))
	e.Tick(t0.Add(3 * time.Second)) // D1 is empty now: its pass closes
	if len(c.passes) != 1 || c.passes[0].Door != "D1" || c.passes[0].Direction != portal.DirectionIn {
		t.Fatalf("passes after the move %+v", c.passes)
	}
	e.Tick(t0.Add(10 * time.Second))
	if len(c.passes) != 2 || c.passes[1].Door != "D2" || c.passes[1].Direction != portal.DirectionOut {
		t.Fatalf("passes %+v", c.passes)
	}
	if p := c.passes[1]; p.Tags[0].Reads != 20 || p.Start.Before(t0.Add(2500*time.Millisecond)) {
		t.Errorf("D2 pass counts D1's reads: %+v", p.Tags[0])
	}
	if len(c.alerts) != 1 || c.alerts[0].Door != "D2" || c.alerts[0].Direction != portal.DirectionOut {
		t.Fatalf("alerts %+v", c.alerts)
	}
	if len(c.arrivals) != 2 || c.arrivals[1].Door != "D2" {
		t.Fatalf("arrivals %+v", c.arrivals)
	}
}

// Cross-reads of a tag at D1 by D2's antennas, interleaved with D1's own,
// do not move it: one pass, at the door that saw it strongest.
func TestCrossReadsAtAnotherDoorDoNotSplitAPass(t *testing.T) {
	const x = "3034257BF40C0E40000007D1"
	var c collector
	e, err := portal.New(portal.Config{Doors: twoDoors(), Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	rs := sweep(x, 1, 2, portal.DirectionIn, 0)
	for i := 0; i < 10; i++ {
		rs = append(rs, read(x, 3, -70, time.Duration(i)*200*time.Millisecond+20*time.Millisecond))
	}
	e.Observe(rs)
	e.Tick(t0.Add(10 * time.Second))
	if len(c.passes) != 1 || c.passes[0].Door != "D1" || c.passes[0].Direction != portal.DirectionIn {
		t.Fatalf("passes %+v", c.passes)
	}
}
