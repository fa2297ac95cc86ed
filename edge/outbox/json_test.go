package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The stats are snake_case with the queued counts labelled by priority, and
// read back (also in the array form of earlier versions).
func TestStatsJSON(t *testing.T) {
	st := Stats{NextSeq: 7, InFlight: 2, StoreFull: true}
	st.Queued[PriorityLot] = Count{Events: 3, Bytes: 300}
	st.Queued[PriorityTelemetry] = Count{Events: 1, Bytes: 10}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"queued":{"lifecycle":{"events":0,"bytes":0},"lot":{"events":3,"bytes":300},"telemetry":{"events":1,"bytes":10}}`,
		`"next_seq":7`, `"in_flight":2`, `"store_full":true`, `"disk_low":false`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("stats JSON %s lacks %s", b, want)
		}
	}
	var back Stats
	if err := json.Unmarshal(b, &back); err != nil || back != st {
		t.Fatalf("read back %+v, %v; want %+v", back, err, st)
	}
	var old ByPriority
	if err := json.Unmarshal([]byte(`[{"events":1,"bytes":2},{"events":3,"bytes":4},{"events":5,"bytes":6}]`), &old); err != nil ||
		old[PriorityLot] != (Count{3, 4}) || old[PriorityTelemetry] != (Count{5, 6}) {
		t.Fatalf("array form: %+v, %v", old, err)
	}
	if err := json.Unmarshal([]byte(`{"urgent":{"events":1}}`), &old); err == nil || !strings.Contains(err.Error(), `"urgent"`) {
		t.Fatalf("unknown priority: %v", err)
	}
}

// A quarantined event's JSON names its priority and is snake_case.
func TestQuarantinedJSON(t *testing.T) {
	q := Quarantined{Event: Event{ID: "urn:uuid:1", Seq: 4, Type: "reply", Priority: PriorityLifecycle, Topic: "central/r", RawTopic: true}, Reason: "r", Attempts: 2}
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"priority":"lifecycle"`, `"raw_topic":true`, `"eventID":"urn:uuid:1"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("quarantined JSON %s lacks %s", b, want)
		}
	}
	var back Quarantined
	if err := json.Unmarshal(b, &back); err != nil || back.Event.Priority != PriorityLifecycle || !back.Event.RawTopic || back.Attempts != 2 {
		t.Fatalf("read back %+v, %v", back, err)
	}
}

// A quarantine record stored by a version before the snake_case names
// ("rawTopic", a numeric priority) is listed and requeued as it was.
func TestQuarantineRecordOfAnEarlierVersion(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	ob := open(t, s, Options{MaxAttempts: 1})
	seq := mustAppend(t, ob, Event{Type: "reply", Priority: PriorityLifecycle, Topic: "central/replies/1", RawTopic: true, Body: json.RawMessage(`{"id":"1"}`)})
	nextN(t, ob, 10)
	if err := ob.Rewind(ctx, true); err != nil {
		t.Fatal(err)
	}
	if st := ob.Stats(); st.Quarantined != 1 {
		t.Fatalf("not quarantined: %+v", st)
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	old := fmt.Sprintf(`{"eventID":"urn:uuid:old","seq":%d,"type":"reply","time":"2026-03-01T11:59:00Z","source":"command/print",`+
		`"priority":0,"topic":"central/replies/1","rawTopic":true,"body":{"id":"1"},"attempts":1,"reason":"broker refused it","at":"2026-03-01T12:00:00Z"}`, seq)
	if err := s.DB().Update(func(txn *badger.Txn) error { return txn.Set(xkey(seq), []byte(old)) }); err != nil {
		t.Fatal(err)
	}
	q, err := ob.Quarantined(10)
	if err != nil || len(q) != 1 {
		t.Fatalf("quarantined: %+v, %v", q, err)
	}
	if e := q[0].Event; e.ID != "urn:uuid:old" || e.Seq != seq || !e.RawTopic || e.Priority != PriorityLifecycle || e.Topic != "central/replies/1" ||
		q[0].Reason != "broker refused it" || q[0].Attempts != 1 || !q[0].At.Equal(at) {
		t.Fatalf("old record read as %+v", q[0])
	}
	if err := ob.Requeue(ctx, seq); err != nil {
		t.Fatal(err)
	}
	if err := ob.Rewind(ctx, false); err != nil {
		t.Fatal(err)
	}
	evs := nextN(t, ob, 10)
	if len(evs) != 1 || evs[0].ID != "urn:uuid:old" || !evs[0].RawTopic || evs[0].RelTopic() != "central/replies/1" || string(evs[0].Body) != `{"id":"1"}` {
		t.Fatalf("requeued: %+v", evs)
	}
}
