package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReceiveAndTraceOffline(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLI(t, "receive", "--data-dir", dir, "--door", "DOOR1", "--supplier", "Acme",
		"--scan", "]C1010952012345678810SUP-77\x1d17270531", "--cartons", "2", "--id", "ASN-9")
	if code != 0 {
		t.Fatalf("receive: %d %s", code, errOut)
	}
	var rc struct {
		Lot     string   `json:"lot"`
		Cartons []string `json:"cartons"`
		Expiry  string   `json:"expiry"`
	}
	if err := json.Unmarshal([]byte(out), &rc); err != nil || rc.Lot != "SUP-77" || len(rc.Cartons) != 2 || rc.Expiry != "2027-05-31" {
		t.Fatalf("receipt %s (%v)", out, err)
	}
	out, errOut, code = runCLI(t, "trace", "--data-dir", dir, "lot", "SUP-77")
	if code != 0 || !strings.Contains(out, rc.Cartons[1]) || !strings.Contains(out, `"job_state": "queued"`) {
		t.Fatalf("trace lot: %d %s %s", code, out, errOut)
	}
	// Nothing printed yet: the reconciliation names both cartons.
	var tr struct {
		Reconciliation struct {
			Counts      map[string]int      `json:"counts"`
			Differences map[string][]string `json:"differences"`
		} `json:"reconciliation"`
	}
	if err := json.Unmarshal([]byte(out), &tr); err != nil || tr.Reconciliation.Counts["cartons_received"] != 2 ||
		tr.Reconciliation.Counts["labels_printed"] != 0 || len(tr.Reconciliation.Differences["no_label"]) != 2 {
		t.Fatalf("trace lot reconciliation %+v (%v)", tr.Reconciliation, err)
	}
	out, _, code = runCLI(t, "trace", "--data-dir", dir, "sscc", rc.Cartons[0])
	if code != 0 || !strings.Contains(out, `"supplier_lot": "SUP-77"`) {
		t.Fatalf("trace sscc: %d %s", code, out)
	}
	_, errOut, code = runCLI(t, "trace", "--data-dir", dir, "epc", "3074257BF7194E4000001A85")
	if code != 1 || !strings.Contains(errOut, "no carton with this tag") {
		t.Fatalf("trace unknown epc: %d %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "receive", "--data-dir", dir, "--door", "DOOR1", "--gtin", "09520123456789")
	if code != 1 || !strings.Contains(errOut, "gtin:") {
		t.Fatalf("bad gtin: %d %q", code, errOut)
	}
}

// A keyboard-wedge scanner types one label per line: each is a receipt.
func TestReceiveScansFromStdin(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLIInput(t, "]C1010952012345678810SUP-A\x1d17270531\r\n\n(01)09520123456788(10)SUP-B\n",
		"receive", "--data-dir", dir, "--door", "DOOR1", "--supplier", "Acme", "--scan", "-")
	if code != 0 {
		t.Fatalf("receive: %d %s", code, errOut)
	}
	if !strings.Contains(out, `"lot": "SUP-A"`) || !strings.Contains(out, `"lot": "SUP-B"`) || strings.Count(out, `"source": "scan"`) != 2 {
		t.Fatalf("receipts:\n%s", out)
	}
}

// A refused scan is reported and the next one still received; words left
// over from an unquoted value are refused before anything is recorded.
func TestReceiveGoesOnPastABadScan(t *testing.T) {
	dir := t.TempDir()
	out, errOut, code := runCLIInput(t, "(01)09520123456788(10)SUP-A\ngarbage\n(01)09520123456788(10)SUP-C\n",
		"receive", "--data-dir", dir, "--door", "DOOR1", "--supplier", "Acme", "--scan", "-")
	if code != 1 || !strings.Contains(errOut, "scan 2") || !strings.Contains(errOut, "1 of 3 scans refused") {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	if !strings.Contains(out, `"lot": "SUP-A"`) || !strings.Contains(out, `"lot": "SUP-C"`) {
		t.Fatalf("receipts:\n%s", out)
	}
	_, errOut, code = runCLIInput(t, "", "receive", "--data-dir", dir, "--door", "DOOR1", "--gtin", "09520123456788",
		"--supplier", "Acme", "Atelier", "--cartons", "5")
	if code != 1 || !strings.Contains(errOut, `unexpected argument "Atelier"`) {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
}
