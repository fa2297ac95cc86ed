package lots

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// fakeSite is a site that knows the statuses in st and records changes.
type fakeSite struct {
	st      map[string]Status
	changes []Event
}

func (f *fakeSite) Status(_ *badger.Txn, code string) (Status, string, bool, error) {
	s, ok := f.st[code]
	return s, "site reason", ok, nil
}

func (f *fakeSite) Change(_ context.Context, code string, ev Event, allowed func(Status) bool) (Lot, error) {
	from, ok := f.st[code]
	if !ok {
		return Lot{}, ErrNotFound
	}
	if !allowed(from) {
		return Lot{}, ErrStatus
	}
	f.st[code] = ev.To
	f.changes = append(f.changes, ev)
	return Lot{Code: code, Status: ev.To}, nil
}

// With a site, a change of a lot with no record here goes to the site; a
// status the site sets is mirrored on the record, marked FromSite; a lot
// registered after the site held it is held from the start.
func TestSiteStatuses(t *testing.T) {
	ctx := context.Background()
	site := &fakeSite{st: map[string]Status{"REMOTE-1": StatusActive, "SUP-9": StatusOnHold}}
	var seen []Change
	r, _ := newRegistry(t, openStore(t, ""), Options{SiteSync: site, OnChange: func(_ *badger.Txn, c Change) error {
		seen = append(seen, c)
		return nil
	}})

	// A lot received at another gateway.
	l, err := r.Hold(ctx, "REMOTE-1", "lab", "qa")
	if err != nil || l.Status != StatusOnHold || len(site.changes) != 1 || site.changes[0].Action != "hold" {
		t.Fatalf("hold of a remote lot: %+v %v %+v", l, err, site.changes)
	}
	if _, err := r.Release(ctx, "NOWHERE", "qa"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a lot nobody knows: %v", err)
	}

	// A status set elsewhere, mirrored on a lot recorded here.
	own := issue(t, r, IssueRequest{Details: Details{Product: "WLD01"}})
	mirror := func(to Status) bool {
		t.Helper()
		var changed bool
		if err := r.s.Update(func(txn *badger.Txn) (err error) {
			changed, err = r.ApplySite(txn, own.Code, to, "from B", "ops at gw-b", time.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return changed
	}
	seen = nil
	if !mirror(StatusOnHold) || mirror(StatusOnHold) {
		t.Fatal("a hold from the site: not mirrored once")
	}
	if len(seen) != 1 || !seen[0].FromSite || seen[0].Action != "hold" || seen[0].By != "ops at gw-b" {
		t.Fatalf("changes handed on: %+v", seen)
	}
	if held, _ := r.IsHeld(own.Code); !held {
		t.Fatal("not held")
	}
	if mirror(StatusExpired) {
		t.Fatal("an expiry mirrored")
	}
	if !mirror(StatusActive) {
		t.Fatal("a release from the site (as active) not mirrored")
	}
	if got, _ := r.Get(own.Code); got.Status != StatusReleased || got.HoldReason != "" || len(got.History) != 3 {
		t.Fatalf("after the release: %+v", got)
	}
	if mirror(StatusReleased) {
		t.Fatal("a release of a lot not on hold mirrored")
	}
	if !mirror(StatusRecalled) || mirror(StatusOnHold) || mirror(StatusReleased) {
		t.Fatal("a recall is not final")
	}
	if err := r.s.Update(func(txn *badger.Txn) error {
		changed, err := r.ApplySite(txn, "NOWHERE", StatusOnHold, "", "", time.Now())
		if changed {
			t.Error("a lot with no record changed")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Registered after the site held it: held from the start.
	seen = nil
	sup, err := r.Register(ctx, "SUP-9", Details{Product: "WLD01", Supplier: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := r.Get(sup.Code)
	if got.Status != StatusOnHold || got.HoldReason != "site reason" || len(seen) != 2 || seen[0].FromSite || !seen[1].FromSite {
		t.Fatalf("registered: %+v; changes %+v", got, seen)
	}
}
