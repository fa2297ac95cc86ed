package spool

import (
	"context"
	"errors"
	"testing"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
)

// An operator's reprint or cancel needs a reason: without one nothing
// changes; with one its event names who asked and why. Every job event
// carries the job's template, copies and requester.
func TestOperatorRequestsNameWhoAndWhy(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sink := newStagingSink()
	sp, err := New(st, Options{Printers: []printers.Config{{ID: "P1", Address: "127.0.0.1:9"}}, Events: sink})
	if err != nil {
		t.Fatal(err)
	}
	wms := &printers.Actor{Via: printers.ViaAPI, Name: "wms"}
	if err := sp.Submit(context.Background(), Job{ID: "J1", Printer: "P1", ZPL: "^XA^FDx^FS^XZ", Copies: 2, Template: "carton", By: wms}); err != nil {
		t.Fatal(err)
	}
	if j, _ := sp.Get("J1"); j.By == nil || *j.By != *wms || j.Template != "carton" {
		t.Fatalf("job by %v template %q", j.By, j.Template)
	}
	alice := printers.Actor{Via: printers.ViaCLI, Name: "alice"}
	for _, call := range []func(string, Request) error{sp.CancelBy, sp.ReprintBy} {
		for _, r := range []Request{{By: alice}, {By: alice, Reason: " \t"}} {
			if err := call("J1", r); !errors.Is(err, ErrReasonRequired) {
				t.Fatalf("no reason: %v", err)
			}
		}
		if err := call("J1", Request{Reason: "x"}); !errors.Is(err, ErrInvalidJob) {
			t.Fatalf("no one asked: %v", err)
		}
	}
	if j, _ := sp.Get("J1"); j.State != Queued || len(staged(t, st)) != 0 {
		t.Fatalf("refused requests changed the job (%s) or staged %d events", j.State, len(staged(t, st)))
	}

	if err := sp.CancelBy("J1", Request{By: alice, Reason: "wrong carton"}); err != nil {
		t.Fatal(err)
	}
	e := mustStaged(t, st, printers.EventJobCancelled, "J1")
	if e.By == nil || *e.By != alice || e.Why != "wrong carton" || e.Reason != "cancelled by cli:alice: wrong carton" ||
		e.Template != "carton" || e.Copies != 2 {
		t.Fatalf("job.cancelled %+v", e)
	}
	if err := sp.Reprint("J1"); err != nil {
		t.Fatal(err)
	}
	e = mustStaged(t, st, printers.EventJobReprint, "J1")
	if e.By == nil || e.By.Via != printers.ViaGateway || e.Why != "" {
		t.Fatalf("the gateway's own reprint: %+v", e)
	}
	// Events of the job's own life name its requester.
	e = sp.jobEvent(printers.EventJobConfirmed, &Job{ID: "J1", Printer: "P1", Template: "carton", Copies: 2, By: wms})
	if e.By != wms || e.Template != "carton" || e.Copies != 2 || e.Why != "" {
		t.Fatalf("job event %+v", e)
	}
}
