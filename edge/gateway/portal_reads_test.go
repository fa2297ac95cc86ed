package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
)

var readsT0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// testClock is a settable clock.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }
func (c *testClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }

// openDockGateway opens a gateway on dir with a receiving door DOOR1
// (antennas 1, 2 outside, 3, 4 inside) and a shipping door DOOR2 (5, 6 and
// 7, 8) on reader R1, which is never started: the test gives the reads. It
// is neither run nor flushed, so closing it is what a kill does to the
// portal: the engine's memory is gone.
func openDockGateway(t testing.TB, dir string, clock *testClock) *Gateway {
	t.Helper()
	door := func(id, role string, out, in []uint16) config.Door {
		return config.Door{DoorConfig: portal.DoorConfig{ID: id, Role: role, Reader: "R1",
			AntennasOutside: out, AntennasInside: in, PresenceTimeout: 2 * time.Second}, Printer: "P1"}
	}
	return openGateway(t, &config.Config{Site: "r", Gateway: "gw", DataDir: dir,
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Readers:  []readers.Config{{ID: "R1", Type: readers.TypeLLRP, Address: "127.0.0.1:1"}},
		Doors: []config.Door{door("DOOR1", portal.RoleReceiving, []uint16{1, 2}, []uint16{3, 4}),
			door("DOOR2", portal.RoleShipping, []uint16{5, 6}, []uint16{7, 8})},
	}, Options{Now: clock.now})
}

// sweepReads are the reads of a tag going through a door over 2 s from
// start: the outside antenna first for "in", the inside one first for "out".
func sweepReads(epc string, outside, inside uint16, dir string, start time.Time) []rfid.Read {
	first, second := outside, inside
	if dir == portal.DirectionOut {
		first, second = inside, outside
	}
	e := rfid.MustParseEPC(epc)
	var rs []rfid.Read
	for i := 0; i < 10; i++ {
		at := start.Add(time.Duration(i) * 100 * time.Millisecond)
		rs = append(rs, rfid.Read{EPC: e, Reader: "R1", Antenna: first, RSSI: int8(-40 - 3*absInt(i-3)), HasRSSI: true, Time: at},
			rfid.Read{EPC: e, Reader: "R1", Antenna: second, RSSI: int8(-40 - 3*absInt(i-7)), HasRSSI: true, Time: at.Add(50 * time.Millisecond)})
	}
	return rs
}

func absInt(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// drainPortal publishes what the portal pipeline has queued and returns.
func drainPortal(t *testing.T, g *Gateway) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.runPortalPipeline(ctx); err != nil {
		t.Fatal(err)
	}
}

// takeEvents returns the outbox events not yet handed out in this session
// (there is at least one), by type.
func takeEvents(t *testing.T, g *Gateway) map[string][]outbox.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := g.ob.Next(ctx, 100000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]outbox.Event{}
	for _, ev := range evs {
		out[ev.Type] = append(out[ev.Type], ev)
	}
	return out
}

