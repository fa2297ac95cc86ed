package spool

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/printersim"
)

// rfidZPL is a carton label that writes epc on its tag with tries labels
// to try (0: the printer's default); its first field is the job id.
func rfidZPL(id, epc string, tries int) string {
	rs := "^RS8"
	if tries > 0 {
		rs = fmt.Sprintf("^RS8,,,%d", tries)
	}
	return "^XA^FO50,50^A0N,40,40^FD" + id + "^FS" + rs + "^RFW,H,,,A^FD" + epc + "^FS^XZ"
}

func epcN(i int) string { return fmt.Sprintf("3034257BF7194E40%08X", i) }

// rfidRig is a staging rig on the RFID printer with its counter and
// verification, tuned by so and mod.
func rfidRig(t testing.TB, so printersim.Options, mod func(*printers.Config)) (*rig, *stagingSink) {
	t.Helper()
	so.Profile, so.BootedAgo = counterProfile, time.Hour
	return stagingRig(t, so, func(c *printers.Config) {
		withCounter(c)
		if mod != nil {
			mod(c)
		}
	})
}

// voidsOf counts the labels the simulator voided per job.
func voidsOf(sim *printersim.Sim) map[string]int {
	id := map[int]string{}
	for _, f := range sim.Formats() {
		z := string(f.ZPL)
		id[f.Seq] = z[strings.Index(z, "^FD")+3 : strings.Index(z, "^FS")]
	}
	n := map[string]int{}
	for _, l := range sim.Labels() {
		if l.Void {
			n[id[l.Format]]++
		}
	}
	return n
}

// One tag in five takes no write: every carton ends encoded (or voided,
// with its voids) and confirmed, or encode_failed with its reason and
// failed, and its outcome is recorded once.
func TestVerifiedEncodeWithBadTags(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{BadTags: 0.2, Seed: 3}, nil)
	const n = 100
	var jobs []Job
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("T%03d", i)
		tries := 0
		if i%2 == 1 {
			tries = 1 // one try: a bad tag fails the carton
		}
		jobs = append(jobs, Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(i), tries), Carton: fmt.Sprintf("0095201230000%05d", i)})
	}
	if err := r.sp.SubmitAll(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	all := ids("T", n)
	got := waitAll(t, r.sp, all, 30*time.Second)
	printed, voids := printedLabels(r.sim), voidsOf(r.sim)
	count := map[string]int{}
	for i, id := range all {
		j := got[id]
		e := j.Encode
		if e == nil {
			t.Fatalf("job %s (%s) has no encode outcome", id, j.State)
		}
		count[e.Outcome]++
		if e.EPC != epcN(i) || j.EPC != epcN(i) {
			t.Errorf("job %s EPC %s/%s", id, e.EPC, j.EPC)
		}
		if e.Voids != voids[id] {
			t.Errorf("job %s: %d voids recorded, the printer voided %d", id, e.Voids, voids[id])
		}
		switch e.Outcome {
		case printers.EncodeEncoded, printers.EncodeVoided:
			if j.State != Confirmed || printed[id] != 1 || e.EPCRead != epcN(i) || (e.Voids > 0) != (e.Outcome == printers.EncodeVoided) || e.Attempts != e.Voids+1 {
				t.Errorf("job %s %s: %s, printed %d, %+v", id, e.Outcome, j.State, printed[id], *e)
			}
			if n := len(stagedOf(t, r.st, printers.EventJobConfirmed, id)); n != 1 {
				t.Errorf("job %s: %d job.confirmed events", id, n)
			}
		case printers.EncodeFailed:
			if j.State != Failed || printed[id] != 0 || !strings.Contains(j.Reason, "encode failed") || e.Reason == "" || e.Attempts != e.Voids {
				t.Errorf("job %s encode_failed: %s (%s), printed %d, %+v", id, j.State, j.Reason, printed[id], *e)
			}
			ev := stagedOf(t, r.st, printers.EventLabelEncodeFailed, id)
			if len(ev) != 1 || ev[0].Carton != j.Carton || ev[0].EPC != epcN(i) || ev[0].Printer != "p1" || ev[0].Encode == nil || ev[0].Encode.Attempts != e.Attempts {
				t.Errorf("job %s: label.encode_failed events %+v", id, ev)
			}
		default:
			t.Errorf("job %s: outcome %s (%s)", id, e.Outcome, e.Reason)
		}
	}
	if count[printers.EncodeFailed] == 0 || count[printers.EncodeVoided] == 0 || count[printers.EncodeEncoded] == 0 {
		t.Fatalf("outcomes %v: want each of encoded, voided and encode_failed", count)
	}
	t.Logf("%d cartons: %v", n, count)
}

