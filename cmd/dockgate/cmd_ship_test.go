package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dockgate/dockgate/edge/shipping"
)

// ship, trace customer|order, recall report and fsma204 on a data
// directory no gateway holds.
func TestShipRecallAndFSMA204Offline(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "dockgate.yaml")
	os.WriteFile(cfg, []byte("site: cli\ngateway: gw\ndata_dir: "+filepath.Join(dir, "data")+"\nhttp:\n  listen: \"\"\n"+
		"doors:\n  - id: DOOR1\n  - id: DOOR2\n    role: shipping\n"), 0o600)
	out, errOut, code := runCLI(t, "receive", "-c", cfg, "--door", "DOOR1", "--supplier", "Acme", "--description", "Oat milk",
		"--scan", "(01)09520123456788(10)SUP-77(17)270531", "--cartons", "3", "--qty-per-carton", "6", "--id", "ASN-9")
	if code != 0 {
		t.Fatalf("receive: %d %s", code, errOut)
	}
	var rc struct{ Cartons []string }
	json.Unmarshal([]byte(out), &rc)

	out, errOut, code = runCLI(t, "ship", "-c", cfg, "--id", "S-1", "--door", "DOOR2", "--order", "8812", "--customer", "Acme Retail",
		"--customer-gln", "4012345000016", "--ship-to", "4012345000023", "--sscc", rc.Cartons[0], "--pick", "09520123456788=1", "--po", "PO-1")
	if code != 0 {
		t.Fatalf("ship: %d %s", code, errOut)
	}
	var sh shipping.Shipment
	if err := json.Unmarshal([]byte(out), &sh); err != nil || sh.ID != "S-1" || sh.Expected != 2 || sh.ShipTo.GLN != "4012345000023" || sh.Source != "cli" ||
		len(sh.Picks) != 1 || sh.Picks[0].Lots[0].Lot != "SUP-77" {
		t.Fatalf("shipment %s (%v)", out, err)
	}
	if out, _, code = runCLI(t, "ship", "-c", cfg, "show", "S-1"); code != 0 || !strings.Contains(out, `"status": "open"`) {
		t.Fatalf("ship show: %d %s", code, out)
	}
	// A shipment from its JSON, as the API takes it.
	req := `{"id":"S-2","door":"DOOR2","order":"8813","customer":{"name":"Bistro","id":"C-B"},"ship_to":{"address":"1 quai"},"lines":[{"lot":"SUP-77","cartons":1}]}`
	if out, errOut, code = runCLIInput(t, req, "ship", "-c", cfg, "--json", "-"); code != 0 || !strings.Contains(out, `"id": "S-2"`) {
		t.Fatalf("ship --json: %d %s %s", code, out, errOut)
	}
	if _, errOut, code = runCLI(t, "ship", "-c", cfg, "--door", "DOOR2", "--order", "1", "--customer", "X", "--customer-id", "X",
		"--ship-to", "here", "--lot", "SUP-77"); code != 1 || !strings.Contains(errOut, "--lot \"SUP-77\": write KEY=N") {
		t.Fatalf("bad --lot: %d %s", code, errOut)
	}
	if _, errOut, code = runCLI(t, "ship", "-c", cfg, "--door", "DOOR1", "--order", "1", "--customer", "X", "--customer-id", "X",
		"--ship-to", "here", "--lot", "SUP-77=1"); code != 1 || !strings.Contains(errOut, "door: \"DOOR1\" is a receiving door") {
		t.Fatalf("receiving door: %d %s", code, errOut)
	}
	// Nothing was loaded (no portal here): closing names both missing.
	out, errOut, code = runCLI(t, "ship", "-c", cfg, "close", "S-1")
	if code != 0 || !strings.Contains(out, `"status": "shipped"`) || !strings.Contains(out, rc.Cartons[0]) {
		t.Fatalf("ship close: %d %s %s", code, out, errOut)
	}
	if out, _, code = runCLI(t, "trace", "-c", cfg, "customer", "4012345000016"); code != 0 || !strings.Contains(out, `"shipment": "S-1"`) {
		t.Fatalf("trace customer: %d %s", code, out)
	}
	if out, _, code = runCLI(t, "trace", "-c", cfg, "order", "8812"); code != 0 || !strings.Contains(out, `"order": "8812"`) {
		t.Fatalf("trace order: %d %s", code, out)
	}
	if _, errOut, code = runCLI(t, "trace", "-c", cfg, "order", "nope"); code != 1 || !strings.Contains(errOut, "no shipment of it left here") {
		t.Fatalf("trace unknown order: %d %s", code, errOut)
	}
	out, errOut, code = runCLI(t, "recall", "report", "-c", cfg, "SUP-77")
	if code != 0 {
		t.Fatalf("recall report: %d %s", code, errOut)
	}
	var rep shipping.RecallReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Received.Cartons != 3 || rep.Received.Quantity != 18 || rep.SupplierLot != "SUP-77" || rep.InStock.Cartons != 3 {
		t.Fatalf("recall report %s (%v)", out, err)
	}
	today := time.Now().Format(time.DateOnly)
	out, errOut, code = runCLI(t, "fsma204", "-c", cfg, "--from", today, "--to", today)
	if code != 0 {
		t.Fatalf("fsma204: %d %s", code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != "Receiving" || rows[1][3] != "SUP-77" || rows[1][5] != "Oat milk (345678)" || rows[1][7] != "18" {
		t.Fatalf("fsma204 csv %q (%v)", rows, err)
	}
	xlsx := filepath.Join(dir, "out.xlsx")
	if _, errOut, code = runCLI(t, "fsma204", "-c", cfg, "--from", today, "--to", today, "--lot", "SUP-77", "--format", "xlsx", "--out", xlsx); code != 0 {
		t.Fatalf("fsma204 xlsx: %d %s", code, errOut)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xrows, _ := f.GetRows(shipping.FSMASheet)
	if len(xrows) != 2 || xrows[1][3] != "SUP-77" {
		t.Fatalf("fsma204 xlsx rows %q", xrows)
	}
	if _, errOut, code = runCLI(t, "fsma204", "-c", cfg, "--from", today); code != 2 || !strings.Contains(errOut, "--from and --to") {
		t.Fatalf("fsma204 without --to: %d %s", code, errOut)
	}
}

// The same commands through a running gateway's API (its data dir is
// locked): the export's file comes over HTTP as it is.
func TestShipAndFSMA204ThroughTheGateway(t *testing.T) {
	dir := t.TempDir()
	httpAddr := freePort(t)
	cfg := filepath.Join(dir, "dockgate.yaml")
	os.WriteFile(cfg, []byte("site: cli\ngateway: gw\ndata_dir: "+filepath.Join(dir, "data")+"\nhttp:\n  listen: "+httpAddr+
		"\nbroker:\n  listen: "+freePort(t)+"\ndoors:\n  - id: DOOR1\n  - id: DOOR2\n    role: shipping\n"), 0o600)
	runDefaultGateway(t, httpAddr, "-c", cfg)
	out, errOut, code := runCLI(t, "receive", "-c", cfg, "--door", "DOOR1", "--supplier", "Acme",
		"--scan", "(01)09520123456788(10)SUP-9", "--cartons", "2")
	if code != 0 || !strings.Contains(out, `"lot": "SUP-9"`) {
		t.Fatalf("receive: %d %s %s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "ship", "-c", cfg, "--id", "S-9", "--door", "DOOR2", "--order", "77", "--customer", "Acme Retail",
		"--customer-id", "C-1", "--ship-to", "Dock 4, 1 rue X", "--lot", "SUP-9=2")
	if code != 0 || !strings.Contains(out, `"address": "Dock 4, 1 rue X"`) || !strings.Contains(out, `"source": "cli"`) {
		t.Fatalf("ship: %d %s %s", code, out, errOut)
	}
	if out, errOut, code = runCLI(t, "ship", "-c", cfg, "close", "S-9"); code != 0 || !strings.Contains(out, `"status": "shipped"`) {
		t.Fatalf("ship close: %d %s %s", code, out, errOut)
	}
	if out, errOut, code = runCLI(t, "recall", "report", "-c", cfg, "SUP-9"); code != 0 || !strings.Contains(out, `"supplier_lot": "SUP-9"`) {
		t.Fatalf("recall report: %d %s %s", code, out, errOut)
	}
	if out, errOut, code = runCLI(t, "trace", "-c", cfg, "customer", "C-1"); code != 0 || !strings.Contains(out, `"shipment": "S-9"`) {
		t.Fatalf("trace customer: %d %s %s", code, out, errOut)
	}
	today := time.Now().Format(time.DateOnly)
	xlsx := filepath.Join(dir, "out.xlsx")
	if _, errOut, code = runCLI(t, "fsma204", "-c", cfg, "--from", today, "--to", today, "--format", "xlsx", "--out", xlsx); code != 0 {
		t.Fatalf("fsma204: %d %s", code, errOut)
	}
	f, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, _ := f.GetRows(shipping.FSMASheet); len(rows) != 2 || rows[1][3] != "SUP-9" {
		t.Fatalf("rows %q", rows)
	}
	if _, errOut, code = runCLI(t, "fsma204", "-c", cfg, "--from", today, "--to", today, "--lot", "NOPE"); code != 1 || !strings.Contains(errOut, `lot "NOPE": not found`) {
		t.Fatalf("fsma204 of an unknown lot: %d %s", code, errOut)
	}
}
