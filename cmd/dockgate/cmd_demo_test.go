package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoRunsEndToEnd(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "demo", "--out", out)
	if code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// The simulated reader stops after the gateway: the gateway's last
	// word to it (the light stack's outputs low) is answered, not warned
	// about.
	for _, warn := range []string{"door signal not set", "reader closed the connection", "connection reset"} {
		if strings.Contains(stderr, warn) {
			t.Errorf("demo stderr has %q:\n%s", warn, stderr)
		}
	}
	for _, want := range []string{"lot 2505-LWX-WLD01-001", "lot 2505-LWX-WLD01-002", "printed 20 labels in 20 formats",
		"2 receipts complete", "green (GPO 1) lit", "events/receipt.complete", "trace of lot 2505-LWX-WLD01-001 (10 cartons"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	zpls, _ := filepath.Glob(filepath.Join(out, "labels", "printer-P1", "*.zpl"))
	pngs, _ := filepath.Glob(filepath.Join(out, "labels", "*.png"))
	if len(zpls) != 20 || len(pngs) != 20 {
		t.Fatalf("labels: %d ZPL, %d PNG; want 20 each", len(zpls), len(pngs))
	}
	b, err := os.ReadFile(filepath.Join(out, "trace-2505-LWX-WLD01-001.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Cartons []struct {
			SSCC     string `json:"sscc"`
			JobState string `json:"job_state"`
			Passes   []any  `json:"passes"`
		} `json:"cartons"`
	}
	if err := json.Unmarshal(b, &tr); err != nil || len(tr.Cartons) != 10 {
		t.Fatalf("trace: %v, %d cartons", err, len(tr.Cartons))
	}
	for _, c := range tr.Cartons {
		if c.JobState != "confirmed" || len(c.Passes) == 0 {
			t.Fatalf("carton %s: job %q, %d passes", c.SSCC, c.JobState, len(c.Passes))
		}
	}
	ev, err := os.ReadFile(filepath.Join(out, "events.jsonl"))
	if err != nil || !strings.Contains(string(ev), "/events/receipt.created") || !strings.Contains(string(ev), "/epcis") {
		t.Fatalf("events.jsonl: %v", err)
	}
}
