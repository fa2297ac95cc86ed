package lots

import (
	"context"
	"errors"
	"testing"
)

// Lookup is the record as Get has it, without history and links.
func TestLookup(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	ctx := context.Background()
	l, err := r.Register(ctx, "SUP-1", Details{Product: "P", GTIN: "09520123456788", Supplier: "Acme", Expiry: date("2027-05-31")})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Link(ctx, l.Code, LinkSSCC, "095201234000000018"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Hold(ctx, l.Code, "lab", "qa"); err != nil {
		t.Fatal(err)
	}
	got, err := r.Lookup(l.Code)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusOnHold || got.Expiry != "2027-05-31" || got.SupplierLot != "SUP-1" || got.History != nil || got.Links != nil {
		t.Fatalf("Lookup = %+v", got)
	}
	if _, err := r.Lookup("NONE"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup of an unknown lot: %v", err)
	}
}
