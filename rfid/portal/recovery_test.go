package portal_test

import (
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

// OldestOpen is the first read of the oldest tag still tracked or pass still
// open, and zero once everything has been emitted.
func TestOldestOpen(t *testing.T) {
	door := portal.DoorConfig{ID: "d1", Reader: "r1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}
	var c collector
	e, err := portal.New(portal.Config{Doors: []portal.DoorConfig{door}, Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	const a, b, s = "3034257BF40C0E40000007D1", "3034257BF40C0E40000007D2", "3034257BF40C0E40000007D3"
	if got := e.OldestOpen(); !got.IsZero() {
		t.Fatalf("empty engine: OldestOpen %v, want zero", got)
	}
	// A tag not arrived yet (one read, MinReads 2) counts: its read decides
	// whether a second one makes it arrive.
	e.Observe([]rfid.Read{read(s, 1, -50, 500*time.Millisecond)})
	if got := e.OldestOpen(); !got.Equal(t0.Add(500 * time.Millisecond)) {
		t.Fatalf("one stray read: OldestOpen %v", got)
	}
	e.Observe([]rfid.Read{read(a, 1, -50, time.Second), read(a, 2, -50, 1100*time.Millisecond)})
	// A read dated before the others (a backlog) moves it back.
	e.Observe([]rfid.Read{read(b, 1, -50, 2*time.Second), read(b, 2, -50, 2100*time.Millisecond), read(b, 2, -50, 200*time.Millisecond)})
	if got := e.OldestOpen(); !got.Equal(t0.Add(200 * time.Millisecond)) {
		t.Fatalf("backlog read: OldestOpen %v, want t0+200ms", got)
	}
	// The stray leaves (3 s after its read) and a departs; b stays: the
	// open pass still holds a's reads.
	e.Observe([]rfid.Read{read(b, 2, -50, 3900*time.Millisecond)})
	e.Tick(t0.Add(4200 * time.Millisecond))
	if st := e.Stats(); st.Departures != 1 || st.Strays != 1 || st.Tracked != 1 {
		t.Fatalf("stats %+v", st)
	}
	if got := e.OldestOpen(); !got.Equal(t0.Add(200 * time.Millisecond)) {
		t.Fatalf("b present: OldestOpen %v, want its first read", got)
	}
	e.Tick(t0.Add(10 * time.Second))
	if len(c.passes) != 1 {
		t.Fatalf("%d passes", len(c.passes))
	}
	if got := e.OldestOpen(); !got.IsZero() {
		t.Fatalf("after the pass: OldestOpen %v, want zero", got)
	}

	// A pass stays open while a tag parks in the field: the pass's start
	// is older than the parked tag's first read.
	e.Observe([]rfid.Read{read(a, 1, -50, 20*time.Second), read(a, 2, -50, 20100*time.Millisecond)})
	e.Observe([]rfid.Read{read(b, 1, -50, 21*time.Second), read(b, 2, -50, 21100*time.Millisecond)})
	for at := 21 * time.Second; at < 25*time.Second; at += time.Second {
		e.Observe([]rfid.Read{read(b, 2, -50, at)})
	}
	e.Tick(t0.Add(24500 * time.Millisecond)) // a departs; b is present
	if got := e.OldestOpen(); !got.Equal(t0.Add(20 * time.Second)) {
		t.Fatalf("open pass: OldestOpen %v, want its start", got)
	}
}

// Accepts says which reads Observe takes into account.
func TestAccepts(t *testing.T) {
	door := portal.DoorConfig{ID: "d1", Reader: "r1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}
	e, err := portal.New(portal.Config{Doors: []portal.DoorConfig{door}, Sink: func(portal.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	const a = "3034257BF40C0E40000007D1"
	other := read(a, 1, -50, 0)
	other.Reader = "r2"
	noRSSI := read(a, 2, 0, 0)
	noRSSI.HasRSSI = false
	for _, tc := range []struct {
		r    rfid.Read
		want bool
	}{
		{read(a, 1, -50, 0), true},
		{read(a, 2, -75, 0), true}, // at the floor
		{read(a, 2, -76, 0), false},
		{read(a, 3, -50, 0), false}, // no door's antenna
		{read(a, 0, -50, 0), false},
		{other, false},
		{noRSSI, true},
	} {
		if got := e.Accepts(&tc.r); got != tc.want {
			t.Errorf("reader %s antenna %d rssi %d: Accepts %v, want %v", tc.r.Reader, tc.r.Antenna, tc.r.RSSI, got, tc.want)
		}
	}
}

// Reads saved before a crash and replayed into a fresh engine make the pass
// they would have made, with their own times; the reader's backlog of the
// same reads after the restart makes no second pass.
func TestReplayedReadsMakeOnePass(t *testing.T) {
	const held = "3034257BF40C0E40000007D1"
	var c collector
	e, err := portal.New(portal.Config{Doors: twoDoors(), Sink: c.sink, Lots: lots{held: {"L-HELD", true}}})
	if err != nil {
		t.Fatal(err)
	}
	saved := sweep(held, 3, 4, portal.DirectionOut, 0)
	e.Observe(saved)
	restart := t0.Add(time.Minute)
	e.Tick(restart)
	if len(c.passes) != 1 || len(c.alerts) != 1 {
		t.Fatalf("%d passes, %d alerts after the replay", len(c.passes), len(c.alerts))
	}
	p := c.passes[0]
	if !p.Start.Equal(t0) || !p.End.Equal(saved[len(saved)-1].Time) || p.Direction != portal.DirectionOut {
		t.Fatalf("pass %s %s–%s, want out with the reads' own times", p.Direction, p.Start, p.End)
	}
	// The reader delivers the same reads again after the restart.
	e.Observe(saved)
	e.Tick(restart.Add(time.Minute))
	if len(c.passes) != 1 || len(c.alerts) != 1 {
		t.Fatalf("backlog made %d passes, %d alerts; want the one of each", len(c.passes), len(c.alerts))
	}
	if st := e.Stats(); st.Replayed != uint64(len(saved)) {
		t.Fatalf("Replayed %d, want %d", st.Replayed, len(saved))
	}
}

// A pass's alerts reach the sink before the pass: whoever has handled the
// pass has handled its alerts.
func TestAlertsBeforeTheirPass(t *testing.T) {
	const held = "3034257BF40C0E40000007D1"
	var order []string
	e, err := portal.New(portal.Config{Doors: twoDoors(), Lots: lots{held: {"L-HELD", true}},
		Sink: func(ev portal.Event) { order = append(order, ev.EventType()) }})
	if err != nil {
		t.Fatal(err)
	}
	e.Observe(sweep(held, 3, 4, portal.DirectionOut, 0))
	e.Tick(t0.Add(time.Minute))
	if len(order) != 3 || order[1] != "alert" || order[2] != "pass" {
		t.Fatalf("events %v, want arrival, alert, pass", order)
	}
}
