package lots

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/lot"
)

var seedConfig = lot.Config{
	DefaultFormat: "std",
	Formats: map[string]lot.FormatConfig{
		"std":  {Format: "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}", Brand: "LWX"},
		"tiny": {Format: "{YY}-{PRODUCT}-{SEQ:1}"},
		"site": {Format: "{YYMMDD}{SITE}-{SEQ:4}", Shared: true, SeqPer: lot.PerGlobal},
	},
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(s string) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = t.Add(10 * time.Hour)
	c.mu.Unlock()
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	o := store.Options{}
	if dir == "" {
		o.InMemory = true
	}
	s, err := store.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newRegistry(t testing.TB, s *store.Store, o Options) (*Registry, *clock) {
	t.Helper()
	c := &clock{}
	c.Set("2025-05-07")
	if o.Now == nil {
		o.Now = c.Now
	}
	if o.Config.Formats == nil {
		o.Config = seedConfig
	}
	o.Location = time.UTC
	r, err := New(s, o)
	if err != nil {
		t.Fatal(err)
	}
	return r, c
}

func issue(t testing.TB, r *Registry, req IssueRequest) Lot {
	t.Helper()
	l, err := r.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestIssueSeedExample(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	r, c := newRegistry(t, s, Options{})
	req := IssueRequest{Details: Details{Product: "WLD01"}}
	var got []string
	got = append(got, issue(t, r, req).Code, issue(t, r, req).Code)
	c.Set("2025-06-02")
	got = append(got, issue(t, r, req).Code)
	other := req
	other.Product = "WLD02"
	got = append(got, issue(t, r, other).Code)
	want := []string{"2505-LWX-WLD01-001", "2505-LWX-WLD01-002", "2506-LWX-WLD01-001", "2506-LWX-WLD02-001"}
	if !slices.Equal(got, want) {
		t.Fatalf("codes %q, want %q", got, want)
	}
	// An explicit production date picks the period.
	back := req
	back.Production = date("2025-05-30")
	if l := issue(t, r, back); l.Code != "2505-LWX-WLD01-003" || l.Production != "2025-05-30" {
		t.Fatalf("back-dated: %+v", l)
	}
}

// An issue with an id used before returns that lot, without a number or a
// created event; the same id with another request is refused.
func TestIssueWithIDIsIdempotent(t *testing.T) {
	var mu sync.Mutex
	created := 0
	st := openStore(t, t.TempDir())
	r, c := newRegistry(t, st, Options{OnChange: func(_ *badger.Txn, ch Change) error {
		mu.Lock()
		defer mu.Unlock()
		if ch.Event.Action == "created" {
			created++
		}
		return nil
	}})
	req := IssueRequest{ID: "po-4411:line-1", Format: "tiny", Details: Details{Product: "WLD01", Quantity: 12, Unit: "EA"}}
	first := issue(t, r, req)
	c.Set("2025-06-02") // a retry on another day: the request as given is the same
	if again := issue(t, r, req); again.Code != first.Code {
		t.Fatalf("retry issued %s after %s", again.Code, first.Code)
	}
	if next := issue(t, r, IssueRequest{Format: "tiny", Details: Details{Product: "WLD01"}}); next.Code != "25-WLD01-2" {
		t.Fatalf("next lot %s: the retry must not spend a number", next.Code)
	}
	// A retry after the format left the configuration still gets its lot.
	without := lot.Config{DefaultFormat: "std", Formats: map[string]lot.FormatConfig{"std": seedConfig.Formats["std"]}}
	r2, _ := newRegistry(t, st, Options{Config: without})
	if again, err := r2.Issue(context.Background(), req); err != nil || again.Code != first.Code {
		t.Fatalf("retry without the format: %v %v", again.Code, err)
	}
	mu.Lock()
	if created != 2 {
		t.Errorf("%d created events, want 2", created)
	}
	mu.Unlock()
	other := req
	other.Quantity = 13
	if _, err := r.Issue(context.Background(), other); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), first.Code) {
		t.Fatalf("same id, other request: %v", err)
	}
	bad := req
	bad.ID = "no spaces"
	if _, err := r.Issue(context.Background(), bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad id: %v", err)
	}
}