// savedCount counts the saved reads in the store.
func savedCount(t *testing.T, g *Gateway) int {
	t.Helper()
	n := 0
	err := g.store.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(store.PrefixPortalRead)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// heldCarton receives one carton and holds its lot; it returns the carton's
// EPC.
func heldCarton(t *testing.T, g *Gateway) (epc, lot string) {
	t.Helper()
	ctx := context.Background()
	rc, err := g.Receiving().Receive(ctx, receiving.Request{Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Receiving().Carton(rc.Cartons[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Lots().Hold(ctx, rc.Lot, "QA sample failed", "test"); err != nil {
		t.Fatal(err)
	}
	return c.EPC, rc.Lot
}

// A carton of a held lot going out is being read when the gateway is
// killed: its pass was open, only its arrival had happened. At the next
// start the saved reads make the pass, with the reads' own times and marked
// recovered, and its hold alert and EPCIS document, each once; the reader's
// backlog of the same reads makes no second pass, and neither does another
// restart.
func TestPassOpenAtAKillIsRecovered(t *testing.T) {
	dir := t.TempDir()
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, dir, clock)
	epc, lot := heldCarton(t, g)

	reads := sweepReads(epc, 5, 7, portal.DirectionOut, readsT0)
	g.observeReads(reads[:7])
	g.observeReads(reads[7:])
	if err := g.reads.write(); err != nil { // the writer's 100 ms tick
		t.Fatal(err)
	}
	if st := g.eng.Stats(); st.Arrivals != 1 || st.Passes != 0 {
		t.Fatalf("before the kill: %+v, want the arrival and no pass", st)
	}
	// A prune now keeps the reads: the pass is open.
	if err := g.reads.prune(); err != nil {
		t.Fatal(err)
	}
	if n := savedCount(t, g); n != len(reads) {
		t.Fatalf("%d reads saved, want %d", n, len(reads))
	}
	g.Close() // the kill: no flush of the engine, no drain of the pipeline

	clock.set(readsT0.Add(time.Minute))
	g = openDockGateway(t, dir, clock)
	g.recoverPortal()
	// Nothing departs while the readers may still deliver a backlog.
	g.eng.Tick(readsT0.Add(time.Minute + recoveryHold/2))
	if st := g.eng.Stats(); st.Passes != 0 || st.Tracked != 1 {
		t.Fatalf("within the hold after the restart: %+v, want the tag still present", st)
	}
	g.eng.Tick(readsT0.Add(time.Minute + recoveryHold))
	drainPortal(t, g)
	evs := takeEvents(t, g)
	if len(evs["portal.pass"]) != 1 || len(evs["lot.hold.alert"]) != 1 || len(evs["epcis.pass"]) != 1 || len(evs["portal.arrival"]) != 0 {
		t.Fatalf("after the restart: %d passes, %d alerts, %d EPCIS documents, %d arrivals; want one of each and no arrival",
			len(evs["portal.pass"]), len(evs["lot.hold.alert"]), len(evs["epcis.pass"]), len(evs["portal.arrival"]))
	}
	var p portal.PassEvent
	if err := json.Unmarshal(evs["portal.pass"][0].Body, &p); err != nil {
		t.Fatal(err)
	}
	last := reads[len(reads)-1].Time
	if !p.Recovered || p.Door != "DOOR2" || p.Direction != portal.DirectionOut || !p.Start.Equal(readsT0) || !p.End.Equal(last) ||
		len(p.Tags) != 1 || p.Tags[0].EPC != epc || p.Tags[0].Reads != len(reads) {
		t.Fatalf("recovered pass %+v", p)
	}
	var a portal.AlertEvent
	if err := json.Unmarshal(evs["lot.hold.alert"][0].Body, &a); err != nil {
		t.Fatal(err)
	}
	if !a.Recovered || a.Lot != lot || a.EPC != epc || !a.Time.Equal(last) {
		t.Fatalf("recovered alert %+v", a)
	}
	// The pass is in the outbox: its reads go at the next write.
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	if n := savedCount(t, g); n != 0 {
		t.Fatalf("%d reads still saved after the recovered pass was published", n)
	}

	// The reader delivers its backlog: the same reads again.
	pending := g.ob.Stats().Pending()
	g.observeReads(reads)
	g.eng.Tick(clock.now().Add(time.Minute))
	drainPortal(t, g)
	if st := g.eng.Stats(); st.Passes != 1 || st.Replayed != uint64(len(reads)) {
		t.Fatalf("after the backlog: %d passes, %d reads dropped as replayed; want 1 and %d", st.Passes, st.Replayed, len(reads))
	}
	if n := g.ob.Stats().Pending(); n != pending {
		t.Fatalf("the backlog published %d events", n-pending)
	}
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	if err := g.reads.prune(); err != nil {
		t.Fatal(err)
	}
	g.Close()

	// Another restart finds nothing to replay.
	g = openDockGateway(t, dir, clock)
	g.recoverPortal()
	if st := g.eng.Stats(); st.Reads != 0 || g.recovered != 0 {
		t.Fatalf("second restart replayed %d reads, recovered %d passes", st.Reads, g.recovered)
	}
}

// A pass published while another tag stays in the field (a pallet parked at
// the door) loses its saved reads although the parked tag's are older: a
// kill then recovers the parked tag's pass alone, not the published one a
// second time.
func TestPublishedPassIsNotReplayed(t *testing.T) {
	dir := t.TempDir()
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, dir, clock)
	const parked, carton = "3034257BF40C0E40000007D1", "3034257BF40C0E40000007D2"
	// The parked tag is read every half second at DOOR1 from t0 on.
	var parkedReads []rfid.Read
	for at := time.Duration(0); at < 10*time.Second; at += 500 * time.Millisecond {
		parkedReads = append(parkedReads, rfid.Read{EPC: rfid.MustParseEPC(parked), Reader: "R1", Antenna: 3, RSSI: -50, HasRSSI: true, Time: readsT0.Add(at)})
	}
	g.observeReads(parkedReads[:4])
	g.observeReads(sweepReads(carton, 5, 7, portal.DirectionIn, readsT0.Add(time.Second)))
	g.observeReads(parkedReads[4:])
	g.eng.Tick(readsT0.Add(6 * time.Second)) // the carton has left DOOR2
	if st := g.eng.Stats(); st.Passes != 1 || st.Tracked != 1 {
		t.Fatalf("%+v, want the carton's pass and the parked tag tracked", st)
	}
	drainPortal(t, g)
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	if err := g.reads.prune(); err != nil {
		t.Fatal(err)
	}
	if n := savedCount(t, g); n != len(parkedReads) {
		t.Fatalf("%d reads saved, want the parked tag's %d", n, len(parkedReads))
	}
	g.Close()

	clock.set(readsT0.Add(time.Minute))
	g = openDockGateway(t, dir, clock)
	g.recoverPortal()
	g.eng.Tick(readsT0.Add(time.Minute + recoveryHold))
	drainPortal(t, g)
	evs := takeEvents(t, g)
	if len(evs["portal.pass"]) != 2 {
		t.Fatalf("%d passes in the outbox, want the carton's from before the kill and the parked tag's", len(evs["portal.pass"]))
	}
	var p portal.PassEvent
	if err := json.Unmarshal(evs["portal.pass"][1].Body, &p); err != nil {
		t.Fatal(err)
	}
	if !p.Recovered || len(p.Tags) != 1 || p.Tags[0].EPC != parked || !p.Start.Equal(readsT0) {
		t.Fatalf("recovered pass %+v, want the parked tag's from t0", p)
	}
}

// Beyond their bound the oldest saved reads are dropped and counted, with
// an alarm; /healthz warns until they are back under half of it.
func TestSavedReadsBound(t *testing.T) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, t.TempDir(), clock)
	g.reads.max = 10
	const tag = "3034257BF40C0E40000007D1"
	var reads []rfid.Read
	for i := 0; i < 25; i++ {
		reads = append(reads, rfid.Read{EPC: rfid.MustParseEPC(tag), Reader: "R1", Antenna: 1, RSSI: -50, HasRSSI: true, Time: readsT0.Add(time.Duration(i) * 100 * time.Millisecond)})
	}
	g.observeReads(reads)
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	if n := savedCount(t, g); n != 10 || g.reads.dropped.Load() != 15 || !g.reads.full.Load() {
		t.Fatalf("%d saved, %d dropped, full %v; want 10, 15, true", n, g.reads.dropped.Load(), g.reads.full.Load())
	}
	// The newest are kept.
	var first rfid.Read
	err := g.store.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(store.PrefixPortalRead)})
		defer it.Close()
		it.Rewind()
		return it.Item().Value(func(v []byte) error { return decodeRead(v, &first) })
	})
	if err != nil || !first.Time.Equal(reads[15].Time) {
		t.Fatalf("oldest kept read at %v (%v), want %v", first.Time, err, reads[15].Time)
	}
	if ok, detail := g.health(); !ok || len(detail.(*healthDetail).Warnings) == 0 {
		t.Fatalf("healthz %v %v, want a warning", ok, detail)
	}
	g.eng.Flush(readsT0.Add(time.Minute))
	drainPortal(t, g)
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	if err := g.reads.prune(); err != nil {
		t.Fatal(err)
	}
	if err := g.reads.write(); err != nil { // the bound is cleared at a write
		t.Fatal(err)
	}
	if n := savedCount(t, g); n != 0 || g.reads.full.Load() {
		t.Fatalf("after the pass: %d saved, full %v", n, g.reads.full.Load())
	}
}

