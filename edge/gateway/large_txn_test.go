package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/rfid/portal"
)

// A pass too large for one transaction commits in chunks, each recording
// that it committed: the same pass again (replayed after a kill) commits
// only the chunks that had not, and adds no event for the others.
func TestLargePassCommitsInChunksOnce(t *testing.T) {
	ctx := context.Background()
	g := openGateway(t, minimalConfig(t), Options{Offline: true})
	n := 2*passChunkTags + 10
	rc, err := g.recv.Receive(ctx, receiving.Request{ID: "R-1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: min(n, 1000)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	ev := &portal.PassEvent{Door: "DOOR1", Role: portal.RoleReceiving, Direction: portal.DirectionIn, Start: at, End: at,
		Lots: map[string]int{rc.Lot: len(rc.Cartons)}}
	for _, sscc := range rc.Cartons {
		c, err := g.recv.Carton(sscc)
		if err != nil {
			t.Fatal(err)
		}
		ev.Tags = append(ev.Tags, portal.PassTag{EPC: c.EPC, Kind: portal.KindCase, Direction: portal.DirectionIn, First: at, Last: at, Lot: rc.Lot})
	}
	ev.Cases = len(ev.Tags)
	chunks, err := g.planPass(ev, "urn:uuid:x", passChunkTags)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) < 2 {
		t.Fatalf("%d tags make %d chunk(s); the test wants more", len(ev.Tags), len(chunks))
	}
	seq := func() uint64 { return g.ob.Stats().NextSeq }

	before := seq()
	if !g.stagePass(ctx, ev) {
		t.Fatal("pass not recorded")
	}
	first := seq() - before
	got, err := g.recv.Receipt("R-1")
	if err != nil || got.Status != "complete" || got.Seen != len(rc.Cartons) {
		t.Fatalf("receipt after the pass: %+v, %v", got, err)
	}
	// Replayed whole: nothing new.
	if !g.stagePass(ctx, ev) || seq() != before+first {
		t.Fatalf("the pass replayed added %d events", seq()-before-first)
	}
	// Replayed after a kill that lost the last chunk: only its events.
	chunks, _ = g.planPass(ev, "urn:uuid:"+stableEventID("pass", ev.Door, at.Format(time.RFC3339Nano)), passChunkTags)
	last := chunks[len(chunks)-1]
	if err := g.store.DB().Update(func(txn *badger.Txn) error { return txn.Delete(last.key) }); err != nil {
		t.Fatal(err)
	}
	mid := seq()
	if !g.stagePass(ctx, ev) {
		t.Fatal("pass not recorded")
	}
	if added, want := seq()-mid, uint64(len(last.parts)+len(last.docs)); added != want {
		t.Fatalf("the replay added %d events, want %d (the last chunk's)", added, want)
	}
	if got, _ := g.recv.Receipt("R-1"); got.Seen != len(rc.Cartons) {
		t.Fatalf("receipt saw %d cartons after the replay, want %d", got.Seen, len(rc.Cartons))
	}
}
