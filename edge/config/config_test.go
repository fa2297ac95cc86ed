package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func TestValidFiles(t *testing.T) {
	for _, name := range []string{"minimal.yaml", "full.yaml"} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(filepath.Join("testdata", name), noEnv)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.MQTT.TopicPrefix != "dockgate/v1/"+c.Site+"/"+c.Gateway && name == "minimal.yaml" {
				t.Errorf("topic prefix %q not expanded", c.MQTT.TopicPrefix)
			}
		})
	}
}

func TestFullFileValues(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte(`
site: dc-lyon
gateway: dock-gw-3
mqtt:
  url: tcp://127.0.0.1:1883
  username: gw3
  password_file: `+pw+`
printers:
  - id: P1
    address: 10.1.2.3
  - id: P2
    transport: serial
    serial: {device: /dev/ttyUSB0}
readers:
  - id: R1
    address: 10.1.2.4
doors:
  - id: D3
    printer: P1
    reader: R1
    antennas_outside: [1]
    antennas_inside: [2]
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ got, want any }{
		{c.MQTT.TopicPrefix, "dockgate/v1/dc-lyon/dock-gw-3"},
		{c.MQTT.ClientID, "dockgate-dc-lyon-dock-gw-3"},
		{c.MQTT.Password, "hunter2"},
		{c.Printers[0].Address, "10.1.2.3:9100"},
		{c.Printers[1].Serial.Baud, 9600},
		{c.Printers[1].Serial.Parity, "none"},
		{c.Readers[0].Address, "10.1.2.4:5084"},
		{c.Doors[0].Role, "receiving"},
		{c.DataDir, "./dockgate-data"},
		{c.HTTP.Listen, "127.0.0.1:8080"},
		{c.Lots.DefaultFormat, "default"},
	}
	for i, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("check %d: got %v, want %v", i, ch.got, ch.want)
		}
	}
}

func TestSecretFromEnvironment(t *testing.T) {
	c, err := Parse([]byte("mqtt:\n  url: tcp://127.0.0.1:1883\n  password_file: /nonexistent\n"), func(k string) string {
		if k == EnvMQTTPassword {
			return "from-env"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.Password != "from-env" {
		t.Fatalf("password %q", c.MQTT.Password)
	}
}

// A printer that locks its tags reads their access password from its file
// at load; a file that holds no usable password is named with what is
// wrong.
func TestTagAccessPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := func(file string) []byte {
		return []byte("printers:\n  - id: P1\n    profile: zebra-zt411r-203\n    transport: tcp\n    address: 127.0.0.1:9100\n    lock: epc\n    access_password_file: " + file + "\n")
	}
	c, err := Parse(cfg(write("good", "1a2b3c4d\n")), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Printers[0]; p.AccessPassword != "1a2b3c4d" || p.Lock != "epc" {
		t.Fatalf("printer %+v", p)
	}
	for file, want := range map[string]string{
		write("zero", "00000000"):     "printers[0].access_password_file: " + filepath.Join(dir, "zero") + ": 00000000 is no password",
		write("short", "1a2b"):        "printers[0].access_password_file: " + filepath.Join(dir, "short") + ": want 8 hex digits (32 bits), got 4 characters",
		filepath.Join(dir, "missing"): "printers[0].access_password_file: cannot read " + filepath.Join(dir, "missing"),
	} {
		_, err := Parse(cfg(file), func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}
}

func TestInvalidFiles(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // every problem, in order
	}{
		{"unknown top-level key", "site: a\nsitee: b\n",
			[]string{`line 2: unknown key "sitee" at the top level; known keys: broker, commands, data_dir, doors, gateway, gs1, http, labels, lots, mqtt, outbox, printers, readers, receiving, scanners, site, sync`}},
		{"unknown nested key", "mqtt:\n  url: tcp://127.0.0.1:1883\n  passwd: x\n",
			[]string{`line 3: unknown key "passwd" in mqtt; known keys: ack_timeout, burst, ca_file, cert_file, client_id, connect_timeout, healthy_after, inflight, keepalive, key_file, password_file, rate, topic_prefix, url, username`}},
		{"unknown key in a list item", "printers:\n  - id: P1\n    adress: 1.2.3.4\n",
			[]string{`line 3: unknown key "adress" in printers[0]; known keys: access_password_file, address, batch_bytes, batch_jobs, capture_tid, device, door, id, label_counter, lock, on_encode_failure, path, profile, serial, status, timeouts, transport, verify_encode`,
				`printer P1: transport: missing; set address (host:port) or transport: tcp|serial|usb|file with its settings`}},
		// A value of the wrong type names its key and what it takes,
		// never the decoder's Go types (!!str, int64).
		{"bad type", "http:\n  listen: [1, 2]\n",
			[]string{"line 2: http.listen: want a string, got a list"}},
		{"bytes as text", "outbox: {max_bytes: \"big\"}\n",
			[]string{`line 1: outbox.max_bytes: want a number of bytes, got "big"`}},
		{"number as text", "mqtt:\n  inflight: twenty\n  rate: fast\n",
			[]string{`line 2: mqtt.inflight: want a whole number, got "twenty"`, `line 3: mqtt.rate: want a number, got "fast"`}},
		{"fraction for a whole number", "commands: {queue: 1.5}\n",
			[]string{`line 1: commands.queue: want a whole number, got 1.5`}},
		{"negative unsigned", "gs1: {sscc_serial_start: -5}\n",
			[]string{`line 1: gs1.sscc_serial_start: want a whole number, 0 or more, got -5`}},
		{"antenna out of range", "readers:\n  - {id: R1, type: sim, antennas: [1, 70000, x]}\n",
			[]string{`line 2: readers[0].antennas[1]: want a whole number from 0 to 65535, got 70000`, `line 2: readers[0].antennas[2]: want a whole number from 0 to 65535, got "x"`}},
		{"not a bool", "receiving: {accept_expired: maybe}\n",
			[]string{`line 1: receiving.accept_expired: want true or false, got "maybe"`}},
		{"mapping for a list", "printers: {id: P1}\n",
			[]string{`line 1: printers: want a list (items on lines starting with -, or [a, b]), got a mapping`}},
		{"scalar for a section", "http: x\n",
			[]string{`line 1: http: want a mapping of keys (listen, token_file, token_name), got "x"`}},
		{"list for a map", "labels: {templates: [a]}\n",
			[]string{`line 1: labels.templates: want a mapping of names to values, got a list`}},
		{"through an alias", "lots: {max_len: {PRODUCT: &n big}}\ncommands: {workers: *n}\n",
			[]string{`line 1: lots.max_len.PRODUCT: want a whole number, got "big"`, `line 2: commands.workers: want a whole number, got "big"`}},
		{"returns door", "readers:\n  - {id: R1, type: sim}\ndoors:\n  - {id: D1, returns: used}\n  - {id: D2, returns: damaged}\n  - {id: D3, reader: R1, antennas_outside: [1], antennas_inside: [2], returns: quarantine}\n",
			[]string{`doors[0].returns: "used" is not a condition: resaleable, damaged or quarantine (the condition returned cartons passing in get), or leave it out`,
				`doors[0].returns: a returns door records the cartons its portal sees coming in: give it a reader, or leave returns out`,
				`doors[1].returns: a returns door records the cartons its portal sees coming in: give it a reader, or leave returns out`}},
		{"bad site", "site: \"dc/1\"\n",
			[]string{`site: "dc/1" is not a valid id (letters, digits, '.', '_', '-'; at most 64; no '/', '+' or '#', which break MQTT topics)`}},
		{"bad mqtt url", "mqtt:\n  url: http://x\n",
			[]string{`mqtt.url: scheme "http" is not supported (use tcp://, ssl://, mqtt://, mqtts://, ws:// or wss://)`}},
		{"cert without key", "mqtt:\n  url: ssl://b:8883\n  cert_file: /nonexistent\n",
			[]string{"mqtt.cert_file and mqtt.key_file: give both for a client certificate, or neither", "mqtt.cert_file: /nonexistent does not exist (fix the path)"}},
		{"open http without token", "http:\n  listen: 0.0.0.0:8080\n",
			[]string{"http.listen: 0.0.0.0:8080 is not a loopback address, so the API needs a token (set http.token_file or DOCKGATE_HTTP_TOKEN)"}},
		{"token name with a space", "http:\n  token_name: wms central\n",
			[]string{`http.token_name: "wms central": give at most 64 printable ASCII characters without spaces, e.g. wms-central`}},
		{"open broker without credentials", "broker:\n  listen: 0.0.0.0:1883\n",
			[]string{"broker.listen: 0.0.0.0:1883 is not a loopback address, so the embedded broker needs broker.username and broker.password_file (or DOCKGATE_BROKER_PASSWORD)"}},
		{"unreadable password file", "mqtt:\n  url: tcp://b:1883\n  password_file: /nonexistent/pw\n",
			[]string{"mqtt.password_file: cannot read /nonexistent/pw: no such file or directory (point it at a readable file, or set DOCKGATE_MQTT_PASSWORD)"}},
		{"door names missing printer", "doors:\n  - id: D1\n    printer: P9\n",
			[]string{`doors[0].printer: no printer with id "P9" (define it under printers:)`}},
		{"door location not a GLN extension", "doors:\n  - id: D1\n    location: \"dock 1/é\"\n",
			[]string{`doors[0].location: "dock 1/é" is not a GLN extension: AI (254): character ' ' is not in CSET 82 in "dock 1/é" (use up to 20 letters, digits and GS1 punctuation, e.g. D01)`}},
		{"event bound too small", "outbox:\n  max_event_bytes: 100\n",
			[]string{"outbox.max_event_bytes: 100 is below 16384 bytes: passes, alerts and receipts would not fit and would be lost; raise it or leave it out (256 KiB)"}},
		{"event bound too large", "outbox:\n  max_event_bytes: 1048576\n",
			[]string{"outbox.max_event_bytes: 1048576 is above 262144 bytes, the most one event may take (an event commits in one transaction with the change it tells); lower it or leave it out"}},
		{"outbox smaller than one event", "outbox:\n  max_event_bytes: 65536\n  max_bytes: 20000\n",
			[]string{"outbox.max_bytes: 20000 is below outbox.max_event_bytes (65536): one event could fill the outbox; raise max_bytes"}},
		{"one antenna in two doors", "readers:\n  - {id: R1, type: sim}\ndoors:\n  - {id: D1, reader: R1, antennas_outside: [1], antennas_inside: [2]}\n  - {id: D2, reader: R1, antennas_outside: [2], antennas_inside: [3]}\n",
			[]string{`doors[1]: antenna 2 of reader "R1" already belongs to door "D1": each antenna watches one door`}},
		{"duplicate printer", "printers:\n  - {id: P1, transport: sim}\n  - {id: P1, transport: sim}\n",
			[]string{`printer P1: id: used twice (printers[0] and printers[1]); give each printer its own id`}},
		{"serial settings", "printers:\n  - {id: P1, transport: serial, serial: {device: /dev/ttyS0, handshake: rtscts}}\n",
			[]string{`printer P1: serial.handshake: "rtscts" is not none or xonxoff`}},
		{"reader protocol", "readers:\n  - {id: R1, type: serial, device: /dev/ttyUSB1, protocol: foo}\n",
			[]string{`readers[0]: reader "R1": protocol "foo" is not one of m100, ru5102, ascii`}},
		{"door role", "doors:\n  - {id: D1, role: sideways}\n",
			[]string{`doors[0]: door "D1": role "sideways" is not one of receiving, shipping, both`}},
		{"portal door needs both sides", "readers:\n  - {id: R1, type: sim}\ndoors:\n  - {id: D1, reader: R1, antennas_outside: [1]}\n",
			[]string{`doors[0]: door "D1": antennas_outside and antennas_inside both need at least one antenna to tell in from out`}},
		{"company prefix", "gs1:\n  company_prefix: 12AB\n",
			[]string{`gs1.company_prefix: "12AB" must be 6 to 12 digits (your GS1 company prefix)`}},
		{"lot default", "lots:\n  formats:\n    a: {format: \"{SEQ:3}\"}\n    b: {format: \"{SEQ:4}\"}\n  default_format: c\n",
			[]string{`lots.default_format: lot: bad configuration: "c" is not a format under lots.formats (have: a, b)`}},
		{"lot too long", "lots:\n  formats:\n    a: {format: \"{YYYY}{MM}{DD}-{PRODUCT}-{SUPPLIER}-{SEQ:6}\"}\n",
			[]string{`lots.formats.a: lot: code longer than AI (10) allows: format "{YYYY}{MM}{DD}-{PRODUCT}-{SUPPLIER}-{SEQ:6}" can produce 29 characters (worst case "20991231-PPPPPP-SSSSSS-999999") but AI (10) allows 20; shorten the literals, lower max_len of its code tokens or the {SEQ:n} width`}},
		{"scanner door", "scanners:\n  - {id: S1, device: /dev/ttyACM0, door: D9}\n",
			[]string{`scanners[0].door: no door with id "D9" (define it under doors:)`}},
		{"scanner device", "doors:\n  - {id: D1}\nscanners:\n  - {id: S1, door: D1}\n",
			[]string{`scanners[0]: scanner S1: device: required (e.g. /dev/ttyACM0)`}},
		{"gln check digit", "gs1:\n  gln: \"0614141000013\"\n",
			[]string{`gs1.gln: "0614141000013" has check digit 3, it should be 2`}},
		{"gln prefix", "gs1:\n  gln: \"0952012345672\"\n",
			[]string{`gs1.gln: "0952012345672" does not start with gs1.company_prefix 0614141 (EPCIS locations are SGLNs of that prefix)`}},
		{"company prefix length", "gs1:\n  company_prefixes:\n    - {prefix: \"95\", length: 4}\n",
			[]string{`gs1.company_prefixes: company prefix table entry 1 length "4": must be 6–12 (the digits of the company prefix), or 0 for none`}},
		{"own company prefix length", "gs1:\n  company_prefixes:\n    - {prefix: \"0614141\", length: 9}\n",
			[]string{`gs1.company_prefixes: the table gives prefix 0614141 a length of 9, but gs1.company_prefix has 7 digits: correct the entry or the prefix`}},
		{"company prefix file", "gs1:\n  company_prefix_file: /nonexistent/gcp.json\n",
			[]string{`gs1.company_prefix_file: open /nonexistent/gcp.json: no such file or directory (point it at GS1's GCP prefix format list in JSON, or list the prefixes under gs1.company_prefixes)`}},
		{"not a mapping", "- a\n- b\n",
			[]string{"line 1: the file must be a mapping of keys (site:, gateway:, mqtt: …)"}},
		{"duration without unit", "mqtt:\n  keepalive: 20\n",
			[]string{"line 2: mqtt.keepalive: 20 has no unit: write a duration with its unit, e.g. 20s"}},
		{"duration without unit in a list item", "readers:\n  - {id: R1, type: sim, keepalive: 1.5}\n",
			[]string{"line 2: readers[0].keepalive: 1.5 has no unit: write a duration with its unit, e.g. 1.5s"}},
		{"duration through an alias", "mqtt:\n  keepalive: &k 30\n  ack_timeout: *k\n",
			[]string{"line 2: mqtt.keepalive: 30 has no unit: write a duration with its unit, e.g. 30s",
				"line 3: mqtt.ack_timeout: 30 has no unit: write a duration with its unit, e.g. 30s"}},
		{"not a duration", "commands:\n  ttl: soon\n",
			[]string{`line 2: commands.ttl: "soon" is not a duration: write it with its unit, e.g. 20s, 500ms or 1m30s`}},
		{"list for a duration", "mqtt:\n  keepalive: [20]\n",
			[]string{"line 2: mqtt.keepalive: want a duration with its unit, e.g. 20s, 500ms or 1m30s, got a list"}},
		{"sscc start after end", "gs1:\n  sscc_serial_start: 200\n  sscc_serial_end: 100\n",
			[]string{"gs1.sscc_serial_start: 200 is after gs1.sscc_serial_end 100: the range runs from start to end, so start must not be greater"}},
		{"sscc end too large", "gs1:\n  sscc_serial_end: 1000000000\n",
			[]string{"gs1.sscc_serial_end: 1000000000 does not fit the 9-digit serial reference a 7-digit company prefix leaves (max 999999999)"}},
		{"sscc start too large", "gs1:\n  sscc_serial_start: 1000000000\n",
			[]string{"gs1.sscc_serial_start: 1000000000 does not fit the 9-digit serial reference a 7-digit company prefix leaves (max 999999999)"}},
		{"http port out of range", "http:\n  listen: 127.0.0.1:99999\n",
			[]string{`http.listen: port "99999" of 127.0.0.1:99999 is not a port number 1 to 65535 (e.g. 127.0.0.1:8080; empty disables the API)`}},
		{"broker without port", "broker:\n  listen: 127.0.0.1\n",
			[]string{`broker.listen: "127.0.0.1" is not host:port (e.g. 127.0.0.1:1883)`}},
		{"broker and http on one address", "http:\n  listen: 127.0.0.1:1883\n",
			[]string{"http.listen and broker.listen: both listen on 127.0.0.1:1883, and one address takes one listener: give each its own port"}},
		{"localhost is 127.0.0.1", "http:\n  listen: localhost:7000\nbroker:\n  listen: 127.0.0.1:7000\n",
			[]string{"http.listen and broker.listen: both listen on 127.0.0.1:7000, and one address takes one listener: give each its own port"}},
		{"a wildcard takes the port everywhere", "http:\n  listen: 127.0.0.1:7000\n  token_file: /nonexistent\nbroker:\n  listen: \"[::]:7000\"\n  username: gw\n  password_file: /nonexistent\n",
			[]string{"broker.password_file: cannot read /nonexistent: no such file or directory (point it at a readable file, or set DOCKGATE_BROKER_PASSWORD)",
				"http.token_file: cannot read /nonexistent: no such file or directory (point it at a readable file, or set DOCKGATE_HTTP_TOKEN)",
				"broker.listen: [::]:7000 is not a loopback address, so the embedded broker needs broker.username and broker.password_file (or DOCKGATE_BROKER_PASSWORD)",
				"http.listen and broker.listen: both listen on [::]:7000, and one address takes one listener: give each its own port"}},
		{"mqtt url without port", "mqtt:\n  url: tcp://broker.example\n",
			[]string{`mqtt.url: "tcp://broker.example" has no port (write it like tcp://broker.example:1883 or ssl://broker.example:8883)`}},
		{"mqtt url port out of range", "mqtt:\n  url: tcp://broker.example:99999\n",
			[]string{`mqtt.url: port 99999 of "tcp://broker.example:99999" is out of range (1 to 65535)`}},
		{"reader port out of range", "readers:\n  - {id: R1, address: \"10.0.0.5:99999\"}\n",
			[]string{`readers[0]: reader "R1": address 10.0.0.5:99999: port "99999" is not a port number 1 to 65535 (LLRP's is 5084)`}},
		{"tab indentation", "site: a\nmqtt:\n\turl: tcp://b:1883\n",
			[]string{"line 3: found character that cannot start any token (the line holds a tab: indent YAML with spaces)"}},
		{"unclosed flow list", "site: [lyon\n",
			[]string{"line 1: did not find expected ',' or ']'"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), noEnv)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			var probs Problems
			if errors.As(err, &probs) {
				if len(probs) != len(tc.want) {
					t.Fatalf("got %d problems:\n%s\nwant %d:\n%s", len(probs), probs, len(tc.want), strings.Join(tc.want, "\n"))
				}
				for i := range probs {
					if probs[i] != tc.want[i] {
						t.Errorf("problem %d:\n got %s\nwant %s", i, probs[i], tc.want[i])
					}
				}
				return
			}
			msg := strings.TrimPrefix(err.Error(), "invalid configuration: ")
			if len(tc.want) != 1 || msg != tc.want[0] {
				t.Fatalf("got %q, want %q", msg, tc.want)
			}
		})
	}
}

