package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/store"
)

// A run that fails to start leaves no data dir it made itself behind, and
// never removes one that was there.
func TestFailedRunLeavesNoDataDirItMade(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	run := func(t *testing.T, yaml string) (string, int) {
		t.Helper()
		cfg := filepath.Join(t.TempDir(), "gw.yaml")
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errb syncBuffer
		env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
			if k == "GOMEMLIMIT" {
				return "off"
			}
			return ""
		}}
		code := runMain(context.Background(), env, []string{"run", "-c", cfg})
		return errb.String(), code
	}
	onPorts := func(dataDir, broker, http string) string {
		return fmt.Sprintf("data_dir: %s\nbroker:\n  listen: %s\nhttp:\n  listen: %s\nreaders: []\ndoors: []\n", dataDir, broker, http)
	}
	missing := func(t *testing.T, path string) {
		t.Helper()
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s is left behind", path)
		}
	}

	t.Run("broker port in use", func(t *testing.T) {
		root := t.TempDir()
		dataDir := filepath.Join(root, "new", "data")
		errs, code := run(t, onPorts(dataDir, busy.Addr().String(), freePort(t)))
		if code != 1 || !strings.Contains(errs, "address already in use") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		missing(t, filepath.Join(root, "new"))
	})
	t.Run("HTTP port in use", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		errs, code := run(t, onPorts(dataDir, freePort(t), busy.Addr().String()))
		if code != 1 || !strings.Contains(errs, "address already in use") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		missing(t, dataDir)
	})
	t.Run("bad config", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		errs, code := run(t, onPorts(dataDir, freePort(t), freePort(t))+"sitee: x\n")
		if code != 1 || !strings.Contains(errs, `unknown key "sitee"`) {
			t.Fatalf("exit %d: %s", code, errs)
		}
		missing(t, dataDir)
	})
	t.Run("an existing empty data dir stays", func(t *testing.T) {
		dataDir := t.TempDir()
		if _, code := run(t, onPorts(dataDir, busy.Addr().String(), freePort(t))); code != 1 {
			t.Fatalf("exit %d", code)
		}
		if _, err := os.Stat(dataDir); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a data dir in use stays", func(t *testing.T) {
		dataDir := t.TempDir()
		s, err := store.Open(dataDir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		errs, code := run(t, onPorts(dataDir, freePort(t), freePort(t)))
		if code != 1 || !strings.Contains(errs, "is in use by pid") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if _, err := os.Stat(filepath.Join(dataDir, "dockgate.lock")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("data stays", func(t *testing.T) {
		dataDir := filepath.Join(t.TempDir(), "data")
		code := strings.TrimSpace(mustLot(t, "new", "--data-dir", dataDir, "--product", "P", "--date", "2025-05-01"))
		if _, rc := run(t, onPorts(dataDir, busy.Addr().String(), freePort(t))); rc != 1 {
			t.Fatalf("exit %d", rc)
		}
		if out := mustLot(t, "show", "--data-dir", dataDir, code); !strings.Contains(out, code) {
			t.Fatalf("lot show after the failed run: %s", out)
		}
	})
}
