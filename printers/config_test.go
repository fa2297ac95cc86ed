package printers

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestConfigYAMLAndDefaults(t *testing.T) {
	src := `
- id: dock1-zt411
  profile: zebra-zt411-203
  door: dock-1
  address: 10.0.4.21
  timeouts: {status: 3s, confirm: 90s}
- id: dock2-serial
  transport: serial
  serial: {device: /dev/ttyUSB0, baud: 19200, handshake: xonxoff}
- id: dock3-usb
  device: /dev/usb/lp0
- id: archive
  path: /var/lib/dockgate/labels.zpl
`
	var list []Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&list); err != nil {
		t.Fatal(err)
	}
	for i := range list {
		list[i] = list[i].WithDefaults()
	}
	if err := ValidateAll(list); err != nil {
		t.Fatal(err)
	}
	tcp, ser, usb, file := list[0], list[1], list[2], list[3]
	if tcp.Transport != TransportTCP || tcp.Address != "10.0.4.21:9100" || tcp.Status != StatusBoth ||
		tcp.Timeouts.Status != 3*time.Second || tcp.Timeouts.Confirm != 90*time.Second || tcp.Timeouts.Dial != 5*time.Second {
		t.Fatalf("tcp %+v", tcp)
	}
	if ser.Transport != TransportSerial || ser.Serial.Baud != 19200 || ser.Serial.DataBits != 8 || ser.Serial.Parity != "none" || ser.Serial.StopBits != 1 {
		t.Fatalf("serial %+v", ser.Serial)
	}
	if usb.Transport != TransportUSB || file.Transport != TransportFile || file.Status != StatusNone {
		t.Fatalf("usb %+v file %+v", usb, file)
	}
	if got := tcp.Target(); got != "tcp://10.0.4.21:9100" {
		t.Fatal(got)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	ok := Config{ID: "p", Address: "127.0.0.1:9100"}
	for _, tc := range []struct {
		mod   func(*Config)
		field string
	}{
		{func(c *Config) { c.ID = "a/b" }, "id"},
		{func(c *Config) { c.Profile = "nope" }, "profile"},
		{func(c *Config) { c.Address = ""; c.Transport = "" }, "transport"},
		{func(c *Config) { c.Transport = "ipp" }, "transport"},
		{func(c *Config) { c.Address = "host:99999" }, "address"},
		{func(c *Config) { c.Address = ""; c.Transport = "serial" }, "serial.device"},
		{func(c *Config) { c.Address = ""; c.Serial = Serial{Device: "/dev/ttyS0", Handshake: "dtr"} }, "serial.handshake"},
		{func(c *Config) { c.Address = ""; c.Serial = Serial{Device: "/dev/ttyS0", Parity: "maybe"} }, "serial.parity"},
		{func(c *Config) { c.Address = ""; c.Serial = Serial{Device: "/dev/ttyS0", StopBits: 3} }, "serial.stop_bits"},
		{func(c *Config) { c.Address = ""; c.Transport = "usb" }, "device"},
		{func(c *Config) { c.Address = ""; c.Transport = "file" }, "path"},
		{func(c *Config) { c.Status = "snmp" }, "status"},
		{func(c *Config) { c.Timeouts.Confirm = -time.Second }, "timeouts.confirm"},
		{func(c *Config) { c.BatchJobs = 5000 }, "batch_jobs"},
		{func(c *Config) { c.Profile, c.Door = "tsc-te210-203", "DOOR1" }, "profile"},
		{func(c *Config) { c.LabelCounter = "odometer" }, "label_counter"},
		{func(c *Config) { c.LabelCounter, c.Status = CounterSGD, StatusHQES }, "label_counter"},
		{func(c *Config) { c.VerifyEncode = "crc" }, "verify_encode"},
		{func(c *Config) { c.VerifyEncode, c.Status = VerifyRV, StatusNone }, "verify_encode"},
		{func(c *Config) { c.OnEncodeFailure = "ignore" }, "on_encode_failure"},
		{func(c *Config) { c.CaptureTID = true }, "capture_tid"},
		{func(c *Config) { c.CaptureTID, c.Profile, c.VerifyEncode = true, "zebra-zt411r-203", VerifyRV }, "capture_tid"},
		{func(c *Config) { c.Lock = "tid" }, "lock"},
		{func(c *Config) { c.Lock, c.AccessPassword = LockEPC, "1A2B3C4D" }, "lock"},  // no RFID encoder
		{func(c *Config) { c.Lock, c.Profile = LockEPC, "zebra-zt411r-203" }, "lock"}, // no password
		{func(c *Config) { c.Lock, c.Profile, c.AccessPassword = LockEPC, "zebra-zt411r-203", "00000000" }, "access_password_file"},
		{func(c *Config) { c.Lock, c.Profile, c.AccessPassword = LockEPC, "zebra-zt411r-203", "1A2B3C" }, "access_password_file"},
	} {
		c := ok
		tc.mod(&c)
		err := c.WithDefaults().Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.field || !errors.Is(err, ErrConfig) {
			t.Errorf("want an error on %s, got %v", tc.field, err)
		}
	}
	// A printer no door uses may have a profile labels cannot be rendered
	// for (listed, recognised, not driven).
	if err := (Config{ID: "p", Profile: "tsc-te210-203", Address: "127.0.0.1"}).WithDefaults().Validate(); err != nil {
		t.Fatalf("a TSPL printer at no door: %v", err)
	}
	dup := []Config{ok.WithDefaults(), ok.WithDefaults()}
	if err := ValidateAll(dup); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Fatalf("duplicate ids: %v", err)
	}
}