func TestIssueSkipsTakenCode(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	ctx := context.Background()
	if _, err := r.Register(ctx, "2505-LWX-WLD01-001", Details{Product: "X", Supplier: "ACME"}); err != nil {
		t.Fatal(err)
	}
	if l := issue(t, r, IssueRequest{Details: Details{Product: "WLD01"}}); l.Code != "2505-LWX-WLD01-002" {
		t.Fatalf("got %s, want the next number after a taken code", l.Code)
	}
}

func TestIssueExhausted(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	req := IssueRequest{Format: "tiny", Details: Details{Product: "P"}}
	seen := map[string]bool{}
	for range 9 {
		seen[issue(t, r, req).Code] = true
	}
	_, err := r.Issue(context.Background(), req)
	if !errors.Is(err, ErrExhausted) || !strings.Contains(err.Error(), "widen {SEQ:n}") {
		t.Fatalf("10th code of {SEQ:1}: %v, want ErrExhausted", err)
	}
	if len(seen) != 9 || !seen["25-P-9"] {
		t.Fatalf("codes %v", seen)
	}
}

func TestIssueValidation(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	ctx := context.Background()
	for _, c := range []struct {
		req  IssueRequest
		frag string
	}{
		{IssueRequest{}, "product is required"},
		{IssueRequest{Details: Details{Product: "TOOLONG1"}}, "{PRODUCT}"},
		{IssueRequest{Details: Details{Product: "A-B"}}, "separator"},
		{IssueRequest{Details: Details{Product: "P", GTIN: "09520123456789"}}, "check digit 9, want 8"},
		{IssueRequest{Details: Details{Product: "P", GTIN: "123"}}, "3 digits"},
		{IssueRequest{Details: Details{Product: "P", SupplierLot: "L1"}}, "needs its supplier"},
		{IssueRequest{Details: Details{Product: "P", Quantity: 3}}, "needs a unit"},
		{IssueRequest{Details: Details{Product: "P", Quantity: math.NaN(), Unit: "EA"}}, "quantity NaN: give a number from 0 to 1e+09"},
		{IssueRequest{Details: Details{Product: "P", Quantity: math.Inf(1), Unit: "EA"}}, "quantity +Inf"},
		{IssueRequest{Details: Details{Product: "P", Quantity: 2e9, Unit: "EA"}}, "quantity 2e+09"},
		{IssueRequest{Format: "site", Details: Details{Product: "P"}}, "{SITE}"},
		{IssueRequest{Format: "nope", Details: Details{Product: "P"}}, "no format \"nope\""},
		{IssueRequest{Details: Details{Product: "P\n"}}, "control character"},
	} {
		if _, err := r.Issue(ctx, c.req); err == nil || !strings.Contains(err.Error(), c.frag) {
			t.Errorf("Issue(%+v) = %v, want an error containing %q", c.req, err, c.frag)
		}
	}
	if _, err := New(openStore(t, ""), Options{Config: lot.Config{DefaultFormat: "x"}}); err == nil {
		t.Error("New accepted a bad configuration")
	}
}

func TestIssueSharedFormatUsesSite(t *testing.T) {
	s := openStore(t, "")
	a, _ := newRegistry(t, s, Options{Site: "A1"})
	b, _ := newRegistry(t, openStore(t, ""), Options{Site: "B2"})
	req := IssueRequest{Format: "site", Details: Details{Product: "P"}}
	ca, cb := issue(t, a, req).Code, issue(t, b, req).Code
	if ca != "250507A1-0001" || cb != "250507B2-0001" {
		t.Fatalf("codes %s %s", ca, cb)
	}
}

// TestConcurrentIssue: many goroutines, all codes distinct, none lost.
func TestConcurrentIssue(t *testing.T) {
	for _, c := range []struct {
		name string
		dir  string
		n    int
	}{{"memory", "", 1000}, {"disk", t.TempDir(), 100}} {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t, c.dir)
			defer s.Close()
			r, _ := newRegistry(t, s, Options{Config: lot.Config{Formats: map[string]lot.FormatConfig{
				"g": {Format: "{YY}-{PRODUCT}-{SEQ:5}", SeqPer: lot.PerGlobal}}}})
			codes := make([]string, c.n)
			errs := make([]error, c.n)
			var wg sync.WaitGroup
			for i := range c.n {
				wg.Go(func() {
					l, err := r.Issue(context.Background(), IssueRequest{Format: "g", Details: Details{Product: fmt.Sprintf("P%d", i%3)}})
					codes[i], errs[i] = l.Code, err
				})
			}
			wg.Wait()
			seen := map[string]bool{}
			for i, code := range codes {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if seen[code] {
					t.Fatalf("code %s issued twice", code)
				}
				seen[code] = true
				if _, err := r.Get(code); err != nil {
					t.Fatalf("issued code %s not recorded: %v", code, err)
				}
			}
		})
	}
}

