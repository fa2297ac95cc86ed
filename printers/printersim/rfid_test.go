package printersim

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/zebra"
)

// A fifth of the tags bad: every format ends written or failed, voids and
// tries follow ^RS, and the counters and the log agree.
func TestBadTagsVoidAndRetry(t *testing.T) {
	s, addr := start(t, Options{BadTags: 0.2, Seed: 7})
	c := dial(t, addr)
	const n = 200
	var zpl []byte
	zpl = append(zpl, "~RVE"...)
	for i := 0; i < n; i++ {
		zpl = append(zpl, rfidLabel(fmt.Sprintf("%024X", i), fmt.Sprint(i))...)
	}
	if _, err := c.Write(zpl); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	rd := zebra.NewReader(c)
	written, failed, voids := 0, 0, 0
	for i := 0; i < n; {
		rep, err := rd.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case rep.Verify != nil:
			want := fmt.Sprintf("%024X", i)
			if rep.Verify.Tag != fmt.Sprint(i) || rep.Verify.Data != want && rep.Verify.Data != "" {
				t.Fatalf("label %d read back %+v", i, *rep.Verify)
			}
		case rep.Encode != nil:
			voids += rep.Encode.Voids
			if rep.Encode.OK {
				written++
			} else {
				failed++
				if rep.Encode.Voids != 3 {
					t.Fatalf("failed after %d voids, want 3 (^RS default tries)", rep.Encode.Voids)
				}
			}
			i++
		}
	}
	cn := s.Counters()
	if written+failed != n || voids == 0 || int64(voids) != cn.Void || int64(written) != cn.Valid || cn.Total != cn.Valid+cn.Void {
		t.Fatalf("written %d failed %d voids %d; counters %+v", written, failed, voids, cn)
	}
	log := s.Labels()
	if int64(len(log)) != cn.Total {
		t.Fatalf("%d labels logged, counter %d", len(log), cn.Total)
	}
	good := map[int]int{}
	for _, l := range log {
		if !l.Void {
			good[l.Format]++
		}
	}
	for _, f := range s.Formats() {
		if (good[f.Seq] == 1) == f.EncodeFailed {
			t.Fatalf("format %d: %d good labels, encode failed %v", f.Seq, good[f.Seq], f.EncodeFailed)
		}
	}
	t.Logf("%d formats: %d written, %d failed, %d voids", n, written, failed, voids)
}

// A power cycle loses the buffer and the connection, refuses connections
// while off, restarts the uptime and keeps the counters.
func TestPowerCycle(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, addr := start(t, Options{LabelsPerSecond: 1, BootedAgo: time.Hour, Now: clock})
	c := dial(t, addr)
	if _, err := c.Write([]byte("^XA^PQ5^FDa^XZ^XA^FDb^XZ")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if f, _ := s.Count(); f == 2 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.SetSpeed(0) // prints what is queued
	s.SetSpeed(1)
	before := s.Counters()
	if _, err := c.Write([]byte("^XA^PQ3^FDc^XZ")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if f, _ := s.Count(); f == 3 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	s.PowerCycle(time.Minute)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection survived the power cycle")
	}
	fs := s.Formats()
	if !fs[2].Lost || fs[0].Lost || s.Counters() != before {
		t.Fatalf("formats %+v, counters %+v (before %+v)", fs, s.Counters(), before)
	}
	if h := s.HostStatus(); h.FormatsInBuffer != 0 || h.LabelsRemaining != 0 {
		t.Fatalf("buffer after power cycle: %+v", h)
	}
	// off: the connection is reset
	if r, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		_ = r.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := r.Read(make([]byte, 1)); err == nil {
			t.Fatal("connection served while the printer is off")
		}
		r.Close()
	}
	mu.Lock()
	now = now.Add(time.Minute + 5*time.Second)
	mu.Unlock()
	c2 := dial(t, addr)
	q := zebra.NewQuerier(c2, printers.StatusHS, nil)
	vals, err := q.Getvar(context.Background(), 5*time.Second, SGDUptime, SGDLabelCount)
	if err != nil {
		t.Fatal(err)
	}
	if up, err := zebra.ParseUptime(string(vals[0])); err != nil || up != 5*time.Second {
		t.Fatalf("uptime %q %v", vals[0], err)
	}
	if vals[1] != zebra.SGDValue(fmt.Sprint(before.Total)) {
		t.Fatalf("label count %q, want %d", vals[1], before.Total)
	}
}

// A printer profile without SGD ignores getvar; one without RFID prints
// ^RFW formats without encoding.
func TestProfileCapabilities(t *testing.T) {
	s, addr := start(t, Options{Profile: "generic-zpl-203"})
	c := dial(t, addr)
	q := zebra.NewQuerier(c, printers.StatusHS, nil)
	if _, err := q.Getvar(context.Background(), 50*time.Millisecond, SGDLabelCount); err == nil {
		t.Fatal("a printer without SGD answered getvar")
	}
	if _, err := c.Write([]byte("~RVE" + rfidLabel(epcA, "1"))); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if _, l := s.Count(); l == 1 {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if l := s.Labels(); len(l) != 1 || l[0].EPC != "" || s.Counters().Valid != 0 {
		t.Fatalf("labels %+v", l)
	}
}

func TestRFIDControl(t *testing.T) {
	s, _ := start(t, Options{})
	for cmd, want := range map[string]string{
		"bad-tags 0.25": "ok", "fail-tags 2": "ok", "miscalibrate on": "ok", "miscalibrate off": "ok",
		"power-cycle": "ok", "power-cycle 0.01": "ok", "counters": `{"total":0,"valid":0,"void":0,"length_dots":0}`,
		"bad-tags 2": "error:", "fail-tags -1": "error:", "power-cycle x": "error:", "miscalibrate maybe": "error:",
		"bad-tags NaN": "error:", "power-cycle NaN": "error:", "speed NaN": "error:", "speed Inf": "error:",
	} {
		if got := s.Control(cmd); got != want && !(want == "error:" && len(got) > 6 && got[:6] == "error:") {
			t.Errorf("%s: %s", cmd, got)
		}
	}
}
