package shipping

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/lot"
	"github.com/dockgate/dockgate/rfid/portal"
)

// The harness runs shipping on the real lot registry and receiving service
// over one store, as the gateway does, with an emitter that stages events
// in the change's transaction (only committed changes' events are seen).

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// lotAdapter gives receiving the registry (the gateway's, simplified).
type lotAdapter struct{ r *lots.Registry }

func details(r receiving.LotRequest) lots.Details {
	return lots.Details{Product: r.Product, GTIN: r.GTIN, Supplier: r.Supplier, SupplierLot: r.SupplierLot, Door: r.Door,
		Production: r.Production, Expiry: r.Expiry, Quantity: float64(r.Qty), Unit: r.Unit, PO: r.PO, DespatchAdvice: r.DespatchAdvice}
}
func (a lotAdapter) Issue(ctx context.Context, r receiving.LotRequest) (string, error) {
	l, err := a.r.Issue(ctx, lots.IssueRequest{ID: "receipt:" + r.Receipt, Format: r.Format, Details: details(r)})
	return l.Code, err
}
func (a lotAdapter) KeepSupplierLot(ctx context.Context, r receiving.LotRequest) (string, bool, error) {
	l, err := a.r.Register(ctx, r.SupplierLot, details(r))
	return l.Code, false, err
}
func (a lotAdapter) LinkCartons(ctx context.Context, code string, cs []receiving.Carton) error {
	return nil // links are the registry's business; shipping reads cartons from receiving
}
func (a lotAdapter) Held(code string) (bool, error) { return a.r.IsHeld(code) }
func (a lotAdapter) Record(code string) (any, error) {
	l, err := a.r.Lookup(code)
	if err != nil {
		return nil, receiving.ErrNotFound
	}
	return l, nil
}

// noPrinter is a door without a printer: receipts print nothing.
type noPrinter struct{}

func (noPrinter) Printer() string                                    { return "" }
func (noPrinter) Render(map[string]string) ([]byte, error)           { return nil, nil }
func (noPrinter) Check(map[string]string) error                      { return nil }
func (noPrinter) Submit(context.Context, []receiving.LabelJob) error { return nil }
func (noPrinter) JobState(string) string                             { return "" }

// events stages every event as a key of its own in the change's
// transaction.
type events struct {
	mu  sync.Mutex
	seq int
}

type seen struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	Lots     []string        `json:"lots"`
	Body     json.RawMessage `json:"body"`
	Shipment *Shipment       `json:"shipment,omitempty"`
	Cartons  []LoadedCarton  `json:"cartons,omitempty"`
	Return   *Return         `json:"return,omitempty"`
}

const evPrefix = "test/ev/"

func (e *events) Emit(txn *badger.Txn, ev Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seq++
	body, err := json.Marshal(ev.Body)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(seen{ID: ev.ID, Type: ev.Type, Lots: ev.Lots, Body: body, Shipment: ev.Shipment, Cartons: ev.Cartons, Return: ev.Return})
	return txn.Set(fmt.Appendf(nil, "%s%08d", evPrefix, e.seq), b)
}

type rcvEmitter struct{}

func (rcvEmitter) Emit(*badger.Txn, receiving.Event) error { return nil }

type rig struct {
	t     testing.TB
	st    *store.Store
	lots  *lots.Registry
	recv  *receiving.Service
	ship  *Service
	ev    *events
	clock *clock
}

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func newRig(t testing.TB) *rig {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, st: st, ev: &events{}, clock: &clock{t: t0}}
	r.lots, err = lots.New(st, lots.Options{Config: lot.Config{DefaultFormat: "std",
		Formats: map[string]lot.FormatConfig{"std": {Format: "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}", Brand: "LWX"}}},
		Now: r.clock.now, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	r.recv = receiving.New(receiving.Config{SSCC: receiving.SSCCRange{CompanyPrefix: "0614141", Start: 1, End: 999999999}, DefaultFormat: "std",
		Location: time.UTC, AcceptExpired: true},
		st, lotAdapter{r.lots}, map[string]receiving.Door{"DOOR1": noPrinter{}, "DOOR2": noPrinter{}, "DOOR3": noPrinter{}}, rcvEmitter{}, nil, r.clock.now)
	r.ship = New(Config{Doors: map[string]string{"DOOR1": portal.RoleReceiving, "DOOR2": portal.RoleShipping, "DOOR3": portal.RoleBoth},
		Location: time.UTC, Site: "lyon, GLN 0614141000012"}, st, r.lots, r.recv, r.ev, nil, r.clock.now)
	return r
}

// receive records a receipt of n cartons of a supplier's lot.
func (r *rig) receive(id, gtin, supplierLot, expiry string, n, per int) *receiving.Receipt {
	r.t.Helper()
	rc, err := r.recv.Receive(context.Background(), receiving.Request{ID: id, Door: "DOOR1", GTIN: gtin, Product: "P" + gtin[7:13],
		Description: "Linen dress", Supplier: "Acme", SupplierLot: supplierLot, Expiry: expiry, Cartons: n, QtyPerCarton: per, PO: "PO-" + id})
	if err != nil {
		r.t.Fatalf("receipt %s: %v", id, err)
	}
	return rc
}

func (r *rig) epc(sscc string) string {
	r.t.Helper()
	c, err := r.recv.Carton(sscc)
	if err != nil {
		r.t.Fatal(err)
	}
	return c.EPC
}

// pass runs a pass through OnPass as the gateway's pass commit does.
func (r *rig) pass(door, dir string, epcs ...string) PassResult {
	r.t.Helper()
	var res PassResult
	at := r.clock.add(time.Minute)
	unlock := r.ship.LockPass()
	err := r.st.Update(func(txn *badger.Txn) error {
		var err error
		res, err = r.ship.OnPass(txn, door, dir, at, epcs)
		return err
	})
	unlock()
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

// events returns the committed events of a type, oldest first.
func (r *rig) events(typ string) []seen {
	r.t.Helper()
	var out []seen
	err := r.st.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(evPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var s seen
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &s) }); err != nil {
				return err
			}
			if s.Type == typ {
				out = append(out, s)
			}
		}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}
