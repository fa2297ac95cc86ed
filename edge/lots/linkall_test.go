package lots

import (
	"context"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

func TestLinkAllOneTransaction(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var changes int
	r, err := New(st, Options{OnChange: func(_ *badger.Txn, c Change) error {
		if c.Action == "link" {
			changes++
		}
		return nil
	}, Now: func() time.Time { return time.Date(2025, 5, 6, 8, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.Register(ctx, "SUP-1", Details{Product: "P", Supplier: "Acme"}); err != nil {
		t.Fatal(err)
	}
	ls := []Link{{LinkSSCC, "006141410000000012"}, {LinkEPC, "3154257BF400000001000000"}}
	if err := r.LinkAll(ctx, "SUP-1", ls); err != nil {
		t.Fatal(err)
	}
	if err := r.LinkAll(ctx, "SUP-1", ls); err != nil { // again: no-op
		t.Fatal(err)
	}
	got, err := r.LinksOf("SUP-1", "")
	if err != nil || len(got) != 2 || changes != 2 {
		t.Fatalf("links %v, %d changes, %v", got, changes, err)
	}
	if lots, _ := r.LotsOf(LinkEPC, "3154257BF400000001000000"); len(lots) != 1 || lots[0] != "SUP-1" {
		t.Fatalf("reverse lookup %v", lots)
	}
	if err := r.LinkAll(ctx, "NOPE", ls); err == nil {
		t.Fatal("linked to an unknown lot")
	}
}