// A file that cannot be read keeps its reason for the caller.
func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv)
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v, want ErrInvalid and fs.ErrNotExist", err)
	}
}

// Listeners collide only on one bound port: port 0 takes a free one each
// time, and the broker does not listen when mqtt.url is set.
func TestListenersThatDoNotCollide(t *testing.T) {
	for _, y := range []string{
		"http:\n  listen: 127.0.0.1:0\nbroker:\n  listen: 127.0.0.1:0\n",
		"http:\n  listen: 127.0.0.1:1883\nmqtt:\n  url: tcp://127.0.0.1:1884\n",
		"http:\n  listen: 127.0.0.2:1883\n",
		"http:\n  listen: \"[::1]:1883\"\n",
	} {
		if _, err := Parse([]byte(y), noEnv); err != nil {
			t.Errorf("%q: %v", y, err)
		}
	}
}

func TestHTTPCanBeDisabled(t *testing.T) {
	c, err := Parse([]byte("http:\n  listen: \"\"\n"), noEnv)
	if err != nil || c.HTTP.Listen != "" {
		t.Fatalf("listen %q, %v", c.HTTP.Listen, err)
	}
}

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if p := c.Validate(); len(p) > 0 {
		t.Fatalf("default config invalid: %v", p)
	}
	if c.DataDir != "./dockgate-data" || c.MQTT.URL != "" || c.Broker.Listen != "127.0.0.1:1883" || c.Doors[0].ID != "DOOR1" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"site: a\n", "mqtt:\n  url: tcp://x:1\n", "printers:\n  - id: P\n", "{", "- 1",
		"doors:\n  - {id: D, signals: [{on: pass, gpo: [1, x]}, {on: lot.hold.alert, gpo: 2}]}\n",
		"doors:\n  - {id: D, signals: [{on: pass, gpo: 1, color: blue, label: \"Pallet — go\"}, {on: pass.matched, gpo: 2, color: Purple, label: \"a\\tb\"}]}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, noEnv)
		if err == nil && len(c.Validate()) > 0 {
			t.Fatal("Parse accepted an invalid config")
		}
	})
}

