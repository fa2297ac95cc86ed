package zebra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers"
)

const (
	epcA = "3034257BF7194E4000001A85"
	epcB = "3034257BF7194E4000001A86"
)

func sgd(v string) *SGDValue { x := SGDValue(v); return &x }

// exchangeReplies is what each reply of testdata/exchanges decodes to (the
// printer simulator's tests check it sends exactly these bytes).
var exchangeReplies = map[string][]Reply{
	"hs-idle": {{HS: &HostStatus{CommSettings: 30, LabelLength: 1218, FunctionSettings: 1, ThermalTransfer: 1,
		PrintMode: "2", FormatWhilePrinting: 1}}},
	"hqes-ready":           {{HQES: &ExtendedStatus{}}},
	"hqod-60in":            {{Odometer: &Odometer{Total: 60, User1: 60, User2: 60, Unit: "in"}}},
	"getvar-label-count":   {{SGD: sgd("10")}},
	"getvar-unknown":       {{SGD: sgd("?")}},
	"getvar-uptime":        {{SGD: sgd("00 days 01 hours 23 mins 45 secs")}},
	"getvar-rfid-counters": {{SGD: sgd("1")}, {SGD: sgd("1")}, {SGD: sgd("2")}},
	"rv-encoded":           {{Encode: &EncodeReport{OK: true}}},
	"rv-voided":            {{Encode: &EncodeReport{OK: true, Voids: 2}}},
	"rv-failed":            {{Encode: &EncodeReport{Voids: 3}}},
	"rv-failed-one-try":    {{Encode: &EncodeReport{Voids: 1}}},
	"rv-disabled":          nil,
	"hv-readback":          {{Verify: &Verify{Tag: "7", Data: epcA}}},
	"hv-miscalibrated":     {{Verify: &Verify{Tag: "7", Data: epcA}}, {Verify: &Verify{Tag: "8", Data: epcA}}},
	"hv-rv-failed":         {{Verify: &Verify{Tag: "7"}}, {Encode: &EncodeReport{Voids: 3}}},
	"hv-tid":               {{Verify: &Verify{Tag: "7", Data: epcA}}, {Verify: &Verify{Tag: "7.tid", Data: "E28011600000000000000001"}}},
	"hr-calibrate": {{Calibration: &Calibration{Position: "195", Rows: []CalibrationRow{
		{Position: "180"}, {Position: "185"}, {Position: "190", Read: true, Write: true},
		{Position: "195", Read: true, Write: true}, {Position: "200", Read: true, Write: true},
		{Position: "205", Read: true}, {Position: "210"}}}}},
}

// exchangeRequests are the requests the package's builders make.
var exchangeRequests = map[string][]byte{
	"hs-idle":            CmdHS,
	"hqes-ready":         CmdHQES,
	"hqod-60in":          CmdHQOD,
	"getvar-label-count": AppendGetvar(nil, "odometer.total_label_count"),
	"getvar-unknown":     AppendGetvar(nil, "no.such.setting"),
	"getvar-uptime":      AppendGetvar(nil, "device.uptime"),
	"getvar-rfid-counters": AppendGetvar(AppendGetvar(AppendGetvar(nil, "odometer.rfid.valid_resettable"),
		"odometer.rfid.void_resettable"), "odometer.total_label_count"),
}

func readExchange(t testing.TB, name, ext string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "exchanges", name+"."+ext))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExchangeReplies(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "exchanges", "*.reply"))
	if len(files) != len(exchangeReplies) {
		t.Fatalf("%d reply fixtures, %d decodings", len(files), len(exchangeReplies))
	}
	for name, want := range exchangeReplies {
		t.Run(name, func(t *testing.T) {
			raw := readExchange(t, name, "reply")
			got, frameErrs, err := readAll(bytes.NewReader(raw))
			if err != nil || frameErrs != 0 {
				t.Fatalf("%v, %d frame errors", err, frameErrs)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %s\nwant %s", show(got), show(want))
			}
			for _, size := range []int{1, 2, 3, 7} {
				c, _, _ := readAll(&chunked{data: raw, sizes: []int{size}})
				if !reflect.DeepEqual(c, want) {
					t.Fatalf("in chunks of %d: %s", size, show(c))
				}
			}
			if req, ok := exchangeRequests[name]; ok {
				if f := readExchange(t, name, "request"); !bytes.Equal(req, f) {
					t.Fatalf("request %q, fixture %q", req, f)
				}
			}
		})
	}
}

func show(reps []Reply) string {
	var b bytes.Buffer
	for _, r := range reps {
		v := reflect.ValueOf(r)
		for i := 0; i < v.NumField(); i++ {
			if !v.Field(i).IsNil() {
				fmt.Fprintf(&b, "%s:%+v ", v.Type().Field(i).Name, v.Field(i).Elem().Interface())
			}
		}
	}
	return b.String()
}

