package mqttpub

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/store"
)

// The crash test re-executes the test binary as a gateway child process.
const (
	envChild = "DOCKGATE_CRASH_CHILD" // "storm" or "drain"
	envDir   = "DOCKGATE_CRASH_DIR"
	envURL   = "DOCKGATE_CRASH_URL"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		os.Exit(crashChild(mode, os.Getenv(envDir), os.Getenv(envURL)))
	}
	os.Exit(m.Run())
}

// crashChild is the gateway under test: it appends a storm of events,
// printing "ACK seq eventID" for each Append that returned, while the
// publisher drains to the broker; or ("drain") it only publishes until the
// outbox is empty and prints DRAINED.
func crashChild(mode, dir, url string) int {
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	defer s.Close()
	ob, err := outbox.Open(s, outbox.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	defer ob.Close()
	cfg := testConfig(url)
	p, err := New(cfg, ob, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- p.Run(ctx) }()

	if mode == "drain" {
		for ob.Stats().Pending() > 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "child: outbox not drained in time:", ob.Stats().Pending())
			return 3
		}
		cancel()
		<-runDone
		fmt.Println("DRAINED")
		return 0
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000 && ctx.Err() == nil; i++ {
				pr := outbox.Priority(i % 3)
				id := outbox.NewID()
				seq, err := ob.Append(ctx, outbox.Event{ID: id, Type: fmt.Sprintf("p%d", pr), Priority: pr, Source: "crash",
					Body: json.RawMessage(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))})
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ACK %d %s\n", seq, id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Not killed before the storm ended: wait to be killed.
	<-ctx.Done()
	return 0
}

func TestSIGKILLDuringPublishStormLosesNothing(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	defer b.Close()
	s := newSink()
	s.attach(t, b, prefix+"/events/#")
	crashStorm(t, b.URL(), s)
}

// crashStorm runs four gateway children against the broker at url, each
// killed with SIGKILL at a random point of a publish storm, then one that
// drains the outbox, and checks that the independent subscriber s saw every
// event an Append acknowledged.
func crashStorm(t *testing.T, url string, s *sink) {
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	t.Logf("seed %d", seed)

	acked := map[string]uint64{} // eventID → seq
	bySeq := map[uint64]string{}
	run := func(mode string, killAfter int) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+mode, envDir+"="+dir, envURL+"="+url)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killer := time.AfterFunc(90*time.Second, func() { _ = cmd.Process.Kill() })
		defer killer.Stop()
		sc := bufio.NewScanner(out)
		n := 0
		drained := false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 1 && f[0] == "DRAINED" {
				drained = true
				continue
			}
			if len(f) != 3 || f[0] != "ACK" {
				continue // a line cut by the kill
			}
			seq, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				continue
			}
			if prev, ok := bySeq[seq]; ok && prev != f[2] {
				t.Errorf("seq %d handed out twice: %s and %s", seq, prev, f[2])
			}
			bySeq[seq] = f[2]
			acked[f[2]] = seq
			n++
			if killAfter > 0 && n == killAfter {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		if mode == "drain" && (err != nil || !drained) {
			t.Fatalf("drain child: %v (drained=%v)", err, drained)
		}
	}
	for round := 0; round < 4; round++ {
		run("storm", 100+rng.IntN(3000))
	}
	run("drain", 0)

	s.waitFor(t, "every acknowledged event at the subscriber", 30*time.Second, func() bool {
		for id := range acked {
			if s.ids[id] == 0 {
				return false
			}
		}
		return true
	})
	s.mu.Lock()
	dups := 0
	for _, c := range s.ids {
		dups += c - 1
	}
	s.mu.Unlock()
	checkOrder(t, s)
	t.Logf("%d events acknowledged by Append across 4 SIGKILLs, all delivered; %d duplicates (deduplicated by eventID)", len(acked), dups)
}