// The company prefix table joins GS1's list, the configured entries and the
// gateway's own prefix.
func TestCompanyPrefixTable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gcp.json")
	if err := os.WriteFile(file, []byte(`{"GCPPrefixFormatList":{"entry":[{"prefix":"40","gcpLength":7},{"prefix":"401234","gcpLength":0},{"prefix":"871","gcpLength":8}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse([]byte("gs1:\n  company_prefix: \"952012345\"\n  company_prefix_file: "+file+"\n  company_prefixes:\n    - {prefix: \"871\", length: 10}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := c.GS1.CompanyPrefixTable()
	if err != nil {
		t.Fatal(err)
	}
	// 871 is the configured entry's (it replaces the file's); 401234 is a
	// range without company prefixes.
	for digits, want := range map[string]int{"40993456789012345": 7, "87112345678901234": 10, "95201234567890123": 9} {
		if n, ok := tab.Lookup(digits); !ok || n != want {
			t.Errorf("%s: length %d %v, want %d", digits, n, ok, want)
		}
	}
	for _, digits := range []string{"50000000000000000", "40123456789012345"} {
		if n, ok := tab.Lookup(digits); ok {
			t.Errorf("%s: length %d, want none", digits, n)
		}
	}
}

// wantOneProblem parses y and checks that it is valid (want "") or refused
// with the one problem want.
func wantOneProblem(t *testing.T, y, want string) {
	t.Helper()
	_, err := Parse([]byte(y), noEnv)
	var probs Problems
	switch {
	case want == "" && err != nil:
		t.Fatalf("valid configuration refused: %v", err)
	case want == "":
	case !errors.As(err, &probs) || len(probs) != 1 || probs[0] != want:
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// writeCert writes a self-signed certificate and its key, PEM, under dir.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// The TLS material is loaded as the publisher loads it at start, so that
// what it would refuse is reported at load.
func TestTLSMaterial(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, "ca")
	writeCert(t, dir, "client")
	writeCert(t, dir, "other")
	if err := os.WriteFile(filepath.Join(dir, "notpem.txt"), []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, yaml, want string // want "" is valid; {dir} stands for dir
	}{
		{"CA and client certificate", "mqtt:\n  url: ssl://b:8883\n  ca_file: {dir}/ca.crt\n  cert_file: {dir}/client.crt\n  key_file: {dir}/client.key\n", ""},
		{"CA not PEM", "mqtt:\n  url: ssl://b:8883\n  ca_file: {dir}/notpem.txt\n",
			"mqtt.ca_file {dir}/notpem.txt holds no PEM certificate (point it at the CA certificate that signed the broker's: a -----BEGIN CERTIFICATE----- block)"},
		{"key of another certificate", "mqtt:\n  url: mqtts://b:8883\n  cert_file: {dir}/client.crt\n  key_file: {dir}/other.key\n",
			"mqtt.cert_file/key_file: tls: private key does not match public key (give the client certificate and the private key made with it, both in PEM)"},
		{"key not PEM", "mqtt:\n  url: ssl://b:8883\n  cert_file: {dir}/client.crt\n  key_file: {dir}/notpem.txt\n",
			"mqtt.cert_file/key_file: tls: failed to find any PEM data in key input (give the client certificate and the private key made with it, both in PEM)"},
		{"CA on a plain URL", "mqtt:\n  url: tcp://b:1883\n  ca_file: {dir}/ca.crt\n",
			`mqtt.ca_file, mqtt.cert_file: mqtt.url "tcp://b:1883" is not TLS: write it with ssl:// (or mqtts://, wss://), or remove them`},
		{"CA for the embedded broker", "mqtt:\n  ca_file: {dir}/ca.crt\n",
			"mqtt.ca_file, mqtt.cert_file: the embedded broker (mqtt.url empty) does not speak TLS: set mqtt.url to the ssl:// broker they are for, or remove them"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantOneProblem(t, strings.ReplaceAll(tc.yaml, "{dir}", dir), strings.ReplaceAll(tc.want, "{dir}", dir))
		})
	}
}

