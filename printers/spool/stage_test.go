package spool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/printersim"
)

// stagedPrefix holds the job events a stagingSink staged: only those of
// changes that committed are ever found under it.
const stagedPrefix = "test/staged/"

// stagingSink is an Events sink that stages job events (a JobEventStager):
// it writes each into the transaction of the change. While fail is set it
// refuses them, as a full outbox does, and keeps those it refused.
type stagingSink struct {
	*eventLog // the printer status and connection events
	n         atomic.Uint64

	mu      sync.Mutex
	fail    error
	refused []printers.Event
}

func newStagingSink() *stagingSink { return &stagingSink{eventLog: &eventLog{}} }

func (s *stagingSink) StageJobEvent(txn *badger.Txn, e printers.Event) error {
	s.mu.Lock()
	fail := s.fail
	if fail != nil {
		s.refused = append(s.refused, e)
	}
	s.mu.Unlock()
	if fail != nil {
		return fail
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// The clock keeps the keys of several processes on one store apart
	// (TestKillAndRestart).
	return txn.Set(fmt.Appendf(nil, "%s%016x%08x", stagedPrefix, time.Now().UnixNano(), s.n.Add(1)), b)
}

func (s *stagingSink) setFail(err error) {
	s.mu.Lock()
	s.fail, s.refused = err, nil
	s.mu.Unlock()
}

// refusedOf counts the refused events of a kind for a job.
func (s *stagingSink) refusedOf(kind printers.EventKind, job string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.refused {
		if e.Kind == kind && e.JobID == job {
			n++
		}
	}
	return n
}

// errOutboxFull stands for the outbox's ErrStoreFull.
var errOutboxFull = errors.New("outbox full")

// staged reads the committed job events back from the store.
func staged(t testing.TB, st *store.Store) []printers.Event {
	t.Helper()
	var out []printers.Event
	err := st.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(stagedPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var e printers.Event
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &e) }); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stagedOf returns the committed events of a kind for a job.
func stagedOf(t testing.TB, st *store.Store, kind printers.EventKind, job string) []printers.Event {
	t.Helper()
	var out []printers.Event
	for _, e := range staged(t, st) {
		if e.Kind == kind && e.JobID == job {
			out = append(out, e)
		}
	}
	return out
}

// mustStaged checks, at once, that a job's change committed with its event:
// called right after the change is seen, it must find the event.
func mustStaged(t testing.TB, st *store.Store, kind printers.EventKind, job string) printers.Event {
	t.Helper()
	evs := stagedOf(t, st, kind, job)
	if len(evs) != 1 {
		t.Fatalf("%d %s events of job %s committed, want 1 (all: %+v)", len(evs), kind, job, staged(t, st))
	}
	return evs[0]
}

// noJobEvents checks that PrinterEvent saw no job event: a stager gets
// every one of them.
func noJobEvents(t testing.TB, l *eventLog) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.ev {
		if strings.HasPrefix(string(e.Kind), "job.") {
			t.Errorf("%s of job %s went to PrinterEvent, not to the stager", e.Kind, e.JobID)
		}
	}
}

func stagingRig(t testing.TB, so printersim.Options, mod func(*printers.Config)) (*rig, *stagingSink) {
	t.Helper()
	sink := newStagingSink()
	r := newRigWith(t, so, mod, func(r *rig, o *Options) {
		sink.eventLog = r.events
		o.Events = sink
	})
	return r, sink
}

