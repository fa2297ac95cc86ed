package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/store"
)

var t0 = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

func payload(id string, extra string) []byte {
	s := fmt.Sprintf(`{"id":%q,"expires_at":%q`, id, t0.Add(time.Hour).Format(time.RFC3339))
	if extra != "" {
		s += "," + extra
	}
	return []byte(s + "}")
}

type rig struct {
	s  *store.Store
	ob *outbox.Outbox
	d  *Dispatcher
}

func newRig(t *testing.T) *rig {
	t.Helper()
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(s, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close(); s.Close() })
	return &rig{s: s, ob: ob, d: NewDispatcher(s, ob, Options{Now: func() time.Time { return t0 }, CommandTopic: "gw/cmd/"})}
}

// replies takes n replies from the outbox.
func (r *rig) replies(t *testing.T, n int) ([]Reply, []outbox.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []Reply
	var evs []outbox.Event
	for len(out) < n {
		got, err := r.ob.Next(ctx, n-len(out))
		if err != nil {
			t.Fatalf("waiting for %d replies, have %d: %v", n, len(out), err)
		}
		for _, ev := range got {
			var rep Reply
			if err := json.Unmarshal(ev.Body, &rep); err != nil {
				t.Fatal(err)
			}
			if ev.Priority != outbox.PriorityLifecycle {
				t.Fatalf("reply at priority %v", ev.Priority)
			}
			out = append(out, rep)
			evs = append(evs, ev)
		}
	}
	return out, evs
}