// A simulated reader's scenario is loaded as the reader loads it at start.
func TestReaderScenario(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"ok.yaml": "name: x\n", "unknown.yaml": "name: x\nfoo: 1\n", "cycle.yaml": "name: x\ncycle: 1us\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, scenario, want string // want "" is valid; {dir} stands for dir
	}{
		{"built-in", "dock-out", ""},
		{"file", "{dir}/ok.yaml", ""},
		{"missing file", "{dir}/nope.yaml",
			`readers[0].scenario: scenario "{dir}/nope.yaml" is neither a built-in (dock-in, dock-out, door-tune, mixed, photo-eye, two-doors) nor a readable file: open {dir}/nope.yaml: no such file or directory`},
		{"unknown key", "{dir}/unknown.yaml",
			"readers[0].scenario: {dir}/unknown.yaml: scenario YAML: yaml: unmarshal errors: line 2: field foo not found in type readersim.Scenario"},
		{"invalid value", "{dir}/cycle.yaml",
			"readers[0].scenario: {dir}/cycle.yaml: cycle 1µs is too short; use at least 1ms"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.ReplaceAll("readers:\n  - {id: R1, type: sim, scenario: "+tc.scenario+"}\n", "{dir}", dir)
			wantOneProblem(t, y, strings.ReplaceAll(tc.want, "{dir}", dir))
		})
	}
}

