package labels

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
)

var t0 = time.Date(2026, 5, 12, 8, 0, 0, 0, time.UTC)

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func appendAll(t testing.TB, tr *Trail, st *store.Store, recs ...Record) []Record {
	t.Helper()
	out := make([]Record, len(recs))
	err := st.Update(func(txn *badger.Txn) error {
		for i := range recs {
			out[i] = recs[i]
			if err := tr.Append(txn, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func actions(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Action) + " " + r.Job
	}
	return out
}

func TestFromEvent(t *testing.T) {
	op := &printers.Actor{Via: printers.ViaAPI, Name: "wms"}
	base := printers.Event{Printer: "P1", Door: "DOOR1", Time: t0, JobID: "J1", Lot: "L1", Carton: "095201234567890128",
		Template: "carton", Copies: 1, By: op}
	for _, tc := range []struct {
		kind    printers.EventKind
		why     string
		reason  string
		want    []Action
		by      string
		outcome string
	}{
		{printers.EventJobConfirmed, "", "", []Action{Printed}, "api:wms", ""},
		{printers.EventJobReprint, "smudged", "", []Action{Reprinted}, "api:wms", ""},
		{printers.EventJobCancelled, "wrong carton", "", []Action{Cancelled}, "api:wms", ""},
		{KindEncodeFailed, "", "tag not writable after 3 tries", []Action{Voided}, "printer:P1", EncodeFailed},
		{printers.EventJobFailed, "", "no progress", nil, "", ""},
		{printers.EventJobHeld, "", "paper out", nil, "", ""},
		{printers.EventJobUnknown, "", "restart", nil, "", ""},
		{printers.EventStatus, "", "", nil, "", ""},
	} {
		e := base
		e.Kind, e.Why, e.Reason = tc.kind, tc.why, tc.reason
		recs := FromEvent(e)
		var got []Action
		for _, r := range recs {
			got = append(got, r.Action)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: actions %v, want %v", tc.kind, got, tc.want)
			continue
		}
		if len(recs) == 0 {
			continue
		}
		r := recs[0]
		if r.By.String() != tc.by || r.Job != "J1" || r.Lot != "L1" || r.Carton != base.Carton || r.Template != "carton" || r.Copies != 1 || !r.Time.Equal(t0) {
			t.Errorf("%s: record %+v", tc.kind, r)
		}
		if want := tc.why + tc.reason; r.Reason != want {
			t.Errorf("%s: reason %q, want %q", tc.kind, r.Reason, want)
		}
		if (r.Encode == nil) != (tc.outcome == "") || (r.Encode != nil && r.Encode.Outcome != tc.outcome) {
			t.Errorf("%s: encode %+v, want %q", tc.kind, r.Encode, tc.outcome)
		}
	}
	// A job spooled before jobs recorded who asked: the gateway.
	e := base
	e.Kind, e.By = printers.EventJobConfirmed, nil
	if r := FromEvent(e)[0]; r.By.String() != "gateway" {
		t.Errorf("no requester: by %q", r.By)
	}
}

// The trail keeps records in the order appended, found by lot, carton and
// job, paged by sequence number, and goes on after a restart with higher
// numbers.
func TestTrailIndexesAndRestart(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	tr, err := Open(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	by := printers.Actor{Via: printers.ViaCLI, Name: "alice"}
	appendAll(t, tr, st,
		Record{Action: Printed, Job: "J1", Lot: "L1", Carton: "C1", By: by, Time: t0},
		Record{Action: Printed, Job: "J2", Lot: "L1", Carton: "C2", By: by, Time: t0},
		Record{Action: Printed, Job: "J3", Lot: "L2", Carton: "C3", By: by, Time: t0},
	)
	appendAll(t, tr, st, Record{Action: Reprinted, Job: "J1", Lot: "L1", Carton: "C1", By: by, Reason: "smudged", Time: t0})
	appendAll(t, tr, st, Record{Action: Printed, Job: "J1", Lot: "L1", Carton: "C1", By: by, Time: t0})
	// A lot whose code starts with another's is not mixed in.
	appendAll(t, tr, st, Record{Action: Printed, Job: "J9", Lot: "L10", Carton: "C9", By: by, Time: t0})
	if err := tr.Append(nil, &Record{Action: Printed}); err == nil {
		t.Fatal("a record without a job was appended")
	}

	check := func(what string, recs []Record, err error, want ...string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := actions(recs); (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: %v, want %v", what, got, want)
		}
		for i := 1; i < len(recs); i++ {
			if recs[i].Seq <= recs[i-1].Seq {
				t.Fatalf("%s: seq %d after %d", what, recs[i].Seq, recs[i-1].Seq)
			}
		}
	}
	recs, err := tr.Lot("L1", 0, 0)
	check("lot L1", recs, err, "printed J1", "printed J2", "reprinted J1", "printed J1")
	page, err := tr.Lot("L1", recs[1].Seq, 1)
	check("lot L1 after the 2nd, 1", page, err, "reprinted J1")
	c1, err := tr.Carton("C1")
	check("carton C1", c1, err, "printed J1", "reprinted J1", "printed J1")
	j2, err := tr.Job("J2")
	check("job J2", j2, err, "printed J2")
	none, err := tr.Carton("C0")
	check("carton C0", none, err)
	if c1[1].Reason != "smudged" || c1[1].By != by {
		t.Fatalf("reprint record %+v", c1[1])
	}
	last := recs[len(recs)-1].Seq
	st.Close()

	st = openStore(t, dir)
	defer st.Close()
	tr, err = Open(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	again, err := tr.Lot("L1", 0, 0)
	check("lot L1 after a restart", again, err, "printed J1", "printed J2", "reprinted J1", "printed J1")
	if !reflect.DeepEqual(again, recs) {
		t.Fatalf("records changed across the restart:\n%+v\n%+v", again, recs)
	}
	// Sequence numbers go on above the last even when the clock is set
	// back.
	tr.now = func() time.Time { return time.Unix(0, 0) }
	got := appendAll(t, tr, st, Record{Action: Cancelled, Job: "J4", Lot: "L1", By: by, Reason: "wrong lot", Time: t0})
	if got[0].Seq <= last {
		t.Fatalf("seq %d after a restart is not above %d", got[0].Seq, last)
	}
	byCarton, err := tr.LotCartons("L1")
	if err != nil || len(byCarton) != 2 || len(byCarton["C1"]) != 3 || len(byCarton["C2"]) != 1 {
		t.Fatalf("lot cartons %v %v", byCarton, err)
	}
}

func TestReconcile(t *testing.T) {
	by := printers.Actor{Via: printers.ViaGateway}
	rec := func(a Action, sscc string, enc *Encode) Record {
		return Record{Action: a, Job: "R1:" + sscc, Carton: sscc, EPC: "E" + sscc, Encode: enc, By: by}
	}
	cartons := []CartonFacts{
		{SSCC: "C1", Receipt: "R1", Passes: 1},                        // printed (unverified), seen
		{SSCC: "C2", Receipt: "R1", Passes: 2},                        // dead tag
		{SSCC: "C3", Receipt: "R1"},                                   // never seen
		{SSCC: "C4", Receipt: "R2", Passes: 1, JobState: "failed"},    // never printed
		{SSCC: "C5", Receipt: "R2", Passes: 1},                        // a dead tag reprinted good
		{SSCC: "C6", Receipt: "R2", Passes: 1, JobState: "cancelled"}, // cancelled
	}
	records := map[string][]Record{
		"C1": {rec(Printed, "C1", nil)},
		"C2": {rec(Voided, "C2", &Encode{Outcome: EncodeFailed}), rec(Printed, "C2", nil)},
		"C3": {rec(Printed, "C3", &Encode{Outcome: Encoded})},
		"C5": {rec(Voided, "C5", &Encode{Outcome: EncodeFailed}), rec(Reprinted, "C5", nil), rec(Printed, "C5", &Encode{Outcome: EncodeVoided, Voided: 1})},
		"C6": {rec(Cancelled, "C6", nil)},
	}
	// The dead tag's voided record comes after its printed one when the
	// printer reports the failure with the job: play it that way too.
	records["C2"] = []Record{rec(Printed, "C2", nil), rec(Voided, "C2", &Encode{Outcome: EncodeFailed})}

	r := Reconcile("L1", "", cartons, records)
	want := Counts{Received: 6, Printed: 4, Encoded: 3, Unverified: 1, Seen: 5}
	if r.Counts != want {
		t.Errorf("counts %+v, want %+v", r.Counts, want)
	}
	wantDiff := Differences{NoLabel: []string{"C4", "C6"}, NoTag: []string{"C2", "C4", "C6"}, NotSeen: []string{"C3"}}
	if !reflect.DeepEqual(r.Differences, wantDiff) || r.Balanced {
		t.Errorf("differences %+v (balanced %v), want %+v", r.Differences, r.Balanced, wantDiff)
	}
	states := map[string]string{}
	for _, c := range r.Cartons {
		states[c.SSCC] = fmt.Sprintf("%s/%s/%v/%d", c.Label, c.Tag, c.Seen, c.Prints)
	}
	wantStates := map[string]string{"C1": "printed/written/true/1", "C2": "printed/encode_failed/true/1", "C3": "printed/encoded/false/1",
		"C4": "not_printed/none/true/0", "C5": "printed/encoded/true/1", "C6": "cancelled/none/true/0"}
	if !reflect.DeepEqual(states, wantStates) {
		t.Errorf("cartons %v, want %v", states, wantStates)
	}
	if len(r.Receipts) != 2 || r.Receipts[0].Receipt != "R1" || r.Receipts[0].Counts.Received != 3 ||
		!reflect.DeepEqual(r.Receipts[0].Differences.NoTag, []string{"C2"}) || !reflect.DeepEqual(r.Receipts[1].Differences.NoLabel, []string{"C4", "C6"}) {
		t.Errorf("receipts %+v", r.Receipts)
	}

	// One receipt: no breakdown; a balanced one has empty lists.
	one := Reconcile("L1", "R9", []CartonFacts{{SSCC: "C1", Receipt: "R9", Passes: 1}}, map[string][]Record{"C1": {rec(Printed, "C1", &Encode{Outcome: Encoded})}})
	if !one.Balanced || one.Receipts != nil || one.Differences.NoLabel == nil || len(one.Differences.NoTag) != 0 {
		t.Errorf("balanced receipt %+v", one)
	}
}
