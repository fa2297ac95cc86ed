package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
)

type tuneOut struct {
	ReadsPerS float64 `json:"reads_per_s"`
	Tags      int     `json:"tags"`
	Time      string  `json:"time"`
	Antennas  []struct {
		Antenna   int      `json:"antenna"`
		ReadsPerS float64  `json:"reads_per_s"`
		Tags      int      `json:"tags"`
		MeanRSSI  *float64 `json:"mean_rssi"`
		MinRSSI   *int     `json:"min_rssi"`
		MaxRSSI   *int     `json:"max_rssi"`
	} `json:"antennas"`
}

// tuneLines runs "reader watch --tune" against a door-tune simulator and
// returns its last line (the first may count the reader's backlog).
func tuneLines(t *testing.T, extra ...string) tuneOut {
	t.Helper()
	addr := startSimReader(t, "--scenario", "door-tune", "--time-scale", "2")
	out, errs, code := rdrRun(t, append([]string{"reader", "watch", "--llrp", addr, "--tune", "--every", "300ms",
		"--count", "3", "--duration", "20s"}, extra...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := withoutGPI(out)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out)
	}
	var l tuneOut
	if err := json.Unmarshal([]byte(lines[2]), &l); err != nil {
		t.Fatalf("line %q: %v", lines[2], err)
	}
	if _, err := time.Parse(time.RFC3339, l.Time); err != nil {
		t.Errorf("time %q: %v", l.Time, err)
	}
	return l
}

// At full power the door reads the parked pallet's 9 tags and the next
// lane's 2 strays; at 26 dBm (4 dB less) the strays are gone and every
// antenna's weakest read is above the -80 dBm floor by more than the
// strays were.
func TestReaderWatchTune(t *testing.T) {
	full := tuneLines(t)
	low := tuneLines(t, "--tx-power-dbm", "26")
	if full.Tags != 11 || low.Tags != 9 {
		t.Errorf("tags at 30 dBm %d, at 26 dBm %d; want 11 and 9", full.Tags, low.Tags)
	}
	if len(full.Antennas) != 4 || len(low.Antennas) != 4 {
		t.Fatalf("antennas %+v / %+v", full.Antennas, low.Antennas)
	}
	for i, a := range low.Antennas {
		if a.Antenna != i+1 || a.ReadsPerS <= 0 || a.Tags != 9 || a.MeanRSSI == nil || *a.MinRSSI < -75 || *a.MaxRSSI > -50 {
			t.Errorf("26 dBm antenna %+v", a)
		}
	}
	if f := full.Antennas[1]; f.Tags != 10 || *f.MinRSSI > -77 {
		t.Errorf("30 dBm antenna 2 %+v: want the stray, at -78 dBm", f)
	}
}

