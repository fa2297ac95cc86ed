package portal_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// collector keeps the events an engine emits.
type collector struct {
	arrivals []*portal.ArrivalEvent
	passes   []*portal.PassEvent
	alerts   []*portal.AlertEvent
}

func (c *collector) sink(e portal.Event) {
	switch v := e.(type) {
	case *portal.ArrivalEvent:
		c.arrivals = append(c.arrivals, v)
	case *portal.PassEvent:
		c.passes = append(c.passes, v)
	case *portal.AlertEvent:
		c.alerts = append(c.alerts, v)
	}
}

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func doorsOf(sc *readersim.Scenario) []portal.DoorConfig {
	var ds []portal.DoorConfig
	for _, d := range sc.Doors {
		ds = append(ds, portal.DoorConfig{ID: d.ID, Reader: "r1", AntennasOutside: d.Outside, AntennasInside: d.Inside})
	}
	return ds
}

// play feeds a scenario's reads to an engine cycle by cycle, ticking it with
// the scenario clock, and flushes it at the end.
func play(t testing.TB, sc *readersim.Scenario, e *portal.Engine) {
	gen := sc.NewGenerator()
	var reads []rfid.Read
	end := sc.Duration + 5*time.Second
	for gen.Elapsed() < end {
		reads = gen.Next(reads[:0], t0)
		for i := range reads {
			reads[i].Reader = "r1"
		}
		e.Observe(reads)
		e.Tick(t0.Add(gen.Elapsed()))
	}
	e.Flush(t0.Add(end))
}

func TestScenariosKnownTruth(t *testing.T) {
	for _, name := range readersim.BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			sc, err := readersim.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			var c collector
			e, err := portal.New(portal.Config{Doors: doorsOf(sc), Sink: c.sink})
			if err != nil {
				t.Fatal(err)
			}
			play(t, sc, e)
			truth := sc.Truth()
			if len(c.passes) != len(truth) {
				for _, p := range c.passes {
					t.Logf("pass %s %s %v", p.Door, p.Direction, p.EPCs())
				}
				t.Fatalf("%d passes, want %d", len(c.passes), len(truth))
			}
			seen := map[string]bool{}
			for _, want := range truth {
				var wantEPCs []string
				for _, e := range want.EPCs {
					wantEPCs = append(wantEPCs, e.String())
				}
				slices.Sort(wantEPCs)
				found := false
				for _, p := range c.passes {
					if p.Door == want.Door && slices.Equal(p.EPCs(), wantEPCs) {
						found = true
						if p.Direction != want.Direction {
							t.Errorf("%s: direction %s, want %s", want.Carton, p.Direction, want.Direction)
						}
						for _, tg := range p.Tags {
							if tg.Direction != want.Direction {
								t.Errorf("%s: tag %s direction %s", want.Carton, tg.EPC, tg.Direction)
							}
						}
					}
				}
				if !found {
					for _, p := range c.passes {
						t.Logf("pass %s %s %v", p.Door, p.Direction, p.EPCs())
					}
					t.Errorf("%s: no pass at %s with EPCs %v", want.Carton, want.Door, wantEPCs)
				}
			}
			for _, p := range c.passes {
				for _, tg := range p.Tags {
					if seen[tg.EPC] {
						t.Errorf("EPC %s in two passes", tg.EPC)
					}
					seen[tg.EPC] = true
				}
			}
			if st := e.Stats(); st.Tracked != 0 || st.Passes != uint64(len(truth)) {
				t.Errorf("stats after flush: %+v", st)
			}
		})
	}
}