func TestRestartContinues(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	r, _ := newRegistry(t, s, Options{})
	req := IssueRequest{Details: Details{Product: "WLD01"}}
	first := issue(t, r, req).Code
	s.Close()
	s = openStore(t, dir)
	defer s.Close()
	r, _ = newRegistry(t, s, Options{})
	if second := issue(t, r, req).Code; first != "2505-LWX-WLD01-001" || second != "2505-LWX-WLD01-002" {
		t.Fatalf("after restart: %s then %s", first, second)
	}
}

func TestStatusAndHistory(t *testing.T) {
	var mu sync.Mutex
	var changes []Change
	r, c := newRegistry(t, openStore(t, ""), Options{OnChange: func(_ *badger.Txn, ch Change) error {
		mu.Lock()
		changes = append(changes, ch)
		mu.Unlock()
		return nil
	}})
	ctx := context.Background()
	l := issue(t, r, IssueRequest{Details: Details{Product: "WLD01", Supplier: "ACME", SupplierLot: "S-77", By: "dock1"}})
	if held, _ := r.IsHeld(l.Code); held {
		t.Fatal("a new lot is held")
	}
	if _, err := r.Hold(ctx, l.Code, "", "qa"); !errors.Is(err, ErrInvalid) {
		t.Errorf("hold without reason: %v", err)
	}
	if _, err := r.Release(ctx, l.Code, "qa"); !errors.Is(err, ErrStatus) {
		t.Errorf("release of an active lot: %v", err)
	}
	c.Set("2025-05-08")
	h, err := r.Hold(ctx, l.Code, "temperature excursion", "qa")
	if err != nil || h.Status != StatusOnHold || h.HoldReason != "temperature excursion" {
		t.Fatalf("Hold = %+v, %v", h, err)
	}
	if held, _ := r.IsHeld(l.Code); !held {
		t.Fatal("IsHeld false after Hold")
	}
	if _, err := r.Hold(ctx, l.Code, "again", "qa"); !errors.Is(err, ErrStatus) || !strings.Contains(err.Error(), "on_hold (temperature excursion)") {
		t.Errorf("second hold: %v", err)
	}
	if rel, err := r.Release(ctx, l.Code, "qa"); err != nil || rel.Status != StatusReleased || rel.HoldReason != "" {
		t.Fatalf("Release = %+v, %v", rel, err)
	}
	if _, err := r.Recall(ctx, l.Code, "supplier recall 2025-17", "office"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Recall(ctx, l.Code, "again", "office"); !errors.Is(err, ErrStatus) {
		t.Errorf("second recall: %v", err)
	}
	if _, err := r.Hold(ctx, "NOPE", "x", "qa"); !errors.Is(err, ErrNotFound) {
		t.Errorf("hold of unknown lot: %v", err)
	}
	got, err := r.Get(l.Code)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range got.History {
		actions = append(actions, e.Action+":"+string(e.From)+">"+string(e.To))
	}
	want := []string{"created:>active", "hold:active>on_hold", "release:on_hold>released", "recall:released>recalled"}
	if !slices.Equal(actions, want) {
		t.Fatalf("history %q, want %q", actions, want)
	}
	if got.History[0].By != "dock1" || got.History[1].Reason != "temperature excursion" || !got.History[1].At.After(got.History[0].At) {
		t.Errorf("history details %+v", got.History)
	}
	if got.Supplier != "ACME" || got.SupplierLot != "S-77" || got.Status != StatusRecalled {
		t.Errorf("lot %+v", got)
	}
	if codes, _ := r.SupplierLots("ACME", "S-77"); !slices.Equal(codes, []string{l.Code}) {
		t.Errorf("SupplierLots = %q", codes)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 4 || changes[2].Action != "release" || changes[3].Lot.Status != StatusRecalled || changes[3].Code != l.Code {
		t.Fatalf("changes %+v", changes)
	}
}

func TestRegisterSupplierLot(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	ctx := context.Background()
	d := Details{Product: "WLD01", Supplier: "ACME", GTIN: "09520123456788", Expiry: date("2025-09-30"), Quantity: 12, Unit: "CS", PO: "PO-1"}
	l, err := r.Register(ctx, "ABC123", d)
	if err != nil || l.Source != SourceSupplier || l.SupplierLot != "ABC123" || l.Expiry != "2025-09-30" {
		t.Fatalf("Register = %+v, %v", l, err)
	}
	again, err := r.Register(ctx, "ABC123", d)
	if err != nil || again.Code != "ABC123" || !again.Created.Equal(l.Created) {
		t.Fatalf("second scan: %+v, %v", again, err)
	}
	d2 := d
	d2.Supplier = "OTHER"
	if _, err := r.Register(ctx, "ABC123", d2); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "issue a lot of your own") {
		t.Fatalf("same code, other supplier: %v", err)
	}
	d3 := d
	d3.GTIN = "09520123456795"
	if _, err := r.Register(ctx, "ABC123", d3); !errors.Is(err, ErrExists) {
		t.Fatalf("same code, other GTIN: %v", err)
	}
	d4 := d
	d4.Expiry = date("2029-12-31")
	if _, err := r.Register(ctx, "ABC123", d4); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "recorded with expiry 2025-09-30, this one says 2029-12-31") {
		t.Fatalf("same lot, other expiry: %v", err)
	}
	// A GTIN-13 is recorded as its GTIN-14; expiry before production is refused.
	if l, err := r.Register(ctx, "G13", Details{Product: "P", Supplier: "S", GTIN: "9520123456788"}); err != nil || l.GTIN != "09520123456788" {
		t.Fatalf("GTIN-13: %+v, %v", l, err)
	}
	if _, err := r.Register(ctx, "D1", Details{Product: "P", Supplier: "S", Production: date("2026-05-02"), Expiry: date("2026-05-01")}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "before the production date") {
		t.Fatalf("expiry before production: %v", err)
	}
	if _, err := r.Register(ctx, "AB C", d); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad code: %v", err)
	}
	if _, err := r.Register(ctx, "X1", Details{Product: "P", Supplier: "S", SupplierLot: "X2"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("mismatched supplier lot: %v", err)
	}
}

