package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/lots"
)

// defaultsOnFreePorts makes the embedded defaults ("dockgate run" without
// -c) listen on free loopback ports, with their data dir the one dataDir
// holds, for the test. It returns the HTTP API's address.
func defaultsOnFreePorts(t *testing.T, dataDir *atomic.Value) string {
	t.Helper()
	httpAddr, brokerAddr := freePort(t), freePort(t)
	old := defaultConfig
	defaultConfig = func() *config.Config {
		c := config.Default()
		c.HTTP.Listen, c.Broker.Listen = httpAddr, brokerAddr
		c.DataDir = dataDir.Load().(string)
		return c
	}
	t.Cleanup(func() { defaultConfig = old })
	return httpAddr
}

// runDefaultGateway runs "dockgate run" without -c in this process until
// the test ends, and waits (bounded) for its HTTP API. Its log is returned.
func runDefaultGateway(t *testing.T, httpAddr string, args ...string) (stop func(), log *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log = &syncBuffer{}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: log, stderr: log, getenv: func(k string) string {
		if k == "GOMEMLIMIT" {
			return "off" // the test process keeps its own
		}
		return ""
	}}
	done := make(chan int, 1)
	go func() { done <- runMain(ctx, env, append([]string{"run"}, args...)) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("run exit %d:\n%s", code, log.String())
			}
		case <-time.After(60 * time.Second):
			t.Fatal("run did not stop")
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get("http://" + httpAddr + "/healthz"); err == nil {
			resp.Body.Close()
			return stop, log
		}
		select {
		case code := <-done:
			t.Fatalf("run exited %d:\n%s", code, log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway's API did not come up:\n%s", log.String())
		}
	}
}

// A gateway started without -c is reached without -c by lot, trace,
// outbox and printer status alike: from its directory (its data dir is
// held) and from any other (its API answers on the default address). With
// no gateway, they fail naming what they tried, and create nothing.
func TestCommandsWithoutConfigReachTheDefaultGateway(t *testing.T) {
	gwData := filepath.Join(t.TempDir(), "dockgate-data")
	elsewhere := filepath.Join(t.TempDir(), "dockgate-data")
	var dataDir atomic.Value
	dataDir.Store(gwData)
	httpAddr := defaultsOnFreePorts(t, &dataDir)
	stop, _ := runDefaultGateway(t, httpAddr)

	// In the gateway's directory: the data dir is held, the API used.
	code := strings.TrimSpace(mustLot(t, "new", "--format", seedFormat, "--product", "WLD01", "--brand", "LWX", "--date", "2025-05-07"))
	if !strings.HasPrefix(code, "2505-LWX-WLD01-") {
		t.Fatalf("lot new: %q", code)
	}
	var l lots.Lot
	if out := mustLot(t, "hold", code, "--reason", "lab"); json.Unmarshal([]byte(out), &l) != nil || l.Status != lots.StatusOnHold {
		t.Fatalf("lot hold: %s", out)
	}

	// From another directory: no data dir there, the API answers.
	dataDir.Store(elsewhere)
	var ls []lots.Lot
	if out := mustLot(t, "list"); json.Unmarshal([]byte(out), &ls) != nil || len(ls) != 1 || ls[0].Code != code {
		t.Fatalf("lot list: %s", out)
	}
	if out := mustLot(t, "show", code); json.Unmarshal([]byte(out), &l) != nil || l.Code != code || l.Status != lots.StatusOnHold {
		t.Fatalf("lot show: %s", out)
	}
	if out, errs, rc := runCLI(t, "outbox", "stats"); rc != 0 || !strings.Contains(out, "quarantined") {
		t.Fatalf("outbox stats: exit %d %s %s", rc, out, errs)
	}
	if out, errs, rc := runCLI(t, "trace", "lot", code); rc != 0 || !strings.Contains(out, code) {
		t.Fatalf("trace lot: exit %d %s %s", rc, out, errs)
	}
	// printer status P1: the simulated printer of the defaults, as the
	// gateway last read it (bounded wait for its first reading).
	var st printerStatusResult
	var out, errs string
	rc := -1
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, errs, rc = prnRun(t, "printer", "status", "P1"); rc != exitPrinterUnknown {
			break
		}
	}
	if rc != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Printer != "P1" || !st.Ready || st.Via != "http://"+httpAddr {
		t.Fatalf("printer status P1: exit %d %s %s", rc, out, errs)
	}
	if _, errs, rc := prnRun(t, "printer", "status", "P9"); rc != 1 || !strings.Contains(errs, `no printer "P9" in the embedded defaults`) {
		t.Fatalf("printer status of an unknown id: exit %d %s", rc, errs)
	}
	if _, err := os.Stat(elsewhere); err == nil {
		t.Fatalf("a command made %s", elsewhere)
	}

	// No gateway: every one names the data dir and the address it tried.
	stop()
	for _, args := range [][]string{
		{"lot", "list"},
		{"lot", "new", "--format", seedFormat, "--product", "P", "--brand", "B"},
		{"lot", "show", code},
		{"trace", "lot", code},
		{"outbox", "stats"},
		{"receive", "--door", "DOOR1", "--gtin", "09520123456788"},
	} {
		_, errs, rc := runCLI(t, args...)
		if rc != 1 || !strings.Contains(errs, "no data dir "+elsewhere+" here") || !strings.Contains(errs, "no gateway answered at http://"+httpAddr) ||
			!strings.Contains(errs, "-c FILE") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%q with no gateway: exit %d, stderr %q", args, rc, errs)
		}
	}
	if _, errs, rc := prnRun(t, "printer", "status", "P1"); rc != 1 || !strings.Contains(errs, "built-in simulator") || !strings.Contains(errs, "no gateway answered at http://"+httpAddr) {
		t.Errorf("printer status P1 with no gateway: exit %d, stderr %q", rc, errs)
	}
	if _, err := os.Stat(elsewhere); err == nil {
		t.Fatalf("a command made %s", elsewhere)
	}
	// Back in the gateway's directory, it works on the stopped gateway's
	// data.
	dataDir.Store(gwData)
	if out := mustLot(t, "show", code); json.Unmarshal([]byte(out), &l) != nil || l.Code != code {
		t.Fatalf("lot show offline: %s", out)
	}
}
