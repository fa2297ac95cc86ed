package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/store"
)

func runOutboxCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := runMain(context.Background(), env, append([]string{"outbox"}, args...))
	return code, out.String(), errb.String()
}

// quarantineOne leaves one quarantined and one queued event in dir.
func quarantineOne(t *testing.T, dir string) {
	t.Helper()
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ob, err := outbox.Open(s, outbox.Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	ctx := context.Background()
	for _, typ := range []string{"lot.created", "receiving.done"} {
		if _, err := ob.Append(ctx, outbox.Event{Type: typ, Priority: outbox.PriorityLot, Body: json.RawMessage(`{"lot":"L1"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	evs, err := ob.Next(wctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := ob.Quarantine(ctx, evs[0], "broker refused it"); err != nil {
		t.Fatal(err)
	}
}

func TestOutboxCommand(t *testing.T) {
	dir := t.TempDir()
	quarantineOne(t, dir)

	code, out, errs := runOutboxCmd(t, "--data-dir", dir, "stats")
	if code != 0 {
		t.Fatalf("stats: exit %d: %s", code, errs)
	}
	var st outbox.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Quarantined != 1 || st.Queued[outbox.PriorityLot].Events != 1 {
		t.Fatalf("stats %s: %v", out, err)
	}
	code, out, errs = runOutboxCmd(t, "--data-dir", dir, "quarantined", "--max", "5")
	var q []outbox.Quarantined
	if code != 0 || json.Unmarshal([]byte(out), &q) != nil || len(q) != 1 || q[0].Reason != "broker refused it" || q[0].Event.Type != "lot.created" {
		t.Fatalf("quarantined: exit %d %s %s", code, out, errs)
	}
	seq := q[0].Event.Seq
	if code, out, errs = runOutboxCmd(t, "--data-dir", dir, "requeue", "99"); code != 1 || !strings.Contains(errs, "not in quarantine") {
		t.Fatalf("requeue of an unknown seq: exit %d %s %s", code, out, errs)
	}
	if code, out, errs = runOutboxCmd(t, "--data-dir", dir, "requeue", strconv.FormatUint(seq, 10)); code != 0 || !strings.Contains(out, `"requeued"`) {
		t.Fatalf("requeue: exit %d %s %s", code, out, errs)
	}
	code, out, _ = runOutboxCmd(t, "--data-dir", dir, "stats")
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || st.Quarantined != 0 || st.Queued[outbox.PriorityLot].Events != 2 {
		t.Fatalf("stats after requeue %s: %v", out, err)
	}
	for _, bad := range [][]string{{"--data-dir", dir}, {"--data-dir", dir, "purge"}, {"--data-dir", dir, "requeue", "x"}, {"--data-dir", dir, "stats", "extra"}} {
		if code, _, errs := runOutboxCmd(t, bad...); code != 1 || errs == "" {
			t.Errorf("outbox %v: exit %d, stderr %q", bad, code, errs)
		}
	}
}

// While a gateway runs, the outbox commands go through its HTTP API: the
// quarantine is listed and an event requeued, and the gateway publishes it.
func TestOutboxThroughGatewayAPI(t *testing.T) {
	dir := t.TempDir()
	quarantineOne(t, dir)
	_, cfg, _ := startGateway(t, dir)
	var code int
	var out, errs string
	for range 100 { // bounded wait for the HTTP API
		if code, out, errs = runOutboxCmd(t, "-c", cfg, "quarantined"); code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var q []outbox.Quarantined
	if code != 0 || json.Unmarshal([]byte(out), &q) != nil || len(q) != 1 || q[0].Reason != "broker refused it" {
		t.Fatalf("quarantined through the API: exit %d %s %s", code, out, errs)
	}
	if code, _, errs = runOutboxCmd(t, "-c", cfg, "requeue", "99"); code != 1 || !strings.Contains(errs, "not in quarantine") {
		t.Fatalf("requeue of an unknown seq through the API: exit %d %s", code, errs)
	}
	if code, out, errs = runOutboxCmd(t, "-c", cfg, "requeue", strconv.FormatUint(q[0].Event.Seq, 10)); code != 0 || !strings.Contains(out, `"requeued"`) {
		t.Fatalf("requeue through the API: exit %d %s %s", code, out, errs)
	}
	var st outbox.Stats
	for range 100 { // bounded wait for the requeued event to be published
		code, out, errs = runOutboxCmd(t, "-c", cfg, "stats")
		if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
			t.Fatalf("stats through the API: exit %d %s %s", code, out, errs)
		}
		if st.Quarantined == 0 && st.Pending() == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("stats after requeue: %s", out)
}
