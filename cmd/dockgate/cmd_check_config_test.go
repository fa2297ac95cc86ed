package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the goroutines a command leaves
// logging while it shuts down.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLIInput(t, "", args...)
}

func runCLIInput(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb syncBuffer
	env := &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code = runMain(context.Background(), env, args)
	return out.String(), errb.String(), code
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("site: dc1\ngateway: gw1\n"), 0o600)
	os.WriteFile(bad, []byte("site: dc1\nmqtt:\n  ulr: x\ndoors:\n  - id: D1\n    role: up\n"), 0o600)

	out, _, code := runCLI(t, "check-config", "-c", good)
	if code != 0 || out != "ok\n" {
		t.Fatalf("good file: code %d, out %q", code, out)
	}
	out, _, code = runCLI(t, "check-config", "-c", bad)
	if code != 1 {
		t.Fatalf("bad file: code %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `line 3: unknown key "ulr" in mqtt`) || !strings.Contains(lines[1], `doors[0]: door "D1": role "up"`) {
		t.Fatalf("bad file output:\n%s", out)
	}
	// A door's printer must speak a language labels are rendered in.
	tspl := filepath.Join(dir, "tspl.yaml")
	os.WriteFile(tspl, []byte("site: dc1\ngateway: gw1\nprinters:\n  - id: P1\n    profile: tsc-te210-203\n    address: 10.0.4.21\ndoors:\n  - id: D1\n    printer: P1\n"), 0o600)
	out, _, code = runCLI(t, "check-config", "-c", tspl)
	if code != 1 || !strings.Contains(out, "printer P1: profile: tsc-te210-203 speaks tspl") || !strings.Contains(out, "door D1") {
		t.Fatalf("TSPL door printer: code %d\n%s", code, out)
	}
	_, errOut, code := runCLI(t, "check-config", "-c", filepath.Join(dir, "missing.yaml"))
	if code != 1 || errOut != "" {
		t.Fatalf("missing file: code %d stderr %q", code, errOut)
	}
}

// A file that cannot be read or parsed is reported with the reason, by
// check-config and by run alike.
func TestCheckConfigUnreadable(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	cases := []struct {
		name, file, want string
	}{
		{"missing file", filepath.Join(dir, "nope.yaml"), "no such file or directory (check -c)"},
		{"directory", dir, "is a directory (-c must name a readable YAML file)"},
		{"tab indentation", write("tab.yaml", "site: dc1\nmqtt:\n\turl: tcp://b:1883\n"),
			"line 3: found character that cannot start any token (the line holds a tab: indent YAML with spaces)"},
		{"unclosed list", write("list.yaml", "site: [lyon\n"), "line 1: did not find expected ',' or ']'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, _, code := runCLI(t, "check-config", "-c", tc.file)
			if want := tc.file + ": " + tc.want + "\n"; code != 1 || out != want {
				t.Errorf("check-config: code %d, out %q, want %q", code, out, want)
			}
			_, errOut, code := runCLI(t, "run", "-c", tc.file)
			if want := "dockgate run: " + tc.file + ": " + tc.want + "\n"; code != 1 || errOut != want {
				t.Errorf("run: code %d, stderr %q, want %q", code, errOut, want)
			}
		})
	}
}

// What run would refuse at start (a port taken twice or out of range, TLS
// files that do not load, a missing scenario) check-config reports, all at
// once.
func TestCheckConfigStartProblems(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.txt")
	file := filepath.Join(dir, "gw.yaml")
	os.WriteFile(ca, []byte("not a certificate\n"), 0o600)
	os.WriteFile(file, []byte(`site: dc1
mqtt:
  url: ssl://central.example:8883
  ca_file: `+ca+`
  keepalive: 20
http:
  listen: 127.0.0.1:99999
readers:
  - {id: R1, type: sim, scenario: `+dir+`/nope.yaml}
gs1:
  sscc_serial_start: 200
  sscc_serial_end: 100
`), 0o600)
	out, _, code := runCLI(t, "check-config", "-c", file)
	want := []string{
		"line 5: mqtt.keepalive: 20 has no unit: write a duration with its unit, e.g. 20s",
		"mqtt.ca_file " + ca + " holds no PEM certificate (point it at the CA certificate that signed the broker's: a -----BEGIN CERTIFICATE----- block)",
		`http.listen: port "99999" of 127.0.0.1:99999 is not a port number 1 to 65535 (e.g. 127.0.0.1:8080; empty disables the API)`,
		"gs1.sscc_serial_start: 200 is after gs1.sscc_serial_end 100: the range runs from start to end, so start must not be greater",
		`readers[0].scenario: scenario "` + dir + `/nope.yaml" is neither a built-in (dock-in, dock-out, door-tune, mixed, photo-eye, two-doors) nor a readable file: open ` + dir + `/nope.yaml: no such file or directory`,
	}
	var wantOut strings.Builder
	for _, w := range want {
		wantOut.WriteString(file + ": " + w + "\n")
	}
	if code != 1 || out != wantOut.String() {
		t.Fatalf("code %d, out:\n%s\nwant:\n%s", code, out, wantOut.String())
	}
	// run names the first and sends to check-config for the rest.
	_, errOut, code := runCLI(t, "run", "-c", file)
	if wantErr := "dockgate run: " + file + ": " + want[0] + " (and 4 more: run \"dockgate check-config -c " + file + "\" for every problem)\n"; code != 1 || errOut != wantErr {
		t.Fatalf("run: code %d, stderr %q, want %q", code, errOut, wantErr)
	}
}

// The example configuration in testdata passes check-config as it stands,
// as a new user runs it: no secret in the environment, no file of the
// gateway's in place; and with its MQTT password from the environment, as
// on a gateway.
func TestExampleConfigIsValid(t *testing.T) {
	example, err := filepath.Abs(filepath.Join("..", "..", "testdata", "dockgate.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// From an empty directory, so that nothing it might write goes into
	// the tree.
	t.Chdir(t.TempDir())
	for _, env := range []map[string]string{{}, {"DOCKGATE_MQTT_PASSWORD": "secret"}} {
		var out, errb syncBuffer
		cli := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return env[k] }}
		code := runMain(context.Background(), cli, []string{"check-config", "-c", example})
		if code != 0 || out.String() != "ok\n" {
			t.Fatalf("check-config of the example with environment %v: exit %d\n%s%s", env, code, out.String(), errb.String())
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Fatalf("check-config wrote %v", entries)
	}
}