// Replies outside frames: the encoders and the reader agree, and what is
// not a reply is skipped.
func TestUnframedReplies(t *testing.T) {
	var raw []byte
	raw = append(raw, "noise _x_ _+,_ _+,12345_ \"\r\n"...) // none of these is a reply; the quote opens one
	raw = append(raw, "\""...)
	raw = AppendEncodeReport(raw, EncodeReport{OK: true, Voids: 1})
	raw = AppendVerify(raw, Verify{Tag: "J-1", Data: epcB})
	raw = AppendHS(raw, distinctHS)
	raw = AppendSGD(raw, "42")
	raw = append(raw, "DGV[no tag]DGVx[\x01]DG"...)
	raw = AppendCalibration(raw, Calibration{Position: "F12", Rows: []CalibrationRow{{Position: "F10", Read: true}}})
	got, _, err := readAll(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []Reply{
		{SGD: sgd("\r\n")},
		{Encode: &EncodeReport{OK: true, Voids: 1}},
		{Verify: &Verify{Tag: "J-1", Data: epcB}},
		{HS: &distinctHS},
		{SGD: sgd("42")},
		{Calibration: &Calibration{Position: "F12", Rows: []CalibrationRow{{Position: "F10", Read: true}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %s\nwant %s", show(got), show(want))
	}
}

func TestParseUptime(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"00 days 01 hours 23 mins 45 secs": time.Hour + 23*time.Minute + 45*time.Second,
		"3 days 0 hours 0 mins 1 secs":     72*time.Hour + time.Second,
		"12 secs":                          12 * time.Second,
	} {
		if d, err := ParseUptime(s); err != nil || d != want {
			t.Errorf("ParseUptime(%q) = %v, %v; want %v", s, d, err, want)
		}
		if back, _ := ParseUptime(string(AppendUptime(nil, want))); back != want {
			t.Errorf("AppendUptime(%v) parses back as %v", want, back)
		}
	}
	for _, bad := range []string{"", "?", "1 day 2", "x secs", "1 weeks", "1 secs 2 secs", "-1 secs", "9999999 days"} {
		if _, err := ParseUptime(bad); err == nil {
			t.Errorf("ParseUptime(%q) accepted", bad)
		}
	}
}

func TestOdometerFrames(t *testing.T) {
	cm := AppendOdometer(nil, Odometer{Total: 1234, User1: 5, User2: 6, Unit: "cm"})
	got, _, err := readAll(bytes.NewReader(cm))
	if err != nil || len(got) != 1 || got[0].Odometer == nil || *got[0].Odometer != (Odometer{Total: 1234, User1: 5, User2: 6, Unit: "cm"}) {
		t.Fatalf("cm odometer: %s %v", show(got), err)
	}
	for _, bad := range []string{
		"\x02PRINT METERS\r\nTOTAL NONRESETTABLE: x \"\r\n\x03",
		"\x02PRINT METERS\r\nTOTAL NONRESETTABLE: 1 mi\r\n\x03",
		"\x02PRINT METERS\r\nUSER RESETTABLE CNTR1: 1 \"\r\n\x03",
		"\x02PRINT METERS\r\nTOTAL NONRESETTABLE: 1 \"\r\nUSER RESETTABLE CNTR1: 1 cm\r\n\x03",
	} {
		_, fe, err := readAll(bytes.NewReader([]byte(bad)))
		if err != nil || fe != 1 {
			t.Errorf("%q: %d frame errors, %v", bad, fe, err)
		}
	}
}

func TestParseCalibrationErrors(t *testing.T) {
	for _, bad := range []string{"", "190,R,W", "position=\n", "position=x", "position=1\n190,X,W", "position=1\n190,R"} {
		if _, err := ParseCalibration(bad); err == nil || !errors.Is(err, printers.ErrBadStatus) {
			t.Errorf("ParseCalibration(%q): %v", bad, err)
		}
	}
}

// pipePrinter answers a Querier over net.Pipe with canned replies per
// request line.
func pipePrinter(t *testing.T, answer func(req []byte) []byte) net.Conn {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := b.Read(buf)
			if err != nil {
				return
			}
			if rep := answer(append([]byte(nil), buf[:n]...)); len(rep) > 0 {
				if _, err := b.Write(rep); err != nil {
					return
				}
			}
		}
	}()
	return a
}

func TestGetvarSkipsLateReplies(t *testing.T) {
	calls := 0
	c := pipePrinter(t, func(req []byte) []byte {
		calls++
		switch calls {
		case 1:
			return nil // the first query times out
		case 2:
			// the late reply of the first, then ~RV and ^HV while
			// printing, then the second's
			var b []byte
			b = AppendSGD(b, "late")
			b = AppendEncodeReport(b, EncodeReport{OK: true})
			b = AppendVerify(b, Verify{Tag: "1", Data: epcA})
			b = AppendSGD(b, "10")
			return AppendSGD(b, "00 days 00 hours 00 mins 09 secs")
		}
		return nil
	})
	q := NewQuerier(c, printers.StatusBoth, nil)
	var async []Reply
	q.OnAsync(func(r Reply) { async = append(async, r) })
	ctx := context.Background()
	if _, err := q.Getvar(ctx, 20*time.Millisecond, "odometer.total_label_count"); !errors.Is(err, printers.ErrStatusTimeout) {
		t.Fatalf("first getvar: %v", err)
	}
	if !q.Pending() {
		t.Fatal("a reply is owed, Pending is false")
	}
	vals, err := q.Getvar(ctx, 5*time.Second, "odometer.total_label_count", "device.uptime")
	if err != nil || len(vals) != 2 || vals[0] != "10" || vals[1] != "00 days 00 hours 00 mins 09 secs" {
		t.Fatalf("second getvar: %q %v", vals, err)
	}
	if q.Pending() {
		t.Fatal("nothing is owed, Pending is true")
	}
	if len(async) != 2 || async[0].Encode == nil || async[1].Verify == nil {
		t.Fatalf("printing replies: %s", show(async))
	}
}

func TestOdometerQuery(t *testing.T) {
	c := pipePrinter(t, func(req []byte) []byte {
		if bytes.Equal(req, CmdHQOD) {
			return AppendOdometer(nil, Odometer{Total: 7, User1: 7, User2: 7, Unit: "in"})
		}
		return nil
	})
	o, err := NewQuerier(c, printers.StatusHS, nil).Odometer(context.Background(), 5*time.Second)
	if err != nil || o.Total != 7 || o.Unit != "in" {
		t.Fatalf("%+v %v", o, err)
	}
}

func FuzzUnframed(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "exchanges", "*.reply"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b, uint8(1), uint8(2))
	}
	f.Add([]byte("\"a_+,1_DGV1[x]\x02"), uint8(3), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		whole, ew, err := readAll(bytes.NewReader(data))
		if err != nil && !errors.Is(err, io.ErrNoProgress) {
			t.Fatal(err)
		}
		sizes := []int{int(a)%13 + 1, int(b)%7 + 1, 1}
		for i := 0; i < 8; i++ {
			sizes = append(sizes, sizes...)
		}
		reps, ec, err := readAll(&chunked{data: data, sizes: sizes})
		if err != nil && !errors.Is(err, io.ErrNoProgress) {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(reps, whole) || ec != ew {
			t.Fatalf("chunking changed the result:\n%s\n%s", show(reps), show(whole))
		}
		for _, r := range whole {
			switch {
			case r.Encode != nil:
				back, _, _ := readAll(bytes.NewReader(AppendEncodeReport(nil, *r.Encode)))
				if len(back) != 1 || !reflect.DeepEqual(back[0].Encode, r.Encode) {
					t.Fatalf("~RV report %+v does not round trip", *r.Encode)
				}
			case r.Verify != nil:
				back, _, _ := readAll(bytes.NewReader(AppendVerify(nil, *r.Verify)))
				if len(back) != 1 || !reflect.DeepEqual(back[0].Verify, r.Verify) {
					t.Fatalf("^HV reply %+v does not round trip", *r.Verify)
				}
			case r.Odometer != nil:
				back, _, _ := readAll(bytes.NewReader(AppendOdometer(nil, *r.Odometer)))
				if len(back) != 1 || !reflect.DeepEqual(back[0].Odometer, r.Odometer) {
					t.Fatalf("~HQOD %+v does not round trip", *r.Odometer)
				}
			}
		}
	})
}

func FuzzParseUptime(f *testing.F) {
	f.Add("00 days 01 hours 23 mins 45 secs")
	f.Add("1 secs")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseUptime(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("negative uptime %v from %q", d, s)
		}
	})
}

func FuzzParseCalibration(f *testing.F) {
	f.Add("position=195\n190,R,W\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCalibration(s)
		if err != nil {
			return
		}
		back, err := ParseCalibration(string(AppendCalibration(nil, c))[len(CalibrationStart) : len(AppendCalibration(nil, c))-len(CalibrationEnd)-2])
		if err != nil || !reflect.DeepEqual(back.Rows, c.Rows) && len(c.Rows) > 0 || back.Position != c.Position {
			t.Fatalf("%+v does not round trip: %+v %v", c, back, err)
		}
	})
}
