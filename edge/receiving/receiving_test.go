package receiving

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
)

// fakeLots is an in-memory lot registry for receiving's own tests; the
// gateway tests run the real one.
type fakeLots struct {
	mu     sync.Mutex
	n      int
	issued map[string]string // by receipt
	held   map[string]bool
	links  map[string]int
}

func (f *fakeLots) Issue(_ context.Context, r LotRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code, ok := f.issued[r.Receipt]; ok {
		return code, nil
	}
	f.n++
	code := fmt.Sprintf("%s-LWX-%s-%03d", r.Time.Format("0601"), r.Product, f.n)
	if f.issued == nil {
		f.issued = map[string]string{}
	}
	f.issued[r.Receipt] = code
	return code, nil
}
func (f *fakeLots) KeepSupplierLot(_ context.Context, r LotRequest) (string, bool, error) {
	return r.SupplierLot, false, nil
}
func (f *fakeLots) LinkCartons(_ context.Context, lot string, c []Carton) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.links == nil {
		f.links = map[string]int{}
	}
	f.links[lot] += len(c)
	return nil
}
func (f *fakeLots) Held(lot string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.held[lot], nil
}
func (f *fakeLots) Record(lot string) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.links[lot] == 0 {
		return nil, ErrNotFound
	}
	return map[string]string{"code": lot}, nil
}

type fakeDoor struct {
	mu     sync.Mutex
	jobs   map[string][]byte
	refuse string // Render refuses a value containing it
	down   error  // Submit fails with it
}

func (d *fakeDoor) Printer() string { return "P1" }
func (d *fakeDoor) Render(v map[string]string) ([]byte, error) {
	for k, val := range v {
		if d.refuse != "" && strings.Contains(val, d.refuse) {
			return nil, fmt.Errorf("%s: %q cannot be printed", k, val)
		}
	}
	return []byte("^XA^FD" + v["sscc"] + "|" + v["lot"] + "|" + v["epc"] + "^FS^XZ"), nil
}
func (d *fakeDoor) Check(v map[string]string) error {
	_, err := d.Render(v)
	return err
}
func (d *fakeDoor) Submit(_ context.Context, jobs []LabelJob) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down != nil {
		return d.down
	}
	if d.jobs == nil {
		d.jobs = map[string][]byte{}
	}
	for _, j := range jobs {
		d.jobs[j.ID] = j.ZPL
	}
	return nil
}
func (d *fakeDoor) JobState(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.jobs[id]; ok {
		return "queued"
	}
	return ""
}

// recEmitter stages events as the outbox does: each is written into the
// change's transaction, so that only events of committed changes are seen.
type recEmitter struct {
	mu   sync.Mutex
	seq  uint64
	fail error
}

const recEventPrefix = "test/ev/"

func (r *recEmitter) Emit(txn *badger.Txn, ev Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.seq++
	return txn.Set(fmt.Appendf(nil, "%s%020d", recEventPrefix, r.seq), []byte(ev.Type))
}

