package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers/printersim"
)

// A file the spooler would refuse is refused by print too, before a byte
// reaches the printer: a ~HS inside it would answer the status poll that
// confirms the print.
func TestPrintRefusesWhatTheSpoolerRefuses(t *testing.T) {
	addr, control := startSimPrinter(t)
	dir := t.TempDir()
	for _, c := range []struct{ zpl, cmd string }{
		{"^XA^FDx^FS^PQ3~HS^XZ", "~HS"},
		{"^XA^FDx^FS^XZ~hqes^XA^XZ", "~HQ"},
		{"^XA^CC+^XZ", "^CC"},
		{"~JA^XA^FDx^FS^XZ", "~JA"},
		{"^XA^HZA^XZ", "^HZ"},
		{"^XA^JUS^XZ", "^JU"},
	} {
		file := filepath.Join(dir, "job.zpl")
		if err := os.WriteFile(file, []byte(c.zpl), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errs, code := prnRun(t, "print", "--printer", addr, file)
		if code != 1 || !strings.Contains(errs, c.cmd) || !strings.Contains(errs, "may not carry") || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 1 naming %s", c.zpl, code, out, errs, c.cmd)
		}
	}
	if got := simControl(t, control, "count"); got != "formats 0 labels 0" {
		t.Fatalf("refused files reached the printer: %s", got)
	}
}

// Time while the printer reports a fault does not count against --timeout:
// the job waits in the printer, and a failure would invite a re-run that
// prints it twice.
func TestPrintTimeoutDoesNotCountAFault(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	received := make(chan struct{}, 1)
	var sim *printersim.Sim
	// The head opens as the format arrives, before its first label (one
	// takes 100ms at this speed).
	sim = printersim.New(printersim.Options{LabelsPerSecond: 10, OnFormat: func(printersim.Format) {
		sim.SetFault(printersim.HeadOpen, true)
		received <- struct{}{}
	}})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { _ = sim.Serve(ctx, ln); close(served) }()
	defer func() { cancel(); <-served }()

	file := filepath.Join(t.TempDir(), "label.zpl")
	if err := os.WriteFile(file, []byte("^XA^FO50,50^A0N,40,40^FDLOT 1^FS^XZ"), 0o644); err != nil {
		t.Fatal(err)
	}
	const timeout = 500 * time.Millisecond
	type result struct {
		out, errs string
		code      int
	}
	done := make(chan result, 1)
	go func() {
		out, errs, code := prnRun(t, "print", "--printer", ln.Addr().String(), "--timeout", timeout.String(), file)
		done <- result{out, errs, code}
	}()
	select {
	case <-received:
	case r := <-done:
		t.Fatalf("print ended before the printer took the format: exit %d %s %s", r.code, r.out, r.errs)
	}
	// faulted for longer than the timeout, then cleared
	select {
	case r := <-done:
		t.Fatalf("print ended while the head was open: exit %d %s %s", r.code, r.out, r.errs)
	case <-time.After(3 * timeout):
	}
	sim.SetFault(printersim.HeadOpen, false)
	r := <-done
	var res printResult
	if r.code != 0 || json.Unmarshal([]byte(r.out), &res) != nil || res.State != "confirmed" {
		t.Fatalf("exit %d: %s %s", r.code, r.out, r.errs)
	}
	if !strings.Contains(r.errs, "head open") {
		t.Fatalf("no note of the fault on stderr: %q", r.errs)
	}
	if _, labels := sim.Count(); labels != 1 {
		t.Fatalf("printed %d labels", labels)
	}
}
