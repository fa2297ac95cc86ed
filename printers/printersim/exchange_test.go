package printersim

import (
	"bytes"
	"flag"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the exchange fixtures in ../zebra/testdata/exchanges from the simulator")

// exchangeDir holds the byte-level fixtures shared with printers/zebra:
// NAME.request is what the gateway sends, NAME.reply what the printer
// answers. The zebra tests decode the replies; these tests check that the
// simulator answers each request with exactly those bytes.
const exchangeDir = "../zebra/testdata/exchanges"

const (
	epcA = "3034257BF7194E4000001A85"
	epcB = "3034257BF7194E4000001A86"
)

// rfidLabel is an RFID carton format that reads its tag back with ^HV.
func rfidLabel(epc, tag string) string {
	return "^XA^RS8^RFW,H,,,A^FD" + epc + "^FS^FN9^RFR,H,0,12,E^FS^HV9,24,DGV" + tag + "[,],L^FS^FO50,50^A0N,40,40^FD" + tag + "^FS^XZ"
}

// exchanges are the requests and the simulator state they are answered in.
var exchanges = []struct {
	name    string
	opts    Options
	setup   func(s *Sim)
	request string
}{
	{name: "hs-idle", request: "~HS"},
	{name: "hqes-ready", request: "~HQES"},
	{name: "hqod-60in", setup: print10, request: "~HQOD"},
	{name: "getvar-label-count", setup: print10, request: "! U1 getvar \"odometer.total_label_count\"\r\n"},
	{name: "getvar-unknown", request: "! U1 getvar \"no.such.setting\"\r\n"},
	{name: "getvar-uptime", opts: Options{BootedAgo: time.Hour + 23*time.Minute + 45*time.Second}, request: "! U1 getvar \"device.uptime\"\r\n"},
	{name: "getvar-rfid-counters", setup: func(s *Sim) {
		s.FailTags(1)
		s.received([]byte(rfidLabel(epcA, "1")))
	}, request: "! U1 getvar \"odometer.rfid.valid_resettable\"\r\n! U1 getvar \"odometer.rfid.void_resettable\"\r\n! U1 getvar \"odometer.total_label_count\"\r\n"},
	{name: "rv-encoded", request: "~RVE^XA^RS8^RFW,H,,,A^FD" + epcA + "^FS^FO50,50^FDcarton^FS^XZ"},
	{name: "rv-voided", setup: func(s *Sim) { s.FailTags(2) }, request: "~RVE^XA^RS8^RFW,H,,,A^FD" + epcA + "^FS^XZ"},
	{name: "rv-failed", setup: func(s *Sim) { s.FailTags(3) }, request: "~RVE^XA^RS8^RFW,H,,,A^FD" + epcA + "^FS^XZ"},
	{name: "rv-failed-one-try", setup: func(s *Sim) { s.FailTags(1) }, request: "~RVE^XA^RS8,,,1^RFW,H,,,A^FD" + epcA + "^FS^XZ"},
	{name: "rv-disabled", request: "~RVD^XA^RS8^RFW,H,,,A^FD" + epcA + "^FS^XZ"},
	{name: "hv-readback", request: rfidLabel(epcA, "7")},
	{name: "hv-miscalibrated", opts: Options{Miscalibrated: true}, request: rfidLabel(epcA, "7") + rfidLabel(epcB, "8")},
	{name: "hv-rv-failed", setup: func(s *Sim) { s.FailTags(3) }, request: "~RVE" + rfidLabel(epcA, "7")},
	{name: "hr-calibrate", request: "^XA^HRDGCALSTART,DGCALEND^XZ"},
	{name: "hv-tid", request: "^XA^RS8^RFW,H,,,A^FD" + epcA + "^FS^FN999^RFR,H,0,12,E^FS^HV999,24,DGV7[,],L^FS^FN998^RFR,H,0,12,2^FS^HV998,24,DGV7.tid[,],L^FS^XZ"},
}

func print10(s *Sim) { s.received([]byte("^XA^LL1218^PQ10^FDx^FS^XZ")) }

// simClock is a clock that stands still.
func simClock() time.Time { return time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC) }

func TestExchanges(t *testing.T) {
	for _, x := range exchanges {
		t.Run(x.name, func(t *testing.T) {
			o := x.opts
			o.Now = simClock
			s, addr := start(t, o)
			if x.setup != nil {
				x.setup(s)
			}
			c := dial(t, addr)
			if _, err := c.Write([]byte(x.request)); err != nil {
				t.Fatal(err)
			}
			req := filepath.Join(exchangeDir, x.name+".request")
			rep := filepath.Join(exchangeDir, x.name+".reply")
			if *update {
				got := readQuiet(t, c, 300*time.Millisecond)
				if err := os.WriteFile(req, []byte(x.request), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(rep, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantReq, err := os.ReadFile(req)
			if err != nil {
				t.Fatal(err)
			}
			if string(wantReq) != x.request {
				t.Fatalf("request %q differs from %s %q (go test -update rewrites it)", x.request, req, wantReq)
			}
			want, err := os.ReadFile(rep)
			if err != nil {
				t.Fatal(err)
			}
			got := readN(t, c, len(want))
			if extra := readQuiet(t, c, 30*time.Millisecond); len(extra) > 0 {
				got = append(got, extra...)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("reply\n%q\nwant (%s)\n%q", got, rep, want)
			}
		})
	}
}

// readN reads n bytes or what came within 5s.
func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		_ = c.SetReadDeadline(deadline)
		k, err := c.Read(buf)
		got = append(got, buf[:k]...)
		if err != nil {
			break
		}
	}
	return got
}

// readQuiet reads until nothing came for quiet.
func readQuiet(t *testing.T, c net.Conn, quiet time.Duration) []byte {
	t.Helper()
	var got []byte
	buf := make([]byte, 4096)
	for i := 0; i < 1000; i++ {
		_ = c.SetReadDeadline(time.Now().Add(quiet))
		k, err := c.Read(buf)
		got = append(got, buf[:k]...)
		if err != nil {
			break
		}
	}
	return got
}
