package lots

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/lot"
)

const helperEnv = "DOCKGATE_LOTS_CRASH_DIR"

var crashConfig = lot.Config{Formats: map[string]lot.FormatConfig{
	"c": {Format: "{YYMM}-{PRODUCT}-{SEQ:5}", SeqPer: lot.PerGlobal},
}}

// TestHelperIssueLoop is the child of TestCrashNeverRepeats: with the data
// dir in its environment it issues lots in a loop and prints each code once
// Issue has returned. Without it, it does nothing.
func TestHelperIssueLoop(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		return
	}
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	if s.Recovered != "" {
		// A store the kill left unopenable was set aside: the codes in it
		// are not lost, but this store starts afresh.
		fmt.Println("ERROR store set aside after the kill:", s.RecoverErr)
		os.Exit(3)
	}
	r, err := New(s, Options{Config: crashConfig})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(3)
	}
	for i := range 2000 {
		l, err := r.Issue(context.Background(), IssueRequest{Format: "c", Details: Details{Product: fmt.Sprintf("P%d", i%4)}})
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(3)
		}
		fmt.Println(l.Code)
	}
	s.Close()
	os.Exit(0)
}

// TestCrashNeverRepeats kills an issuing process with SIGKILL at random points
// and checks, after each restart, that no code repeats and every code the
// process reported as issued is recorded.
func TestCrashNeverRepeats(t *testing.T) {
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill points seeded with %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	printed := map[string]int{}
	for round := range 6 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIssueLoop$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killAfter := 1 + rng.IntN(40)
		sc := bufio.NewScanner(out)
		n := 0
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "ERROR") {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("round %d: child: %s", round, line)
			}
			if prev, dup := printed[line]; dup {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatalf("round %d: code %s issued again (first in round %d)", round, line, prev)
			}
			printed[line] = round
			if n++; n == killAfter {
				time.Sleep(time.Duration(rng.IntN(1500)) * time.Microsecond)
				_ = cmd.Process.Kill() // SIGKILL, mid-issue most of the time
				break
			}
		}
		for sc.Scan() { // lines written before the kill landed
			if line := sc.Text(); !strings.HasPrefix(line, "ERROR") && line != "" && !strings.HasPrefix(line, "PASS") {
				if _, dup := printed[line]; dup {
					t.Fatalf("round %d: code %s issued again", round, line)
				}
				printed[line] = round
			}
		}
		_ = cmd.Wait()
		if n < killAfter {
			t.Fatalf("round %d: child printed %d codes and stopped before the kill", round, n)
		}
	}
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := New(s, Options{Config: crashConfig})
	if err != nil {
		t.Fatal(err)
	}
	for code := range printed {
		if _, err := r.Get(code); err != nil {
			t.Fatalf("code %s was reported issued but is lost: %v", code, err)
		}
	}
	for range 20 {
		l, err := r.Issue(context.Background(), IssueRequest{Format: "c", Details: Details{Product: "P0"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := printed[l.Code]; dup {
			t.Fatalf("after restart code %s issued again", l.Code)
		}
		printed[l.Code] = -1
	}
	all, err := r.List(context.Background(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < len(printed) {
		t.Fatalf("%d lots recorded, %d issued", len(all), len(printed))
	}
}
