package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// withoutGPI are reader watch's output lines but its GPI lines (the inputs
// at connect and their changes, which --count does not count).
func withoutGPI(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, `{"gpi":`) {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestReaderWatchPrintsReads(t *testing.T) {
	addr := startSimReader(t, "--scenario", "dock-in", "--time-scale", "2")
	out, errs, code := rdrRun(t, "reader", "watch", "--llrp", addr, "--antennas", "1,3", "--keepalive", "1s",
		"--count", "5", "--duration", "20s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := withoutGPI(out)
	if len(lines) != 5 {
		t.Fatalf("%d lines of reads, want 5:\n%s", len(lines), out)
	}
	for _, l := range lines {
		var r struct {
			EPC     string `json:"epc"`
			URI     string `json:"uri"`
			Antenna int    `json:"antenna"`
			RSSI    *int   `json:"rssi"`
			Time    string `json:"time"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if len(r.EPC) != 24 || !strings.HasPrefix(r.URI, "urn:epc:id:") || (r.Antenna != 1 && r.Antenna != 3) || r.RSSI == nil {
			t.Errorf("line %q", l)
		}
		if _, err := time.Parse(time.RFC3339, r.Time); err != nil {
			t.Errorf("time %q is not RFC 3339: %v", r.Time, err)
		}
	}
	if !strings.Contains(errs, "reader connected") {
		t.Errorf("stderr lacks the connection event: %q", errs)
	}
	// The end of the watch is not reported as an error.
	if !strings.Contains(errs, "reader disconnected: the watch ended") || strings.Contains(errs, "context") {
		t.Errorf("stderr at the end of the watch: %q", errs)
	}
}

func TestReaderWatchPortalPrintsPass(t *testing.T) {
	addr := startSimReader(t, "--scenario", "dock-in", "--time-scale", "2")
	out, errs, code := rdrRun(t, "reader", "watch", "--llrp", addr, "--keepalive", "1s", "--portal",
		"--door", "dock-1", "--presence-timeout", "300ms",
		"--count", "1", "--duration", "20s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var p struct {
		Door      string   `json:"door"`
		Direction string   `json:"direction"`
		Count     int      `json:"count"`
		EPCs      []string `json:"epcs"`
		Parent    string   `json:"parent"`
		Cases     int      `json:"cases"`
		Items     int      `json:"items"`
	}
	lines := withoutGPI(out)
	if len(lines) != 1 {
		t.Fatalf("%d lines of passes, want 1:\n%s", len(lines), out)
	}
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if p.Door != "dock-1" || p.Direction != "in" || p.Count != 9 || len(p.EPCs) != 9 ||
		p.Parent != "106141412345678908" || p.Cases != 4 || p.Items != 4 {
		t.Fatalf("pass %+v", p)
	}
}

func TestReaderWatchErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reader", "watch"}, "exactly one of --llrp"},
		{[]string{"reader", "watch", "--llrp", "h:1", "--serial", "/dev/x"}, "exactly one of --llrp"},
		{[]string{"reader", "watch", "--llrp", "h:1", "--antennas", "1,x"}, "--antennas 1,2"},
		{[]string{"reader", "watch", "--serial", "/dev/x", "--protocol", "foo"}, "not one of m100, ru5102, ascii"},
		{[]string{"reader", "watch", "--llrp", "h:1", "--portal", "--outside", "1", "--inside", "1"}, "both outside and inside"},
	} {
		_, errs, code := rdrRun(t, tc.args...)
		if code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
	if _, _, code := rdrRun(t, "reader"); code != 2 {
		t.Errorf("reader without subcommand: exit %d, want 2", code)
	}
}

// A watch that never connected ends with exit 1 and a message naming the
// reader and why: at --connect-timeout, or when --duration ends it first.
func TestReaderWatchNeverConnectedFails(t *testing.T) {
	addr := freePort(t) // closed again: nothing listens there
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--connect-timeout", "1s"}, "never connected in 1"},
		{[]string{"--duration", "1s"}, "never connected in 1"},
	} {
		start := time.Now()
		out, errs, code := rdrRun(t, append([]string{"reader", "watch", "--llrp", addr}, tc.args...)...)
		if code != 1 || out != "" || !strings.Contains(errs, "dockgate reader: reader "+addr+" "+tc.want) || !strings.Contains(errs, "connection refused") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args, code, out, errs, tc.want)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%v: took %v", tc.args, d)
		}
	}
	if _, errs, code := rdrRun(t, "reader", "watch", "--llrp", addr, "--connect-timeout", "0s"); code != 1 || !strings.Contains(errs, "--connect-timeout") {
		t.Errorf("--connect-timeout 0s: exit %d, stderr %q", code, errs)
	}
}