// Every job event is staged in the transaction of the change it reports:
// when the change is seen, its event is in the store.
func TestJobEventsCommitWithTheirChange(t *testing.T) {
	t.Run("confirmed", func(t *testing.T) {
		r, _ := stagingRig(t, printersim.Options{}, nil)
		r.submit(t, "C")
		r.waitState(t, "C", Confirmed)
		if e := mustStaged(t, r.st, printers.EventJobConfirmed, "C"); e.State != string(Confirmed) || e.Lot != "L1" || e.Printer != "p1" {
			t.Errorf("event %+v", e)
		}
		r.waitEvent(t, printers.EventStatus, "") // telemetry still goes to PrinterEvent
		noJobEvents(t, r.events)
	})
	t.Run("held", func(t *testing.T) {
		r, _ := stagingRig(t, printersim.Options{Silent: true}, nil)
		r.sim.SetFault(printersim.PaperOut, true)
		r.submit(t, "H")
		r.waitState(t, "H", Held)
		if e := mustStaged(t, r.st, printers.EventJobHeld, "H"); e.Status == nil || !e.Status.PaperOut || e.State != string(Held) {
			t.Errorf("held event %+v, want the paper-out status", e)
		}
		r.sim.Resume()
		r.waitState(t, "H", Confirmed)
		mustStaged(t, r.st, printers.EventJobConfirmed, "H")
		noJobEvents(t, r.events)
	})
	t.Run("failed cancelled reprint", func(t *testing.T) {
		r, _ := stagingRig(t, printersim.Options{LabelsPerSecond: 0.5}, func(c *printers.Config) { c.Timeouts.Confirm = 100 * time.Millisecond })
		r.submit(t, "F")
		r.waitState(t, "F", Failed)
		mustStaged(t, r.st, printers.EventJobFailed, "F")
		if err := r.sp.Reprint("F"); err != nil {
			t.Fatal(err)
		}
		mustStaged(t, r.st, printers.EventJobReprint, "F")
		r.waitState(t, "F", Failed)
		if err := r.sp.Cancel("F"); err != nil {
			t.Fatal(err)
		}
		if e := mustStaged(t, r.st, printers.EventJobCancelled, "F"); e.State != string(Cancelled) {
			t.Errorf("event %+v", e)
		}
		if n := len(stagedOf(t, r.st, printers.EventJobFailed, "F")); n != 2 {
			t.Errorf("%d job.failed events, want 2", n)
		}
		noJobEvents(t, r.events)
	})
	t.Run("cut off unknown", func(t *testing.T) {
		var dials atomic.Int32
		sink := newStagingSink()
		r := newRigWith(t, printersim.Options{}, nil, func(r *rig, o *Options) {
			sink.eventLog = r.events
			o.Events = sink
			o.Dial = func(ctx context.Context, cfg printers.Config) (printers.Conn, error) {
				var d net.Dialer
				c, err := d.DialContext(ctx, "tcp", r.addr)
				if err != nil {
					return nil, err
				}
				if dials.Add(1) == 1 {
					return cutConn{c.(*net.TCPConn)}, nil
				}
				return c.(*net.TCPConn), nil
			}
		})
		r.submit(t, "W")
		r.waitState(t, "W", Unknown)
		if e := mustStaged(t, r.st, printers.EventJobUnknown, "W"); !strings.Contains(e.Reason, "connection lost while writing") {
			t.Errorf("event %+v", e)
		}
		noJobEvents(t, r.events)
	})
	t.Run("recovered unknown", func(t *testing.T) {
		dir := t.TempDir()
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg := testConfig("127.0.0.1:1")
		sp, err := New(st, Options{Printers: []printers.Config{cfg}})
		if err != nil {
			t.Fatal(err)
		}
		toSending(t, sp, "S")
		st.Close()
		st, err = store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		sink := newStagingSink()
		sp, err = New(st, Options{Printers: []printers.Config{cfg}, Events: sink})
		if err != nil {
			t.Fatal(err)
		}
		if j, _ := sp.Get("S"); j.State != Unknown {
			t.Fatalf("S is %s", j.State)
		}
		if e := mustStaged(t, st, printers.EventJobUnknown, "S"); e.Reason != reasonStopped {
			t.Errorf("event %+v", e)
		}
		noJobEvents(t, sink.eventLog)
	})
}

// toSending submits a job and moves it to sending, as a stop in the middle
// of its write leaves it.
func toSending(t testing.TB, sp *Spooler, id string) *Job {
	t.Helper()
	if err := sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: label(id), Lot: "L1"}); err != nil {
		t.Fatal(err)
	}
	j, err := sp.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.transition([]*Job{&j}, []State{Queued}, Sending, "", true); err != nil {
		t.Fatal(err)
	}
	return &j
}

// A job event that cannot be stored refuses its change: the operator's
// call fails and changes nothing, a job found in sending at the start stays
// so until its printer's loop can store its event.
func TestEventNotStoredRefusesTheChange(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig("127.0.0.1:1") // nothing listens: the jobs never print
	sp, err := New(st, Options{Printers: []printers.Config{cfg}})
	if err != nil {
		t.Fatal(err)
	}
	a := toSending(t, sp, "A")
	for _, to := range []State{Sent, Failed} {
		if _, err := sp.transition([]*Job{a}, []State{Sending, Sent}, to, "", false); err != nil {
			t.Fatal(err)
		}
	}
	toSending(t, sp, "B")
	st.Close()

	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sink := newStagingSink()
	sink.setFail(fmt.Errorf("%w: outbox holds 1024 bytes", errOutboxFull))
	sp, err = New(st, Options{Printers: []printers.Config{cfg}, Events: sink, Backoff: func(int) time.Duration { return 5 * time.Millisecond }})
	if err != nil {
		t.Fatalf("New with the events refused: %v", err)
	}
	if j, _ := sp.Get("B"); j.State != Sending || sink.refusedOf(printers.EventJobUnknown, "B") != 1 {
		t.Fatalf("B is %s (%d job.unknown refused), want sending: its recovery was refused", j.State, sink.refusedOf(printers.EventJobUnknown, "B"))
	}
	for op, call := range map[string]func(string) error{"reprint": sp.Reprint, "cancel": sp.Cancel} {
		err := call("A")
		if !errors.Is(err, ErrEventNotStored) || !errors.Is(err, errOutboxFull) {
			t.Errorf("%s with the event refused: %v, want ErrEventNotStored wrapping the sink's error", op, err)
		}
		if j, _ := sp.Get("A"); j.State != Failed || j.Seq != a.Seq {
			t.Errorf("after a refused %s A is %s (seq %d), want failed (seq %d)", op, j.State, j.Seq, a.Seq)
		}
	}
	if evs := staged(t, st); len(evs) != 0 {
		t.Fatalf("events of refused changes committed: %+v", evs)
	}

	sink.setFail(nil)
	if err := sp.Reprint("A"); err != nil {
		t.Fatal(err)
	}
	mustStaged(t, st, printers.EventJobReprint, "A")
	if err := sp.Cancel("A"); err != nil {
		t.Fatal(err)
	}
	mustStaged(t, st, printers.EventJobCancelled, "A")
	// B's printer loop makes it unknown now that its event can be stored.
	r := &rig{sp: sp, st: st, events: sink.eventLog}
	r.start()
	defer r.stop(t)
	if j := r.waitState(t, "B", Unknown); j.Reason != reasonStopped {
		t.Errorf("reason %q", j.Reason)
	}
	mustStaged(t, st, printers.EventJobUnknown, "B")
	noJobEvents(t, sink.eventLog)
}