func TestTunerCounts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tn := newTuner(t0)
	e1, e2 := rfid.MustParseEPC("3074257BF7194E4000001A85"), rfid.MustParseEPC("3074257BF7194E4000001A86")
	tn.observe([]rfid.Read{{EPC: e1, Antenna: 2, RSSI: -60, HasRSSI: true}, {EPC: e2, Antenna: 2, RSSI: -70, HasRSSI: true},
		{EPC: e1, Antenna: 2, RSSI: -65, HasRSSI: true}, {EPC: e1, Antenna: 1}})
	l := tn.line(t0.Add(2 * time.Second))
	if l.ReadsPerS != 2 || l.Tags != 2 || len(l.Antennas) != 2 {
		t.Fatalf("%+v", l)
	}
	a1, a2 := l.Antennas[0], l.Antennas[1]
	if a1.Antenna != 1 || a1.ReadsPerS != 0.5 || a1.MeanRSSI != nil {
		t.Errorf("antenna 1 %+v", a1)
	}
	if a2.Antenna != 2 || a2.ReadsPerS != 1.5 || a2.Tags != 2 || *a2.MeanRSSI != -65 || *a2.MinRSSI != -70 || *a2.MaxRSSI != -60 {
		t.Errorf("antenna 2 %+v", a2)
	}
	// The next interval starts from zero; antennas seen stay listed.
	l = tn.line(t0.Add(3 * time.Second))
	if l.ReadsPerS != 0 || len(l.Antennas) != 2 || l.Antennas[1].ReadsPerS != 0 || l.Antennas[1].MeanRSSI != nil {
		t.Errorf("second line %+v", l)
	}
	// Reads dated well before the watch started (a report the reader held
	// while no client read) are counted apart, not as the door's reads;
	// reads a report delayed a little are the door's.
	tn.observe([]rfid.Read{{EPC: e1, Antenna: 3, Time: t0.Add(-time.Minute)}, {EPC: e2, Antenna: 3, Time: t0.Add(-time.Second)},
		{EPC: e2, Antenna: 2, Time: t0.Add(-100 * time.Millisecond)}, {EPC: e1, Antenna: 2, Time: t0.Add(3500 * time.Millisecond)}})
	l = tn.line(t0.Add(4 * time.Second))
	if l.HeldReads != 2 || l.ReadsPerS != 2 || l.Tags != 2 || len(l.Antennas) != 2 {
		t.Errorf("line with held reads %+v: want 2 held, 2 reads of 2 tags on antenna 2, no antenna 3", l)
	}
	if l = tn.line(t0.Add(5 * time.Second)); l.HeldReads != 0 {
		t.Errorf("held reads counted again: %+v", l)
	}
	// After a reconnect, the reads made while it was away are held too.
	tn.connected(t0.Add(10 * time.Second))
	tn.observe([]rfid.Read{{EPC: e1, Antenna: 2, Time: t0.Add(6 * time.Second)}, {EPC: e1, Antenna: 2, Time: t0.Add(10 * time.Second)}})
	if l = tn.line(t0.Add(11 * time.Second)); l.HeldReads != 1 || l.Antennas[1].ReadsPerS != 0.17 {
		t.Errorf("after a reconnect %+v: want 1 held, 1 read", l)
	}
	if _, errs, code := rdrRun(t, "reader", "watch", "--llrp", "h:1", "--tune", "--portal"); code != 1 || !strings.Contains(errs, "--tune") {
		t.Errorf("--tune --portal: exit %d, %q", code, errs)
	}
	if _, errs, code := rdrRun(t, "reader", "watch", "--serial", "/dev/x", "--protocol", "m100", "--session", "1"); code != 1 || !strings.Contains(errs, "--tx-power-dbm only") {
		t.Errorf("serial --session: exit %d, %q", code, errs)
	}
	if _, errs, code := rdrRun(t, "reader", "watch", "--llrp", "h:1", "--target", "C"); code != 2 || !strings.Contains(errs, "not A, B or AB") {
		t.Errorf("--target C: exit %d, %q", code, errs)
	}
}

