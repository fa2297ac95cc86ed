package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/printers"
)

func TestRFIDCalibrateAndTestAgainstSim(t *testing.T) {
	const prof = "zebra-zt411r-203"
	addr, control := startSimPrinter(t, "--profile", prof)

	out, errs, code := prnRun(t, "printer", "rfid-calibrate", "--profile", prof, addr)
	var cal rfidCalibration
	if code != 0 || json.Unmarshal([]byte(out), &cal) != nil || cal.Position != "195" || len(cal.Rows) == 0 {
		t.Fatalf("rfid-calibrate exit %d: %s %s", code, out, errs)
	}

	out, errs, code = prnRun(t, "printer", "rfid-test", "--profile", prof, addr)
	var res rfidTest
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Encode.Outcome != printers.EncodeEncoded || res.Encode.EPCRead != testEPC || len(res.Encode.TID) != 24 {
		t.Fatalf("rfid-test exit %d: %s %s", code, out, errs)
	}

	simControl(t, control, "fail-tags 1")
	out, _, code = prnRun(t, "printer", "rfid-test", "--profile", prof, "--epc", "3034257bf7194e4000001a85", addr)
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Encode.Outcome != printers.EncodeVoided || res.Encode.Voids != 1 || res.Encode.Attempts != 2 {
		t.Fatalf("one bad tag: exit %d: %s", code, out)
	}

	simControl(t, control, "fail-tags 3")
	out, _, code = prnRun(t, "printer", "rfid-test", "--profile", prof, addr)
	if code != exitPrinterFaulted || json.Unmarshal([]byte(out), &res) != nil || res.Encode.Outcome != printers.EncodeFailed || !strings.Contains(res.Encode.Reason, "voided 3") {
		t.Fatalf("dead tags: exit %d: %s", code, out)
	}

	simControl(t, control, "miscalibrate on")
	prnRun(t, "printer", "rfid-test", "--profile", prof, addr) // the first write is its own
	out, _, code = prnRun(t, "printer", "rfid-test", "--profile", prof, "--epc", "3034257BF7194E4000001A86", addr)
	if code != exitPrinterFaulted || json.Unmarshal([]byte(out), &res) != nil || res.Encode.EPCRead != testEPC || !strings.Contains(res.Encode.Reason, "calibration") {
		t.Fatalf("miscalibrated: exit %d: %s", code, out)
	}

	for _, bad := range [][]string{
		{"printer", "rfid-test", "--profile", "zebra-zt411-203", addr},
		{"printer", "rfid-test", "--profile", prof, "--epc", "xyz", addr},
		{"printer", "rfid-calibrate", addr},
	} {
		if _, errs, code := prnRun(t, bad...); code == 0 || errs == "" {
			t.Errorf("%v: exit %d", bad, code)
		}
	}
}
