package spool

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers"

	"github.com/dockgate/dockgate/printers/printersim"
)

func TestSubmitAllPrintsInOrderOnce(t *testing.T) {
	r := newRig(t, printersim.Options{}, nil)
	var jobs []Job
	for i := 0; i < submitChunk+10; i++ { // two transactions
		id := fmt.Sprintf("rcpt:%03d", i)
		jobs = append(jobs, Job{ID: id, Printer: "p1", ZPL: label(id), Lot: "L1", Carton: id})
	}
	ctx := context.Background()
	if err := r.sp.SubmitAll(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	if err := r.sp.SubmitAll(ctx, jobs[:5]); err != nil { // the same jobs again: no-op
		t.Fatalf("resubmit: %v", err)
	}
	conflict := []Job{{ID: jobs[0].ID, Printer: "p1", ZPL: label("other")}}
	if err := r.sp.SubmitAll(ctx, conflict); !errors.Is(err, ErrIDConflict) {
		t.Fatalf("conflict: %v", err)
	}
	for _, j := range jobs {
		r.waitState(t, j.ID, Confirmed)
	}
	formats := r.sim.Formats()
	if len(formats) != len(jobs) {
		t.Fatalf("printed %d formats, want %d", len(formats), len(jobs))
	}
	for i, f := range formats {
		if string(f.ZPL) != jobs[i].ZPL {
			t.Fatalf("format %d is %q, want %q", i, f.ZPL, jobs[i].ZPL)
		}
	}
}

// A printer slower to answer than the status timeout: its late replies must
// not confirm jobs it has not taken yet.
func TestLateStatusRepliesDoNotConfirmEarly(t *testing.T) {
	slow := func([]byte) ([]byte, error) { time.Sleep(30 * time.Millisecond); return nil, errors.New("no preview") }
	r := newRig(t, printersim.Options{Dir: t.TempDir(), Preview: slow}, func(c *printers.Config) {
		c.Timeouts.Status = 20 * time.Millisecond
		c.BatchJobs = 4
	})
	var jobs []Job
	for i := 0; i < 12; i++ {
		id := fmt.Sprintf("late:%02d", i)
		jobs = append(jobs, Job{ID: id, Printer: "p1", ZPL: label(id)})
	}
	if err := r.sp.SubmitAll(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	for i, j := range jobs {
		r.waitState(t, j.ID, Confirmed)
		if n, _ := r.sim.Count(); n < i+1 {
			t.Fatalf("job %d confirmed while the printer has taken only %d formats", i, n)
		}
	}
}

func TestJobsMayNotCarryStatusOrCancelCommands(t *testing.T) {
	r := newRig(t, printersim.Options{}, nil)
	for _, z := range []string{"~HS^XA^FDx^FS^XZ", "^XA^FDx^FS^XZ~JA^XA^XZ", "^XA^FDx^FS^XZ~HQES",
		"^XA~jr^XZ",                // lower case
		"^XA^CT+^XZ^XA+HS^XZ",      // a new control prefix, then a query with it
		"^XA^CC!^XZ", "~CD;^XA^XZ", // format prefix, delimiter
		"^XA^HZA^XZ", "^XA^hh^XZ", // caret host queries
		"^XA^JUS^XZ", "^XA^IDR:*.*^XZ", "~JD^XA^XZ", "~PP^XA^XZ"} { // lasting changes
		if err := r.sp.Submit(context.Background(), Job{ID: "t1", Printer: "p1", ZPL: z}); !errors.Is(err, ErrInvalidJob) {
			t.Errorf("%q accepted: %v", z, err)
		}
	}
}
