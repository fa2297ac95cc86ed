package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// rdrBuffer is a goroutine-safe output buffer.
type rdrBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *rdrBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *rdrBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startSimReader runs "dockgate sim reader" on a free loopback port and
// returns the address it listens on.
func startSimReader(t *testing.T, args ...string) string {
	t.Helper()
	addr, _ := startSimReaderOut(t, args...)
	return addr
}

// startSimReaderOut is startSimReader that also gives the simulator's
// standard output (its JSON lines).
func startSimReaderOut(t *testing.T, args ...string) (string, *rdrBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &rdrBuffer{}, &rdrBuffer{}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: out, stderr: errb, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, env, append([]string{"sim", "reader", "--listen", "127.0.0.1:0"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("sim reader exit %d: %s", code, errb.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			var v struct{ Listen string }
			if err := json.Unmarshal([]byte(line), &v); err != nil || v.Listen == "" {
				t.Fatalf("first line %q: %v", line, err)
			}
			return v.Listen, out
		}
		select {
		case code := <-done:
			t.Fatalf("sim reader exited %d: %s", code, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("sim reader did not start")
	return "", nil
}

func rdrRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	out, errb := &rdrBuffer{}, &rdrBuffer{}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: out, stderr: errb, getenv: func(string) string { return "" }}
	code = runMain(context.Background(), env, args)
	return out.String(), errb.String(), code
}

func TestSimReaderListAndErrors(t *testing.T) {
	out, _, code := rdrRun(t, "sim", "reader", "--list")
	if code != 0 || !strings.Contains(out, "dock-in\n") || !strings.Contains(out, "dock-out\n") || !strings.Contains(out, "mixed\n") {
		t.Fatalf("--list: exit %d, %q", code, out)
	}
	_, errs, code := rdrRun(t, "sim", "reader", "--scenario", "no-such-scenario")
	if code != 1 || !strings.Contains(errs, "neither a built-in") {
		t.Fatalf("unknown scenario: exit %d, %q", code, errs)
	}
	_, errs, code = rdrRun(t, "sim", "reader", "--time-scale", "0")
	if code != 1 || !strings.Contains(errs, "--time-scale") {
		t.Fatalf("bad scale: exit %d, %q", code, errs)
	}
}
