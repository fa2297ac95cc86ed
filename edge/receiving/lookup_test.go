package receiving

import (
	"context"
	"testing"
	"time"
)

// A lot's receipts, and the receipts of a time range, for the reports of
// edge/shipping; a lot's trace carries what LotShipments gives it.
func TestReceiptsOfLotAndEachReceipt(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	var lots []string
	for _, id := range []string{"a-1", "a-2"} {
		rc, err := r.svc.Receive(ctx, Request{ID: id, Door: "DOOR1", GTIN: "09520123456788", SupplierLot: "SUP-7", Supplier: "Acme", Cartons: 2})
		if err != nil {
			t.Fatal(err)
		}
		lots = append(lots, rc.Lot)
	}
	got, err := r.svc.ReceiptsOfLot(lots[0])
	if err != nil || len(got) != 2 || got[0].ID != "a-1" || got[1].ID != "a-2" || len(got[1].Cartons) != 2 {
		t.Fatalf("ReceiptsOfLot = %+v, %v", got, err)
	}
	if ids, err := r.svc.ReceiptIDsOfLot(lots[0]); err != nil || len(ids) != 2 || ids[1] != "a-2" {
		t.Fatalf("ReceiptIDsOfLot = %v, %v", ids, err)
	}
	if none, err := r.svc.ReceiptsOfLot("NONE"); err != nil || none == nil || len(none) != 0 {
		t.Fatalf("ReceiptsOfLot of no lot = %v, %v", none, err)
	}
	at := time.Date(2025, 5, 14, 9, 30, 0, 0, time.UTC) // the rig's clock
	var ids []string
	each := func(from, to time.Time) []string {
		ids = nil
		if err := r.svc.EachReceipt(from, to, func(rc *Receipt) error { ids = append(ids, rc.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := each(at, at); len(got) != 2 {
		t.Fatalf("receipts at %s: %v", at, got)
	}
	if got := each(at.Add(time.Second), time.Time{}); len(got) != 0 {
		t.Fatalf("receipts after: %v", got)
	}
	r.svc.cfg.LotShipments = func(lot string) (any, error) { return []string{"to " + lot}, nil }
	tr, err := r.svc.TraceLot(lots[0])
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := tr.Shipments.([]string); !ok || len(s) != 1 || s[0] != "to SUP-7" {
		t.Fatalf("trace shipments %v", tr.Shipments)
	}
}