// syncBuffer is a bytes.Buffer safe for a logger and a test together.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// The printer loop outlives job events that cannot be stored: the job stays
// in its state, the loop tries the step again every poll interval, and goes
// on once the events are stored again; it warns once per episode.
func TestRunnerWaitsForItsJobEvents(t *testing.T) {
	logs := &syncBuffer{}
	sink := newStagingSink()
	r := newRigWith(t, printersim.Options{Silent: true}, nil, func(r *rig, o *Options) {
		sink.eventLog = r.events
		o.Events = sink
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	running := func() {
		t.Helper()
		select {
		case err := <-r.done:
			r.cancel = nil // stopped already
			t.Fatalf("the spooler stopped: %v", err)
		default:
		}
	}
	// waitRefused waits (bounded) for n refusals of an event.
	waitRefused := func(kind printers.EventKind, n int) {
		t.Helper()
		for i := 0; sink.refusedOf(kind, "R") < n; i++ {
			if i == 1000 {
				t.Fatalf("%s of R refused %d times, want %d", kind, sink.refusedOf(kind, "R"), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	full := fmt.Errorf("%w: outbox holds 1024 bytes", errOutboxFull)

	// The printer is out of paper and the hold cannot be stored: the job
	// stays queued.
	r.sim.SetFault(printersim.PaperOut, true)
	sink.setFail(full)
	r.submit(t, "R")
	waitRefused(printers.EventJobHeld, 3)
	if j, _ := r.sp.Get("R"); j.State != Queued {
		t.Fatalf("R is %s while its hold is refused, want queued", j.State)
	}
	running()
	sink.setFail(nil)
	r.waitState(t, "R", Held)
	mustStaged(t, r.st, printers.EventJobHeld, "R")

	// Printed, but its confirmation cannot be stored: the job stays sent,
	// and is confirmed (not unknown) once it can be.
	sink.setFail(full)
	r.sim.Resume()
	waitRefused(printers.EventJobConfirmed, 3)
	if j, _ := r.sp.Get("R"); j.State != Sent {
		t.Fatalf("R is %s while its confirmation is refused, want sent", j.State)
	}
	running()
	sink.setFail(nil)
	r.waitState(t, "R", Confirmed)
	mustStaged(t, r.st, printers.EventJobConfirmed, "R")
	if c := printedCounts(r.sim)["R"]; c != 1 {
		t.Fatalf("R printed %d times", c)
	}
	if evs := staged(t, r.st); len(evs) != 2 {
		t.Errorf("committed events %+v, want held and confirmed", evs)
	}
	running()
	// The note is logged once the change is committed: the job may be
	// seen confirmed a moment before it.
	for i := 0; i < 200 && strings.Count(logs.String(), "job events stored again") < 2; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	out := logs.String()
	if n := strings.Count(out, "job event cannot be stored"); n != 2 {
		t.Errorf("%d warnings of events not stored, want 2 (one per episode):\n%s", n, out)
	}
	if n := strings.Count(out, "job events stored again"); n != 2 {
		t.Errorf("%d notes of events stored again, want 2:\n%s", n, out)
	}
	noJobEvents(t, r.events)
}

// A stop while a job event cannot be stored ends Run without an error and
// leaves the job as it was.
func TestStopWhileEventsRefused(t *testing.T) {
	r, sink := stagingRig(t, printersim.Options{}, nil)
	sink.setFail(errOutboxFull)
	r.submit(t, "Z")
	for i := 0; sink.refusedOf(printers.EventJobConfirmed, "Z") == 0; i++ {
		if i == 1000 {
			t.Fatal("the confirmation of Z was never tried")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.stop(t) // fails the test if Run returns an error
	if j, _ := r.sp.Get("Z"); j.State != Sent {
		t.Fatalf("Z is %s after the stop, want sent", j.State)
	}
}