// A printer writing each tag with the previous label's EPC reports every
// write a success; the read-back finds it.
func TestMiscalibratedPrinterFoundByReadback(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{Miscalibrated: true}, func(c *printers.Config) { c.BatchJobs = 1 })
	all := ids("M", 3)
	for i, id := range all {
		if err := r.sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	got := waitAll(t, r.sp, all, 20*time.Second)
	if j := got["M000"]; j.State != Confirmed || j.Encode.Outcome != printers.EncodeEncoded {
		t.Fatalf("first label (its own EPC): %s %+v", j.State, j.Encode)
	}
	for i, id := range all[1:] {
		j := got[id]
		if j.State != Failed || j.Encode.Outcome != printers.EncodeFailed || j.Encode.EPCRead != epcN(i) || !strings.Contains(j.Encode.Reason, "miscalibrated") {
			t.Fatalf("job %s: %s (%s) %+v", id, j.State, j.Reason, j.Encode)
		}
	}
}

// With ~RV alone, the same fault goes unseen: read-back is what finds it.
func TestRVAloneMissesMiscalibration(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{Miscalibrated: true}, func(c *printers.Config) { c.VerifyEncode = printers.VerifyRV })
	all := ids("V", 3)
	for i, id := range all {
		if err := r.sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	for id, j := range waitAll(t, r.sp, all, 20*time.Second) {
		if j.State != Confirmed || j.Encode == nil || j.Encode.Outcome != printers.EncodeEncoded || j.Encode.EPCRead != "" {
			t.Fatalf("job %s: %s %+v", id, j.State, j.Encode)
		}
	}
}

// on_encode_failure: reprint sends the job once more; a second failure
// fails it.
func TestOnEncodeFailureReprint(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{}, func(c *printers.Config) { c.OnEncodeFailure = printers.OnEncodeReprint })
	r.sim.FailTags(3) // the first label's three tries
	if err := r.sp.Submit(context.Background(), Job{ID: "A", Printer: "p1", ZPL: rfidZPL("A", epcN(1), 0)}); err != nil {
		t.Fatal(err)
	}
	j := waitAll(t, r.sp, []string{"A"}, 20*time.Second)["A"]
	if j.State != Confirmed || j.Attempts != 2 || j.Encode.Outcome != printers.EncodeEncoded || !j.Encode.Reprinted {
		t.Fatalf("A: %s attempts %d %+v", j.State, j.Attempts, j.Encode)
	}
	if len(stagedOf(t, r.st, printers.EventLabelEncodeFailed, "A")) != 1 || len(stagedOf(t, r.st, printers.EventJobReprint, "A")) != 1 {
		t.Fatal("want one label.encode_failed and one job.reprint")
	}
	if n := printedLabels(r.sim)["A"]; n != 1 {
		t.Fatalf("printed %d", n)
	}
	r.sim.FailTags(6) // both attempts fail
	if err := r.sp.Submit(context.Background(), Job{ID: "B", Printer: "p1", ZPL: rfidZPL("B", epcN(2), 0)}); err != nil {
		t.Fatal(err)
	}
	j = waitAll(t, r.sp, []string{"B"}, 20*time.Second)["B"]
	if j.State != Failed || j.Attempts != 2 || j.Encode.Outcome != printers.EncodeFailed || !j.Encode.Reprinted {
		t.Fatalf("B: %s attempts %d %+v", j.State, j.Attempts, j.Encode)
	}
	if len(stagedOf(t, r.st, printers.EventLabelEncodeFailed, "B")) != 2 {
		t.Fatal("want a label.encode_failed per failure")
	}
}

// on_encode_failure: hold holds the printer's queue until the failed job
// is reprinted or cancelled.
func TestOnEncodeFailureHold(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{}, func(c *printers.Config) {
		c.OnEncodeFailure = printers.OnEncodeHold
		c.BatchJobs = 1
	})
	r.sim.FailTags(3)
	for _, id := range []string{"A", "B"} {
		if err := r.sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(len(id)), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	a := r.waitState(t, "A", Failed)
	if !strings.Contains(a.Reason, "held") {
		t.Fatalf("A reason %q", a.Reason)
	}
	b := r.waitState(t, "B", Held)
	if !strings.Contains(b.Reason, "job A failed to encode") {
		t.Fatalf("B reason %q", b.Reason)
	}
	if err := r.sp.Reprint("A"); err != nil {
		t.Fatal(err)
	}
	got := waitAll(t, r.sp, []string{"A", "B"}, 20*time.Second)
	if got["A"].State != Confirmed || got["B"].State != Confirmed {
		t.Fatalf("after the reprint: A %s, B %s", got["A"].State, got["B"].State)
	}
}

