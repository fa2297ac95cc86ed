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

// The example configuration in testdata stays valid (its MQTT password
// from the environment, as on a gateway).
func TestExampleConfigIsValid(t *testing.T) {
	var out, errb syncBuffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == "DOCKGATE_MQTT_PASSWORD" {
			return "secret"
		}
		return ""
	}}
	code := runMain(context.Background(), env, []string{"check-config", "-c", filepath.Join("..", "..", "testdata", "dockgate.example.yaml")})
	if code != 0 || out.String() != "ok\n" {
		t.Fatalf("example config: %d\n%s%s", code, out.String(), errb.String())
	}
}