func TestLinks(t *testing.T) {
	var links int
	r, _ := newRegistry(t, openStore(t, ""), Options{OnChange: func(_ *badger.Txn, c Change) error {
		if c.Action == "link" {
			links++
		}
		return nil
	}})
	ctx := context.Background()
	a := issue(t, r, IssueRequest{Details: Details{Product: "A"}}).Code
	b := issue(t, r, IssueRequest{Details: Details{Product: "B"}}).Code
	sscc := "00095201234000000018"
	for _, l := range []struct{ code, kind, id string }{
		{a, LinkSSCC, sscc}, {b, LinkSSCC, sscc}, {a, LinkEPC, "urn:epc:id:sgtin:0952012.345678.1"},
		{a, LinkEPC, "urn:epc:id:sgtin:0952012.345678.1"}, {a, LinkCarton, "C1"},
	} {
		if err := r.Link(ctx, l.code, l.kind, l.id); err != nil {
			t.Fatal(err)
		}
	}
	if links != 4 {
		t.Errorf("%d link changes, want 4 (a repeated link is a no-op)", links)
	}
	if got, _ := r.LotsOf(LinkSSCC, sscc); !slices.Equal(got, []string{a, b}) && !slices.Equal(got, []string{b, a}) {
		t.Errorf("LotsOf(sscc) = %q", got)
	}
	if got, _ := r.LotsOf(LinkEPC, "urn:epc:id:sgtin:0952012.345678.2"); len(got) != 0 {
		t.Errorf("unlinked EPC: %q", got)
	}
	if got, _ := r.LinksOf(a, LinkEPC); len(got) != 1 || got[0].ID != "urn:epc:id:sgtin:0952012.345678.1" {
		t.Errorf("LinksOf(a, epc) = %+v", got)
	}
	if got, _ := r.LinksOf(a, ""); len(got) != 3 {
		t.Errorf("LinksOf(a) = %+v", got)
	}
	if held, _, _ := r.IsHeldLinked(LinkSSCC, sscc); held {
		t.Error("held before any hold")
	}
	if _, err := r.Hold(ctx, b, "damaged", "qa"); err != nil {
		t.Fatal(err)
	}
	if held, code, err := r.IsHeldLinked(LinkSSCC, sscc); !held || code != b || err != nil {
		t.Errorf("IsHeldLinked = %v %s %v", held, code, err)
	}
	if err := r.Link(ctx, "NOPE", LinkEPC, "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("link to unknown lot: %v", err)
	}
	if err := r.Link(ctx, a, "EPC", "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad kind: %v", err)
	}
	if _, err := r.LinksOf("NOPE", ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("LinksOf unknown: %v", err)
	}
}

