package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// bigEvent is an event whose record is just under Badger's value threshold
// (1 KiB), so that it is kept in the LSM tree and counts whole towards a
// transaction's size.
func bigEvent(i int) Event {
	body := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 880))
	return Event{Type: "big", Priority: PriorityLot, Body: json.RawMessage(body)}
}

// The writer's transactions stay within Badger's limit (15% of the
// memtable) when they are cut by bytes: a relay pass over a megabyte of
// staged events, and group commits of concurrent appends and an ack.
func TestTransactionsFitBadgersLimit(t *testing.T) {
	s := memStore(t)
	ob, err := Open(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob.Close()
	// Staged with the outbox closed, in transactions that fit; the next
	// Open moves all of them.
	const staged = 1200
	for i := 0; i < staged; i += 100 {
		if err := s.DB().Update(func(txn *badger.Txn) error {
			for j := i; j < i+100; j++ {
				if err := ob.Stage(txn, bigEvent(j)); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	ob = open(t, s, Options{})
	if st := ob.Stats(); st.Queued[PriorityLot].Events != staged {
		t.Fatalf("%d of %d staged events queued", st.Queued[PriorityLot].Events, staged)
	}
	var handed []Event
	for len(handed) < staged {
		handed = append(handed, nextN(t, ob, staged)...)
	}
	// Appends and the ack of every queued event, submitted together.
	var wg sync.WaitGroup
	errs := make(chan error, 1025)
	for i := 0; i < 1024; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ob.Append(context.Background(), bigEvent(staged+i)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := ob.Ack(context.Background(), handed...); err != nil {
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := ob.Stats(); st.Queued[PriorityLot].Events != 1024 || st.Acked != staged {
		t.Fatalf("after the appends and the ack: %d queued, %d acked", st.Queued[PriorityLot].Events, st.Acked)
	}
}

// An AppendBatch is stored in order, with contiguous sequence numbers, in
// one commit; an event that is invalid, or telemetry dropped for room, is
// answered on its own while the rest are stored.
func TestAppendBatch(t *testing.T) {
	ctx := context.Background()
	ob := open(t, memStore(t), Options{})
	mustAppend(t, ob, ev("first", PriorityLot, 0))
	var evs []Event
	for i := range 50 {
		evs = append(evs, ev("tel", PriorityTelemetry, i))
	}
	evs[7].Type = "" // invalid: no type
	before := ob.Stats().Commits
	seqs, errs, err := ob.AppendBatch(ctx, evs)
	if !errors.Is(err, ErrInvalidEvent) || !errors.Is(errs[7], ErrInvalidEvent) || seqs[7] != 0 {
		t.Fatalf("the invalid event: err %v, errs[7] %v, seq %d; want ErrInvalidEvent and no seq", err, errs[7], seqs[7])
	}
	want := uint64(2)
	for i, seq := range seqs {
		if i == 7 {
			continue
		}
		if errs[i] != nil || seq != want {
			t.Fatalf("event %d: seq %d, err %v; want seq %d", i, seq, errs[i], want)
		}
		want++
	}
	if n := ob.Stats().Commits - before; n != 1 {
		t.Fatalf("a batch of 49 small events took %d commits, want 1", n)
	}
	got := nextN(t, ob, 100)
	if len(got) != 50 {
		t.Fatalf("%d events queued, want 50", len(got))
	}
	for i, e := range got[1:] {
		wantI := i
		if i >= 7 {
			wantI++
		}
		if string(e.Body) != fmt.Sprintf(`{"i":%d}`, wantI) {
			t.Fatalf("event %d in the queue is %s, want the batch's order", i, e.Body)
		}
	}

	// Telemetry beyond max_bytes with no older telemetry to drop: each is
	// dropped and counted, and said so.
	full := open(t, memStore(t), Options{MaxBytes: 600})
	var lots []Event
	for i := range 40 {
		lots = append(lots, ev("lot.created", PriorityLot, i))
	}
	if _, _, err := full.AppendBatch(ctx, lots); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("lot events past max_bytes: %v, want ErrStoreFull", err)
	}
	tel := []Event{ev("tel", PriorityTelemetry, 1), ev("tel", PriorityTelemetry, 2)}
	_, errs, err = full.AppendBatch(ctx, tel)
	if !errors.Is(err, ErrStoreFull) || !errors.Is(errs[0], ErrStoreFull) || !errors.Is(errs[1], ErrStoreFull) {
		t.Fatalf("telemetry on an outbox full of lot events: %v %v", err, errs)
	}
	if st := full.Stats(); st.Dropped != 2 {
		t.Fatalf("%d telemetry events counted dropped, want 2", st.Dropped)
	}

	// Closed: nothing is stored, every event says why.
	ob.Close()
	_, errs, err = ob.AppendBatch(ctx, []Event{ev("tel", PriorityTelemetry, 1)})
	if !errors.Is(err, ErrClosed) || !errors.Is(errs[0], ErrClosed) {
		t.Fatalf("AppendBatch on a closed outbox: %v", err)
	}
}

// A batch larger than one transaction is cut in several, in order.
func TestAppendBatchLargerThanATransaction(t *testing.T) {
	ob := open(t, memStore(t), Options{})
	var evs []Event
	for i := range 1500 { // ~1.4 MB of records, more than maxTxnBytes
		evs = append(evs, bigEvent(i))
	}
	before := ob.Stats().Commits
	seqs, _, err := ob.AppendBatch(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	for i, seq := range seqs {
		if seq != uint64(i+1) {
			t.Fatalf("event %d got seq %d, want %d", i, seq, i+1)
		}
	}
	if n := ob.Stats().Commits - before; n < 2 {
		t.Fatalf("1.4 MB of events in %d commit(s): want them cut in several", n)
	}
}
