package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
)

// prnBuffer is a goroutine-safe output buffer.
type prnBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *prnBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *prnBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startSimPrinter runs "dockgate sim printer" with a control port and
// returns the print and control addresses.
func startSimPrinter(t *testing.T, args ...string) (addr, control string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &prnBuffer{}, &prnBuffer{}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: out, stderr: errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, env, append([]string{"sim", "printer", "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sim printer exit %d: %s", code, errb.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			var v struct{ Listen, Control string }
			if err := json.Unmarshal([]byte(line), &v); err != nil || v.Listen == "" || v.Control == "" {
				t.Fatalf("first line %q: %v", line, err)
			}
			return v.Listen, v.Control
		}
		select {
		case code := <-done:
			t.Fatalf("sim printer exited %d: %s", code, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("sim printer did not start")
	return "", ""
}

func prnRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = runMain(context.Background(), env, args)
	return out.String(), errb.String(), code
}

func simControl(t *testing.T, control, cmd string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", control, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintln(c, cmd)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func TestPrintAndStatusAgainstSim(t *testing.T) {
	dir := t.TempDir()
	addr, control := startSimPrinter(t, "--dir", dir, "--profile", "zebra-zt411-203")
	zpl := filepath.Join(t.TempDir(), "label.zpl")
	if err := os.WriteFile(zpl, []byte("^XA^FO50,50^A0N,40,40^FDLOT 24A017^FS^XZ\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := prnRun(t, "print", "--printer", addr, "--copies", "2", zpl)
	if code != 0 {
		t.Fatalf("print exit %d: %s %s", code, out, errs)
	}
	var res printResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.State != "confirmed" || res.Formats != 2 || res.Status == nil || !res.Status.Drained() {
		t.Fatalf("print result %s (%v)", out, err)
	}
	if got := simControl(t, control, "count"); got != "formats 2 labels 2" {
		t.Fatalf("count %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "fmt-000002.zpl")); err != nil || !strings.Contains(string(b), "LOT 24A017") {
		t.Fatalf("format file %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "fmt-000001.png")); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("preview: %v", err)
	}

	out, _, code = prnRun(t, "printer", "status", addr)
	var st printerStatusResult
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || !st.Ready || !st.Status.Known || st.Status.FormatsInBuffer != 0 {
		t.Fatalf("status exit %d: %s", code, out)
	}

	simControl(t, control, "paper-out")
	out, _, code = prnRun(t, "printer", "status", addr)
	if code != exitPrinterFaulted || json.Unmarshal([]byte(out), &st) != nil || st.Ready || !st.Status.PaperOut {
		t.Fatalf("paper out status exit %d: %s", code, out)
	}
	out, errs, code = prnRun(t, "print", "--printer", addr, zpl)
	if code != exitPrinterFaulted || !strings.Contains(out, `"state": "held"`) || !strings.Contains(errs, "paper out") {
		t.Fatalf("print while paper out exit %d: %s %s", code, out, errs)
	}
	if got := simControl(t, control, "count"); got != "formats 2 labels 2" {
		t.Fatalf("printed while faulted: %q", got)
	}
}

func TestPrinterByIDFromConfig(t *testing.T) {
	addr, _ := startSimPrinter(t)
	cfg := filepath.Join(t.TempDir(), "dockgate.yaml")
	// No gateway runs on the config's HTTP address: the printer is asked
	// where the config says it is.
	if err := os.WriteFile(cfg, []byte("http:\n  listen: "+freePort(t)+"\nprinters:\n  - id: dock1\n    profile: zebra-zt411-203\n    address: "+addr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := prnRun(t, "printer", "status", "-c", cfg, "dock1")
	if code != 0 || !strings.Contains(out, `"printer": "dock1"`) {
		t.Fatalf("status by id exit %d: %s %s", code, out, errs)
	}
	_, errs, code = prnRun(t, "printer", "status", "-c", cfg, "dock9")
	if code != 1 || !strings.Contains(errs, "dock1") {
		t.Fatalf("unknown id exit %d: %s", code, errs)
	}
	_, errs, code = prnRun(t, "printer", "status", "dock1")
	if code != 1 || !strings.Contains(errs, "-c FILE") {
		t.Fatalf("id without config exit %d: %s", code, errs)
	}
}

// A printer that cannot be reached is no answer, as one that says
// nothing: exit 4, naming what to check.
func TestPrinterStatusNotReached(t *testing.T) {
	addr := freePort(t) // nothing listens there
	out, errs, code := prnRun(t, "printer", "status", "--timeout", "1s", addr)
	if code != exitPrinterUnknown || out != "" || !strings.Contains(errs, addr) || !strings.Contains(errs, "check its address") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %d and what to check", code, out, errs, exitPrinterUnknown)
	}
}

func TestPrintErrors(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.zpl")
	_ = os.WriteFile(open, []byte("^XA^FDno end"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"print", "x.zpl"}, 1, "--printer is required"},
		{[]string{"print", "--printer", "127.0.0.1:1", open}, 1, "^XZ"},
		{[]string{"print", "--printer", "127.0.0.1:1"}, 2, "usage"},
		{[]string{"print", "--printer", "127.0.0.1:1", "--copies", "0", open}, 1, "--copies"},
		{[]string{"printer"}, 2, "usage"},
		{[]string{"printer", "status", "--profile", "nope", "127.0.0.1:1"}, 1, "unknown firmware profile"},
		{[]string{"sim", "printer", "--profile", "nope"}, 1, "--profile"},
	} {
		_, errs, code := prnRun(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}

func TestPrinterJobsReprintCancel(t *testing.T) {
	data := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "dockgate.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+data+"\nprinters:\n  - id: dock1\n    profile: zebra-zt411-203\n    address: 127.0.0.1:9100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.New(st, spool.Options{Printers: []printers.Config{{ID: "dock1", Address: "127.0.0.1:9100"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Submit(context.Background(), spool.Job{ID: "J1", Printer: "dock1", ZPL: "^XA^FDx^FS^XZ"}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out, errs, code := prnRun(t, "printer", "cancel", "-c", cfg, "--reason", "test", "J1")
	if code != 0 || !strings.Contains(out, `"state": "cancelled"`) {
		t.Fatalf("cancel exit %d: %s %s", code, out, errs)
	}
	out, errs, code = prnRun(t, "printer", "reprint", "-c", cfg, "--reason", "test", "J1")
	if code != 0 || !strings.Contains(out, `"state": "queued"`) {
		t.Fatalf("reprint exit %d: %s %s", code, out, errs)
	}
	out, errs, code = prnRun(t, "printer", "jobs", "-c", cfg, "--state", "queued")
	var jobs []spool.Job
	if code != 0 || json.Unmarshal([]byte(out), &jobs) != nil || len(jobs) != 1 || jobs[0].ID != "J1" || jobs[0].ZPL != "" {
		t.Fatalf("jobs exit %d: %s %s", code, out, errs)
	}
	_, errs, code = prnRun(t, "printer", "reprint", "-c", cfg, "--reason", "test", "J1")
	if code != 1 || !strings.Contains(errs, "queued") {
		t.Fatalf("reprint a queued job: exit %d %s", code, errs)
	}
	_, errs, code = prnRun(t, "printer", "jobs", "-c", cfg, "--state", "lost")
	if code != 1 || !strings.Contains(errs, "--state") {
		t.Fatalf("bad state: exit %d %s", code, errs)
	}
	// a running gateway holds the data directory
	st, err = store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, errs, code = prnRun(t, "printer", "cancel", "-c", cfg, "--reason", "test", "J1")
	if code != 1 || !strings.Contains(errs, "API") {
		t.Fatalf("locked data dir: exit %d %s", code, errs)
	}
}

// spoolJobs opens the data directory, submits jobs J1… to dock1 and, when
// crash is set, leaves the last one as a crash mid-send leaves it: in
// sending, with the spooler's in-flight mark.
func spoolJobs(t *testing.T, data string, n int, crash bool) {
	t.Helper()
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := spool.New(st, spool.Options{Printers: []printers.Config{{ID: "dock1", Address: "127.0.0.1:9100"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := sp.Submit(context.Background(), spool.Job{ID: fmt.Sprintf("J%d", i), Printer: "dock1", ZPL: "^XA^FDx^FS^XZ"}); err != nil {
			t.Fatal(err)
		}
	}
	if !crash {
		return
	}
	id := fmt.Sprintf("J%d", n)
	j, err := sp.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	j.State = spool.Sending
	b, _ := json.Marshal(j)
	err = st.DB().Update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte(store.PrefixJob+"d/"+id), b); err != nil {
			return err
		}
		return txn.Set([]byte(store.PrefixJob+"f/"+id), []byte("dock1"))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// outboxEvents opens the data directory as the gateway does and returns the
// types and job ids of the events waiting in its outbox.
func outboxEvents(t *testing.T, cfgFile string) []string {
	t.Helper()
	cfg, err := config.Load(cfgFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.Open(cfg, gateway.Info{}, slog.New(slog.DiscardHandler), gateway.Options{Offline: true, NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Outbox().Stats().Pending() == 0 {
		return nil
	}
	// Next blocks only while the outbox is empty; the bound is a guard.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	evs, err := g.Outbox().Next(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		var body struct {
			JobID string `json:"job_id"`
			Job   string `json:"job"` // label records
		}
		_ = json.Unmarshal(ev.Body, &body)
		out = append(out, ev.Type+" "+body.JobID+body.Job)
	}
	return out
}

func printerTestConfig(t *testing.T, data string) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "dockgate.yaml")
	if err := os.WriteFile(cfg, []byte("data_dir: "+data+"\nprinters:\n  - id: dock1\n    profile: zebra-zt411-203\n    address: 127.0.0.1:9100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Offline, a cancel and a reprint queue their events in the outbox as the
// running gateway would, and a job a crash left in sending is reported
// unknown when the data directory is opened for a change.
func TestOfflinePrinterChangesQueueEvents(t *testing.T) {
	data := t.TempDir()
	cfg := printerTestConfig(t, data)
	spoolJobs(t, data, 2, true)

	if out, errs, code := prnRun(t, "printer", "cancel", "-c", cfg, "--reason", "test", "J1"); code != 0 || !strings.Contains(out, `"state": "cancelled"`) {
		t.Fatalf("cancel exit %d: %s %s", code, out, errs)
	}
	if out, errs, code := prnRun(t, "printer", "reprint", "-c", cfg, "--reason", "test", "J1"); code != 0 || !strings.Contains(out, `"state": "queued"`) {
		t.Fatalf("reprint exit %d: %s %s", code, out, errs)
	}
	got := strings.Join(outboxEvents(t, cfg), ", ")
	if got != "job.unknown J2, job.cancelled J1, label.cancelled J1, job.reprint J1, label.reprinted J1" {
		t.Fatalf("outbox holds [%s], want the unknown, cancelled and reprint events", got)
	}
}

// Listing jobs changes nothing: a job a crash left in sending stays so
// until the gateway (or a change) opens the data directory and reports it.
func TestPrinterJobsListingChangesNothing(t *testing.T) {
	data := t.TempDir()
	cfg := printerTestConfig(t, data)
	spoolJobs(t, data, 3, true)
	for range 2 {
		out, errs, code := prnRun(t, "printer", "jobs", "-c", cfg)
		var jobs []spool.Job
		if code != 0 || json.Unmarshal([]byte(out), &jobs) != nil || len(jobs) != 3 || jobs[2].ID != "J3" || jobs[2].State != spool.Sending {
			t.Fatalf("jobs exit %d: %s %s", code, out, errs)
		}
	}
	out, _, code := prnRun(t, "printer", "jobs", "-c", cfg, "--state", "sending", "--limit", "1")
	if code != 0 || !strings.Contains(out, `"J3"`) || strings.Contains(out, `"J1"`) {
		t.Fatalf("sending jobs exit %d: %s", code, out)
	}
	if evs := outboxEvents(t, cfg); len(evs) != 1 || evs[0] != "job.unknown J3" {
		t.Fatalf("outbox %v: want only the unknown event of the gateway's own recovery", evs)
	}
}
