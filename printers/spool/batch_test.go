package spool

import (
	"context"
	"errors"
	"fmt"
	"testing"

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
