package sync

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

var t0 = time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestClockIsMonotonicAndObserves(t *testing.T) {
	now := t0
	c := NewClock(func() time.Time { return now }, 0)
	a, b := c.Now(), c.Now()
	if a != VersionAt(t0) || b != a+1 {
		t.Fatalf("versions %d, %d", a, b)
	}
	now = t0.Add(-time.Minute) // the wall clock set back
	if v := c.Now(); v <= b {
		t.Fatalf("version %d after %d", v, b)
	}
	ahead := VersionAt(t0.Add(10 * time.Second))
	c.Observe(ahead)
	if v := c.Now(); v != ahead+1 {
		t.Fatalf("after observing %d: %d", ahead, v)
	}
	if got := VersionAt(t0).Time(); !got.Equal(t0) {
		t.Fatalf("Time %v", got)
	}
	if VersionAt(time.Date(2255, 1, 1, 0, 0, 0, 0, time.UTC)) > 1<<53 {
		t.Fatal("versions of this century exceed 2^53")
	}
}

func TestSupersedes(t *testing.T) {
	st := func(status, gw string, v Version) LotStatus {
		return LotStatus{Code: "L1", Status: status, Gateway: gw, Version: v}
	}
	for _, c := range []struct {
		name     string
		new, old LotStatus
		want     bool
	}{
		{"later wins", st(StatusReleased, "a", 2), st(StatusOnHold, "b", 1), true},
		{"earlier loses", st(StatusOnHold, "a", 1), st(StatusReleased, "b", 2), false},
		{"a recall is final", st(StatusReleased, "a", 9), st(StatusRecalled, "b", 1), false},
		{"a recall wins over a later release", st(StatusRecalled, "a", 1), st(StatusReleased, "b", 9), true},
		{"a later recall replaces an earlier", st(StatusRecalled, "a", 3), st(StatusRecalled, "b", 2), true},
		{"equal versions: the greater gateway", st(StatusOnHold, "b", 5), st(StatusReleased, "a", 5), true},
		{"equal versions: the lesser gateway loses", st(StatusReleased, "a", 5), st(StatusOnHold, "b", 5), false},
		{"the same status twice", st(StatusOnHold, "a", 5), st(StatusOnHold, "a", 5), false},
	} {
		if got := c.new.Supersedes(c.old); got != c.want {
			t.Errorf("%s: %v", c.name, got)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := LotStatus{Code: "L/1+2", Status: StatusOnHold, Gateway: "gw", Version: VersionAt(t0)}
	if err := ok.Check(t0); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func(*LotStatus){
		"no code":          func(s *LotStatus) { s.Code = "" },
		"bad status":       func(s *LotStatus) { s.Status = "held" },
		"no gateway":       func(s *LotStatus) { s.Gateway = "" },
		"no version":       func(s *LotStatus) { s.Version = 0 },
		"far ahead":        func(s *LotStatus) { s.Version = VersionAt(t0.Add(2 * time.Hour)) },
		"code too long":    func(s *LotStatus) { s.Code = "123456789012345678901" },
		"hash in a code":   func(s *LotStatus) { s.Code = "A#1" },
		"reason too long":  func(s *LotStatus) { s.Reason = strings.Repeat("r", 501) },
		"by too long":      func(s *LotStatus) { s.By = strings.Repeat("b", 201) },
		"gateway too long": func(s *LotStatus) { s.Gateway = strings.Repeat("g", 201) },
	} {
		s := ok
		f(&s)
		if err := s.Check(t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTopics(t *testing.T) {
	code := "A/B+C%#1é"
	topic := LotStatusTopic("lyon", code)
	if topic != "dockgate/v1/lyon/lots/A%2FB%2BC%25%231%C3%A9/status" {
		t.Fatalf("topic %s", topic)
	}
	if kind, got := ParseTopic("lyon", topic); kind != TopicLotStatus || got != code {
		t.Fatalf("parsed %d %q", kind, got)
	}
	if kind, _ := ParseTopic("lyon", CartonTopic("lyon", "gw-1", "R/1", 2)); kind != TopicCartons {
		t.Fatal("carton topic not recognised")
	}
	for _, bad := range []string{"dockgate/v1/paris/lots/A/status", "dockgate/v1/lyon/lots/A%2/status", "dockgate/v1/lyon/lots/A/x", "dockgate/v1/lyon/other"} {
		if kind, _ := ParseTopic("lyon", bad); kind != TopicOther {
			t.Errorf("%s: kind %d", bad, kind)
		}
	}
	if CartonTopic("s", "gw", "R1", 1) != "dockgate/v1/s/cartons/gw/R1/1" || CartonFilter("s") != "dockgate/v1/s/cartons/+/+/+" ||
		LotStatusFilter("s") != "dockgate/v1/s/lots/+/status" {
		t.Fatal("filters")
	}
}

func TestStateLocalAndApply(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	now := t0
	st, err := OpenState(s.DB(), "gw-a", func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	var local LotStatus
	if err := s.Update(func(txn *badger.Txn) error {
		local, err = st.Local(txn, "L1", StatusOnHold, "QA", "ops", now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if local.Gateway != "gw-a" || local.Version != VersionAt(t0) {
		t.Fatalf("local %+v", local)
	}
	apply := func(ls LotStatus) bool {
		t.Helper()
		var applied bool
		if err := s.Update(func(txn *badger.Txn) error {
			applied, _, err = st.Apply(txn, ls)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return applied
	}
	if apply(local) {
		t.Fatal("the gateway's own echo applied again")
	}
	older := LotStatus{Code: "L1", Status: StatusReleased, Gateway: "gw-b", Version: local.Version - 1, Time: now}
	if apply(older) {
		t.Fatal("an older release applied")
	}
	newer := older
	newer.Version = local.Version + 5
	if !apply(newer) || apply(newer) {
		t.Fatal("a newer release: not applied once")
	}
	if held, known, _ := st.Held("L1"); held || !known {
		t.Fatalf("held %v known %v", held, known)
	}
	// The clock has seen the newer version: the next local one is above.
	if v := st.Clock().Now(); v <= newer.Version {
		t.Fatalf("version %d after observing %d", v, newer.Version)
	}
	// A restart keeps the versions above the last one handed out.
	s.Close()
	s2 := openStore(t, dir)
	st2, err := OpenState(s2.DB(), "gw-a", func() time.Time { return t0.Add(-time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	if v := st2.Clock().Now(); v <= local.Version {
		t.Fatalf("after a restart with the clock back: %d ≤ %d", v, local.Version)
	}
	all, err := st2.Statuses()
	if err != nil || len(all) != 1 || all[0].Status != StatusReleased {
		t.Fatalf("statuses %+v %v", all, err)
	}
}

func receipt(gw, id, lot string, first, n int) ReceiptMessage {
	m := ReceiptMessage{Receipt: id, Gateway: gw, Lot: lot, GTIN: "09520123456788", Expiry: "2027-05-31", Time: t0}
	for i := first; i < first+n; i++ {
		m.Cartons = append(m.Cartons, Carton{SSCC: fmt.Sprintf("%018d", i), EPC: fmt.Sprintf("3114257BF4%014X", i)})
	}
	return m
}

func TestIndexIngestLookupReload(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	x, err := OpenIndex(s.DB())
	if err != nil {
		t.Fatal(err)
	}
	m := receipt("gw-a", "R1", "LOT-1", 0, 2500)
	parts := m.Split(0)
	if len(parts) != 3 || parts[2].Part != 3 || parts[2].Parts != 3 || len(parts[2].Cartons) != 500 {
		t.Fatalf("split into %d parts", len(parts))
	}
	for _, p := range parts {
		if n, err := x.Ingest(p); err != nil || n != len(p.Cartons) {
			t.Fatalf("ingest part %d: %d, %v", p.Part, n, err)
		}
	}
	if n, err := x.Ingest(parts[0]); err != nil || n != 0 {
		t.Fatalf("a part ingested twice: %d, %v", n, err)
	}
	if _, err := x.Ingest(receipt("gw-b", "R2", "LOT-2", 2499, 1).Split(0)[0]); err != nil {
		t.Fatal(err)
	}
	check := func(x *Index) {
		t.Helper()
		if lot, ok := x.Lot(m.Cartons[7].EPC); !ok || lot != "LOT-1" {
			t.Fatalf("carton 7: %q %v", lot, ok)
		}
		if lot, ok := x.Lot(fmt.Sprintf("3114257bf4%014x", 2499)); !ok || lot != "LOT-2" {
			t.Fatalf("the carton received again: %q %v", lot, ok)
		}
		if _, ok := x.Lot("3114257BF4FFFFFFFFFFFFFF"); ok {
			t.Fatal("an unknown carton resolved")
		}
		if _, ok := x.Lot("zz"); ok {
			t.Fatal("not hex resolved")
		}
		src, ok, err := x.Source(m.Cartons[1700].EPC)
		if err != nil || !ok || src.Receipt != "R1" || src.Part != 2 || src.Expiry != "2027-05-31" || src.Gateway != "gw-a" {
			t.Fatalf("source %+v %v %v", src, ok, err)
		}
		if gtin, ok := x.KnowsLot("LOT-1"); !ok || gtin != "09520123456788" {
			t.Fatal("lot not known")
		}
		if st := x.Stats(); st.Cartons != 2500 || st.Parts != 4 || st.Lots != 2 {
			t.Fatalf("stats %+v", st)
		}
	}
	check(x)
	s.Close()
	s2 := openStore(t, dir)
	x2, err := OpenIndex(s2.DB())
	if err != nil {
		t.Fatal(err)
	}
	check(x2)
	if n, err := x2.Ingest(parts[1]); err != nil || n != 0 {
		t.Fatalf("after a reload, a part ingested again: %d, %v", n, err)
	}
}

func TestReceiptCheck(t *testing.T) {
	for name, f := range map[string]func(*ReceiptMessage){
		"no lot":       func(m *ReceiptMessage) { m.Lot = "" },
		"part 0":       func(m *ReceiptMessage) { m.Part = 0 },
		"odd EPC":      func(m *ReceiptMessage) { m.Cartons[0].EPC = "311" },
		"EPC not hex":  func(m *ReceiptMessage) { m.Cartons[0].EPC = "XY" },
		"no receipt":   func(m *ReceiptMessage) { m.Receipt = "" },
		"too many":     func(m *ReceiptMessage) { m.Cartons = make([]Carton, MaxPartCartons+1) },
		"part > parts": func(m *ReceiptMessage) { m.Part = 3 },
		"bad gtin":     func(m *ReceiptMessage) { m.GTIN = "0952012345678X" },
		"bad expiry":   func(m *ReceiptMessage) { m.Expiry = "31/05/2027" },
		"bad sscc":     func(m *ReceiptMessage) { m.Cartons[0].SSCC = "123" },
		"long receipt": func(m *ReceiptMessage) { m.Receipt = strings.Repeat("R", 70000) },
		"long gateway": func(m *ReceiptMessage) { m.Gateway = strings.Repeat("G", 201) },
	} {
		m := receipt("gw", "R", "L", 0, 1).Split(0)[0]
		f(&m)
		if err := m.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStaleFor(t *testing.T) {
	if StaleFor(true, t0, t0.Add(time.Hour), time.Minute) != 0 {
		t.Fatal("connected and stale")
	}
	if StaleFor(false, t0, t0.Add(30*time.Second), time.Minute) != 0 {
		t.Fatal("stale too soon")
	}
	if d := StaleFor(false, t0, t0.Add(2*time.Minute), time.Minute); d != 2*time.Minute {
		t.Fatalf("stale for %v", d)
	}
}

// A message whose time is 9999-12-31 with an offset west of UTC is year
// 10000 in UTC, which JSON cannot carry: it is refused as invalid (and
// dropped), never taken and then failed on recording, which would have
// the broker deliver it again for ever.
func TestSiteMessageTimeBeyondJSON(t *testing.T) {
	const late = "9999-12-31T23:00:00-23:00"
	var ls LotStatus
	if err := json.Unmarshal([]byte(`{"code":"L1","status":"on_hold","gateway":"central","version":1,"time":"`+late+`"}`), &ls); err != nil {
		t.Fatal(err)
	}
	ls.Version = VersionAt(t0)
	if err := ls.Check(t0); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "time") {
		t.Errorf("lot status at %s: %v, want ErrInvalid naming the time", late, err)
	}
	s := openStore(t, t.TempDir())
	st, err := OpenState(s.DB(), "gw-a", func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(func(txn *badger.Txn) error {
		_, _, err := st.Apply(txn, ls)
		return err
	})
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("Apply: %v, want ErrInvalid", err)
	}

	m := receipt("gw", "R", "L", 0, 1).Split(0)[0]
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`"time":"[^"]*"`).ReplaceAll(b, []byte(`"time":"`+late+`"`))
	var rm ReceiptMessage
	if err := json.Unmarshal(b, &rm); err != nil {
		t.Fatal(err)
	}
	x, err := OpenIndex(s.DB())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := x.Ingest(rm); !errors.Is(err, ErrInvalid) || n != 0 {
		t.Errorf("receipt at %s: %d cartons, %v; want ErrInvalid", late, n, err)
	}
}

// FuzzSiteMessage feeds payloads of the site's topics, as a gateway
// decodes them: a lot status or a receipt message that passes its Check
// is recorded without error (an error other than ErrInvalid has the
// broker deliver the message again, for ever).
func FuzzSiteMessage(f *testing.F) {
	ls := LotStatus{Code: "L1", Status: StatusOnHold, Reason: "QA", By: "ops", Time: t0, Gateway: "central", Version: VersionAt(t0)}
	b, _ := json.Marshal(ls)
	f.Add(b)
	b, _ = json.Marshal(receipt("gw", "R", "L", 0, 3).Split(0)[0])
	f.Add(b)
	f.Add([]byte(`{"code":"L1","status":"recalled","gateway":"g","version":1,"time":"9999-12-31T23:00:00-23:00"}`))
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	st, err := OpenState(s.DB(), "gw-a", func() time.Time { return t0 })
	if err != nil {
		f.Fatal(err)
	}
	x, err := OpenIndex(s.DB())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ls LotStatus
		if json.Unmarshal(payload, &ls) == nil && ls.Check(t0) == nil {
			err := s.Update(func(txn *badger.Txn) error {
				_, _, err := st.Apply(txn, ls)
				return err
			})
			if err != nil {
				t.Errorf("a lot status that passes Check is not recorded: %v", err)
			}
		}
		var rm ReceiptMessage
		if json.Unmarshal(payload, &rm) == nil && rm.Check() == nil {
			if _, err := x.Ingest(rm); err != nil {
				t.Errorf("a receipt message that passes Check is not indexed: %v", err)
			}
		}
	})
}
