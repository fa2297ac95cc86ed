package outbox

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// A change and its staged event commit together: committed, the event is
// queued; rolled back, there is no event.
func TestStagedEventCommitsWithTheChange(t *testing.T) {
	s := memStore(t)
	ob := open(t, s, Options{})
	if err := s.Update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte("lot/c/A"), []byte("{}")); err != nil {
			return err
		}
		return ob.Stage(txn, ev("lot.created", PriorityLot, 1))
	}); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused by the change")
	if err := s.Update(func(txn *badger.Txn) error {
		if err := ob.Stage(txn, ev("lot.created", PriorityLot, 2)); err != nil {
			return err
		}
		return refused
	}); !errors.Is(err, refused) {
		t.Fatal(err)
	}
	evs := nextN(t, ob, 10)
	if len(evs) != 1 || evs[0].Type != "lot.created" || string(evs[0].Body) != `{"i":1}` || evs[0].Seq != 1 || evs[0].ID == "" {
		t.Fatalf("queued: %+v", evs)
	}
	if n := countPrefix(t, s, store.PrefixOutboxS); n != 0 {
		t.Fatalf("%d staged keys left after the move", n)
	}
}

// Events staged before a stop (the process killed before the writer moved
// them) are queued by the next Open, in the order they were staged, with
// sequence numbers after the queued ones.
func TestStagedEventsAreQueuedAtOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := Open(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, ob, ev("before", PriorityLot, 0))
	ob.Close()
	// Staged with the outbox closed: nothing moves them until Open.
	for i := 1; i <= 3; i++ {
		if err := s.DB().Update(func(txn *badger.Txn) error { return ob.Stage(txn, ev("staged", PriorityLot, i)) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DB().Update(func(txn *badger.Txn) error { return ob.Stage(txn, ev("reply", PriorityLifecycle, 4)) }); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ob = open(t, s, Options{})
	if st := ob.Stats(); st.Queued[PriorityLot].Events != 4 || st.Queued[PriorityLifecycle].Events != 1 {
		t.Fatalf("after Open: %+v", st.Queued)
	}
	evs := nextN(t, ob, 10)
	want := []string{`reply {"i":4}`, `before {"i":0}`, `staged {"i":1}`, `staged {"i":2}`, `staged {"i":3}`}
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d", len(evs), len(want))
	}
	for i, e := range evs {
		if got := e.Type + " " + string(e.Body); got != want[i] {
			t.Fatalf("event %d: %s, want %s", i, got, want[i])
		}
	}
	if evs[2].Seq != 2 || evs[4].Seq != 4 || evs[0].Seq != 5 {
		t.Fatalf("sequence numbers: %d %d %d", evs[2].Seq, evs[4].Seq, evs[0].Seq)
	}
}

// A transaction committed without store.Update (no listener told) still
// has its events queued, by the writer's periodic pass.
func TestStagedEventWithoutListenerIsQueued(t *testing.T) {
	s := memStore(t)
	ob := open(t, s, Options{})
	if err := s.DB().Update(func(txn *badger.Txn) error { return ob.Stage(txn, ev("x", PriorityLot, 1)) }); err != nil {
		t.Fatal(err)
	}
	if evs := nextN(t, ob, 1); len(evs) != 1 {
		t.Fatalf("queued: %+v", evs)
	}
}

// More staged events than one relay transaction takes are all queued, in
// order.
func TestManyStagedEvents(t *testing.T) {
	s := memStore(t)
	ob := open(t, s, Options{MaxBatch: 16})
	const n = 200
	if err := s.Update(func(txn *badger.Txn) error {
		for i := range n {
			if err := ob.Stage(txn, ev("x", PriorityLot, i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got []Event
	for len(got) < n {
		got = append(got, nextN(t, ob, n)...)
	}
	for i, e := range got {
		if want := fmt.Sprintf(`{"i":%d}`, i); string(e.Body) != want || e.Seq != uint64(i+1) {
			t.Fatalf("event %d: seq %d body %s", i, e.Seq, e.Body)
		}
	}
}

// A change whose event would not fit is refused whole; telemetry and
// invalid events are not staged.
func TestStageRefuses(t *testing.T) {
	s := memStore(t)
	ob := open(t, s, Options{MaxBytes: 300})
	err := s.Update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte("lot/c/B"), []byte("{}")); err != nil {
			return err
		}
		big := ev("lot.created", PriorityLot, 0)
		big.Body = []byte(fmt.Sprintf(`{"pad":"%0400d"}`, 0))
		return ob.Stage(txn, big)
	})
	if !errors.Is(err, ErrStoreFull) {
		t.Fatalf("stage over max_bytes: %v, want ErrStoreFull", err)
	}
	if n := countPrefix(t, s, "lot/c/"); n != 0 {
		t.Fatal("the refused change was committed")
	}
	err = s.Update(func(txn *badger.Txn) error { return ob.Stage(txn, ev("portal.arrival", PriorityTelemetry, 0)) })
	if !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("staged telemetry: %v, want ErrInvalidEvent", err)
	}
	err = s.Update(func(txn *badger.Txn) error { return ob.Stage(txn, Event{Priority: PriorityLot}) })
	if !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("staged event without a type: %v, want ErrInvalidEvent", err)
	}
}

func countPrefix(t *testing.T, s *store.Store, prefix string) int {
	t.Helper()
	n := 0
	if err := s.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// Staging and its move keep group commit: many producers' changes share
// the relay's commits.
func BenchmarkStageCommit(b *testing.B) {
	s, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ob, err := Open(s, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ob.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // a consumer, so that the queue does not fill
		for ctx.Err() == nil {
			evs, err := ob.Next(ctx, 256)
			if err != nil {
				return
			}
			_ = ob.Ack(ctx, evs...)
		}
	}()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			k := []byte(fmt.Sprintf("lot/c/%p-%d", pb, i))
			if err := s.Update(func(txn *badger.Txn) error {
				if err := txn.Set(k, []byte(`{"status":"active"}`)); err != nil {
					return err
				}
				return ob.Stage(txn, ev("lot.created", PriorityLot, i))
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
}

func TestOldest(t *testing.T) {
	ob := open(t, memStore(t), Options{})
	if _, ok, err := ob.Oldest(); ok || err != nil {
		t.Fatalf("empty outbox: %v %v", ok, err)
	}
	t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	for i, p := range []Priority{PriorityTelemetry, PriorityLot, PriorityLifecycle} {
		e := ev("x", p, i)
		e.Time = t0.Add(time.Duration(i) * time.Minute)
		mustAppend(t, ob, e)
	}
	if got, ok, err := ob.Oldest(); !ok || err != nil || !got.Equal(t0) {
		t.Fatalf("oldest %v %v %v, want %v", got, ok, err, t0)
	}
	evs := nextN(t, ob, 10)
	for _, e := range evs {
		if e.Priority == PriorityTelemetry {
			if err := ob.Ack(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got, _, _ := ob.Oldest(); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after the oldest was acked: %v", got)
	}
}

// A pass reads only the recent staged keys; one committed long after it
// was staged (none of the gateway's transactions do that) is moved by the
// full pass that Open (and every relayFullEvery) makes.
func TestLateStagedEventIsMovedByAFullPass(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := Open(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stage := func(i int) {
		t.Helper()
		if err := s.Update(func(txn *badger.Txn) error { return ob.Stage(txn, ev("x", PriorityLot, i)) }); err != nil {
			t.Fatal(err)
		}
	}
	stage(1)
	late := ev("late", PriorityLot, 2)
	late.ID, late.Time = NewID(), time.Now().UTC()
	if err := s.DB().Update(func(txn *badger.Txn) error {
		return txn.Set(skey(uint64(time.Now().Add(-time.Hour).UnixNano()), PriorityLot), encodeRecord(&late))
	}); err != nil {
		t.Fatal(err)
	}
	stage(3)
	if st := ob.Stats(); st.Queued[PriorityLot].Events != 2 {
		t.Fatalf("%d queued after the recent passes, want the 2 recent events", st.Queued[PriorityLot].Events)
	}
	ob.Close()
	ob = open(t, s, Options{})
	if st := ob.Stats(); st.Queued[PriorityLot].Events != 3 {
		t.Fatalf("%d queued after Open's full pass, want 3", st.Queued[PriorityLot].Events)
	}
	t.Cleanup(func() { ob.Close(); s.Close() })
}

// OnQueued hears of every event once it is in the queue, appended or
// staged, with its sequence number, and of none whose change rolled back.
func TestOnQueuedHearsCommittedEvents(t *testing.T) {
	s := memStore(t)
	got := make(chan Event, 8)
	ob := open(t, s, Options{OnQueued: func(evs []Event) {
		for _, e := range evs {
			got <- e
		}
	}})
	mustAppend(t, ob, ev("appended", PriorityLifecycle, 1))
	if err := s.Update(func(txn *badger.Txn) error { return ob.Stage(txn, ev("staged", PriorityLot, 2)) }); err != nil {
		t.Fatal(err)
	}
	_ = s.Update(func(txn *badger.Txn) error {
		if err := ob.Stage(txn, ev("rolled.back", PriorityLot, 3)); err != nil {
			return err
		}
		return errors.New("refused")
	})
	for i, want := range []struct {
		typ string
		seq uint64
		p   Priority
	}{{"appended", 1, PriorityLifecycle}, {"staged", 2, PriorityLot}} {
		select {
		case e := <-got:
			if e.Type != want.typ || e.Seq != want.seq || e.Priority != want.p || len(e.Body) == 0 {
				t.Fatalf("event %d: %+v, want %s seq %d", i, e, want.typ, want.seq)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d (%s) never heard of", i, want.typ)
		}
	}
	select {
	case e := <-got:
		t.Fatalf("heard of %s, which is not queued", e.Type)
	default:
	}
}