// "reader watch --tune" applies RF lines from its input while it runs,
// on the same connection: 26 dBm drops the next lane's strays; a bad line
// gets an error line and changes nothing.
func TestReaderWatchTuneLive(t *testing.T) {
	addr := startSimReader(t, "--scenario", "door-tune", "--time-scale", "2")
	pr, pw := io.Pipe()
	defer pw.Close()
	out, errb := &rdrBuffer{}, &rdrBuffer{}
	env := &cliEnv{stdin: pr, stdout: out, stderr: errb, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, env, []string{"reader", "watch", "--llrp", addr, "--tune", "--every", "300ms", "--duration", "30s"})
	}()
	// lines waits (bounded) for the output to have more than n lines.
	lines := func(n int) []string {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if l := strings.Split(strings.TrimSpace(out.String()), "\n"); len(l) > n && l[0] != "" {
				return l
			}
		}
		t.Fatalf("fewer than %d lines: %s\nstderr: %s", n+1, out.String(), errb.String())
		return nil
	}
	send := func(line string) tuneResult {
		t.Helper()
		n := len(lines(0))
		if _, err := io.WriteString(pw, line+"\n"); err != nil {
			t.Fatal(err)
		}
		for {
			l := lines(n)
			for _, s := range l[n:] {
				if strings.Contains(s, `"input"`) {
					var r tuneResult
					if err := json.Unmarshal([]byte(s), &r); err != nil {
						t.Fatalf("line %q: %v", s, err)
					}
					return r
				}
			}
			n = len(l)
		}
	}
	// tags waits for two tally lines after n and returns the second's tags.
	tags := func() int {
		t.Helper()
		n := len(lines(0))
		l := lines(n + 1)
		var to tuneOut
		if err := json.Unmarshal([]byte(l[n+1]), &to); err != nil {
			t.Fatalf("line %q: %v", l[n+1], err)
		}
		return to.Tags
	}
	lines(1)
	if n := tags(); n != 11 {
		t.Fatalf("%d tags at full power, want 11 (9 and the 2 strays)", n)
	}
	r := send("tx_power_dbm 26")
	if !r.Applied || r.Error != "" || r.RF["tx_power_dbm"] != 26.0 {
		t.Fatalf("tx_power_dbm 26: %+v", r)
	}
	if n := tags(); n != 9 {
		t.Errorf("%d tags at 26 dBm, want 9", n)
	}
	r = send("antenna 2 session: 1")
	if !r.Applied || r.AntennaRF[2]["session"] != 1.0 || r.RF["tx_power_dbm"] != 26.0 {
		t.Errorf("antenna 2 session 1: %+v", r)
	}
	for line, want := range map[string]string{
		"session 5":          "session 5 is not a Gen2 session",
		"power 20":           `unknown key "power"`,
		"target":             "is not KEY VALUE",
		"tx_power_dbm 35.5":  "outside the reader's", // over the simulator's 30 dBm: a warning, still applied
		"antenna 0 target A": "antenna \"0\" is not a port number",
	} {
		r := send(line)
		if !strings.Contains(r.Error+strings.Join(r.Warnings, "; "), want) {
			t.Errorf("%q: %+v, want %q", line, r, want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	if n := strings.Count(errb.String(), "reader connected"); n != 1 {
		t.Errorf("%d connections, want 1: %s", n, errb.String())
	}
}

// An input line is a key the configuration knows and a YAML value, or an
// error; never a panic.
func FuzzParseTuneLine(f *testing.F) {
	for _, s := range []string{"tx_power_dbm 27", "antenna 2 session: 1", "target=AB", "vendor.impinj.search_mode dual_target",
		"rf_mode auto", "antenna 70000 session 1", "session [1, 2]", "tx_power_dbm {a: 1}", "", "antenna", "x y z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ant, key, val, err := parseTuneLine(line)
		if err != nil {
			return
		}
		if !slices.Contains(tuneKeys, key) || val == nil {
			t.Fatalf("%q: antenna %d key %q value %v", line, ant, key, val)
		}
		_, _ = rfFromKeys(map[string]any{key: val}, "")
	})
}

// RF lines on the input before the reader is up (piped in) wait for the
// connection instead of being refused as "not connected".
func TestReaderWatchTuneLinesBeforeConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the simulator takes the port once the watch has tried it
	out, errb := &rdrBuffer{}, &rdrBuffer{}
	env := &cliEnv{stdin: strings.NewReader("tx_power_dbm 26\n"), stdout: out, stderr: errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- runMain(context.Background(), env, []string{"reader", "watch", "--llrp", addr, "--tune", "--every", "300ms",
			"--count", "3", "--duration", "20s", "--connect-timeout", "15s"})
	}()
	for !strings.Contains(errb.String(), "connect_failed") {
		select {
		case code := <-done:
			t.Fatalf("exit %d before the reader was up: %s", code, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	startSimReader(t, "--listen", addr, "--scenario", "door-tune", "--time-scale", "2")
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.Contains(l, `"input"`) {
			continue
		}
		var r tuneResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if !r.Applied || r.Error != "" || r.RF["tx_power_dbm"] != 26.0 {
			t.Fatalf("tx_power_dbm 26 given before the reader was up: %+v", r)
		}
		return
	}
	t.Fatalf("no answer to the input line:\n%s", out.String())
}