func codes(ls []Lot) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Code
	}
	return out
}

func TestQueries(t *testing.T) {
	r, c := newRegistry(t, openStore(t, ""), Options{})
	ctx := context.Background()
	reg := func(code, product, supplier, prod, exp string) {
		t.Helper()
		d := Details{Product: product, Supplier: supplier}
		if prod != "" {
			d.Production = date(prod)
		}
		if exp != "" {
			d.Expiry = date(exp)
		}
		if _, err := r.Register(ctx, code, d); err != nil {
			t.Fatal(err)
		}
	}
	reg("L1", "P", "S1", "2025-05-01", "2025-07-01")
	reg("L2", "P", "S2", "2025-04-01", "2025-06-01")
	reg("L3", "P", "S1", "2025-03-01", "")
	reg("L4", "P", "S1", "2025-05-02", "2025-05-20")
	reg("L5", "Q", "S1", "2025-05-03", "2025-05-10")
	reg("L6", "P", "S2", "2025-05-04", "2025-05-06") // already past expiry on 2025-05-07
	if _, err := r.Hold(ctx, "L4", "lab", "qa"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		q    Query
		want []string
	}{
		{Query{Product: "P"}, []string{"L1", "L2", "L3", "L4", "L6"}},
		{Query{Supplier: "S1"}, []string{"L1", "L3", "L4", "L5"}},
		{Query{Supplier: "S1", Product: "P", Status: StatusActive}, []string{"L1", "L3"}},
		{Query{Status: StatusOnHold}, []string{"L4"}},
		{Query{From: date("2025-05-01"), To: date("2025-05-03")}, []string{"L1", "L4", "L5"}},
		{Query{From: date("2025-05-03")}, []string{"L5", "L6"}},
		{Query{}, []string{"L1", "L2", "L3", "L4", "L5", "L6"}},
		{Query{Product: "P", Order: OrderFEFO}, []string{"L2", "L1", "L3"}},
		{Query{Product: "P", Order: OrderFIFO}, []string{"L3", "L2", "L1"}},
		{Query{Product: "P", Order: OrderFIFO, Limit: 2}, []string{"L3", "L2"}},
	} {
		got, err := r.List(ctx, q.q)
		if err != nil || !slices.Equal(codes(got), q.want) {
			t.Errorf("List(%+v) = %q, %v; want %q", q.q, codes(got), err, q.want)
		}
	}
	for _, q := range []Query{{Order: OrderFEFO}, {Product: "P", Order: "lifo"}, {Product: "P", Order: OrderFEFO, Status: StatusOnHold}, {Status: "gone"}, {From: date("2025-02-02"), To: date("2025-02-01")}} {
		if _, err := r.List(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("List(%+v) = %v, want ErrInvalid", q, err)
		}
	}
	exp, err := r.Expiring(ctx, 14)
	if err != nil || !slices.Equal(codes(exp), []string{"L6", "L5", "L4"}) {
		t.Errorf("Expiring(14) = %q, %v", codes(exp), err)
	}
	n, err := r.ExpireDue(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ExpireDue = %d, %v", n, err)
	}
	if l, _ := r.Get("L6"); l.Status != StatusExpired {
		t.Errorf("L6 is %s", l.Status)
	}
	c.Set("2025-06-15")
	if n, _ := r.ExpireDue(ctx); n != 2 { // L5, L2; L4 stays on hold
		t.Errorf("ExpireDue on 06-15 = %d, want 2", n)
	}
	if got, _ := r.List(ctx, Query{Product: "P", Order: OrderFEFO}); !slices.Equal(codes(got), []string{"L1", "L3"}) {
		t.Errorf("FEFO after expiry: %q", codes(got))
	}
	if got, _ := r.List(ctx, Query{Status: StatusExpired}); !slices.Equal(codes(got), []string{"L2", "L5", "L6"}) {
		t.Errorf("expired: %q", codes(got))
	}
	if _, err := r.Release(ctx, "L4", "qa"); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.ExpireDue(ctx); n != 1 {
		t.Errorf("released L4 past expiry should expire, got %d", n)
	}
}

