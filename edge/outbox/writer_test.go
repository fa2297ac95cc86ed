package outbox

import (
	"context"
	"encoding/json"
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
