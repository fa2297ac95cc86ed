package gateway

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/outbox"
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

// savedCount counts the saved reads a replay would give now (the reads of
// published passes left out), read afresh from the store; it checks that
// what the gateway knows of the store is what is there.
func savedCount(t *testing.T, g *Gateway) int {
	t.Helper()
	fresh := newSavedReads(g.store.DB(), g.eng, nil, slog.New(slog.DiscardHandler), nil)
	n := 0
	if err := fresh.load(func(reads []rfid.Read) { n += len(reads) }); err != nil {
		t.Fatal(err)
	}
	if fresh.count != g.reads.count || len(fresh.batches) != len(g.reads.batches) || len(fresh.passes) != len(g.reads.passes) {
		t.Fatalf("the store holds %d reads in %d batches and %d pass records; the gateway counts %d, %d and %d",
			fresh.count, len(fresh.batches), len(fresh.passes), g.reads.count, len(g.reads.batches), len(g.reads.passes))
	}
	return n
}

// storedKeys counts the keys of saved reads and pass records in the store.
func storedKeys(t *testing.T, g *Gateway) (batches, passes int) {
	t.Helper()
	err := g.store.DB().View(func(txn *badger.Txn) error {
		for _, c := range []struct {
			prefix string
			n      *int
		}{{store.PrefixPortalRead, &batches}, {store.PrefixPortalPass, &passes}} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(c.prefix)})
			for it.Rewind(); it.Valid(); it.Next() {
				*c.n++
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return batches, passes
}

// heldCarton receives one carton and holds its lot; it returns the carton's
// EPC.
func heldCarton(t testing.TB, g *Gateway) (epc, lot string) {
	t.Helper()
	c := receiveCarton(t, g)
	if _, err := g.Lots().Hold(context.Background(), c.Lot, "QA sample failed", "test"); err != nil {
		t.Fatal(err)
	}
	return c.EPC, c.Lot
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
	// The pass is in the outbox: from the next write on, a replay leaves
	// its reads out.
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	if n := savedCount(t, g); n != 0 {
		t.Fatalf("%d reads still replayed after the recovered pass was published", n)
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
	// Nothing is open: the prune left nothing in the store.
	if b, p := storedKeys(t, g); b != 0 || p != 0 {
		t.Fatalf("after the prune: %d batches and %d pass records in the store, want none", b, p)
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
	for _, tc := range []struct {
		name    string
		compact bool
	}{{"pass record", false}, {"compacted", true}} {
		t.Run(tc.name, func(t *testing.T) { testPublishedPassIsNotReplayed(t, tc) })
	}
}

func testPublishedPassIsNotReplayed(t *testing.T, tc struct {
	name    string
	compact bool
}) {
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
	if tc.compact {
		// The tag stays parked long: the carton's reads are taken out of
		// the batches, and its pass record goes.
		for range savedReadsCompactAfter {
			if err := g.reads.write(); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.reads.prune(); err != nil {
			t.Fatal(err)
		}
		if g.reads.count != len(parkedReads) || len(g.reads.passes) != 0 {
			t.Fatalf("after the compaction: %d reads and %d pass records saved, want the parked tag's %d and none", g.reads.count, len(g.reads.passes), len(parkedReads))
		}
		if b, p := storedKeys(t, g); b == 0 || p != 0 {
			t.Fatalf("after the compaction: %d batches and %d pass records in the store, want the parked tag's and none", b, p)
		}
		if n := savedCount(t, g); n != len(parkedReads) {
			t.Fatalf("after the compaction: %d reads saved, want the parked tag's %d", n, len(parkedReads))
		}
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

// A write stores its reads in a few keys of under a kilobyte, whatever the
// number of reads: a pallet of 55 tags read ~50 times a second for 2 s (as
// a write every 100 ms would have them 20 times over).
func TestSavedReadsAreBatched(t *testing.T) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, t.TempDir(), clock)
	var reads []rfid.Read
	for i := range 55 {
		e := rfid.MustParseEPC(fmt.Sprintf("3034257BF40C0E400000%04X", i))
		for k := range 100 {
			reads = append(reads, rfid.Read{EPC: e, Reader: "R1", Antenna: uint16(1 + k%4), RSSI: int8(-40 - k%20), HasRSSI: true,
				Time: readsT0.Add(time.Duration(k*20+i) * time.Millisecond)})
		}
	}
	g.observeReads(reads)
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	batches, _ := storedKeys(t, g)
	if n := savedCount(t, g); n != len(reads) || batches > len(reads)/60 {
		t.Fatalf("%d reads saved in %d keys, want %d in at most %d", n, batches, len(reads), len(reads)/60)
	}
	t.Logf("%d reads in %d keys", len(reads), batches)
}

// A write that fails loses its reads (counted) and keeps its passes for the
// next; what the store holds is read again before the next write.
func TestSavedReadsWriteFailure(t *testing.T) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, t.TempDir(), clock)
	reads := sweepReads("3034257BF40C0E40000007D1", 1, 3, portal.DirectionIn, readsT0)
	g.observeReads(reads[:10])
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	g.reads.stale = true // as after a failed write
	g.reads.batches, g.reads.count = nil, 0
	g.observeReads(reads[10:])
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	if n := savedCount(t, g); n != len(reads) || g.reads.count != len(reads) {
		t.Fatalf("%d saved, %d counted; want %d", n, g.reads.count, len(reads))
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
	var first time.Time
	fresh := newSavedReads(g.store.DB(), g.eng, nil, slog.New(slog.DiscardHandler), nil)
	err := fresh.load(func(rs []rfid.Read) {
		if first.IsZero() {
			first = rs[0].Time
		}
	})
	if err != nil || !first.Equal(reads[15].Time) {
		t.Fatalf("oldest kept read at %v (%v), want %v", first, err, reads[15].Time)
	}
	// More reads drop the oldest whole batches.
	g.observeReads(reads[:5])
	if err := g.reads.write(); err != nil {
		t.Fatal(err)
	}
	if n := savedCount(t, g); n != 5 || g.reads.dropped.Load() != 25 {
		t.Fatalf("%d saved, %d dropped; want 5, 25", n, g.reads.dropped.Load())
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

// Saved reads decode to the reads they were, in batches that stay under
// the store's value threshold however many reads and EPCs there are; a
// version 1 value (a read each, as dockgate wrote them before) still
// decodes.
func TestSavedReadRoundTrip(t *testing.T) {
	if th := store.BadgerOptions("", store.Options{}).ValueThreshold; maxSavedValue >= th {
		t.Fatalf("maxSavedValue %d is not under the store's value threshold %d", maxSavedValue, th)
	}
	s := newSavedReads(nil, nil, nil, slog.New(slog.DiscardHandler), nil)
	var in []rfid.Read
	in = append(in,
		rfid.Read{EPC: rfid.MustParseEPC("3074257BF7194E4000001A85"), Reader: "R1", Antenna: 3, RSSI: -61, HasRSSI: true, Time: readsT0},
		rfid.Read{EPC: rfid.MustParseEPC("E2801160600002"), Antenna: 1, Time: time.Unix(0, -5)},
		rfid.Read{EPC: rfid.MustParseEPC("E28"), Reader: "a reader with a long name", Antenna: 300, RSSI: 0, HasRSSI: true, Time: readsT0.Add(time.Hour)})
	for i := range 3000 { // 300 EPCs, and one read 500 times
		e := rfid.MustParseEPC(fmt.Sprintf("3034257BF40C0E400000%04X", i%300))
		if i >= 2500 {
			e = rfid.MustParseEPC("3034257BF40C0E40000FFFFF")
		}
		r := rfid.Read{EPC: e, Reader: fmt.Sprintf("R%d", i%4), Antenna: uint16(1 + i%4), Time: readsT0.Add(time.Duration(i*i) * time.Microsecond)}
		if i%7 != 0 { // an RSSI is kept only when the read has one
			r.RSSI, r.HasRSSI = int8(-40-i%40), true
		}
		in = append(in, r)
	}
	var un []unsavedRead
	for _, r := range in {
		un = append(un, unsavedRead{epc: r.EPC, reader: r.Reader, at: r.Time.UnixNano(), antenna: r.Antenna, rssi: r.RSSI, hasRSSI: r.HasRSSI})
	}
	var got []rfid.Read
	batches := s.encodeBatches(un)
	n := 0
	for _, b := range batches {
		if len(b.value) > maxSavedValue {
			t.Fatalf("a batch of %d bytes", len(b.value))
		}
		var err error
		before := len(got)
		if got, err = decodeBatch(b.value, got); err != nil {
			t.Fatal(err)
		}
		if k, oldest, err := batchHeader(b.value); err != nil || k != len(got)-before || k != b.meta.n {
			t.Fatalf("header: %d reads (%v), decoded %d, meta %d", k, err, len(got)-before, b.meta.n)
		} else {
			for _, r := range got[before:] {
				if at := r.Time.UnixNano(); at < oldest || at < b.meta.min || at > b.meta.max {
					t.Fatalf("read at %d outside its batch's %d (header %d) to %d", at, b.meta.min, oldest, b.meta.max)
				}
			}
		}
		n += b.meta.n
	}
	t.Logf("%d reads in %d batches, %.1f bytes a read", len(in), len(batches), float64(sumLen(batches))/float64(len(in)))
	byTime := func(a, b rfid.Read) int {
		return cmp.Or(a.Time.Compare(b.Time), strings.Compare(a.EPC.String(), b.EPC.String()), strings.Compare(a.Reader, b.Reader),
			cmp.Compare(a.Antenna, b.Antenna), cmp.Compare(a.RSSI, b.RSSI))
	}
	slices.SortFunc(in, byTime)
	slices.SortFunc(got, byTime)
	if n != len(in) || len(got) != len(in) {
		t.Fatalf("%d reads decoded (%d counted), want %d", len(got), n, len(in))
	}
	for i := range in {
		r, g := in[i], got[i]
		if g.EPC != r.EPC || g.Reader != r.Reader || g.Antenna != r.Antenna || g.RSSI != r.RSSI || g.HasRSSI != r.HasRSSI || !g.Time.Equal(r.Time) {
			t.Fatalf("decoded %+v, want %+v", g, r)
		}
	}

	// A version 1 read.
	e96 := rfid.MustParseEPC("3074257BF7194E4000001A85")
	v1 := []byte{savedReadV1, 1, byte(0xC3), 0, 3}
	v1 = binary.BigEndian.AppendUint64(v1, uint64(readsT0.UnixNano()))
	v1 = binary.BigEndian.AppendUint16(v1, 96)
	v1 = append(v1, e96.Bytes()...)
	v1 = append(v1, "R1"...)
	if rs, err := decodeBatch(v1, nil); err != nil || len(rs) != 1 || rs[0].EPC != e96 || rs[0].RSSI != -61 || rs[0].Antenna != 3 || rs[0].Reader != "R1" || !rs[0].Time.Equal(readsT0) {
		t.Fatalf("version 1 read: %+v (%v)", rs, err)
	}
	if k, oldest, err := batchHeader(v1); err != nil || k != 1 || oldest != readsT0.UnixNano() {
		t.Fatalf("version 1 header: %d %d %v", k, oldest, err)
	}

	for _, at := range []int64{-5, 0, readsT0.UnixNano()} {
		if got, seq, ok := savedKeyParts(batchKey(at, 7)); !ok || got != at || seq != 7 {
			t.Fatalf("key of %d: %d seq %d", at, got, seq)
		}
	}
	if string(batchKey(-5, 0)) >= string(batchKey(readsT0.UnixNano(), 0)) {
		t.Fatal("a time before 1970 sorts after one after it")
	}
	for _, v := range [][]byte{{9, 9}, {savedBatchV2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, append(slices.Clone(batches[0].value), 0x80)} {
		if _, err := decodeBatch(v, nil); err == nil {
			t.Fatalf("a malformed value %x decoded", v)
		}
	}
}

func sumLen(bs []encodedBatch) int {
	n := 0
	for _, b := range bs {
		n += len(b.value)
	}
	return n
}

// A pass's record lists its tags with their first and last reads, in
// records under the value threshold however many tags it has.
func TestPassRecordRoundTrip(t *testing.T) {
	p := &portal.PassEvent{Start: readsT0, End: readsT0.Add(5 * time.Second)}
	for i := range 200 {
		p.Tags = append(p.Tags, portal.PassTag{EPC: fmt.Sprintf("3034257BF40C0E400000%04X", i),
			First: readsT0.Add(time.Duration(i) * time.Millisecond), Last: readsT0.Add(time.Duration(4000+i) * time.Microsecond * 1000)})
	}
	recs := encodePassRecords(p)
	var spans []tagSpan
	for _, r := range recs {
		if len(r.value) > maxSavedValue {
			t.Fatalf("a pass record of %d bytes", len(r.value))
		}
		got, err := decodePassRecord(r.value)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, r.meta.spans) || r.meta.end != p.End.UnixNano() {
			t.Fatalf("decoded %v, want %v", got, r.meta.spans)
		}
		spans = append(spans, got...)
	}
	if len(recs) < 2 || len(spans) != len(p.Tags) {
		t.Fatalf("%d tags in %d records, want %d in several", len(spans), len(recs), len(p.Tags))
	}
	for i, sp := range spans {
		if sp.epc.String() != p.Tags[i].EPC || sp.first != p.Tags[i].First.UnixNano() || sp.last != p.Tags[i].Last.UnixNano() {
			t.Fatalf("tag %d: %+v, want %+v", i, sp, p.Tags[i])
		}
	}
	c := spansByEPC([]passRecord{{spans: spans}})
	in := rfid.Read{EPC: spans[3].epc, Time: time.Unix(0, spans[3].last)}
	out := rfid.Read{EPC: spans[3].epc, Time: time.Unix(0, spans[3].last+1)}
	if !c.has(&in) || c.has(&out) {
		t.Fatal("a read in the span is not covered, or one after it is")
	}
}

// FuzzDecodeSavedReads: values read back from the store never panic the
// decoder, whatever their bytes.
func FuzzDecodeSavedReads(f *testing.F) {
	s := newSavedReads(nil, nil, nil, slog.New(slog.DiscardHandler), nil)
	for _, b := range s.encodeBatches([]unsavedRead{{epc: rfid.MustParseEPC("3074257BF7194E4000001A85"), reader: "R1", at: 5, antenna: 1, rssi: -50, hasRSSI: true}}) {
		f.Add(b.value)
	}
	for _, r := range encodePassRecords(&portal.PassEvent{Tags: []portal.PassTag{{EPC: "E280"}}}) {
		f.Add(r.value)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		_, _ = decodeBatch(v, nil)
		_, _, _ = batchHeader(v)
		_, _ = decodePassRecord(v)
	})
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

// BenchmarkSavedReadsDock measures saving portal reads as the soak makes
// them: pallets of 55 tags go through the two doors in turn (one every
// 3.75 s, 4 s in the field), each tag read ~50 times a second on the
// door's 4 antennas, about 3,000 reads/s; the reads are written every
// 100 ms and pruned every 2 s, and each pass is published (passDone) as
// the pipeline would. One op is 100 ms of the dock.
func BenchmarkSavedReadsDock(b *testing.B) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(b, b.TempDir(), clock)
	ants := [2][4]uint16{{1, 2, 3, 4}, {5, 6, 7, 8}}
	const tags, period, dwell = 55, 3750 * time.Millisecond, 4 * time.Second
	pallets := map[int][]rfid.EPC{}
	pallet := func(k int) []rfid.EPC {
		if p, ok := pallets[k]; ok {
			return p
		}
		clear(pallets) // one or two in the field at a time
		out := make([]rfid.EPC, tags)
		for i := range out {
			out[i] = rfid.MustParseEPC(fmt.Sprintf("3034257BF40C0E40%04X%04X", k%0xFFFF, i))
		}
		pallets[k] = out
		return out
	}
	seed := uint32(1)
	rnd := func() uint32 { seed = seed*1664525 + 1013904223; return seed >> 8 }
	now := readsT0
	reads, ticks := 0, 0
	var batch []rfid.Read
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		// 10 inventory cycles of 10 ms, each reported as one batch.
		for c := 0; c < 10; c++ {
			batch = batch[:0]
			at := now.Add(time.Duration(c) * 10 * time.Millisecond)
			el := at.Sub(readsT0)
			for k := int(el/period) - 1; k <= int(el/period); k++ {
				if k < 0 || el < time.Duration(k)*period || el >= time.Duration(k)*period+dwell {
					continue
				}
				for _, e := range pallet(k) {
					for _, a := range ants[k%2] {
						if rnd()%100 < 13 {
							batch = append(batch, rfid.Read{EPC: e, Reader: "R1", Antenna: a, RSSI: int8(-40 - int(rnd()%30)), HasRSSI: true, Time: at})
						}
					}
				}
			}
			g.observeReads(batch)
			reads += len(batch)
		}
		now = now.Add(100 * time.Millisecond)
		clock.set(now)
		g.eng.Tick(now)
		for _, ev := range g.takePortalKept() {
			if p, ok := ev.(*portal.PassEvent); ok {
				g.reads.passDone(p)
			}
		}
		g.portalMu.Lock()
		g.portalBusy = nil
		g.portalMu.Unlock()
		for len(g.portalQ) > 0 {
			<-g.portalQ
		}
		ticks++
		var err error
		if ticks%savedReadsPruneEvery == 0 {
			err = g.reads.write()
			if err == nil {
				err = g.reads.prune()
			}
		} else {
			err = g.reads.write()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(reads), "cpu-ns/read")
	b.ReportMetric(float64(reads)/b.Elapsed().Seconds(), "reads/s")
	b.ReportMetric(float64(reads)/float64(b.N), "reads/op")
	b.ReportMetric(float64(g.reads.saved.Load()), "saved-at-end")
}

// cpuTime is the process's user and system CPU time so far, in ns: the
// wall time of a benchmark that syncs is mostly waiting for the disk.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
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