func TestRunExpiryStops(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.RunExpiry(ctx, time.Hour) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestCoveringIndexFollowsChanges: FEFO/FIFO entries carry the record, so
// they must show every change.
func TestCoveringIndexFollowsChanges(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	ctx := context.Background()
	l := issue(t, r, IssueRequest{Details: Details{Product: "P", Expiry: date("2025-12-31")}})
	if _, err := r.Hold(ctx, l.Code, "lab", "qa"); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Order{OrderFEFO, OrderFIFO} {
		if got, _ := r.List(ctx, Query{Product: "P", Order: o}); len(got) != 0 {
			t.Fatalf("%s lists a held lot: %+v", o, got)
		}
	}
	if _, err := r.Release(ctx, l.Code, "qa"); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Order{OrderFEFO, OrderFIFO} {
		got, _ := r.List(ctx, Query{Product: "P", Order: o})
		if len(got) != 1 || got[0].Status != StatusReleased || got[0].Expiry != "2025-12-31" {
			t.Fatalf("%s after release: %+v", o, got)
		}
	}
}

func TestStoreFullRefusesWrites(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, t.TempDir()), Options{MinFreeBytes: 1 << 62})
	_, err := r.Issue(context.Background(), IssueRequest{Details: Details{Product: "P"}})
	if !errors.Is(err, ErrStoreFull) || !strings.Contains(err.Error(), "free disk space") {
		t.Fatalf("Issue on a full disk: %v", err)
	}
}

// TestNoRepeatAfterExpiry: expired lots keep their codes; the sequence goes on.
func TestNoRepeatAfterExpiry(t *testing.T) {
	r, c := newRegistry(t, openStore(t, ""), Options{Config: lot.Config{Formats: map[string]lot.FormatConfig{
		"n": {Format: "{PRODUCT}-{SEQ:4}"}}}})
	ctx := context.Background()
	req := IssueRequest{Format: "n", Details: Details{Product: "P", Expiry: date("2025-05-10")}}
	first := issue(t, r, req)
	c.Set("2025-06-01")
	if n, err := r.ExpireDue(ctx); n != 1 || err != nil {
		t.Fatalf("ExpireDue = %d, %v", n, err)
	}
	req.Expiry = time.Time{}
	if next := issue(t, r, req); next.Code == first.Code || next.Code != "P-0002" {
		t.Fatalf("after expiry: %s then %s", first.Code, next.Code)
	}
	if l, _ := r.Get(first.Code); l.Status != StatusExpired || len(l.History) != 2 {
		t.Fatalf("expired lot: %+v", l)
	}
}

// A hold's or recall's reason is one bounded line: it travels in events and
// EPCIS documents.
func TestReasonIsBounded(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	l := issue(t, r, IssueRequest{Details: Details{Product: "WLD01"}})
	ctx := context.Background()
	for _, reason := range []string{strings.Repeat("r", maxReason+1), "two\nlines"} {
		if _, err := r.Hold(ctx, l.Code, reason, "qa"); !errors.Is(err, ErrInvalid) {
			t.Errorf("hold with reason %.20q: %v", reason, err)
		}
		if _, err := r.Recall(ctx, l.Code, reason, "qa"); !errors.Is(err, ErrInvalid) {
			t.Errorf("recall with reason %.20q: %v", reason, err)
		}
	}
	if got, err := r.Get(l.Code); err != nil || got.Status != StatusActive {
		t.Fatalf("lot after refused changes: %v %v", got.Status, err)
	}
	if _, err := r.Hold(ctx, l.Code, strings.Repeat("r", maxReason), "qa"); err != nil {
		t.Fatal(err)
	}
}

