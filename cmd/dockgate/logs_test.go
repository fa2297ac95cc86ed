package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// logKeys are the keys of one slog text line, in order.
func logKeys(t *testing.T, line string) []string {
	t.Helper()
	var keys []string
	for s := strings.TrimSpace(line); s != ""; s = strings.TrimLeft(s, " ") {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || strings.ContainsAny(k, " \"") {
			t.Fatalf("not a slog text line: %q", line)
		}
		keys = append(keys, k)
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			s = rest[len(q):]
		} else if i := strings.IndexByte(rest, ' '); i >= 0 {
			s = rest[i:]
		} else {
			s = ""
		}
	}
	return keys
}

// The gateway's log names each key once per line (a reader's logger
// already carries reader=ID), and an err only when there is one.
func TestGatewayLogNamesEachKeyOnce(t *testing.T) {
	var dataDir atomic.Value
	dataDir.Store(filepath.Join(t.TempDir(), "dockgate-data"))
	httpAddr := defaultsOnFreePorts(t, &dataDir)
	stop, log := runDefaultGateway(t, httpAddr, "--log-level", "debug")
	// The simulated portal R1 connects (bounded wait).
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), `msg="reader connected"`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no reader connected:\n%s", log.String())
		}
	}
	stop()
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	sawReader := false
	for _, l := range lines {
		seen := map[string]bool{}
		for _, k := range logKeys(t, l) {
			if seen[k] {
				t.Errorf("key %s twice: %s", k, l)
			}
			seen[k] = true
		}
		if strings.Contains(l, "err=<nil>") || strings.Contains(l, `err=""`) {
			t.Errorf("err without an error: %s", l)
		}
		sawReader = sawReader || strings.Contains(l, "reader=R1")
	}
	if !sawReader {
		t.Fatalf("no line names reader R1:\n%s", log.String())
	}
}
