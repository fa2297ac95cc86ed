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
	for _, c := range []struct {
		zpl    string
		copies string
		want   []string // parts of the message
	}{
		{"^XA^FDx^FS^PQ3~HS^XZ", "1", []string{"~HS", "may not carry"}},
		{"^XA^FDx^FS^XZ~hqes^XA^XZ", "1", []string{"~HQ", "may not carry"}},
		{"^XA^CC+^XZ", "1", []string{"^CC", "may not carry"}},
		{"~JA^XA^FDx^FS^XZ", "1", []string{"~JA", "may not carry"}},
		{"^XA^HZA^XZ", "1", []string{"^HZ", "may not carry"}},
		{"^XA^JUS^XZ", "1", []string{"^JU", "may not carry"}},
		{"^XA^SC9600,8,N,1^XZ", "1", []string{"^SC", "may not carry"}},
		{"^XA^FDx^FS^XZ\r\n! U1 do \"device.reset\" \"\"\r\n^XA^FDy^FS^XZ", "1", []string{`! U1 do`, "SGD"}},
		{"^XA^FDx^FS^PQ2000^XZ", "1", []string{"2000 labels", "at most 1000"}},
		{"^XA^FDx^FS^pq1^PQ2000^XZ", "1", []string{"2000 labels"}},
		{"^XA^FDx^FS^PQ600^XZ", "2", []string{"1200 labels", "--copies 2"}},
		{"^XA^FDx^FS^XZ trailing", "1", []string{"after the last ^XZ"}},
	} {
		file := filepath.Join(dir, "job.zpl")
		if err := os.WriteFile(file, []byte(c.zpl), 0o644); err != nil {
			t.Fatal(err)
		}
		out, errs, code := prnRun(t, "print", "--printer", addr, "--copies", c.copies, file)
		ok := code == 1 && out == ""
		for _, w := range c.want {
			ok = ok && strings.Contains(errs, w)
		}
		if !ok {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 1 naming %q", c.zpl, code, out, errs, c.want)
		}
	}
	if got := simControl(t, control, "count"); got != "formats 0 labels 0" {
		t.Fatalf("refused files reached the printer: %s", got)
	}
}

// print reports the labels it prints: ^PQ quantities times copies.
func TestPrintCountsLabels(t *testing.T) {
	addr, control := startSimPrinter(t)
	file := filepath.Join(t.TempDir(), "job.zpl")
	if err := os.WriteFile(file, []byte("^XA^FDx^FS^PQ3^XZ\r\n^XA^FDy^FS^XZ\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := prnRun(t, "print", "--printer", addr, "--copies", "2", file)
	var res printResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.State != "confirmed" {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if res.Formats != 4 || res.Copies != 2 || res.Labels != 8 {
		t.Errorf("formats %d, copies %d, labels %d; want 4, 2, 8", res.Formats, res.Copies, res.Labels)
	}
	if got := simControl(t, control, "count"); got != "formats 4 labels 8" {
		t.Errorf("printer count %q", got)
	}

	// Format boundaries in lower case are format boundaries: the file is
	// not refused for text after its last ^XZ.
	if err := os.WriteFile(file, []byte("^XA^FDz^FS^xz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code = prnRun(t, "print", "--printer", addr, "--no-confirm", file)
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.State != "sent" || res.Labels != 1 {
		t.Fatalf("lower-case ^xz: exit %d: %s %s", code, out, errs)
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