// on_encode_failure: alert (the default) fails the job and goes on.
func TestOnEncodeFailureAlert(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{}, nil)
	r.sim.FailTags(3)
	for _, id := range []string{"A", "B"} {
		if err := r.sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(len(id)), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	got := waitAll(t, r.sp, []string{"A", "B"}, 20*time.Second)
	if got["A"].State != Failed || got["A"].Encode.Outcome != printers.EncodeFailed || got["B"].State != Confirmed {
		t.Fatalf("A %s %+v, B %s", got["A"].State, got["A"].Encode, got["B"].State)
	}
}

// A connection that drops while RFID labels print: the counter confirms
// them; reports lost with the connection leave a printed label
// unverified, and read-backs that come on the next connection still count.
func TestDropWhileEncodingResolvedByCounter(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{LabelsPerSecond: 100}, nil)
	all := ids("E", 30)
	var jobs []Job
	for i, id := range all {
		jobs = append(jobs, Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(i), 0)})
	}
	if err := r.sp.SubmitAll(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		if _, l := r.sim.Count(); l >= 4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	r.sim.Drop()
	got := waitAll(t, r.sp, all, 20*time.Second)
	printed := printedLabels(r.sim)
	count := map[string]int{}
	for id, j := range got {
		if printed[id] != 1 {
			t.Errorf("job %s printed %d", id, printed[id])
		}
		if j.Encode == nil {
			t.Fatalf("job %s: no encode outcome", id)
		}
		count[string(j.State)+"/"+j.Encode.Outcome]++
		switch {
		case j.State == Confirmed && j.Encode.Outcome == printers.EncodeEncoded:
		case j.State == Failed && j.Encode.Outcome == printers.EncodeUnverified:
		default:
			t.Errorf("job %s: %s %+v", id, j.State, j.Encode)
		}
	}
	t.Logf("%v", count)
}

// capture_tid: each label's TID is read with its EPC and recorded, the
// tag's own (the simulator's log says which tag each label got).
func TestCaptureTID(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{}, func(c *printers.Config) { c.CaptureTID = true })
	r.sim.FailTags(1) // the first label is voided: its tag is not the one recorded
	all := ids("D", 4)
	for i, id := range all {
		if err := r.sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	got := waitAll(t, r.sp, all, 20*time.Second)
	tids := map[string]string{}
	for _, l := range r.sim.Labels() {
		if !l.Void {
			tids[l.EPC] = l.TID
		}
	}
	seen := map[string]bool{}
	for i, id := range all {
		j := got[id]
		if j.State != Confirmed || j.Encode == nil || j.Encode.TID == "" || j.Encode.TID != tids[epcN(i)] || seen[j.Encode.TID] {
			t.Fatalf("job %s: %s %+v (the tag's TID %s)", id, j.State, j.Encode, tids[epcN(i)])
		}
		seen[j.Encode.TID] = true
	}
}

// lock: epc writes the access password and locks the EPC bank in the
// format that writes the tag, after its read-back: every tag that took its
// EPC is locked, and the job is verified as before.
func TestLockEPC(t *testing.T) {
	r, _ := rfidRig(t, printersim.Options{}, func(c *printers.Config) {
		c.Lock, c.AccessPassword = printers.LockEPC, "1a2b3c4d"
	})
	r.sim.FailTags(1) // a voided label's tag is not locked
	all := ids("L", 3)
	for i, id := range all {
		if err := r.sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(i), 0)}); err != nil {
			t.Fatal(err)
		}
	}
	got := waitAll(t, r.sp, all, 20*time.Second)
	for _, id := range all {
		if j := got[id]; j.State != Confirmed || j.Encode == nil || (j.Encode.Outcome != printers.EncodeEncoded && j.Encode.Outcome != printers.EncodeVoided) {
			t.Fatalf("job %s: %s %+v", id, j.State, j.Encode)
		}
	}
	locked := 0
	for _, l := range r.sim.Labels() {
		if l.Void == l.Locked {
			t.Fatalf("label %+v: a written tag must be locked, a voided one not", l)
		}
		if l.Locked {
			locked++
		}
	}
	if locked != len(all) {
		t.Fatalf("%d tags locked, want %d", locked, len(all))
	}
	for _, f := range r.sim.Formats() {
		z := string(f.ZPL)
		lock, hv, xz := strings.Index(z, "^RFW,H,P^FD00000000,1A2B3C4D^FS^RLM,,L,L,^FS"), strings.Index(z, "^HV999"), strings.LastIndex(z, "^XZ")
		if lock < 0 || hv < 0 || !(hv < lock && lock < xz) {
			t.Fatalf("format without the lock after its read-back:\n%s", z)
		}
	}
}
