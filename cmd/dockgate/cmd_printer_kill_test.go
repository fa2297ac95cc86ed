package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers/printersim"
)

// A real gateway process killed (SIGKILL) twice while it prints to a
// printer with a label counter: started again on the same data directory,
// it resolves the batches the kills cut short from the printer's count,
// and every job ends confirmed with its label printed once, counted from
// the simulator's own log.
func TestGatewaySIGKILLWhilePrintingPrintsEveryLabelOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the gateway binary")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sim := printersim.New(printersim.Options{Profile: "zebra-zt411r-203", BootedAgo: time.Hour, LabelsPerSecond: 60})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- sim.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served })

	dataDir := t.TempDir()
	extra := fmt.Sprintf(`printers:
  - id: P9
    profile: zebra-zt411r-203
    address: %s
    batch_jobs: 8
    timeouts: {status: 500ms, poll: 50ms}
`, ln.Addr())
	cmd, cfg, _ := startGatewayWith(t, dataDir, extra)
	api := httpListen(t, cfg)
	const n = 60
	id := func(i int) string { return fmt.Sprintf("K%03d", i) }
	for i := 0; i < n; i++ {
		body, _ := json.Marshal(map[string]any{"id": id(i), "printer": "P9", "zpl": "^XA^FO50,50^A0N,40,40^FD" + id(i) + "^FS^XZ"})
		resp, err := http.Post("http://"+api+"/print", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST /print %s: %s", id(i), resp.Status)
		}
	}
	for _, at := range []int{12, 35} {
		for i := 0; i < 5000; i++ {
			if _, l := sim.Count(); l >= at {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		cmd, cfg, _ = startGatewayWith(t, dataDir, extra)
		api = httpListen(t, cfg)
	}
	states := map[string]string{}
	for i := 0; i < n; i++ {
		for try := 0; ; try++ {
			var j struct{ State, Reason string }
			resp, err := http.Get("http://" + api + "/jobs/" + id(i))
			if err == nil {
				err = json.NewDecoder(resp.Body).Decode(&j)
				resp.Body.Close()
			}
			if err == nil && j.State != "queued" && j.State != "held" && j.State != "sending" && j.State != "sent" {
				states[id(i)] = j.State + " " + j.Reason
				break
			}
			if try == 3000 {
				t.Fatalf("job %s still %s (%v)", id(i), j.State, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	printed := map[string]int{}
	fds := map[int]string{}
	for _, f := range sim.Formats() {
		z := string(f.ZPL)
		fds[f.Seq] = z[strings.Index(z, "^FD")+3 : strings.Index(z, "^FS")]
	}
	for _, l := range sim.Labels() {
		if !l.Void {
			printed[fds[l.Format]]++
		}
	}
	for i := 0; i < n; i++ {
		if st := states[id(i)]; !strings.HasPrefix(st, "confirmed") || printed[id(i)] != 1 {
			t.Errorf("job %s: %s, printed %d", id(i), st, printed[id(i)])
		}
	}
	t.Logf("%d jobs, 2 kills: all confirmed, each printed once; %d connections to the printer", n, sim.Connections())
}

var httpListenRE = regexp.MustCompile(`(?m)^http:\n  listen: (\S+)`)

// httpListen is the HTTP API address of a config startGatewayWith wrote.
func httpListen(t *testing.T, cfg string) string {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := httpListenRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no http listen in %s", b)
	}
	return string(m[1])
}