func TestAcceptedThenDoneOnce(t *testing.T) {
	r := newRig(t)
	var calls atomic.Int32
	r.d.Handle(LotHold, func(ctx context.Context, c Command) (any, error) {
		calls.Add(1)
		var args struct {
			Lot string `json:"lot"`
		}
		if err := json.Unmarshal(c.Payload, &args); err != nil {
			return nil, err
		}
		return map[string]string{"lot": args.Lot, "state": "held"}, nil
	})
	r.d.process(context.Background(), incoming{LotHold, payload("c-1", `"lot":"L1"`)})
	reps, evs := r.replies(t, 2)
	if reps[0].Status != StatusAccepted || reps[1].Status != StatusDone || string(reps[1].Result) != `{"lot":"L1","state":"held"}` {
		t.Fatalf("replies %+v", reps)
	}
	if evs[0].Topic != "reply/c-1" || evs[0].Seq >= evs[1].Seq || reps[1].ID != "c-1" || reps[1].Command != LotHold {
		t.Fatalf("reply events %+v", evs)
	}
	// A repeat gets the remembered outcome, not a second run.
	r.d.process(context.Background(), incoming{LotHold, payload("c-1", `"lot":"L1"`)})
	reps, _ = r.replies(t, 1)
	if reps[0].Status != StatusDone || !reps[0].Repeat || string(reps[0].Result) != `{"lot":"L1","state":"held"}` {
		t.Fatalf("repeat reply %+v", reps[0])
	}
	if calls.Load() != 1 {
		t.Fatalf("handler ran %d times", calls.Load())
	}
	// A retry may set a new expires_at (or spell it as earlier versions
	// did, expiresAt) and a reply_to: still the same request.
	for _, f := range []string{`"expires_at":%q`, `"expiresAt":%q,"replyTo":"central/r"`, `"expires_at":%q,"reply_to":"central/r"`} {
		later := []byte(fmt.Sprintf(`{"lot":"L1",`+f+`,"id":"c-1"}`, t0.Add(2*time.Hour).Format(time.RFC3339)))
		r.d.process(context.Background(), incoming{LotHold, later})
		if reps, _ = r.replies(t, 1); reps[0].Status != StatusDone || !reps[0].Repeat {
			t.Fatalf("retry with %s: %+v", later, reps[0])
		}
	}
	// Nested objects with their keys in another order: the same request.
	r.d.Handle(Print, func(context.Context, Command) (any, error) { calls.Add(1); return "ok", nil })
	r.d.process(context.Background(), incoming{Print, payload("p-1", `"values":{"gtin":"09520123456788","lot":"K1"},"qty":2`)})
	r.replies(t, 2)
	r.d.process(context.Background(), incoming{Print, payload("p-1", `"qty":2,"values":{"lot":"K1","gtin":"09520123456788"}`)})
	if reps, _ = r.replies(t, 1); reps[0].Status != StatusDone || !reps[0].Repeat {
		t.Fatalf("retry with nested keys reordered: %+v", reps[0])
	}
	calls.Add(-1)
	// The id on another command, or with other fields: failed, not the
	// remembered outcome, and nothing runs.
	r.d.Handle(LotRelease, func(context.Context, Command) (any, error) { calls.Add(1); return nil, nil })
	for _, in := range []incoming{{LotRelease, payload("c-1", `"lot":"L1"`)}, {LotHold, payload("c-1", `"lot":"W4"`)}} {
		r.d.process(context.Background(), in)
		reps, _ = r.replies(t, 1)
		if reps[0].Status != StatusFailed || reps[0].Repeat || !strings.Contains(reps[0].Reason, "already used") {
			t.Fatalf("%s %s: reply %+v", in.name, in.payload, reps[0])
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("handler ran %d times", calls.Load())
	}
}

func TestFailures(t *testing.T) {
	r := newRig(t)
	r.d.Handle(Print, func(context.Context, Command) (any, error) { return nil, errors.New("printer zt411-1: paper out") })
	r.d.Handle(Reprint, func(context.Context, Command) (any, error) { panic("boom") })
	cases := []struct {
		name, payload, topic, reason string
		n                            int
	}{
		{"print", `{"id":"p1","expires_at":"` + t0.Add(time.Minute).Format(time.RFC3339) + `"}`, "reply/p1", "paper out", 2},
		{"reprint", `{"id":"r1","expires_at":"` + t0.Add(time.Minute).Format(time.RFC3339) + `"}`, "reply/r1", "internal error", 2},
		{"explode", `{"id":"u1","expires_at":"` + t0.Add(time.Minute).Format(time.RFC3339) + `"}`, "reply/u1", "unknown command", 1},
		{"print", `not json`, UnidentifiedReplyTopic, "not a JSON object", 1},
		{"print", `{"expires_at":"2030-01-01T00:00:00Z"}`, UnidentifiedReplyTopic, `"id"`, 1},
		{"print", `{"id":"big1","zpl":"` + strings.Repeat("x", MaxPayload) + `"}`, "reply/big1", "larger than", 1},
		{"print", `{"id":"e1","expires_at":"` + t0.Add(-time.Minute).Format(time.RFC3339) + `"}`, "reply/e1", "expired", 1},
		{"print", `{"id":"e2"}`, "reply/e2", `"expires_at" is missing`, 1},
		{"print", `{"id":"e3","expires_at":"tomorrow"}`, "reply/e3", "RFC 3339", 1},
		{"print", `{"id":"e4","expires_at":"2030-01-01T00:00:00Z","expiresAt":"2031-01-01T00:00:00Z"}`, "reply/e4", `"expires_at" and "expiresAt" (its deprecated name) differ`, 1},
		{"print", `{"id":"x4","expires_at":"2030-01-01T00:00:00Z","reply_to":"a/b","replyTo":"c/d"}`, "reply/x4", `"reply_to" and "replyTo"`, 1},
		{"print", `{"id":"a/b","expires_at":"2030-01-01T00:00:00Z"}`, UnidentifiedReplyTopic, "printable ASCII", 1},
		{"print", `{"id":"x1","expires_at":"2030-01-01T00:00:00Z","reply_to":"bad/#"}`, "reply/x1", `"reply_to"`, 1},
		{"print", `{"id":"x2","expires_at":"2030-01-01T00:00:00Z","reply_to":"gw/cmd/receive"}`, "reply/x2", "own command topics", 1},
		{"print", `{"id":"x3","expires_at":"2030-01-01T00:00:00Z","reply_to":"gw/cmd"}`, "reply/x3", "own command topics", 1},
	}
	for _, c := range cases {
		r.d.process(context.Background(), incoming{c.name, []byte(c.payload)})
		reps, evs := r.replies(t, c.n)
		last := reps[len(reps)-1]
		if last.Status != StatusFailed || !strings.Contains(last.Reason, c.reason) || evs[len(evs)-1].Topic != c.topic {
			t.Errorf("%s %s: reply %+v on %s, want failed with %q on %s", c.name, c.payload, last, evs[len(evs)-1].Topic, c.reason, c.topic)
		}
	}
}

func TestReplyToRawTopic(t *testing.T) {
	r := newRig(t)
	r.d.Handle(LotRelease, func(context.Context, Command) (any, error) { return nil, nil })
	r.d.process(context.Background(), incoming{LotRelease, payload("rt-1", `"reply_to":"central/replies/rt-1"`)})
	reps, evs := r.replies(t, 2)
	if reps[1].Status != StatusDone || evs[1].Topic != "central/replies/rt-1" || !evs[1].RawTopic {
		t.Fatalf("reply %+v on %+v", reps[1], evs[1])
	}
}

// The envelope's camelCase names of earlier versions (expiresAt, replyTo)
// are deprecated and still taken, alone or with the same value beside the
// snake_case ones.
func TestDeprecatedEnvelopeNames(t *testing.T) {
	r := newRig(t)
	r.d.Handle(LotRelease, func(context.Context, Command) (any, error) { return nil, nil })
	exp := t0.Add(time.Hour).Format(time.RFC3339)
	for i, p := range []string{
		`{"id":"old-%d","expiresAt":%q,"replyTo":"central/replies/old","lot":"L1"}`,
		`{"id":"old-%d","expiresAt":%[2]q,"expires_at":%[2]q,"replyTo":"central/replies/old","reply_to":"central/replies/old","lot":"L1"}`,
	} {
		r.d.process(context.Background(), incoming{LotRelease, []byte(fmt.Sprintf(p, i, exp))})
		reps, evs := r.replies(t, 2)
		if reps[1].Status != StatusDone || evs[1].Topic != "central/replies/old" || !evs[1].RawTopic {
			t.Fatalf("%s: reply %+v on %+v", p, reps[1], evs[1])
		}
	}
	cmd, err := Parse(LotRelease, []byte(`{"id":"c","expiresAt":"2030-01-01T00:00:00Z","replyTo":"x/y","lot":"L1"}`), t0)
	if err != nil || cmd.ReplyTo != "x/y" || !cmd.ExpiresAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("parse: %+v, %v", cmd, err)
	}
	var v struct {
		Lot string `json:"lot"`
	}
	if err := cmd.Decode(&v); err != nil || v.Lot != "L1" {
		t.Fatalf("decode with the deprecated envelope: %+v, %v", v, err)
	}
}

