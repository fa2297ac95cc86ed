package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/labels"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
)

// runAs runs dockgate with the environment env.
func runAs(env map[string]string, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	e := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
	code = runMain(context.Background(), e, args)
	return out.String(), errb.String(), code
}

// A reprint or a cancel from the CLI needs --reason and records the user
// who ran it; label history lists a lot's or a carton's records as a
// table or as JSON.
func TestCLIReasonAndLabelHistory(t *testing.T) {
	const sscc = "095201230000000011"
	data := t.TempDir()
	cfg := printerTestConfig(t, data)
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.New(st, spool.Options{Printers: []printers.Config{{ID: "dock1", Address: "127.0.0.1:9100"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Submit(context.Background(), spool.Job{ID: "J1", Printer: "dock1", ZPL: "^XA^FDx^FS^XZ", Lot: "L1", Carton: sscc}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	alice := map[string]string{"USER": "alice"}
	for _, op := range []string{"cancel", "reprint"} {
		_, errs, code := runAs(alice, "printer", op, "-c", cfg, "J1")
		if code != 2 || !strings.Contains(errs, "--reason is required") {
			t.Fatalf("%s without --reason: exit %d %s", op, code, errs)
		}
	}
	if out, errs, code := runAs(alice, "printer", "cancel", "-c", cfg, "--reason", "wrong carton", "J1"); code != 0 || !strings.Contains(out, "cancelled by cli:alice: wrong carton") {
		t.Fatalf("cancel: exit %d %s %s", code, out, errs)
	}
	if _, errs, code := runAs(map[string]string{"USER": "root", "SUDO_USER": "bob"}, "printer", "reprint", "-c", cfg, "--reason", "found it", "J1"); code != 0 {
		t.Fatalf("reprint: exit %d %s", code, errs)
	}

	out, errs, code := runAs(nil, "label", "history", "-c", cfg, "--lot", "L1", "--format", "json")
	var recs []labels.Record
	if code != 0 || json.Unmarshal([]byte(out), &recs) != nil || len(recs) != 2 {
		t.Fatalf("history --lot: exit %d %s %s", code, out, errs)
	}
	if r := recs[0]; r.Action != labels.Cancelled || r.By.String() != "cli:alice" || r.Reason != "wrong carton" || r.Carton != sscc || r.Job != "J1" {
		t.Fatalf("cancel record %+v", r)
	}
	if r := recs[1]; r.Action != labels.Reprinted || r.By.String() != "cli:bob" || r.Reason != "found it" {
		t.Fatalf("reprint record %+v", r)
	}
	out, errs, code = runAs(nil, "label", "history", "-c", cfg, "--carton", "(00)"+sscc)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") ||
		!strings.Contains(lines[1], "cancelled") || !strings.Contains(lines[1], "cli:alice") || !strings.Contains(lines[1], "wrong carton") ||
		!strings.Contains(lines[2], "reprinted") || !strings.Contains(lines[2], "cli:bob") {
		t.Fatalf("history --carton: exit %d\n%s%s", code, out, errs)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"label", "history", "-c", cfg}, 2, "one of --lot"},
		{[]string{"label", "history", "-c", cfg, "--lot", "L1", "--carton", sscc}, 2, "one of --lot"},
		{[]string{"label", "history", "-c", cfg, "--lot", "L1", "--format", "xml"}, 2, "--format"},
		{[]string{"label", "history", "-c", cfg, "--lot", "NOPE"}, 1, "no such lot"},
	} {
		_, errs, code := runAs(nil, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: exit %d %q, want %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}