// The label counter and the encode verification come from the profile, and
// a printer that cannot read them back does without.
func TestCounterAndVerifyFromProfile(t *testing.T) {
	for _, tc := range []struct {
		c                      Config
		counter, verify, onErr string
	}{
		{Config{ID: "p", Address: "h:1", Profile: "zebra-zt411r-203"}, CounterSGD, VerifyBoth, OnEncodeAlert},
		{Config{ID: "p", Address: "h:1", Profile: "zebra-zt411-203"}, CounterSGD, VerifyNone, OnEncodeAlert},
		{Config{ID: "p", Address: "h:1", Profile: "generic-zpl-203"}, CounterNone, VerifyNone, OnEncodeAlert},
		{Config{ID: "p", Address: "h:1"}, CounterNone, VerifyNone, OnEncodeAlert},
		{Config{ID: "p", Address: "h:1", Profile: "zebra-zt411r-203", Status: StatusHQES}, CounterNone, VerifyBoth, OnEncodeAlert},
		{Config{ID: "p", Path: "/tmp/x", Profile: "zebra-zt411r-203"}, CounterNone, VerifyNone, OnEncodeAlert},
		{Config{ID: "p", Address: "h:1", Profile: "zebra-zt411r-203", LabelCounter: CounterNone, VerifyEncode: VerifyRV, OnEncodeFailure: OnEncodeHold}, CounterNone, VerifyRV, OnEncodeHold},
	} {
		c := tc.c.WithDefaults()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.LabelCounter != tc.counter || c.VerifyEncode != tc.verify || c.OnEncodeFailure != tc.onErr {
			t.Errorf("%+v: counter %s verify %s on failure %s", tc.c, c.LabelCounter, c.VerifyEncode, c.OnEncodeFailure)
		}
	}
}

func TestStatusSemantics(t *testing.T) {
	u := Unknown(time.Unix(1, 0))
	if u.Ready() || u.Held() || u.Drained() || !errors.Is(u.Err(), ErrStatusTimeout) {
		t.Fatalf("unknown status reads as usable: %+v", u)
	}
	s := Status{Known: true, Paused: true, FormatsInBuffer: 2}
	var fe *FaultError
	if !s.Held() || s.Ready() || !errors.As(s.Err(), &fe) || !errors.Is(s.Err(), ErrPaused) || errors.Is(s.Err(), ErrPaperOut) {
		t.Fatalf("paused: %v", s.Err())
	}
	ok := Status{Known: true}
	if !ok.Ready() || !ok.Drained() || ok.Err() != nil || ok.Summary() != "ready" || ok.Same(s) || !ok.Same(Status{Known: true, FormatsInBuffer: 3}) {
		t.Fatal("ready status")
	}
}

// Fault texts follow the word "printer" in messages (a held job's reason,
// dockgate print's "not sent: printer …"): they must not repeat it.
func TestFaultTextsDoNotSayPrinter(t *testing.T) {
	all := Status{Known: true, PaperOut: true, RibbonOut: true, HeadOpen: true, Paused: true, BufferFull: true,
		OverTemp: true, UnderTemp: true, CutterFault: true}
	for _, e := range all.Faults() {
		if strings.HasPrefix(e.Error(), "printer") {
			t.Errorf("fault %q: \"printer \"+Summary() would say printer twice", e)
		}
	}
	if got := "printer " + (Status{Known: true, Paused: true}).Summary(); got != "printer paused" {
		t.Errorf("paused printer: %q", got)
	}
}