// An outcome stored by an earlier version ("replyTo") is still answered
// on its reply topic.
func TestRecordOfAnEarlierVersion(t *testing.T) {
	var rec record
	if err := json.Unmarshal([]byte(`{"name":"receive","status":"accepted","replyTo":"central/replies","at":"2026-11-26T14:00:00Z"}`), &rec); err != nil ||
		rec.ReplyTo != "central/replies" || rec.Name != Receive || !rec.At.Equal(t0) {
		t.Fatalf("old record: %+v, %v", rec, err)
	}
	b, _ := json.Marshal(rec)
	if !strings.Contains(string(b), `"reply_to":"central/replies"`) {
		t.Fatalf("record written as %s", b)
	}
}

func TestInterruptedCommandReportedAtStart(t *testing.T) {
	r := newRig(t)
	b, _ := json.Marshal(record{Name: Receive, Status: StatusAccepted, At: t0})
	if err := r.s.DB().Update(func(txn *badger.Txn) error { return txn.Set(key("rcv-9"), b) }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.d.Run(ctx) }()
	reps, evs := r.replies(t, 1)
	if reps[0].Status != StatusFailed || !strings.Contains(reps[0].Reason, "interrupted") || evs[0].Topic != "reply/rcv-9" {
		t.Fatalf("reply %+v on %s", reps[0], evs[0].Topic)
	}
	// Submit goes through the workers.
	r.d.Handle(Receive, func(context.Context, Command) (any, error) { return "ok", nil })
	r.d.Submit(Receive, payload("rcv-10", ""))
	reps, _ = r.replies(t, 2)
	if reps[1].Status != StatusDone || string(reps[1].Result) != `"ok"` {
		t.Fatalf("submitted: %+v", reps)
	}
	// The interrupted one stays failed on repeat.
	r.d.Submit(Receive, payload("rcv-9", ""))
	reps, _ = r.replies(t, 1)
	if reps[0].Status != StatusFailed || !reps[0].Repeat {
		t.Fatalf("repeat of interrupted: %+v", reps[0])
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRememberedWithTTL(t *testing.T) {
	r := newRig(t)
	r.d.Handle(Print, func(context.Context, Command) (any, error) { return nil, nil })
	r.d.process(context.Background(), incoming{Print, payload("ttl-1", "")})
	r.replies(t, 2)
	err := r.s.DB().View(func(txn *badger.Txn) error {
		item, err := txn.Get(key("ttl-1"))
		if err != nil {
			return err
		}
		if item.ExpiresAt() == 0 {
			return errors.New("no TTL on the remembered id")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBusyQueueRepliesFailed(t *testing.T) {
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(s, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ob.Close(); s.Close() }()
	d := NewDispatcher(s, ob, Options{Queue: 1, Now: func() time.Time { return t0 }})
	d.Submit(Print, payload("q1", "")) // fills the queue (no Run)
	d.Submit(Print, payload("q2", ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := ob.Next(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var rep Reply
	_ = json.Unmarshal(evs[0].Body, &rep)
	if rep.ID != "q2" || rep.Status != StatusFailed || !strings.Contains(rep.Reason, "queue full") {
		t.Fatalf("busy reply %+v", rep)
	}
}

// A full queue answers a repeat of a command already run with its stored
// outcome, not "busy".
func TestBusyQueueStillAnswersARepeat(t *testing.T) {
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(s, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ob.Close(); s.Close() }()
	d := NewDispatcher(s, ob, Options{Queue: 1, Now: func() time.Time { return t0 }})
	b, _ := json.Marshal(record{Name: Print, Status: StatusDone, At: t0})
	if err := s.DB().Update(func(txn *badger.Txn) error { return txn.Set(key("r1"), b) }); err != nil {
		t.Fatal(err)
	}
	d.Submit(Print, payload("q1", "")) // fills the queue (no Run)
	d.Submit(Print, payload("r1", ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := ob.Next(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	var rep Reply
	_ = json.Unmarshal(evs[0].Body, &rep)
	if rep.ID != "r1" || rep.Status != StatusDone || !rep.Repeat {
		t.Fatalf("reply to a repeat while busy: %+v", rep)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("print", []byte(`{"id":"a","expires_at":"2030-01-01T00:00:00Z","reply_to":"x/y","template":"carton","values":{"lot":"L1"}}`))
	f.Add("print", []byte(`{"id":"a","expiresAt":"2030-01-01T00:00:00Z","replyTo":"x/y","template":"carton","values":{"lot":"L1"}}`))
	f.Add("lot.hold", []byte(`{"id":"","expires_at":null}`))
	f.Add("receive", []byte(`{"id":1}`))
	f.Add("x/y", []byte(`[]`))
	f.Add("print", []byte(`{"id":"\u0000","expires_at":"2030-01-01T00:00:00+14:00"}`))
	f.Add("print", []byte(``))
	f.Fuzz(func(t *testing.T, name string, p []byte) {
		cmd, err := Parse(name, p, t0)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrExpired) && !errors.Is(err, ErrUnknown) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if cmd.ID != "" && checkID(cmd.ID) != nil {
				t.Fatalf("invalid id %q returned", cmd.ID)
			}
			return
		}
		if checkID(cmd.ID) != nil || !cmd.ExpiresAt.After(t0) || outbox.CheckTopic("reply/"+cmd.ID) != nil {
			t.Fatalf("accepted an invalid command %+v", cmd)
		}
		if cmd.ReplyTo != "" && outbox.CheckTopic(cmd.ReplyTo) != nil {
			t.Fatalf("accepted reply_to %q", cmd.ReplyTo)
		}
	})
}

// BenchmarkProcess measures a command from payload to its done reply in the
// outbox (in-memory store): parse, remember the id, run, store the outcome.
func BenchmarkProcess(b *testing.B) {
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ob, err := outbox.Open(s, outbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ob.Close()
	d := NewDispatcher(s, ob, Options{Now: func() time.Time { return t0 }})
	d.Handle(LotHold, func(context.Context, Command) (any, error) { return "held", nil })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.process(context.Background(), incoming{LotHold, payload(fmt.Sprintf("b-%d", i), `"lot":"L1"`)})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
}

// An outcome is remembered at least until its command expires: a
// redelivery after the TTL but before expires_at must not run it again.
func TestOutcomeOutlivesTheCommand(t *testing.T) {
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	d := &Dispatcher{opt: Options{TTL: time.Hour, Now: func() time.Time { return now }}}
	if got := d.ttl(Command{ExpiresAt: now.Add(3 * time.Hour)}); got < 4*time.Hour {
		t.Fatalf("ttl %v for a command expiring in 3h", got)
	}
	if got := d.ttl(Command{ExpiresAt: now.Add(time.Minute)}); got != 61*time.Minute {
		t.Fatalf("ttl %v", got)
	}
}

// An outcome whose store keeps failing is kept: a repeat gets it (not
// "accepted"), a background retry stores it, and a restart then finds it
// done instead of interrupted.
func TestUnsavedOutcomeAnswersRepeatsAndIsStoredLater(t *testing.T) {
	r := newRig(t)
	var calls atomic.Int32
	r.d.Handle(LotHold, func(context.Context, Command) (any, error) {
		calls.Add(1)
		return map[string]string{"state": "held"}, nil
	})
	var failing atomic.Bool
	failing.Store(true)
	r.d.save = func(c Command, rep Reply, reply bool) error {
		if failing.Load() {
			return errors.New("test: disk error")
		}
		return r.d.store(c, rep, reply)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.d.Run(ctx) }()
	r.d.Submit(LotHold, payload("c-u", `"lot":"L1"`)) // run by a worker, after the start's scan
	if reps, _ := r.replies(t, 2); reps[1].Status != StatusDone {
		t.Fatalf("replies %+v", reps)
	}
	r.d.Submit(LotHold, payload("c-u", `"lot":"L1"`))
	if reps, _ := r.replies(t, 1); reps[0].Status != StatusDone || !reps[0].Repeat || string(reps[0].Result) != `{"state":"held"}` {
		t.Fatalf("repeat while unsaved: %+v", reps[0])
	}
	if prev, ok := r.d.recall("c-u"); !ok || prev.Status != StatusDone {
		t.Fatalf("recall while unsaved: %+v %v", prev, ok)
	}
	failing.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := r.d.unsavedOutcome("c-u"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the unsaved outcome was never stored")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A new dispatcher on the same store (a restart) reports nothing
	// interrupted and answers a repeat with the stored outcome.
	d2 := NewDispatcher(r.s, r.ob, Options{Now: func() time.Time { return t0 }})
	d2.Handle(LotHold, func(context.Context, Command) (any, error) { calls.Add(1); return nil, nil })
	if err := d2.failInterrupted(context.Background()); err != nil {
		t.Fatal(err)
	}
	d2.process(context.Background(), incoming{LotHold, payload("c-u", `"lot":"L1"`)})
	if reps, _ := r.replies(t, 1); reps[0].Status != StatusDone || !reps[0].Repeat {
		t.Fatalf("repeat after restart: %+v", reps[0])
	}
	if calls.Load() != 1 {
		t.Fatalf("handler ran %d times", calls.Load())
	}
}

// Decode takes a command's own fields strictly: a misspelt field is an
// error naming it; the envelope is not the handler's business.
func TestDecodeIsStrict(t *testing.T) {
	var v struct {
		Lot         string `json:"lot"`
		SupplierLot string `json:"supplier_lot"`
	}
	ok := Command{Payload: payload("c-1", `"lot":"L1","supplier_lot":"S9","reply_to":"x/y"`)}
	if err := ok.Decode(&v); err != nil || v.Lot != "L1" || v.SupplierLot != "S9" {
		t.Fatalf("decode: %+v %v", v, err)
	}
	bad := Command{Payload: payload("c-2", `"lot":"L1","supplierLot":"S9"`)}
	if err := bad.Decode(&v); err == nil || !strings.Contains(err.Error(), `"supplierLot"`) || !strings.Contains(err.Error(), "snake_case") {
		t.Fatalf("misspelt field: %v", err)
	}
}

// Decode's errors name the field by its path and its type in JSON's words,
// never Go's (no "Go struct field", no "of type int"); only a misspelt
// field gets the snake_case hint; text that is not UTF-8 is refused.
func TestDecodeErrorsReadLikeTheHTTPAPI(t *testing.T) {
	type request struct {
		Door    string            `json:"door"`
		Cartons int               `json:"cartons"`
		SSCCs   []string          `json:"ssccs"`
		Values  map[string]string `json:"values"`
	}
	for _, c := range []struct{ fields, want string }{
		{`"cartons":"3"`, `payload: field "cartons": want a number, got a string`},
		{`"cartons":2.5`, `payload: field "cartons": want a whole number, written without a fraction or exponent, got 2.5`},
		{`"door":5`, `payload: field "door": want a string, got a number`},
		{`"ssccs":[1]`, `payload: field "ssccs[0]": want a string, got a number`},
		{`"values":{"qty":5}`, `payload: field "values.qty": want a string, got a number`},
		{`"door":"D` + "\xff" + `"`, `payload: field "door": not valid UTF-8; send the text as UTF-8`},
		{`"doors":"D1"`, `payload: unknown field "doors" (field names are snake_case, as in the HTTP API, e.g. supplier_lot)`},
	} {
		var v request
		err := Command{Payload: payload("c-1", c.fields)}.Decode(&v)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v; want %s", c.fields, err, c.want)
		}
	}
}

// A command whose "accepted" reply cannot be stored (the outbox is full,
// its lifecycle reserve too) is neither recorded nor run: the sender's
// retry finds it new. (An outcome that cannot be stored is kept in memory:
// TestUnsavedOutcomeAnswersRepeatsAndIsStoredLater.)
func TestCommandRefusedWhenItsReplyCannotBeStored(t *testing.T) {
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(s, outbox.Options{MaxBytes: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close(); s.Close() })
	d := NewDispatcher(s, ob, Options{Now: func() time.Time { return t0 }})
	var calls atomic.Int32
	d.Handle(LotHold, func(context.Context, Command) (any, error) {
		calls.Add(1)
		return nil, nil
	})
	body := json.RawMessage(`{"pad":"` + strings.Repeat("x", 300) + `"}`)
	for i := 0; ; i++ {
		_, err := ob.Append(context.Background(), outbox.Event{Type: "reply", Topic: "reply/x", Priority: outbox.PriorityLifecycle, Body: body})
		if errors.Is(err, outbox.ErrStoreFull) {
			break
		}
		if err != nil || i > 100 {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	d.process(context.Background(), incoming{LotHold, payload("c-full", `"lot":"L1"`)})
	if n := calls.Load(); n != 0 {
		t.Fatalf("the handler ran %d times for a command that could not be accepted", n)
	}
	if prev, ok := d.recall("c-full"); ok {
		t.Fatalf("a refused command was recorded: %+v", prev)
	}
}
