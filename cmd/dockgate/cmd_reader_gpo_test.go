package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// reader gpo sets an output of the simulated reader, which prints the
// change; the command prints what it set.
func TestReaderGPOSetsOutput(t *testing.T) {
	addr, simOut := startSimReaderOut(t, "--scenario", "dock-in")
	out, errs, code := rdrRun(t, "reader", "gpo", "--llrp", addr, "--port", "2", "--state", "on")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Reader string `json:"reader"`
		GPO    int    `json:"gpo"`
		State  string `json:"state"`
		Time   string `json:"time"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || got.Reader != addr || got.GPO != 2 || got.State != "on" {
		t.Fatalf("output %q: %v", out, err)
	}
	if _, err := time.Parse(time.RFC3339, got.Time); err != nil {
		t.Errorf("time %q: %v", got.Time, err)
	}
	// The simulator printed the change (after its listen line).
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(simOut.String(), `{"gpo":2,"state":"high"`) {
		if time.Now().After(deadline) {
			t.Fatalf("simulator output %q lacks GPO 2 high", simOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReaderGPOErrors(t *testing.T) {
	addr := startSimReader(t, "--scenario", "dock-in")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--port", "1", "--state", "on"}, "--llrp HOST[:PORT] is required"},
		{[]string{"--llrp", addr, "--state", "on"}, "--port 0: give the GPO port, numbered from 1"},
		{[]string{"--llrp", addr, "--port", "1", "--state", "blink"}, `--state "blink": give on or off`},
		{[]string{"--llrp", addr, "--port", "9", "--state", "off"}, "has 4 GPO ports; port 9 does not exist"},
		{[]string{"--llrp", freePort(t), "--port", "1", "--state", "on", "--connect-timeout", "1s"}, "never connected in 1"},
	} {
		out, errs, code := rdrRun(t, append([]string{"reader", "gpo"}, tc.args...)...)
		if code != 1 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %q", tc.args, code, out, errs, tc.want)
		}
	}
}

// reader watch prints the inputs' state at connect, then GPI changes, as
// JSON lines beside the reads.
func TestReaderWatchPrintsGPI(t *testing.T) {
	addr := startSimReader(t, "--scenario", "photo-eye", "--time-scale", "8")
	out, errs, code := rdrRun(t, "reader", "watch", "--llrp", addr, "--keepalive", "1s", "--duration", "3s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	atConnect := `{"gpi":1,"state":"low","initial":true {"gpi":2,"state":"low","initial":true {"gpi":3,"state":"low","initial":true {"gpi":4,"state":"low","initial":true `
	if got := strings.Join(gpiLines(t, out), " "); got != atConnect+`{"gpi":1,"state":"high" {"gpi":1,"state":"low"` {
		t.Fatalf("GPI lines %q", got)
	}
}

// A photo eye blocked before reader watch connects is printed high at
// once, marked initial.
func TestReaderWatchPrintsGPIBlockedAtConnect(t *testing.T) {
	scenario := filepath.Join(t.TempDir(), "eye-blocked.yaml")
	if err := os.WriteFile(scenario, []byte("name: eye-blocked\ngpi: [{at: 0s, port: 1, state: high}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := startSimReader(t, "--scenario", scenario)
	out, errs, code := rdrRun(t, "reader", "watch", "--llrp", addr, "--keepalive", "1s", "--duration", "1s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := gpiLines(t, out); len(got) != 4 || got[0] != `{"gpi":1,"state":"high","initial":true` {
		t.Fatalf("GPI lines %q; want GPI 1 high at connect first, and the four inputs once", got)
	}
}

// gpiLines are reader watch's GPI lines up to their time, checked to carry
// one.
func gpiLines(t *testing.T, out string) []string {
	t.Helper()
	var gpi []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var g struct {
			GPI   *int   `json:"gpi"`
			State string `json:"state"`
			Time  string `json:"time"`
		}
		if err := json.Unmarshal([]byte(l), &g); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if g.GPI != nil {
			if _, err := time.Parse(time.RFC3339, g.Time); err != nil {
				t.Errorf("line %q: time: %v", l, err)
			}
			gpi = append(gpi, l[:strings.Index(l, `,"time"`)])
		}
	}
	return gpi
}