// types are the types of the committed events, in the order staged.
func (r *recEmitter) types(st *store.Store) []string {
	var t []string
	err := st.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(recEventPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			t = append(t, string(v))
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return t
}

type rig struct {
	svc  *Service
	lots *fakeLots
	door *fakeDoor
	em   *recEmitter
	st   *store.Store
}

func newRig(t testing.TB) *rig {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{lots: &fakeLots{held: map[string]bool{}}, door: &fakeDoor{}, em: &recEmitter{}, st: st}
	now := func() time.Time { return time.Date(2025, 5, 14, 9, 30, 0, 0, time.UTC) }
	r.svc = New(Config{SSCC: SSCCRange{Extension: 0, CompanyPrefix: "0614141", Start: 1, End: 999999999}, DefaultFormat: "default"},
		st, r.lots, map[string]Door{"DOOR1": r.door, "DOOR2": r.door}, r.em, nil, now)
	return r
}

func TestReceiveAssignsLotAndCartons(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	rc, err := r.svc.Receive(ctx, Request{ID: "asn-1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 3, QtyPerCarton: 20, Expiry: "2026-05-31"})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Lot != "2505-LWX-WLD01-001" || !rc.LotAssigned || len(rc.Cartons) != 3 || rc.Status != "open" {
		t.Fatalf("receipt %+v", rc)
	}
	for i, sscc := range rc.Cartons {
		if err := gs1.ValidateValue("00", sscc); err != nil {
			t.Fatalf("carton %d SSCC %s: %v", i, sscc, err)
		}
		if !strings.HasPrefix(sscc, "00614141") {
			t.Fatalf("SSCC %s not from the company prefix", sscc)
		}
		c, err := r.svc.Carton(sscc)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(c.EPC, "31") || c.Job != "asn-1:"+sscc {
			t.Fatalf("carton %+v", c)
		}
		if got := string(r.door.jobs[c.Job]); !strings.Contains(got, sscc) || !strings.Contains(got, c.EPC) {
			t.Fatalf("label of %s: %s", sscc, got)
		}
	}
	if r.lots.links[rc.Lot] != 3 {
		t.Fatalf("cartons linked to lot: %d", r.lots.links[rc.Lot])
	}
	// A retry returns the same receipt and creates nothing new.
	again, err := r.svc.Receive(ctx, Request{ID: "asn-1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 3, QtyPerCarton: 20, Expiry: "2026-05-31"})
	if err != nil {
		t.Fatal(err)
	}
	// The same id for another request is refused.
	if _, err := r.svc.Receive(ctx, Request{ID: "asn-1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 4}); !errors.Is(err, ErrConflict) {
		t.Fatalf("id reused for another request: %v", err)
	}
	if again.Lot != rc.Lot || strings.Join(again.Cartons, ",") != strings.Join(rc.Cartons, ",") || len(r.door.jobs) != 3 {
		t.Fatalf("retry made a new receipt: %+v", again)
	}
	if got := r.em.types(r.st); len(got) != 1 || got[0] != "receipt.created" {
		t.Fatalf("events %v", got)
	}
}

// A GTIN-13 given or scanned as a plain EAN barcode is the GTIN-14 it is;
// a field that agrees with the label is no conflict.
func TestGTINFormsAndAgreeingFields(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	for i, req := range []Request{
		{Door: "DOOR1", GTIN: "9520123456788", Cartons: 1},
		{Door: "DOOR1", Scan: "9520123456788", Cartons: 1},
		{Door: "DOOR1", Scan: "]E09520123456788", Cartons: 1},
		{Door: "DOOR1", Scan: "]I109520123456788", Cartons: 1},
		{Door: "DOOR1", GTIN: "9520123456788", Scan: "(00)006141410000000128(02)09520123456788(37)12", QtyPerCarton: 12, Cartons: 1},
	} {
		req.ID = fmt.Sprintf("g%d", i)
		rc, err := r.svc.Receive(ctx, req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if rc.GTIN != "09520123456788" {
			t.Fatalf("%+v: GTIN %s", req, rc.GTIN)
		}
	}
}

func TestReceiveFromScannedSupplierLabelKeepsLot(t *testing.T) {
	r := newRig(t)
	scan := "]C1010952012345678810SUP-4711\x1d17260531"
	rc, err := r.svc.Receive(context.Background(), Request{Door: "DOOR1", Scan: scan, Cartons: 2, Supplier: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Lot != "SUP-4711" || rc.LotAssigned || rc.SupplierLot != "SUP-4711" || rc.GTIN != "09520123456788" || rc.Expiry != "2026-05-31" {
		t.Fatalf("receipt %+v", rc)
	}
}

func TestReceiveRejectsBadInput(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		req  Request
		want string
	}{
		{Request{Door: "DOOR9", GTIN: "09520123456788", Cartons: 1}, `unknown door "DOOR9"`},
		{Request{Door: "DOOR1", GTIN: "09520123456789", Cartons: 1}, "gtin:"},
		{Request{Door: "DOOR1", GTIN: "09520123456788", Cartons: 0}, "cartons: 0"},
		{Request{Door: "DOOR1", GTIN: "09520123456788", Cartons: 1, Expiry: "31/05/2026"}, "expiry"},
		{Request{Door: "DOOR1", Scan: "(01)09520123456788(17)250229", Cartons: 1}, "scan:"},
		{Request{Door: "DOOR1", Cartons: 1}, "gtin: required"},
		{Request{Door: "DOOR1", Scan: "(01)09520123456788(10)SUP-9", Cartons: 1}, "supplier: required"},
		// A field given with a scan must agree with the label.
		{Request{Door: "DOOR1", GTIN: "04012345000009", Scan: "(01)09520123456788(10)Q1", Supplier: "Acme", Cartons: 1}, `gtin: "04012345000009" differs from the scanned label's (01) "09520123456788"`},
		{Request{Door: "DOOR1", SupplierLot: "Q3", Scan: "(01)09520123456788(10)Q2", Supplier: "Acme", Cartons: 1}, `supplier_lot: "Q3" differs`},
		{Request{Door: "DOOR1", Expiry: "2027-01-01", Scan: "(01)09520123456788(17)270531", Cartons: 1}, `expiry: "2027-01-01" differs`},
		{Request{Door: "DOOR1", QtyPerCarton: 6, Scan: "(00)006141410000000128(02)09520123456788(37)12", Cartons: 1}, `qty_per_carton: 6 differs`},
		{Request{Door: "DOOR1", SSCCs: []string{"106141410000000019"}, Scan: "(00)006141410000000128", GTIN: "09520123456788", Cartons: 1}, "ssccs: the scanned label's SSCC"},
		{Request{Door: "DOOR1", GTIN: "09520123456788", Production: "2027-01-01", Expiry: "2026-01-01", Cartons: 1}, "expiry: 2026-01-01 is before the production date"},
	}
	for _, tc := range cases {
		_, err := r.svc.Receive(context.Background(), tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.req, err, tc.want)
		}
	}
	if len(r.door.jobs) != 0 {
		t.Fatal("a rejected receipt spooled labels")
	}
}

func TestPortalConfirmsReceipt(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	rc, err := r.svc.Receive(ctx, Request{ID: "r1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 3})
	if err != nil {
		t.Fatal(err)
	}
	var epcs []string
	for _, s := range rc.Cartons {
		c, _ := r.svc.Carton(s)
		epcs = append(epcs, c.EPC)
	}
	at := time.Date(2025, 5, 14, 9, 40, 0, 0, time.UTC)
	res, err := r.svc.OnPass(ctx, "DOOR1", "in", at, append(epcs[:2:2], "E2801160600002054CC2096F"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matched) != 2 || len(res.Unexpected) != 1 || len(res.Completed) != 0 {
		t.Fatalf("first pass %+v", res)
	}
	// The same cartons again count once.
	if res, _ = r.svc.OnPass(ctx, "DOOR1", "in", at.Add(time.Second), epcs[:2], nil); len(res.Matched) != 0 {
		t.Fatalf("seen twice: %+v", res)
	}
	res, err = r.svc.OnPass(ctx, "DOOR1", "in", at.Add(2*time.Second), epcs[2:], nil)
	if err != nil || len(res.Completed) != 1 {
		t.Fatalf("last pass %+v %v", res, err)
	}
	got, _ := r.svc.Receipt("r1")
	if got.Status != "complete" || got.Seen != 3 {
		t.Fatalf("receipt %+v", got)
	}
	want := []string{"receipt.created", "carton.unexpected", "receipt.complete"}
	if strings.Join(r.em.types(r.st), ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", r.em.types(r.st), want)
	}
}

// The passes of a door are indexed by time: a window gives each tag once
// (the unknown one too), in the order first reported, and refuses more
// than it may hold.
func TestTagsPassedAt(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	rc, err := r.svc.Receive(ctx, Request{ID: "r1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 2})
	if err != nil {
		t.Fatal(err)
	}
	var epcs []string
	for _, s := range rc.Cartons {
		c, _ := r.svc.Carton(s)
		epcs = append(epcs, c.EPC)
	}
	const unknown = "E2801160600002054CC2096F"
	at := time.Date(2025, 5, 14, 9, 40, 0, 0, time.UTC)
	for i, p := range [][]string{{epcs[0], unknown}, {epcs[0]}, {epcs[1]}} {
		if _, err := r.svc.OnPass(ctx, "DOOR1", "in", at.Add(time.Duration(i)*time.Second), p, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.svc.TagsPassedAt("DOOR1", at, at.Add(2*time.Second), 10)
	if err != nil || strings.Join(got, ",") != epcs[0]+","+unknown {
		t.Fatalf("window [0, 2 s): %v %v", got, err)
	}
	if got, err := r.svc.TagsPassedAt("DOOR1", at.Add(time.Second), at.Add(time.Minute), 10); err != nil || strings.Join(got, ",") != epcs[0]+","+epcs[1] {
		t.Fatalf("window [1 s, 1 min): %v %v", got, err)
	}
	if got, err := r.svc.TagsPassedAt("DOOR2", at, at.Add(time.Minute), 10); err != nil || len(got) != 0 {
		t.Fatalf("another door: %v %v", got, err)
	}
	if _, err := r.svc.TagsPassedAt("DOOR1", at, at.Add(time.Minute), 2); !errors.Is(err, ErrTooManyTags) {
		t.Fatalf("3 tags with room for 2: %v", err)
	}
}

func TestCloseNamesMissingCartons(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	rc, _ := r.svc.Receive(ctx, Request{ID: "r2", Door: "DOOR1", GTIN: "09520123456788", Cartons: 2})
	c0, _ := r.svc.Carton(rc.Cartons[0])
	if _, err := r.svc.OnPass(ctx, "DOOR1", "in", time.Now(), []string{c0.EPC}, nil); err != nil {
		t.Fatal(err)
	}
	closed, err := r.svc.Close(ctx, "r2")
	if err != nil {
		t.Fatal(err)
	}
	if closed.Status != "incomplete" || len(closed.Missing) != 1 || closed.Missing[0] != rc.Cartons[1] {
		t.Fatalf("closed %+v", closed)
	}
}

func TestTrace(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	rc, _ := r.svc.Receive(ctx, Request{ID: "r3", Door: "DOOR1", Scan: "(01)09520123456788(10)SUP-1", Supplier: "Acme", Cartons: 2})
	c0, _ := r.svc.Carton(rc.Cartons[0])
	r.svc.OnPass(ctx, "DOOR1", "in", time.Date(2025, 5, 14, 10, 0, 0, 0, time.UTC), []string{c0.EPC}, nil)

	lt, err := r.svc.TraceLot("SUP-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(lt.Receipts) != 1 || len(lt.Cartons) != 2 || lt.SupplierLot != "SUP-1" || len(lt.Events) != 1 {
		t.Fatalf("lot trace %+v", lt)
	}
	if len(lt.Cartons[0].Passes)+len(lt.Cartons[1].Passes) != 1 || lt.Cartons[0].JobState != "queued" {
		t.Fatalf("carton traces %+v", lt.Cartons)
	}
	for _, in := range []string{c0.EPC, strings.ToLower(c0.EPC), c0.EPCURI} {
		it, err := r.svc.TraceEPC(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if it.Lot != "SUP-1" || it.Receipt.ID != "r3" || it.Carton.SSCC != rc.Cartons[0] || it.SupplierLot != "SUP-1" {
			t.Fatalf("epc trace %+v", it)
		}
	}
	if it, err := r.svc.TraceSSCC("(00)" + rc.Cartons[1]); err != nil || it.Carton.SSCC != rc.Cartons[1] {
		t.Fatalf("sscc trace %+v %v", it, err)
	}
	if _, err := r.svc.TraceSSCC("006141410000009992"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown SSCC: %v", err)
	}
	if _, err := r.svc.TraceLot("NOPE"); err == nil {
		t.Fatal("unknown lot traced")
	}
}

func TestSSCCRangeExhausted(t *testing.T) {
	r := newRig(t)
	r.svc.cfg.SSCC.End = 3
	if _, err := r.svc.Receive(context.Background(), Request{Door: "DOOR1", GTIN: "09520123456788", Cartons: 4}); err == nil || !strings.Contains(err.Error(), "used up") {
		t.Fatalf("got %v", err)
	}
}

// A receipt whose event could not be stored is refused whole: no receipt is
// recorded, nothing is left for Resume, and a retry makes it with its
// event, without a second lot.
func TestRetryFinishesAFailedReceipt(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.em.fail = errors.New("outbox full")
	req := Request{ID: "asn-7", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 2}
	if _, err := r.svc.Receive(ctx, req); err == nil {
		t.Fatal("no error with a failing outbox")
	}
	if _, err := r.svc.Receipt("asn-7"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused receipt was recorded: %v", err)
	}
	if n, err := r.svc.Resume(ctx); err != nil || n != 0 {
		t.Fatalf("resume after a refused receipt: %d, %v", n, err)
	}
	r.em.fail = nil
	rc, err := r.svc.Receive(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.em.types(r.st); len(got) != 1 || got[0] != "receipt.created" || r.lots.n != 1 || !rc.Emitted || !rc.Linked {
		t.Fatalf("events %v, %d lots, receipt %+v", got, r.lots.n, rc)
	}
	if n, err := r.svc.Resume(ctx); err != nil || n != 0 {
		t.Fatalf("resume after a finished retry: %d, %v", n, err)
	}
}

// A receipt recorded whose labels could not be spooled is finished by
// Resume; its event was staged with the record, once.
func TestResumeFinishesPendingReceipts(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.door.down = errors.New("spool closed")
	if _, err := r.svc.Receive(ctx, Request{ID: "asn-8", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1}); err == nil {
		t.Fatal("no error with a failing spool")
	}
	r.door.down = nil
	if n, err := r.svc.Resume(ctx); err != nil || n != 1 {
		t.Fatalf("resume: %d, %v", n, err)
	}
	if got := r.em.types(r.st); len(got) != 1 || got[0] != "receipt.created" || len(r.door.jobs) != 1 {
		t.Fatalf("events %v, jobs %d", got, len(r.door.jobs))
	}
}

func TestSupplierSSCCsChecked(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	const a = "106141410000000019"
	if _, err := r.svc.Receive(ctx, Request{Door: "DOOR1", GTIN: "09520123456788", Cartons: 2, SSCCs: []string{a, a}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("same SSCC twice: %v", err)
	}
	// Cartons follow the SSCCs given when not counted.
	if rc, err := r.svc.Receive(ctx, Request{ID: "s1", Door: "DOOR1", GTIN: "09520123456788", SSCCs: []string{a}}); err != nil || len(rc.Cartons) != 1 {
		t.Fatalf("SSCCs without cartons: %+v, %v", rc, err)
	}
	if _, err := r.svc.Receive(ctx, Request{ID: "s2", Door: "DOOR1", GTIN: "09520123456788", Cartons: 1, SSCCs: []string{a}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("SSCC received twice: %v", err)
	}
}

// A supplier's SSCC gets its EPC with the supplier's company prefix length
// from the table; one whose prefix the table lacks is refused before a lot
// is issued, naming the setting to add.
func TestSupplierSSCCEPCUsesItsCompanyPrefix(t *testing.T) {
	r := newRig(t)
	table, err := epc.NewCompanyPrefixTable([]epc.CompanyPrefixEntry{{Prefix: "0614141", Length: 7}, {Prefix: "950123", Length: 9}})
	if err != nil {
		t.Fatal(err)
	}
	r.svc.cfg.CompanyPrefixLen = table.ForSSCC
	sscc := func(body17 string) string {
		cd, err := gs1.CheckDigit(body17)
		if err != nil {
			t.Fatal(err)
		}
		return body17 + string(cd)
	}
	theirs := sscc("19501234567890123") // extension 1, company prefix 950123456
	ctx := context.Background()
	if _, err := r.svc.Receive(ctx, Request{ID: "sup-1", Door: "DOOR1", GTIN: "09520123456788", Cartons: 1, SSCCs: []string{theirs}}); err != nil {
		t.Fatal(err)
	}
	it, err := r.svc.TraceSSCC(theirs)
	if err != nil {
		t.Fatal(err)
	}
	if want := "urn:epc:id:sscc:950123456.17890123"; it.Carton.EPCURI != want {
		t.Fatalf("EPC %s, want %s", it.Carton.EPCURI, want)
	}
	issued := r.lots.n
	unknown := sscc("14012345000000001")
	_, err = r.svc.Receive(ctx, Request{ID: "sup-2", Door: "DOOR1", GTIN: "09520123456788", Cartons: 1, SSCCs: []string{unknown}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), unknown) || !strings.Contains(err.Error(), "gs1.company_prefixes") {
		t.Fatalf("SSCC of an unknown company prefix: %v", err)
	}
	if r.lots.n != issued {
		t.Fatal("a lot was issued for a refused receipt")
	}
	if _, err := r.svc.Receipt("sup-2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("refused receipt recorded: %v", err)
	}
}

// A value the door's label refuses is a 400 before anything is recorded:
// no lot issued, no receipt, no event, and the same id can be used again.
func TestLabelRefusalRecordsNothing(t *testing.T) {
	r := newRig(t)
	r.door.refuse = "^"
	ctx := context.Background()
	req := Request{ID: "po-9", Door: "DOOR1", GTIN: "09520123456788", Cartons: 2, PO: "P^O"}
	_, err := r.svc.Receive(ctx, req)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "po") {
		t.Fatalf("refused label value: %v", err)
	}
	if r.lots.n != 0 || len(r.em.types(r.st)) != 0 {
		t.Fatalf("lots issued %d, events %v: want none", r.lots.n, r.em.types(r.st))
	}
	if _, err := r.svc.Receipt("po-9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("receipt recorded: %v", err)
	}
	req.PO = "PO-9"
	if _, err := r.svc.Receive(ctx, req); err != nil {
		t.Fatalf("the corrected request with the same id: %v", err)
	}
	for _, bad := range []Request{
		{Door: "DOOR1", GTIN: "09520123456788", Cartons: 1, Description: strings.Repeat("d", 201)},
		{Door: "DOOR1", GTIN: "09520123456788", Cartons: 1, Description: "two\nlines"},
		{Door: "DOOR1", GTIN: "09520123456788", Cartons: 1, Unit: "X^Y"},
	} {
		if _, err := r.svc.Receive(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// Resume finishes every receipt it can, and reports the ones it cannot.
func TestResumeGoesOnPastABadReceipt(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.door.down = errors.New("spool closed")
	for _, id := range []string{"a-1", "b-2"} {
		r.svc.Receive(ctx, Request{ID: id, Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1, Description: "lot " + id})
	}
	r.door.down = nil
	r.door.refuse = "lot a-1" // the first one's label cannot be made any more
	n, err := r.svc.Resume(ctx)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "a-1") {
		t.Fatalf("resume: %d, %v", n, err)
	}
	if rc, err := r.svc.Receipt("b-2"); err != nil || len(r.door.jobs) != 1 || r.door.JobState(rc.ID+":"+rc.Cartons[0]) == "" {
		t.Fatalf("b-2 not finished: %v, jobs %d", err, len(r.door.jobs))
	}
}

func TestHeldLotRefusesGoods(t *testing.T) {
	r := newRig(t)
	r.lots.held["SUP-H"] = true
	_, err := r.svc.Receive(context.Background(), Request{Door: "DOOR1", Scan: "(01)09520123456788(10)SUP-H", Supplier: "Acme", Cartons: 1})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "on hold") {
		t.Fatalf("got %v", err)
	}
}

// A supplier's carton that carries an SSCC of the gateway's own range keeps
// it: the gateway's allocation skips it, so two cartons never share one.
func TestAllocationSkipsAnSSCCAlreadyReceived(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	theirs := makeSSCC(0, "0614141", 2, 9)
	if _, err := r.svc.Receive(ctx, Request{ID: "sup", Door: "DOOR1", GTIN: "09520123456788", Cartons: 1, SSCCs: []string{theirs}}); err != nil {
		t.Fatal(err)
	}
	rc, err := r.svc.Receive(ctx, Request{ID: "own", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.Cartons) != 3 {
		t.Fatalf("cartons %v", rc.Cartons)
	}
	for _, sscc := range rc.Cartons {
		if sscc == theirs {
			t.Fatalf("the supplier's SSCC %s was allocated again: %v", theirs, rc.Cartons)
		}
	}
	if c, err := r.svc.Carton(theirs); err != nil || c.Receipt != "sup" {
		t.Fatalf("the supplier's carton: %+v, %v", c, err)
	}
}

// Goods past their expiry date are refused unless the request (or the
// configuration) accepts them; an accepted receipt says so.
func TestExpiredGoods(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	req := Request{ID: "exp-1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1, Expiry: "2025-05-13"}
	_, err := r.svc.Receive(ctx, req)
	if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "2025-05-13") || !strings.Contains(err.Error(), "accept_expired") {
		t.Fatalf("expired goods: %v, want ErrExpired naming the date and the way to accept them", err)
	}
	if _, err := r.svc.Receipt("exp-1"); !errors.Is(err, ErrNotFound) || r.lots.n != 0 {
		t.Fatalf("a refused receipt left a record or a lot: %v, %d lots", err, r.lots.n)
	}
	// Expiring today is not expired.
	today, err := r.svc.Receive(ctx, Request{ID: "exp-0", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1, Expiry: "2025-05-14"})
	if err != nil || today.Expired {
		t.Fatalf("goods expiring today: %v, expired %v", err, today != nil && today.Expired)
	}
	req.AcceptExpired = true
	rc, err := r.svc.Receive(ctx, req)
	if err != nil || !rc.Expired {
		t.Fatalf("accepted expired goods: %v, %+v", err, rc)
	}
	r.svc.cfg.AcceptExpired = true
	rc, err = r.svc.Receive(ctx, Request{ID: "exp-2", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1, Expiry: "2024-01-31"})
	if err != nil || !rc.Expired {
		t.Fatalf("expired goods with receiving.accept_expired: %v, %+v", err, rc)
	}
}

// A trace key that names no carton or tag is ErrInvalidTrace (400), not a
// receipt error, and quotes characters, not bytes; a well-formed key of
// nothing received is ErrNotFound (404).
func TestTraceKeyErrors(t *testing.T) {
	r := newRig(t)
	a := api.New("", nil, nil)
	r.svc.Routes(a)
	h := a.Handler()
	for _, c := range []struct {
		kind, key string
		is        error
		code      int
		want      string
	}{
		{"sscc", "12345", ErrInvalidTrace, http.StatusBadRequest, `invalid trace key: sscc "12345": want 18 digits`},
		{"sscc", "AAAAAAAAAAAAAAAAAA", ErrInvalidTrace, http.StatusBadRequest, `invalid trace key: sscc "AAAAAAAAAAAAAAAAAA": want 18 digits`},
		{"sscc", "ÜÜÜÜÜÜÜÜÜ", ErrInvalidTrace, http.StatusBadRequest, `want 18 digits`},
		{"sscc", "006141410000009999", ErrInvalidTrace, http.StatusBadRequest, `check digit 9 should be 2`},
		{"sscc", "006141410000009992", ErrNotFound, http.StatusNotFound, `no carton with this SSCC was received here`},
		{"epc", "ÜBER", ErrInvalidTrace, http.StatusBadRequest, `invalid trace key: epc: hex "ÜBER": character 'Ü' at position 1 is not a hexadecimal digit`},
		{"epc", "urn:epc:id:sgtin:ÜBER", ErrInvalidTrace, http.StatusBadRequest, `invalid trace key: epc: URI "urn:epc:id:sgtin:ÜBER"`},
	} {
		var err error
		if c.kind == "sscc" {
			_, err = r.svc.TraceSSCC(c.key)
		} else {
			_, err = r.svc.TraceEPC(c.key)
		}
		if !errors.Is(err, c.is) || errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v; want %v with %q", c.kind, c.key, err, c.is, c.want)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/trace/"+c.kind+"/"+url.PathEscape(c.key), nil))
		if w.Code != c.code || !strings.Contains(w.Body.String(), "trace key") && c.code == http.StatusBadRequest {
			t.Errorf("GET /trace/%s/%s: %d %s; want %d", c.kind, c.key, w.Code, w.Body, c.code)
		}
	}
}

// A door's receipts are listed newest first, only that door's, at most max.
func TestDoorReceipts(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	for _, id := range []string{"asn-a", "asn-b", "asn-c"} {
		if _, err := r.svc.Receive(ctx, Request{ID: id, Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.svc.Receive(ctx, Request{ID: "asn-x", Door: "DOOR2", GTIN: "09520123456788", Product: "WLD01", Cartons: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := r.svc.DoorReceipts("DOOR1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "asn-c" || got[1].ID != "asn-b" {
		t.Fatalf("DOOR1's last 2 receipts: %+v", got)
	}
	if got, _ := r.svc.DoorReceipts("DOOR3", 5); len(got) != 0 {
		t.Fatalf("a door without receipts: %+v", got)
	}
}
