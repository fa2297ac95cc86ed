package spool

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/printersim"
)

const (
	killChildEnv = "DOCKGATE_SPOOL_KILL_CHILD"
	killJobs     = 150
)

// TestKillChild is the spooler process of TestKillAndRestart: it submits the
// jobs (again, after a restart: submissions are idempotent), prints until
// none is active, and exits. Its job events are staged with their changes
// (stagingSink).
func TestKillChild(t *testing.T) {
	if os.Getenv(killChildEnv) == "" {
		return // only meaningful as the child of TestKillAndRestart
	}
	dir, addr := os.Getenv("KILL_DIR"), os.Getenv("KILL_ADDR")
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := testConfig(addr)
	cfg.BatchJobs = 4
	sp, err := New(st, Options{Printers: []printers.Config{cfg}, Events: newStagingSink(), Backoff: func(int) time.Duration { return 5 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < killJobs; i++ {
		id := fmt.Sprintf("K%04d", i)
		if err := sp.Submit(ctx, Job{ID: id, Printer: "p1", ZPL: label(id)}); err != nil {
			t.Fatal(err)
		}
	}
	runUntilEmpty(t, sp, ctx, cancel)
}

func TestKillAndRestart(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		return
	}
	sim, addr := startSim(t, printersim.Options{LabelsPerSecond: 400})
	dir := t.TempDir()
	child := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"=1", "KILL_DIR="+dir, "KILL_ADDR="+addr)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	// kill the spooler three times while it prints, then let it finish
	for _, at := range []int{20, 60, 100} {
		cmd := child()
		for i := 0; i < 3000; i++ {
			if f, _ := sim.Count(); f >= at {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
	cmd := child()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("last spooler run: %v", err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := New(st, Options{Printers: []printers.Config{testConfig(addr)}})
	if err != nil {
		t.Fatal(err)
	}
	counts := printedCounts(sim)
	unknown := 0
	for i := 0; i < killJobs; i++ {
		id := fmt.Sprintf("K%04d", i)
		j, err := sp.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		switch j.State {
		case Confirmed:
			if counts[id] != 1 {
				t.Errorf("job %s confirmed, printed %d times", id, counts[id])
			}
		case Unknown:
			unknown++
			if counts[id] > 1 {
				t.Errorf("job %s unknown, printed %d times", id, counts[id])
			}
		default:
			t.Errorf("job %s ended %s (%s)", id, j.State, j.Reason)
		}
		// No kill lost the event of a change, nor left one of a change
		// not made.
		if n := len(stagedOf(t, st, printers.EventKind("job."+string(j.State)), id)); n != 1 {
			t.Errorf("job %s is %s with %d job.%s events, want 1", id, j.State, n, j.State)
		}
	}
	for id, n := range counts {
		if n > 1 {
			t.Errorf("%s printed %d times", id, n)
		}
	}
	t.Logf("%d jobs: %d printed, %d unknown after 3 kills", killJobs, len(counts), unknown)
}

// runUntilEmpty runs sp until printer p1's queue is empty (or ctx ends),
// then stops it with cancel.
func runUntilEmpty(t *testing.T, sp *Spooler, ctx context.Context, cancel context.CancelFunc) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- sp.Run(ctx) }()
	for ctx.Err() == nil {
		if n, _ := sp.QueueLen("p1"); n == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