// A saved read decodes to the read it was.
func TestSavedReadRoundTrip(t *testing.T) {
	for _, r := range []rfid.Read{
		{EPC: rfid.MustParseEPC("3074257BF7194E4000001A85"), Reader: "R1", Antenna: 3, RSSI: -61, HasRSSI: true, Time: readsT0},
		{EPC: rfid.MustParseEPC("E2801160600002"), Antenna: 1, Time: time.Unix(0, -5)},
	} {
		var got rfid.Read
		if err := decodeRead(encodeRead(&r), &got); err != nil {
			t.Fatal(err)
		}
		if got.EPC != r.EPC || got.Reader != r.Reader || got.Antenna != r.Antenna || got.RSSI != r.RSSI || got.HasRSSI != r.HasRSSI || !got.Time.Equal(r.Time) {
			t.Fatalf("decoded %+v, want %+v", got, r)
		}
		if k := readKey(r.Time, 7); !readKeyTime(k).Equal(r.Time) || readKeySeq(k) != 7 {
			t.Fatalf("key of %v: time %v seq %d", r.Time, readKeyTime(k), readKeySeq(k))
		}
	}
	if string(readKey(time.Unix(0, -5), 0)) >= string(readKey(readsT0, 0)) {
		t.Fatal("a time before 1970 sorts after one after it")
	}
	if err := decodeRead([]byte{9, 9}, new(rfid.Read)); err == nil {
		t.Fatal("a malformed value decoded")
	}
}