// A full outbox postpones expiries to the next round; it does not end the
// expiry loop (and with it the gateway, which could then never drain).
func TestRunExpiryWaitsOutAFullOutbox(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	admit := func() error {
		if calls.Add(1) == 1 {
			return nil // the lot's registration
		}
		if calls.Load() >= 3 {
			cancel() // the second round: done
		}
		return errors.New("outbox full")
	}
	r, _ := newRegistry(t, openStore(t, ""), Options{Admit: admit})
	if _, err := r.Register(ctx, "OLD", Details{Product: "P", Supplier: "S", Expiry: date("2025-01-01")}); err != nil {
		t.Fatal(err)
	}
	if err := r.RunExpiry(ctx, 10*time.Millisecond); err != nil {
		t.Fatalf("RunExpiry ended on a full outbox: %v", err)
	}
	if l, _ := r.Get("OLD"); l.Status != StatusActive {
		t.Fatalf("lot is %s after refused expiries", l.Status)
	}
}

// Request errors quote characters, not bytes ('Ü', not the 'Ã' of its first
// byte), count in characters, and name a character before a length that
// counts bytes.
func TestErrorsQuoteCharacters(t *testing.T) {
	r, _ := newRegistry(t, openStore(t, ""), Options{})
	ctx := context.Background()
	d := Details{Product: "P", Supplier: "ACME"}
	for _, c := range []struct {
		name string
		err  error
		is   error
		want string
	}{
		{"code", func() error { _, err := r.Register(ctx, "ÜBER", d); return err }(), ErrInvalid, `lot code "ÜBER" has 'Ü' at position 0, outside GS1 CSET 82`},
		{"code, emoji", func() error { _, err := r.Register(ctx, "AB😀", d); return err }(), ErrInvalid, `has '😀' at position 2`},
		{"code longer in bytes", func() error { _, err := r.Register(ctx, strings.Repeat("Ü", 11), d); return err }(), ErrInvalid, `has 'Ü' at position 0`},
		{"GTIN", func() error {
			_, err := r.Issue(ctx, IssueRequest{Details: Details{Product: "P", GTIN: "ÜBER"}})
			return err
		}(), ErrInvalid, `GTIN "ÜBER" has 'Ü' at position 0; give digits only`},
		{"product", func() error {
			_, err := r.Issue(ctx, IssueRequest{Details: Details{Product: "ÜBER"}})
			return err
		}(), lot.ErrCharset, `{PRODUCT} value "ÜBER" has 'Ü' at position 0`},
	} {
		if !errors.Is(c.err, c.is) || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: %v; want %v with %q", c.name, c.err, c.is, c.want)
		}
	}
	// A text field holds up to 64 characters, however many bytes they take.
	if _, err := r.Register(ctx, "L64", Details{Product: "P", Supplier: strings.Repeat("Ü", 64)}); err != nil {
		t.Errorf("64 characters: %v", err)
	}
	if _, err := r.Register(ctx, "L65", Details{Product: "P", Supplier: strings.Repeat("Ü", 65)}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "longer than 64 characters") {
		t.Errorf("65 characters: %v", err)
	}
}

// A code's prefix finds its lots, alone or with another filter; a release
// for a reason keeps the reason in the history and asks for one.
func TestListByCodeAndReleaseBecause(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	r, _ := newRegistry(t, s, Options{})
	ctx := context.Background()
	for _, c := range []string{"SUP-1", "SUP-2", "OTHER-1"} {
		if _, err := r.Register(ctx, c, Details{Product: "P" + c[:1], Supplier: "ACME"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []Query{{Code: "SUP-"}, {Code: "SUP-", Product: "PS"}} {
		got, err := r.List(ctx, q)
		if err != nil || len(got) != 2 || got[0].Code != "SUP-1" || got[1].Code != "SUP-2" {
			t.Fatalf("List(%+v): %v %+v", q, err, got)
		}
	}
	if _, err := r.Hold(ctx, "SUP-1", "damp cartons", "qa"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReleaseBecause(ctx, "SUP-1", " ", "qa"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("release without a reason: %v", err)
	}
	l, err := r.ReleaseBecause(ctx, "SUP-1", "dried and checked", "qa")
	if err != nil || l.Status != StatusReleased {
		t.Fatalf("release: %v %+v", err, l)
	}
	l, _ = r.Get("SUP-1")
	if h := l.History[len(l.History)-1]; h.Action != "release" || h.Reason != "dried and checked" || h.By != "qa" {
		t.Fatalf("history: %+v", l.History)
	}
}