// The label templates the gateway loads at start are loaded by the check:
// a broken one is a problem naming its key and what is wrong in it.
func TestLabelTemplatesChecked(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: t\nwidth_mm: wide\nlength_mm: 25\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"labels:\n  templates: {box: " + bad + "}\n", `labels.templates.box: invalid label template: ` + bad + `: line 2: width_mm: want a number, got "wide"`},
		{"labels:\n  carton: " + bad + "\n", `labels.carton: invalid label template: ` + bad + `: line 2: width_mm: want a number, got "wide"`},
		{"labels:\n  carton: " + filepath.Join(dir, "missing.yaml") + "\n", `labels.carton: invalid label template: open ` + filepath.Join(dir, "missing.yaml")},
	} {
		_, err := Parse([]byte(c.yaml), noEnv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", c.yaml, err, c.want)
		}
	}
	if _, err := Parse([]byte("labels:\n  carton: pallet\n"), noEnv); err != nil {
		t.Errorf("built-in template: %v", err)
	}
}

// sync: is off by default with a 5m stale_after; labels.epc_scheme is
// sscc-96 unless it names a '+' scheme.
func TestSyncAndEPCScheme(t *testing.T) {
	c, err := Parse([]byte("site: lyon\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Sync.Enabled || c.Sync.StaleAfter != 5*time.Minute || c.Labels.EPCScheme != EPCSchemeSSCC96 {
		t.Fatalf("defaults: %+v, epc_scheme %q", c.Sync, c.Labels.EPCScheme)
	}
	c, err = Parse([]byte("sync: {enabled: true, stale_after: 30s}\nlabels: {epc_scheme: sgtin+}\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sync.Enabled || c.Sync.StaleAfter != 30*time.Second || c.Labels.EPCScheme != EPCSchemeSGTINPlus {
		t.Fatalf("parsed: %+v, epc_scheme %q", c.Sync, c.Labels.EPCScheme)
	}
	_, err = Parse([]byte("sync: {stale_after: 10ms}\nlabels: {epc_scheme: sgtin-96}\n"), func(string) string { return "" })
	for _, want := range []string{"sync.stale_after: 10ms is too short", `labels.epc_scheme: "sgtin-96" is not one of sscc-96, sscc+, sgtin+`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if _, err := Parse([]byte("sync: {enabled: yes please}\n"), func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "sync.enabled: want true or false") {
		t.Errorf("a bad bool: %v", err)
	}
}