func TestDockInAggregation(t *testing.T) {
	sc, err := readersim.Load("dock-in")
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	e, err := portal.New(portal.Config{Doors: doorsOf(sc), Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	play(t, sc, e)
	if len(c.passes) != 1 {
		t.Fatalf("%d passes", len(c.passes))
	}
	p := c.passes[0]
	if p.Parent != "106141412345678908" || p.Cases != 4 || p.Items != 4 || p.Others != 0 {
		t.Errorf("aggregation: parent %q cases %d items %d others %d", p.Parent, p.Cases, p.Items, p.Others)
	}
	if p.GTINs["10614141123459"] != 4 || p.GTINs["00614141123452"] != 4 {
		t.Errorf("GTIN counts %v", p.GTINs)
	}
	if len(c.arrivals) != 9 {
		t.Errorf("%d arrivals, want 9 (one per EPC)", len(c.arrivals))
	}
	if st := e.Stats(); st.Weak == 0 {
		t.Errorf("the stray tag's weak reads were not filtered: %+v", st)
	}
	for _, tg := range p.Tags {
		if !strings.HasPrefix(tg.URI, "urn:epc:id:") {
			t.Errorf("tag %s URI %q", tg.EPC, tg.URI)
		}
	}
}

type lots map[string][2]any

func (l lots) LotForEPC(h string) (string, bool, bool) {
	v, ok := l[h]
	if !ok {
		return "", false, false
	}
	return v[0].(string), v[1].(bool), true
}

func TestHeldLotGoingOutRaisesAlert(t *testing.T) {
	sc, err := readersim.Load("dock-out")
	if err != nil {
		t.Fatal(err)
	}
	held := "3054257BF4CF5E4000000BB9"
	var c collector
	e, err := portal.New(portal.Config{Doors: doorsOf(sc), Sink: c.sink, Lots: lots{
		held:                       {"2603-ACME-42-001", true},
		"3054257BF4CF5E4000000BBA": {"2603-ACME-42-002", false},
	}})
	if err != nil {
		t.Fatal(err)
	}
	play(t, sc, e)
	if len(c.alerts) != 1 || c.alerts[0].EPC != held || c.alerts[0].Lot != "2603-ACME-42-001" || c.alerts[0].Direction != "out" {
		t.Fatalf("alerts %+v", c.alerts)
	}
	if c.passes[0].Lots["2603-ACME-42-002"] != 1 {
		t.Errorf("lot counts %v", c.passes[0].Lots)
	}
}

func read(epc string, ant uint16, rssi int8, at time.Duration) rfid.Read {
	return rfid.Read{EPC: rfid.MustParseEPC(epc), Reader: "r1", Antenna: ant, RSSI: rssi, HasRSSI: true, Time: t0.Add(at)}
}

func TestPresenceAndDirectionRules(t *testing.T) {
	door := portal.DoorConfig{ID: "d1", Reader: "r1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}, MinReads: 3}
	var c collector
	e, err := portal.New(portal.Config{Doors: []portal.DoorConfig{door}, Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	const a, b, s = "3034257BF40C0E40000007D1", "3034257BF40C0E40000007D2", "3034257BF40C0E40000007D3"
	e.Observe([]rfid.Read{
		read(a, 1, -50, 0), read(a, 1, -40, 100*time.Millisecond), read(a, 2, -60, 150*time.Millisecond),
		read(a, 2, -42, 900*time.Millisecond),                                                          // a: outside peak at 100ms, inside at 900ms → in
		read(b, 2, -50, 0), read(b, 2, -45, 10*time.Millisecond), read(b, 2, -48, 20*time.Millisecond), // b: inside only → unknown
		read(s, 1, -50, 0), read(s, 1, -50, 10*time.Millisecond), // s: 2 reads < MinReads 3 → stray
		read(s, 3, -40, 20*time.Millisecond), // antenna 3: unmapped
		read(s, 1, -90, 30*time.Millisecond), // below the floor
	})
	if len(c.arrivals) != 2 {
		t.Fatalf("%d arrivals, want 2", len(c.arrivals))
	}
	e.Tick(t0.Add(2 * time.Second)) // before the 3 s presence timeout
	if len(c.passes) != 0 {
		t.Fatal("pass closed before the presence timeout")
	}
	e.Observe([]rfid.Read{read(a, 2, -70, 2500*time.Millisecond)}) // keeps a present
	e.Tick(t0.Add(4 * time.Second))
	if len(c.passes) != 0 {
		t.Fatal("pass closed while a tag is still present")
	}
	e.Tick(t0.Add(6 * time.Second))
	if len(c.passes) != 1 {
		t.Fatalf("%d passes", len(c.passes))
	}
	p := c.passes[0]
	if got := p.EPCs(); !slices.Equal(got, []string{a, b}) {
		t.Fatalf("pass EPCs %v", got)
	}
	if p.Tags[0].Direction != "in" || p.Tags[1].Direction != "unknown" || p.Direction != "in" {
		t.Errorf("directions %s %s pass %s", p.Tags[0].Direction, p.Tags[1].Direction, p.Direction)
	}
	if p.Tags[0].Reads != 5 || p.Tags[0].PeakRSSI != -40 {
		t.Errorf("tag a: %+v", p.Tags[0])
	}
	st := e.Stats()
	if st.Strays != 1 || st.Unmapped != 1 || st.Weak != 1 || st.Tracked != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestConfigErrors(t *testing.T) {
	sink := func(portal.Event) {}
	cases := []struct {
		doors []portal.DoorConfig
		want  string
	}{
		{nil, "no doors"},
		{[]portal.DoorConfig{{ID: "d", AntennasOutside: []uint16{1}}}, "antennas_inside"},
		{[]portal.DoorConfig{{ID: "d", Role: "sideways", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}}, "role"},
		{[]portal.DoorConfig{{ID: "d", AntennasOutside: []uint16{1}, AntennasInside: []uint16{1}}}, "both outside and inside"},
		{[]portal.DoorConfig{{ID: "d", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}, RSSIFloor: 5}}, "rssi_floor"},
		{[]portal.DoorConfig{{ID: "d", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}},
			{ID: "e", AntennasOutside: []uint16{2}, AntennasInside: []uint16{3}}}, "already belongs"},
	}
	for _, tc := range cases {
		_, err := portal.New(portal.Config{Doors: tc.doors, Sink: sink})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("doors %+v: error %v, want it to mention %q", tc.doors, err, tc.want)
		}
	}
}

func TestMemoryPerEPC(t *testing.T) {
	if testing.Short() {
		return
	}
	per := trackedBytesPerEPC(t, 100_000)
	t.Logf("%.0f bytes per tracked EPC", per)
	if per*100_000 > 100<<20 {
		t.Fatalf("100,000 EPCs take %.0f MB, budget 100 MB", per*100_000/(1<<20))
	}
}

func epcN(i int) rfid.EPC {
	return rfid.MustParseEPC(fmt.Sprintf("3034257BF40C0E40%08X", i))
}

// TestThreeDoorsKeepCountsRight: a tag heard at three doors keeps statistics
// for the two strongest, and the door it drops stops waiting for it.
func TestThreeDoorsKeepCountsRight(t *testing.T) {
	var doors []portal.DoorConfig
	for i := range 3 {
		a := uint16(2*i + 1)
		doors = append(doors, portal.DoorConfig{ID: fmt.Sprintf("d%d", i+1), Reader: "r1",
			AntennasOutside: []uint16{a}, AntennasInside: []uint16{a + 1}, MinReads: 1})
	}
	var c collector
	e, err := portal.New(portal.Config{Doors: doors, Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	const x = "3034257BF40C0E40000007D1"
	e.Observe([]rfid.Read{
		read(x, 1, -70, 0),                     // d1, weak
		read(x, 3, -50, 100*time.Millisecond),  // d2
		read(x, 5, -40, 200*time.Millisecond),  // d3 replaces d1
		read(x, 6, -41, 1200*time.Millisecond), // d3 inside
		read(x, 4, -60, 1300*time.Millisecond), // d2 inside
	})
	e.Tick(t0.Add(10 * time.Second))
	if len(c.passes) != 1 || c.passes[0].Door != "d3" || c.passes[0].Direction != "in" {
		for _, p := range c.passes {
			t.Logf("pass %s %s %v", p.Door, p.Direction, p.EPCs())
		}
		t.Fatalf("%d passes", len(c.passes))
	}
	// Every door is idle again: a new tag at d1 makes a pass of its own.
	e.Observe([]rfid.Read{read("3034257BF40C0E40000007D2", 1, -50, 11*time.Second), read("3034257BF40C0E40000007D2", 2, -50, 12*time.Second)})
	e.Tick(t0.Add(20 * time.Second))
	if len(c.passes) != 2 || c.passes[1].Door != "d1" || len(c.passes[1].Tags) != 1 {
		t.Fatalf("second pass %+v", c.passes[len(c.passes)-1])
	}
}

// TestReplayedBacklogMakesNoSecondPass: reports held over a reconnect and
// delivered again after the tag left must not create another pass.
func TestReplayedBacklogMakesNoSecondPass(t *testing.T) {
	var c collector
	e, err := portal.New(portal.Config{Doors: []portal.DoorConfig{{ID: "d1", Reader: "r1",
		AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}}, Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	const x = "3054257BF46DB640000003E9"
	pass := []rfid.Read{read(x, 1, -50, 0), read(x, 1, -45, 200*time.Millisecond), read(x, 2, -44, 800*time.Millisecond)}
	e.Observe(pass)
	e.Tick(t0.Add(5 * time.Second))
	e.Observe(pass) // the same reports again, after the pass closed
	e.Tick(t0.Add(10 * time.Second))
	if len(c.passes) != 1 || len(c.arrivals) != 1 {
		t.Fatalf("%d passes, %d arrivals after a replay", len(c.passes), len(c.arrivals))
	}
	if st := e.Stats(); st.Replayed != 3 {
		t.Errorf("replayed %d", st.Replayed)
	}
	// The tag coming back later is a new pass.
	e.Observe([]rfid.Read{read(x, 2, -50, 20*time.Second), read(x, 1, -45, 21*time.Second)})
	e.Tick(t0.Add(30 * time.Second))
	if len(c.passes) != 2 || c.passes[1].Direction != "out" {
		t.Fatalf("passes %d", len(c.passes))
	}
}

// An SSCC-96 with filter 2 is a carton (full case for transport), with
// filter 6 a pallet, the pass's parent.
func TestSSCCFilterTellsCaseFromPallet(t *testing.T) {
	door := portal.DoorConfig{ID: "d1", Reader: "r1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}
	var c collector
	e, err := portal.New(portal.Config{Doors: []portal.DoorConfig{door}, Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	const carton, pallet = "3154257BF400000000000000", "31D4257BF400000001000000" // filter 2, filter 6
	e.Observe([]rfid.Read{read(carton, 1, -50, 0), read(carton, 2, -45, 500*time.Millisecond),
		read(pallet, 1, -50, 0), read(pallet, 2, -45, 500*time.Millisecond)})
	e.Flush(t0.Add(10 * time.Second))
	if len(c.passes) != 1 {
		t.Fatalf("%d passes", len(c.passes))
	}
	p := c.passes[0]
	if p.Cases != 1 || len(p.Pallets) != 1 || p.Parent != "006141410000000012" {
		t.Fatalf("cases %d pallets %v parent %q", p.Cases, p.Pallets, p.Parent)
	}
}

// A tag parked in the field (a pallet staged at the door) must not hold the
// passes of the cartons that go by open, nor count a returning tag twice.
func TestParkedTagDoesNotHoldPassesOpen(t *testing.T) {
	door := portal.DoorConfig{ID: "d1", Reader: "r1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}
	var c collector
	e, err := portal.New(portal.Config{Doors: []portal.DoorConfig{door}, Sink: c.sink})
	if err != nil {
		t.Fatal(err)
	}
	const parked, a = "3034257BF40C0E40000007D9", "3034257BF40C0E40000007DA"
	for ms := 0; ms <= 30_000; ms += 100 {
		at := time.Duration(ms) * time.Millisecond
		if ms%500 == 0 {
			e.Observe([]rfid.Read{read(parked, 1, -60, at)})
		}
		switch ms {
		case 5000, 5100:
			e.Observe([]rfid.Read{read(a, 1, -45, at)})
		case 5400, 5500:
			e.Observe([]rfid.Read{read(a, 2, -45, at)})
		}
		e.Tick(t0.Add(at))
	}
	if len(c.passes) != 1 {
		t.Fatalf("%d passes while a tag stays parked", len(c.passes))
	}
	p := c.passes[0]
	if got := p.EPCs(); len(got) != 1 || got[0] != a || p.Direction != "in" {
		t.Fatalf("pass %v direction %s", got, p.Direction)
	}
}
