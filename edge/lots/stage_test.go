package lots

import (
	"context"
	"errors"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// A change whose events cannot be staged (the outbox refuses them) is
// refused whole: the lot, its status, its history and its links are as
// before, for every kind of change.
func TestChangeRefusedWhenItsEventIsRefused(t *testing.T) {
	ctx := context.Background()
	refused := errors.New("test: outbox refuses")
	var refuse string // the action refused; "" accepts all
	r, c := newRegistry(t, openStore(t, ""), Options{OnChange: func(_ *badger.Txn, ch Change) error {
		if ch.Action == refuse {
			return refused
		}
		return nil
	}})

	refuse = "created"
	if _, err := r.Issue(ctx, IssueRequest{Details: Details{Product: "WLD01"}}); !errors.Is(err, refused) {
		t.Fatalf("issue: %v, want the refusal", err)
	}
	if _, err := r.Register(ctx, "SUP-1", Details{Product: "WLD01", Supplier: "Acme"}); !errors.Is(err, refused) {
		t.Fatalf("register: %v, want the refusal", err)
	}
	if all, err := r.List(ctx, Query{}); err != nil || len(all) != 0 {
		t.Fatalf("lots after refused creations: %v, %v", all, err)
	}

	refuse = ""
	l := issue(t, r, IssueRequest{Details: Details{Product: "WLD01", Expiry: date("2025-05-20")}})
	if l.Code != "2505-LWX-WLD01-001" {
		t.Fatalf("a refused issue keeps its number (it commits with the lot), but the next lot is %s", l.Code)
	}
	steps := []struct {
		action string
		do     func() error
		status Status
	}{
		{"hold", func() error { _, err := r.Hold(ctx, l.Code, "lab", "qa"); return err }, StatusActive},
		{"recall", func() error { _, err := r.Recall(ctx, l.Code, "listeria", "qa"); return err }, StatusActive},
		{"link", func() error { return r.Link(ctx, l.Code, "sscc", "00095201234000000018") }, StatusActive},
		{"expire", func() error {
			c.Set("2025-06-01")
			defer c.Set("2025-05-07")
			_, err := r.ExpireDue(ctx)
			return err
		}, StatusActive},
	}
	for _, s := range steps {
		refuse = s.action
		if err := s.do(); !errors.Is(err, refused) {
			t.Fatalf("%s: %v, want the refusal", s.action, err)
		}
		got, err := r.Get(l.Code)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != s.status || len(got.History) != 1 || len(got.Links) != 0 {
			t.Fatalf("after a refused %s: status %s, %d history events, links %v", s.action, got.Status, len(got.History), got.Links)
		}
	}
	// Held, the release is refused the same way.
	refuse = ""
	if _, err := r.Hold(ctx, l.Code, "lab", "qa"); err != nil {
		t.Fatal(err)
	}
	refuse = "release"
	if _, err := r.Release(ctx, l.Code, "qa"); !errors.Is(err, refused) {
		t.Fatalf("release: %v, want the refusal", err)
	}
	if got, _ := r.Get(l.Code); got.Status != StatusOnHold || len(got.History) != 2 {
		t.Fatalf("after a refused release: %s with %d events", got.Status, len(got.History))
	}
}
