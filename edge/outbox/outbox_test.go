package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

func memStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func open(t testing.TB, s *store.Store, o Options) *Outbox {
	t.Helper()
	ob, err := Open(s, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	return ob
}

func ev(typ string, p Priority, i int) Event {
	return Event{Type: typ, Priority: p, Source: "test", Body: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
}

func mustAppend(t testing.TB, ob *Outbox, e Event) uint64 {
	t.Helper()
	seq, err := ob.Append(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func nextN(t testing.TB, ob *Outbox, max int) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := ob.Next(ctx, max)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestPriorityOrderAndContiguousSeq(t *testing.T) {
	ob := open(t, memStore(t), Options{})
	for i := 0; i < 9; i++ {
		p := Priority(2 - i%3)
		seq := mustAppend(t, ob, ev("t", p, i))
		if seq != uint64(i+1) {
			t.Fatalf("append %d got seq %d, want %d", i, seq, i+1)
		}
	}
	evs := nextN(t, ob, 100)
	if len(evs) != 9 {
		t.Fatalf("Next returned %d events, want 9", len(evs))
	}
	last := [3]uint64{}
	prevP := Priority(0)
	for _, e := range evs {
		if e.Priority < prevP {
			t.Fatalf("priority %d after %d", e.Priority, prevP)
		}
		prevP = e.Priority
		if e.Seq <= last[e.Priority] {
			t.Fatalf("seq %d not increasing within priority %d", e.Seq, e.Priority)
		}
		last[e.Priority] = e.Seq
		if !strings.HasPrefix(e.ID, "urn:uuid:") || e.Time.IsZero() {
			t.Fatalf("event %d lacks ID or time: %+v", e.Seq, e)
		}
	}
	if err := ob.Ack(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	st := ob.Stats()
	if st.Pending() != 0 || st.Acked != 9 || st.NextSeq != 10 {
		t.Fatalf("stats after ack: %+v", st)
	}
	for p := range st.Queued {
		if st.Queued[p].Bytes != 0 {
			t.Fatalf("bytes of priority %d after ack: %d", p, st.Queued[p].Bytes)
		}
	}
}

func TestNextBlocksUntilAppend(t *testing.T) {
	ob := open(t, memStore(t), Options{})
	got := make(chan []Event, 1)
	go func() {
		evs, err := ob.Next(context.Background(), 10)
		if err != nil {
			t.Error(err)
		}
		got <- evs
	}()
	mustAppend(t, ob, ev("late", PriorityLot, 1))
	select {
	case evs := <-got:
		if len(evs) != 1 || evs[0].Type != "late" {
			t.Fatalf("Next got %+v", evs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Next did not wake up after Append")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ob.Next(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next on canceled ctx: %v", err)
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := Open(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		mustAppend(t, ob, ev("x", PriorityLot, i))
	}
	evs := nextN(t, ob, 2)
	if err := ob.Ack(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	ob.Close()
	s.Close()

	s, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ob = open(t, s, Options{})
	evs = nextN(t, ob, 10)
	if len(evs) != 3 || evs[0].Seq != 3 || evs[2].Seq != 5 {
		t.Fatalf("after reopen: %d events starting at %v", len(evs), evs)
	}
	if seq := mustAppend(t, ob, ev("x", PriorityLot, 9)); seq != 6 {
		t.Fatalf("seq after reopen %d, want 6", seq)
	}
	if st := ob.Stats(); st.Queued[PriorityLot].Events != 4 {
		t.Fatalf("queued after reopen: %+v", st.Queued)
	}
}

func TestRewindRedeliversAndQuarantinesPoison(t *testing.T) {
	ctx := context.Background()
	var alarms []Alarm
	var mu sync.Mutex
	ob := open(t, memStore(t), Options{MaxAttempts: 3, OnAlarm: func(a Alarm) { mu.Lock(); alarms = append(alarms, a); mu.Unlock() }})
	for i := 0; i < 3; i++ {
		mustAppend(t, ob, ev("x", PriorityLot, i))
	}
	for round := 0; round < 3; round++ {
		evs := nextN(t, ob, 10)
		if want := 3 - min(round, 1); len(evs) != want {
			t.Fatalf("round %d: %d events", round, len(evs))
		}
		// The first two are acked in round 0 only for seq 1; seq 2 and 3 never.
		if round == 0 {
			if err := ob.Ack(ctx, evs[0]); err != nil {
				t.Fatal(err)
			}
		}
		if err := ob.Rewind(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	// Only the first unacked event of each session (seq 2) is charged.
	st := ob.Stats()
	if st.Quarantined != 1 || st.Pending() != 1 {
		t.Fatalf("after 3 sessions: %+v", st)
	}
	q, err := ob.Quarantined(10)
	if err != nil || len(q) != 1 || q[0].Event.Seq != 2 || q[0].Attempts != 3 || q[0].Reason == "" {
		t.Fatalf("quarantine: %+v %v", q, err)
	}
	mu.Lock()
	n := 0
	for _, a := range alarms {
		if a.Kind == AlarmQuarantined {
			n++
		}
	}
	mu.Unlock()
	if n != 1 {
		t.Fatalf("%d quarantine alarms, want 1", n)
	}
	if err := ob.Requeue(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := ob.Requeue(ctx, 2); !errors.Is(err, ErrNotQuarantined) {
		t.Fatalf("second requeue: %v", err)
	}
	if err := ob.Rewind(ctx, true); err != nil {
		t.Fatal(err)
	}
	evs := nextN(t, ob, 10)
	if len(evs) != 2 || evs[0].Seq != 2 || string(evs[0].Body) != `{"i":1}` || evs[1].Seq != 3 {
		t.Fatalf("requeued: %+v", evs)
	}
}

// Sessions that end without charge (a stalled uplink) never quarantine.
func TestRewindWithoutChargeKeepsTheEvent(t *testing.T) {
	ctx := context.Background()
	ob := open(t, memStore(t), Options{MaxAttempts: 2})
	mustAppend(t, ob, ev("x", PriorityLot, 0))
	for round := 0; round < 5; round++ {
		if evs := nextN(t, ob, 10); len(evs) != 1 || evs[0].Seq != 1 {
			t.Fatalf("round %d: %+v", round, evs)
		}
		if err := ob.Rewind(ctx, false); err != nil {
			t.Fatal(err)
		}
	}
	if st := ob.Stats(); st.Quarantined != 0 || st.Pending() != 1 {
		t.Fatalf("after 5 uncharged sessions: %+v", st)
	}
	// Charged sessions still count from zero.
	for round := 0; round < 2; round++ {
		nextN(t, ob, 10)
		if err := ob.Rewind(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	if st := ob.Stats(); st.Quarantined != 1 {
		t.Fatalf("after 2 charged sessions: %+v", st)
	}
}

func TestFullStoreRefusesLotDropsTelemetry(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	kinds := map[string]int{}
	ob := open(t, memStore(t), Options{MaxBytes: 2000, OnAlarm: func(a Alarm) {
		mu.Lock()
		if !a.Cleared {
			kinds[a.Kind]++
		}
		mu.Unlock()
	}})
	// Fill with telemetry, then lot events push telemetry out oldest first.
	for i := 0; i < 40; i++ {
		if _, err := ob.Append(ctx, ev("tel", PriorityTelemetry, i)); err != nil && !errors.Is(err, ErrStoreFull) {
			t.Fatal(err)
		}
	}
	st := ob.Stats()
	if st.Dropped == 0 || st.Queued[PriorityTelemetry].Bytes > 2000 {
		t.Fatalf("telemetry not bounded: %+v", st)
	}
	var refused error
	lots := 0
	for i := 0; i < 100 && refused == nil; i++ {
		_, refused = ob.Append(ctx, ev("lot.created", PriorityLot, i))
		if refused == nil {
			lots++
		}
	}
	if !errors.Is(refused, ErrStoreFull) {
		t.Fatalf("lot append on a full outbox: %v, want ErrStoreFull", refused)
	}
	if !strings.Contains(refused.Error(), "max_bytes") || !strings.Contains(refused.Error(), "lot.created") {
		t.Fatalf("refusal does not say what and why: %v", refused)
	}
	st = ob.Stats()
	if st.Queued[PriorityTelemetry].Events != 0 || st.Queued[PriorityLot].Events != uint64(lots) || !st.StoreFull || st.Refused == 0 {
		t.Fatalf("after refusal: %+v", st)
	}
	// A reply still fits in the lifecycle reserve.
	if _, err := ob.Append(ctx, Event{Type: "reply", Priority: PriorityLifecycle, Topic: "reply/1", Body: json.RawMessage(`{"status":"failed"}`)}); err != nil {
		t.Fatalf("reply on a full outbox: %v", err)
	}
	// Telemetry on a store full of lot events is dropped and counted.
	before := ob.Stats().Dropped
	if _, err := ob.Append(ctx, ev("tel", PriorityTelemetry, 0)); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("telemetry on a full outbox: %v", err)
	}
	if ob.Stats().Dropped != before+1 {
		t.Fatal("dropped telemetry not counted")
	}
	mu.Lock()
	if kinds[AlarmStoreFull] != 1 || kinds[AlarmTelemetryDropped] != 1 {
		t.Fatalf("alarms %v, want one store_full and one telemetry_dropped", kinds)
	}
	mu.Unlock()
	// Draining clears the condition.
	for ob.Stats().Pending() > 0 {
		if err := ob.Ack(ctx, nextN(t, ob, 100)...); err != nil {
			t.Fatal(err)
		}
	}
	if st := ob.Stats(); st.StoreFull {
		t.Fatalf("store_full not cleared after draining: %+v", st)
	}
	mustAppend(t, ob, ev("lot.created", PriorityLot, 1))
}

func TestDiskLowRefuses(t *testing.T) {
	s, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []Alarm
	ob := open(t, s, Options{MinFreeBytes: 1 << 62, OnAlarm: func(a Alarm) { got = append(got, a) }})
	_, err = ob.Append(context.Background(), ev("receiving.done", PriorityLot, 1))
	if !errors.Is(err, ErrStoreFull) || !strings.Contains(err.Error(), "min_free_bytes") {
		t.Fatalf("append with a full disk: %v", err)
	}
	if len(got) != 1 || got[0].Kind != AlarmDiskLow {
		t.Fatalf("alarms %+v", got)
	}
	if st := ob.Stats(); !st.DiskLow || st.Pending() != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCorruptStoreRaisesAlarmAndQueuesEvent(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "badger")
	if err := os.MkdirAll(bad, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "MANIFEST"), []byte("garbage"), 0o640); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []Alarm
	ob := open(t, s, Options{OnAlarm: func(a Alarm) { got = append(got, a) }})
	if len(got) != 1 || got[0].Kind != AlarmStoreRecovered || !strings.Contains(got[0].Message, s.Recovered) {
		t.Fatalf("alarms %+v, want store_recovered naming %s", got, s.Recovered)
	}
	evs := nextN(t, ob, 10)
	if len(evs) != 1 || evs[0].Type != "store.recovered" || evs[0].Priority != PriorityLifecycle {
		t.Fatalf("queued %+v", evs)
	}
	var body map[string]string
	if err := json.Unmarshal(evs[0].Body, &body); err != nil || body["set_aside"] != s.Recovered {
		t.Fatalf("body %s: %v", evs[0].Body, err)
	}
}

func TestInvalidEvents(t *testing.T) {
	ob := open(t, memStore(t), Options{MaxEventBytes: 64})
	cases := []struct {
		ev   Event
		want error
	}{
		{Event{Priority: PriorityLot}, ErrInvalidEvent},
		{Event{Type: "a+b"}, ErrInvalidEvent},
		{Event{Type: "x", Priority: 7}, ErrInvalidEvent},
		{Event{Type: "x", Body: json.RawMessage(`{"a":`)}, ErrInvalidEvent},
		{Event{Type: "x", Body: json.RawMessage(`"` + strings.Repeat("a", 100) + `"`)}, ErrTooLarge},
		{Event{Topic: "reply/#"}, ErrInvalidEvent},
		{Event{Type: "bad\xffutf8"}, ErrInvalidEvent},
		{Event{Type: strings.Repeat("t", 65535-len("events/")+1)}, ErrInvalidEvent},
	}
	for _, c := range cases {
		if _, err := ob.Append(context.Background(), c.ev); !errors.Is(err, c.want) {
			t.Errorf("Append(%.80v) = %v, want %v", c.ev, err, c.want)
		}
	}
	// The message names the topic the type makes.
	if _, err := ob.Append(context.Background(), Event{Type: "a+b"}); err == nil || !strings.Contains(err.Error(), `"events/a+b"`) {
		t.Errorf("type a+b: %v, want the topic events/a+b named", err)
	}
	// The longest type that makes a valid topic is one.
	if err := (&Event{Type: strings.Repeat("t", 65535-len("events/"))}).validate(64); err != nil {
		t.Errorf("type of the longest valid topic: %v", err)
	}
}

func TestConcurrentAppendsContiguous(t *testing.T) {
	ob := open(t, memStore(t), Options{})
	const G, N = 8, 200
	seen := make([]bool, G*N+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < G; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < N; i++ {
				seq, err := ob.Append(context.Background(), ev("c", Priority(i%3), i))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seq == 0 || seq > G*N || seen[seq] {
					t.Errorf("seq %d out of range or twice", seq)
				} else {
					seen[seq] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if st := ob.Stats(); st.Pending() != G*N || st.NextSeq != G*N+1 {
		t.Fatalf("stats %+v: want %d pending", st, G*N)
	}
}

func TestCloseRefusesAppend(t *testing.T) {
	ob, err := Open(memStore(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob.Close()
	if _, err := ob.Append(context.Background(), ev("x", 1, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if _, err := ob.Next(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("next after close: %v", err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	ob := open(t, memStore(t), Options{GCInterval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestNewIDIsUUIDv4(t *testing.T) {
	re := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("NewID %q: not a fresh UUID v4 URN", id)
		}
		seen[id] = true
	}
}

func TestRewindAfterPartialAck(t *testing.T) {
	ctx := context.Background()
	ob := open(t, memStore(t), Options{})
	for i := 0; i < 6; i++ {
		mustAppend(t, ob, ev("x", Priority(i%2), i))
	}
	evs := nextN(t, ob, 10)                             // p0: 1,3,5  p1: 2,4,6
	if err := ob.Ack(ctx, evs[0], evs[3]); err != nil { // seq 1 and 2
		t.Fatal(err)
	}
	ob.Return(evs[5]) // seq 6 never sent
	if err := ob.Rewind(ctx, true); err != nil {
		t.Fatal(err)
	}
	got := nextN(t, ob, 10)
	var seqs []uint64
	for _, e := range got {
		seqs = append(seqs, e.Seq)
	}
	if fmt.Sprint(seqs) != "[3 5 4 6]" {
		t.Fatalf("after rewind: %v, want [3 5 4 6]", seqs)
	}
}

// Below the free-disk floor lot events are refused but alarms and command
// replies still go out, down to half the floor.
func TestDiskLowKeepsALifecycleReserve(t *testing.T) {
	s, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	free, err := s.FreeBytes()
	if err != nil {
		t.Fatal(err)
	}
	ob := open(t, s, Options{MinFreeBytes: free + free/2})
	ctx := context.Background()
	if _, err := ob.Append(ctx, ev("receiving.done", PriorityLot, 1)); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("lot event below the floor: %v", err)
	}
	if _, err := ob.Append(ctx, ev("alarm.disk_low", PriorityLifecycle, 2)); err != nil {
		t.Fatalf("lifecycle event within the reserve: %v", err)
	}
	// Acks while the disk is low leave the flag set.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	evs, err := ob.Next(wctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Ack(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	if st := ob.Stats(); !st.DiskLow {
		t.Fatalf("an ack cleared the disk-low flag: %+v", st)
	}
	ob2 := open(t, s, Options{MinFreeBytes: 4*free + 1<<30})
	if _, err := ob2.Append(ctx, ev("alarm.disk_low", PriorityLifecycle, 3)); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("lifecycle event below half the floor: %v", err)
	}
}

// A record that cannot be decoded is quarantined when read; the events
// around it flow and nothing healthy is charged for it.
func TestUndecodableRecordIsQuarantined(t *testing.T) {
	s, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ob := open(t, s, Options{MaxAttempts: 3})
	ctx := context.Background()
	for i := 1; i <= 2; i++ {
		if _, err := ob.Append(ctx, ev("lot.created", PriorityLot, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DB().Update(func(txn *badger.Txn) error { return txn.Set(qkey(PriorityLot, 99), []byte("garbage")) }); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Append(ctx, ev("lot.created", PriorityLot, 3)); err != nil {
		t.Fatal(err)
	}
	var got []Event
	for len(got) < 3 {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		evs, err := ob.Next(cctx, 10)
		cancel()
		if err != nil {
			t.Fatalf("Next: %v (after %d events)", err, len(got))
		}
		got = append(got, evs...)
	}
	if err := ob.Ack(ctx, got...); err != nil {
		t.Fatal(err)
	}
	q, err := ob.Quarantined(10)
	if err != nil || len(q) != 1 || q[0].Event.Seq != 99 {
		t.Fatalf("quarantine %+v, %v", q, err)
	}
}

// A disk that is low when the outbox opens shows at once, before anything
// is appended or refused.
func TestDiskLowShowsAtOpen(t *testing.T) {
	s := memStoreOnDisk(t)
	alarms := make(chan Alarm, 4)
	ob := open(t, s, Options{MinFreeBytes: 1 << 62, OnAlarm: func(a Alarm) { alarms <- a }})
	select {
	case a := <-alarms:
		if a.Kind != AlarmDiskLow || a.Cleared {
			t.Fatalf("alarm %+v", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no disk-low alarm at open")
	}
	if st := ob.Stats(); !st.DiskLow || st.Refused != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Admit answers as Append would, without appending: lot events are refused
// over max_bytes (telemetry would make room) and below the disk floor,
// lifecycle events keep their reserve.
func TestAdmit(t *testing.T) {
	s := memStoreOnDisk(t)
	ctx := context.Background()
	ob := open(t, s, Options{MaxBytes: 4 << 10})
	if err := ob.Admit(PriorityLot, 100); err != nil {
		t.Fatalf("empty outbox: %v", err)
	}
	for i := 0; i < 10; i++ {
		mustAppend(t, ob, Event{Type: "t", Priority: PriorityTelemetry, Body: json.RawMessage(`{"x":"` + strings.Repeat("t", 400) + `"}`)})
	}
	if err := ob.Admit(PriorityLot, 100); err != nil {
		t.Fatalf("outbox full of telemetry: %v", err)
	}
	for i := 0; ; i++ {
		_, err := ob.Append(ctx, Event{Type: "l", Priority: PriorityLot, Body: json.RawMessage(`{"x":"` + strings.Repeat("l", 400) + `"}`)})
		if errors.Is(err, ErrStoreFull) {
			break
		}
		if err != nil || i > 100 {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if err := ob.Admit(PriorityLot, 1000); !errors.Is(err, ErrStoreFull) || !strings.Contains(err.Error(), "outbox.max_bytes") {
		t.Fatalf("full outbox: %v", err)
	}
	// A refusal by Admit alone (Append never refused here) raises the flag.
	near := open(t, memStoreOnDisk(t), Options{MaxBytes: 4 << 10})
	mustAppend(t, near, Event{Type: "l", Priority: PriorityLot, Body: json.RawMessage(`{"x":"` + strings.Repeat("l", 3000) + `"}`)})
	if st := near.Stats(); st.StoreFull {
		t.Fatalf("full before any refusal: %+v", st)
	}
	if err := near.Admit(PriorityLot, 2000); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("an event that would not fit: %v", err)
	}
	if st := near.Stats(); !st.StoreFull {
		t.Fatalf("a refusal by Admit left the full flag down: %+v", st)
	}
	if err := ob.Admit(PriorityLifecycle, 100); err != nil {
		t.Fatalf("lifecycle reserve: %v", err)
	}
	free, err := s.FreeBytes()
	if err != nil {
		t.Fatal(err)
	}
	low := open(t, memStoreOnDisk(t), Options{MinFreeBytes: free + free/2})
	if err := low.Admit(PriorityLot, 100); !errors.Is(err, ErrStoreFull) || !strings.Contains(err.Error(), "min_free_bytes") {
		t.Fatalf("disk below the floor: %v", err)
	}
	if err := low.Admit(PriorityLifecycle, 100); err != nil {
		t.Fatalf("lifecycle within the reserve: %v", err)
	}
}

func memStoreOnDisk(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(t.TempDir(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
