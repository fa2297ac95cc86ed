package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// buildBinary builds dockgate once per test run into a temp dir.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func dockgateBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dockgate-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "dockgate")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startGateway starts the real binary on a temp data dir and free ports and
// returns the process, its config and the broker address. A port taken by
// someone else between freePort and the gateway's bind is retried on new
// ports.
func startGateway(t *testing.T, dataDir string) (*exec.Cmd, string, string) {
	t.Helper()
	return startGatewayWith(t, dataDir, "")
}

// startGatewayWith is startGateway with more configuration (YAML appended).
func startGatewayWith(t *testing.T, dataDir, extra string) (*exec.Cmd, string, string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		cmd, cfg, brokerAddr, ok := tryStartGateway(t, dataDir, extra)
		if ok || attempt == 5 {
			return cmd, cfg, brokerAddr
		}
	}
}

func tryStartGateway(t *testing.T, dataDir, extra string) (*exec.Cmd, string, string, bool) {
	t.Helper()
	brokerAddr, httpAddr := freePort(t), freePort(t)
	cfg := filepath.Join(t.TempDir(), "dockgate.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`site: test
gateway: gw1
data_dir: %s
broker:
  listen: %s
http:
  listen: %s
%s`, dataDir, brokerAddr, httpAddr, extra)), 0o600)
	cmd := exec.Command(dockgateBinary(t), "run", "-c", cfg, "--log-format", "json")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	bindFailed := make(chan struct{})
	go func() {
		failed := false
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Log("gateway: " + sc.Text())
			if !failed && strings.Contains(sc.Text(), "address already in use") {
				failed = true
				close(bindFailed)
			}
		}
	}()
	// Wait (bounded) for the broker and the HTTP API to accept connections.
	for _, addr := range []string{brokerAddr, httpAddr} {
		for i := 0; i < 100; i++ {
			select {
			case <-bindFailed:
				cmd.Process.Kill()
				cmd.Wait()
				return cmd, cfg, brokerAddr, false
			default:
			}
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return cmd, cfg, brokerAddr, true
}

func TestRunPublishesStatusAndStopsCleanly(t *testing.T) {
	cmd, _, brokerAddr := startGateway(t, t.TempDir())

	states := make(chan map[string]any, 10)
	o := paho.NewClientOptions().AddBroker("tcp://" + brokerAddr).SetClientID("observer").
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		var v map[string]any
		if json.Unmarshal(m.Payload(), &v) == nil {
			v["_retained"] = m.Retained()
			states <- v
		}
	})
	var c paho.Client
	for i := 0; i < 50; i++ {
		c = paho.NewClient(o)
		if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer c.Disconnect(100)
	if tok := c.Subscribe("dockgate/v1/test/gw1/status", 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	deadline := time.After(20 * time.Second)
	for online := false; !online; {
		select {
		case v := <-states:
			online = v["state"] == "online"
			if online && (v["session"] == "" || v["session"] == nil || v["version"] == nil) {
				t.Fatalf("online status lacks session or version: %v", v)
			}
		case <-deadline:
			t.Fatal("no online status")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The broker is embedded in the process: the observer sees the offline
	// status before the broker goes away.
	for offline := false; !offline; {
		select {
		case v := <-states:
			offline = v["state"] == "offline"
		case <-deadline:
			t.Fatal("no offline status after SIGTERM")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

func TestRunRefusesLockedDataDirAndBusyPort(t *testing.T) {
	dataDir := t.TempDir()
	first, cfg, brokerAddr := startGateway(t, dataDir)

	out, err := exec.Command(dockgateBinary(t), "run", "-c", cfg).CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("second gateway on the same data dir: %v\n%s", err, out)
	}
	want := fmt.Sprintf("data dir %s is in use by pid %d", dataDir, first.Process.Pid)
	if last := lastLine(string(out)); !strings.Contains(last, want) {
		t.Fatalf("got %q, want it to say %q", last, want)
	}

	// Another data dir, but the broker port is taken.
	cfg2 := filepath.Join(t.TempDir(), "b.yaml")
	os.WriteFile(cfg2, []byte(fmt.Sprintf("data_dir: %s\nbroker:\n  listen: %s\nhttp:\n  listen: \"\"\n", t.TempDir(), brokerAddr)), 0o600)
	out, err = exec.Command(dockgateBinary(t), "run", "-c", cfg2).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(lastLine(string(out)), "address already in use") {
		t.Fatalf("busy port: %v\n%s", err, out)
	}

	// A bad config: exit 1 with one line.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("sitee: x\n"), 0o600)
	out, err = exec.Command(dockgateBinary(t), "run", "-c", bad).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), `unknown key "sitee"`) {
		t.Fatalf("bad config: %v\n%s", err, out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