// BenchmarkSavedReads measures the cost saving adds to the read path: the
// engine observes a batch of 100 reads, they are saved, and written in
// batches as the writer would.
func BenchmarkSavedReads(b *testing.B) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(b, b.TempDir(), clock)
	batch := make([]rfid.Read, 100)
	for i := range batch {
		batch[i] = rfid.Read{EPC: rfid.MustParseEPC(fmt.Sprintf("3034257BF40C0E400000%04X", i)), Reader: "R1", Antenna: uint16(1 + i%4), RSSI: -50, HasRSSI: true}
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i := range batch {
			batch[i].Time = readsT0.Add(time.Duration(n) * time.Millisecond)
		}
		g.observeReads(batch)
		if n%10 == 9 {
			if err := g.reads.write(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := g.reads.write(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "reads/s")
}

// A store error of saving or pruning raises one alarm, and clears it when
// saving works again; the run loop goes on either way (the gateway does not
// stop over it).
func TestSavedReadsStoreErrorIsAnAlarm(t *testing.T) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, t.TempDir(), clock)
	var alarms []string
	g.reads.onAlarm = func(kind, _ string, cleared bool) { alarms = append(alarms, fmt.Sprintf("%s %v", kind, cleared)) }
	failure := errors.New("saving portal reads: no space left on device")
	g.reads.outcome(failure)
	g.reads.outcome(failure) // reported once
	g.reads.outcome(nil)
	g.reads.outcome(nil)
	if got := strings.Join(alarms, ","); got != "portal_reads_unsaved false,portal_reads_unsaved true" {
		t.Fatalf("alarms %q", got)
	}
}

// An alert is recovered as its pass is: by when the pass began, not by its
// tag's last read (which may come after the restart).
func TestAlertRecoveredAsItsPass(t *testing.T) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, t.TempDir(), clock)
	g.started = readsT0
	a := &portal.AlertEvent{Door: "dock-1", Time: readsT0.Add(time.Second), PassStart: readsT0.Add(-time.Second)}
	g.onPortalEvent(a)
	if !a.Recovered {
		t.Fatal("the alert of a pass begun before the start is not marked recovered")
	}
}

// A carton at the door when the gateway stops is one pass after the
// restart, from its first read before the stop, marked recovered: whether
// the gateway is back within a presence timeout and reads it again, or
// back later and gets the reader's backlog of it (nothing departs while
// the backlog may still come).
func TestRestartContinuesThePass(t *testing.T) {
	for _, tc := range []struct {
		name string
		gap  time.Duration // from the last read before the stop to the start
		// shift moves the reads after the stop: read again after the
		// start, or a backlog on the reader's own times.
		shift time.Duration
	}{
		{"quick restart, read again", 500 * time.Millisecond, time.Second},
		{"slow restart, backlog", 8 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clock := &testClock{}
			clock.set(readsT0)
			g := openDockGateway(t, dir, clock)
			reads := sweepReads("3034257BF40C0E40000007D1", 1, 3, portal.DirectionIn, readsT0)
			g.observeReads(reads[:10])
			if err := g.reads.write(); err != nil {
				t.Fatal(err)
			}
			g.Close()

			start := reads[9].Time.Add(tc.gap)
			clock.set(start)
			g = openDockGateway(t, dir, clock)
			g.recoverPortal()
			g.eng.Tick(start.Add(time.Second))
			if g.recovered != 0 || g.eng.Stats().Tracked != 1 {
				t.Fatalf("%d passes closed by the replay, %d tags tracked; want the tag still present", g.recovered, g.eng.Stats().Tracked)
			}
			for i := range reads[10:] {
				reads[10+i].Time = reads[10+i].Time.Add(tc.shift)
			}
			g.observeReads(reads[10:])
			g.eng.Tick(start.Add(recoveryHold + time.Minute))
			drainPortal(t, g)
			evs := takeEvents(t, g)
			if len(evs["portal.pass"]) != 1 {
				t.Fatalf("%d passes, want 1", len(evs["portal.pass"]))
			}
			var p portal.PassEvent
			if err := json.Unmarshal(evs["portal.pass"][0].Body, &p); err != nil {
				t.Fatal(err)
			}
			if !p.Recovered || !p.Start.Equal(readsT0) || p.Tags[0].Reads != len(reads) || p.Direction != portal.DirectionIn {
				t.Fatalf("pass %+v, want one recovered pass in of every read from t0", p)
			}
		})
	}
}
