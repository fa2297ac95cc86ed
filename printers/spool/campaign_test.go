package spool

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
)

// The fault campaign: a spooler process prints to a simulated printer with
// a label counter while the connection drops mid-batch, connections are
// refused, the link stalls, and the process is killed (SIGKILL) and
// started again. Every job ends confirmed or failed, never unknown, and no
// label prints twice, counted from the simulator's own log of the labels
// it printed.

const (
	campaignChildEnv = "DOCKGATE_SPOOL_CAMPAIGN_CHILD"
	campaignJobs     = 120
)

func campaignIDs() []string { return ids("F", campaignJobs) }

// TestCampaignChild is the spooler process of TestFaultCampaign: it
// submits the jobs (again after a restart: submissions are idempotent),
// prints until none is active, and exits.
func TestCampaignChild(t *testing.T) {
	if os.Getenv(campaignChildEnv) == "" {
		return // only meaningful as the child of TestFaultCampaign
	}
	st, err := store.Open(os.Getenv("CAMPAIGN_STORE"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := testConfig(os.Getenv("CAMPAIGN_ADDR"))
	withCounter(&cfg)
	cfg.BatchJobs = 8
	cfg.Timeouts.Status = 500 * time.Millisecond
	cfg.Timeouts.Write = 300 * time.Millisecond
	logf, err := os.OpenFile(filepath.Join(os.Getenv("CAMPAIGN_DIR"), "spooler.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	sp, err := New(st, Options{Printers: []printers.Config{cfg}, Events: newStagingSink(), Backoff: func(int) time.Duration { return 5 * time.Millisecond },
		Logger: slog.New(slog.NewTextHandler(logf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := sp.SubmitAll(ctx, jobsOf(campaignIDs())); err != nil {
		t.Fatal(err)
	}
	runUntilEmpty(t, sp, ctx, cancel)
}

func TestFaultCampaign(t *testing.T) {
	if os.Getenv(campaignChildEnv) != "" {
		return
	}
	if testing.Short() {
		t.Skip("the fault campaign runs spooler processes")
	}
	sim, addr := startSim(t, counterSim(80))
	dir := t.TempDir()
	store0 := filepath.Join(dir, "store")
	var cmd *exec.Cmd
	start := func() {
		cmd = exec.Command(os.Args[0], "-test.run=^TestCampaignChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), campaignChildEnv+"=1", "CAMPAIGN_DIR="+dir, "CAMPAIGN_STORE="+store0, "CAMPAIGN_ADDR="+addr)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	kill := func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		start()
	}
	pause := func(d time.Duration) { time.Sleep(d) }
	faults := []struct {
		at   int // labels printed before the fault
		name string
		do   func()
	}{
		{6, "drop", sim.Drop},
		{14, "refuse", func() { sim.SetRefuse(true); sim.Drop(); pause(150 * time.Millisecond); sim.SetRefuse(false) }},
		{22, "kill", kill},
		{30, "stall", func() { sim.SetSlow(40); pause(400 * time.Millisecond); sim.SetSlow(0) }},
		{40, "drop", sim.Drop},
		{52, "kill", kill},
		{64, "drop and kill", func() { sim.Drop(); kill() }},
		{76, "refuse and kill", func() { sim.SetRefuse(true); kill(); pause(100 * time.Millisecond); sim.SetRefuse(false) }},
		{84, "drop mid-write", func() { sim.SetSlow(1500); pause(120 * time.Millisecond); sim.Drop(); sim.SetSlow(0) }},
		{92, "kill mid-write", func() { sim.SetSlow(1500); pause(120 * time.Millisecond); kill(); sim.Drop(); sim.SetSlow(0) }},
		{100, "kill", kill},
	}
	start()
	for _, f := range faults {
		for i := 0; i < 5000; i++ {
			if _, l := sim.Count(); l >= f.at {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		f.do()
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("last spooler run: %v", err)
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the last spooler run did not finish")
	}
	st, err := store.Open(store0, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jobs, err := ListJobs(st.DB(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	printed := printedLabels(sim)
	var confirmed, failed, again int
	for _, j := range jobs {
		switch j.State {
		case Confirmed:
			confirmed++
			if printed[j.ID] != 1 {
				t.Errorf("job %s confirmed, printed %d times", j.ID, printed[j.ID])
			}
		case Failed:
			failed++
			if printed[j.ID] > 1 {
				t.Errorf("job %s failed, printed %d times", j.ID, printed[j.ID])
			}
		default:
			t.Errorf("job %s ended %s (%s)", j.ID, j.State, j.Reason)
		}
		if j.Attempts > 1 {
			again++
		}
	}
	if len(jobs) != campaignJobs {
		t.Fatalf("%d jobs stored, want %d", len(jobs), campaignJobs)
	}
	for id, n := range printed {
		if n > 1 {
			t.Errorf("%s printed %d times", id, n)
		}
	}
	logb, _ := os.ReadFile(filepath.Join(dir, "spooler.log"))
	resolved := strings.Count(string(logb), "resolved by the printer's label counter")
	if resolved == 0 {
		t.Errorf("no batch was cut short and resolved by the label counter: the faults missed")
	}
	t.Logf("%d jobs through %d faults: %d confirmed, %d failed; %d batches cut short resolved by the label counter, %d jobs sent again; %d connections",
		campaignJobs, len(faults), confirmed, failed, resolved, again, sim.Connections())
}
