package spool

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"golang.org/x/sync/errgroup"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/transport"
)

// Key layout under store.PrefixJob.
const (
	keyData     = store.PrefixJob + "d/" // job/d/<id> → Job JSON
	keyQueue    = store.PrefixJob + "q/" // job/q/<printer>/<seq> → id
	keyInFlight = store.PrefixJob + "f/" // job/f/<id> → printer
)

// Options configure a Spooler.
type Options struct {
	// Printers are the printers jobs may name (each through WithDefaults).
	Printers []printers.Config
	// Dial opens a printer connection; nil is transport.Dial.
	Dial func(ctx context.Context, cfg printers.Config) (printers.Conn, error)
	// Events receives status changes and job outcomes; nil drops them. A
	// sink that is also a JobEventStager has every job event staged in the
	// transaction that changes the job (see JobEventStager); the printer
	// status and connection events still go to PrinterEvent.
	Events printers.EventSink
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock stamped on jobs and events; nil is time.Now.
	Now func() time.Time
	// Backoff is the wait before reconnecting after the attempt-th
	// consecutive failure (from 1); nil doubles from 100ms up to 10s.
	Backoff func(attempt int) time.Duration
}

// JobEventStager is an Events sink that stores a job event in the Badger
// transaction that makes the job's change (an outbox staging it, say): the
// change and its event commit together, or neither does, so no stop between
// the two can lose the event. When Options.Events implements it, every job
// event (job.confirmed, job.failed, job.unknown, job.held, job.cancelled,
// job.reprint) goes to StageJobEvent instead of PrinterEvent, and the
// spooler commits such transactions through store.Store.Update.
//
// An error refuses the change: the job keeps its state, and the error,
// wrapped in ErrEventNotStored, goes back to the caller of Reprint or
// Cancel; a printer loop logs it, waits a poll interval and tries again.
// StageJobEvent is called for job events only, possibly several times per
// transaction (a batch), and again when a transaction is retried.
type JobEventStager interface {
	StageJobEvent(txn *badger.Txn, e printers.Event) error
}

// DefaultBackoff doubles from 100ms up to 10s.
func DefaultBackoff(attempt int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < attempt && d < 10*time.Second; i++ {
		d *= 2
	}
	return min(d, 10*time.Second)
}

// Spooler queues jobs durably and drives the printers. Submit, Get, List,
// Reprint and Cancel are safe for concurrent use and work without Run.
type Spooler struct {
	st      *store.Store
	db      *badger.DB
	o       Options
	log     *slog.Logger
	cfg     map[string]printers.Config
	runners map[string]*runner
	seq     atomic.Uint64
	// stager is o.Events as a JobEventStager, or nil.
	stager JobEventStager
}

// New opens the spooler on the shared store. It recovers from a crash: every
// job found in sending becomes unknown (it may have printed) and waits for a
// Reprint or Cancel.
func New(st *store.Store, o Options) (*Spooler, error) {
	if o.Dial == nil {
		o.Dial = transport.Dial
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	s := &Spooler{st: st, db: st.DB(), o: o, log: o.Logger, cfg: map[string]printers.Config{}, runners: map[string]*runner{}}
	s.stager, _ = o.Events.(JobEventStager)
	list := make([]printers.Config, len(o.Printers))
	for i, c := range o.Printers {
		list[i] = c.WithDefaults()
	}
	if err := printers.ValidateAll(list); err != nil {
		return nil, err
	}
	for _, c := range list {
		s.cfg[c.ID] = c
		s.runners[c.ID] = &runner{sp: s, cfg: c, wake: make(chan struct{}, 1), log: s.log.With("printer", c.ID)}
	}
	if err := s.loadSeq(); err != nil {
		return nil, err
	}
	if err := s.recoverMarked(); err != nil {
		return nil, err
	}
	if err := s.recover(); err != nil {
		return nil, err
	}
	return s, nil
}

func qPrefix(printer string) []byte { return []byte(keyQueue + printer + "/") }

func qKey(printer string, seq uint64) []byte {
	k := qPrefix(printer)
	return binary.BigEndian.AppendUint64(k, seq)
}

func dKey(id string) []byte { return []byte(keyData + id) }

// loadSeq finds the highest queue sequence of the configured printers.
func (s *Spooler) loadSeq() error {
	return s.db.View(func(txn *badger.Txn) error {
		var maxSeq uint64
		for id := range s.cfg {
			p := qPrefix(id)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p, Reverse: true})
			it.Seek(append(append([]byte{}, p...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
			if it.Valid() {
				if k := it.Item().Key(); len(k) == len(p)+8 {
					maxSeq = max(maxSeq, binary.BigEndian.Uint64(k[len(p):]))
				}
			}
			it.Close()
		}
		s.seq.Store(maxSeq)
		return nil
	})
}

// inFlight returns the ids of the jobs marked in flight (sending).
func (s *Spooler) inFlight() ([]string, error) {
	var ids []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(keyInFlight)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			ids = append(ids, string(it.Item().Key()[len(keyInFlight):]))
		}
		return nil
	})
	return ids, err
}

func (s *Spooler) recover() error {
	ids, err := s.inFlight()
	if err != nil {
		return err
	}
	for _, id := range ids {
		j, err := s.update(context.Background(), id, printers.EventJobUnknown, func(j *Job) error {
			if j.State != Sending {
				return nil
			}
			j.State, j.Reason = Unknown, reasonStopped
			return nil
		})
		if errors.Is(err, ErrNotFound) {
			// An in-flight mark without its job (a partly restored store):
			// nothing to recover, drop the mark.
			s.log.Warn("in-flight mark without its job dropped", "job", id)
			if err := s.db.Update(func(txn *badger.Txn) error { return txn.Delete([]byte(keyInFlight + id)) }); err != nil {
				return fmt.Errorf("recover job %s: %w", id, err)
			}
			continue
		}
		if errors.Is(err, ErrEventNotStored) {
			// The job stays in sending; its printer's loop makes it
			// unknown once its event can be stored.
			s.log.Warn("job found in sending after a restart stays so until its job.unknown event can be stored", "job", id, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("recover job %s: %w", id, err)
		}
		if j.State == Unknown {
			s.log.Warn("job found in sending after a restart is unknown", "job", id, "printer", j.Printer)
		}
	}
	return nil
}

// reasonStopped is the reason of a job found in sending after a stop.
const reasonStopped = "the gateway stopped while sending this job; it may or may not have printed: reprint or cancel it"

// Submit queues a job. The same id submitted again is the same job: nil if
// it matches the first submission, an error wrapping ErrIDConflict if not.
func (s *Spooler) Submit(ctx context.Context, j Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, ok := s.cfg[j.Printer]; !ok {
		return fmt.Errorf("%w %q: configure it under printers: or pick one of the configured ids", ErrUnknownPrint, j.Printer)
	}
	if err := j.validate(); err != nil {
		return err
	}
	now := s.o.Now()
	j.State, j.Attempts, j.Created, j.Updated, j.Reason = Queued, 0, now, now, ""
	for try := 0; ; try++ {
		j.Seq = s.seq.Add(1)
		err := s.db.Update(func(txn *badger.Txn) error {
			if old, err := getJob(txn, j.ID); err == nil {
				if !old.same(&j) {
					return fmt.Errorf("%w: %s (printer %s, state %s)", ErrIDConflict, j.ID, old.Printer, old.State)
				}
				j = *old
				return errDuplicate
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
			if err := putJob(txn, &j); err != nil {
				return err
			}
			return txn.Set(qKey(j.Printer, j.Seq), []byte(j.ID))
		})
		if errors.Is(err, errDuplicate) {
			return nil
		}
		if errors.Is(err, badger.ErrConflict) && try < 5 {
			continue
		}
		if err != nil {
			return fmt.Errorf("submit job %s: %w", j.ID, err)
		}
		s.runners[j.Printer].poke()
		return nil
	}
}

var errDuplicate = errors.New("duplicate")

func getJob(txn *badger.Txn, id string) (*Job, error) {
	it, err := txn.Get(dKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, err
	}
	var j Job
	err = it.Value(func(v []byte) error { return json.Unmarshal(v, &j) })
	j.fillLabels()
	return &j, err
}

func putJob(txn *badger.Txn, j *Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return txn.Set(dKey(j.ID), b)
}

// Get returns a job.
func (s *Spooler) Get(id string) (Job, error) {
	var j *Job
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		j, err = getJob(txn, id)
		return err
	})
	if err != nil {
		return Job{}, err
	}
	return *j, nil
}

// List returns the jobs matching f, ordered by id.
func (s *Spooler) List(f Filter) ([]Job, error) { return ListJobs(s.db, f) }

// ListJobs lists the jobs a spooler keeps in db without opening one (which
// would recover jobs a crash left in flight): a read-only listing for a
// tool while no gateway runs.
func ListJobs(db *badger.DB, f Filter) ([]Job, error) {
	var out []Job
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(keyData), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		it.Rewind()
		if f.After != "" {
			// Seek to the first key past After (keys are keyData+id).
			it.Seek(append([]byte(keyData+f.After), 0))
		}
		for ; it.Valid(); it.Next() {
			var j Job
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &j) }); err != nil {
				return err
			}
			if (f.Printer != "" && j.Printer != f.Printer) || (f.State != "" && j.State != f.State) {
				continue
			}
			j.fillLabels()
			if !f.WithZPL {
				j.ZPL = ""
			}
			out = append(out, j)
			if f.Limit > 0 && len(out) >= f.Limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// update applies fn to a job in its own transaction, retrying conflicts. A
// change of the job's state publishes an event of kind (none when kind is
// ""): staged in the transaction with a JobEventStager, emitted with ctx
// after the commit otherwise.
func (s *Spooler) update(ctx context.Context, id string, kind printers.EventKind, fn func(j *Job) error) (*Job, error) {
	return s.updateFor(ctx, id, kind, nil, fn)
}

// updateFor is update for an operator's request: its event names who
// asked and why (req nil: the job's own requester).
func (s *Spooler) updateFor(ctx context.Context, id string, kind printers.EventKind, req *Request, fn func(j *Job) error) (*Job, error) {
	for try := 0; ; try++ {
		var j *Job
		changed := false
		err := s.commit(kind != "", func(txn *badger.Txn) error {
			var err error
			if j, err = getJob(txn, id); err != nil {
				return err
			}
			oldState, oldSeq := j.State, j.Seq
			if err := fn(j); err != nil {
				return err
			}
			if err := s.applyKeys(txn, j, oldState, oldSeq); err != nil {
				return err
			}
			if changed = j.State != oldState; changed && kind != "" {
				return s.stageEvent(txn, s.requestEvent(kind, j, req))
			}
			return nil
		})
		if errors.Is(err, badger.ErrConflict) && try < 10 {
			continue
		}
		if err == nil && changed && kind != "" && s.stager == nil {
			s.emit(ctx, s.requestEvent(kind, j, req))
		}
		return j, err
	}
}

// commit runs fn in a read-write transaction: through the store's Update
// when it may stage job events (so that the outbox queues them at once),
// on the database otherwise.
func (s *Spooler) commit(staging bool, fn func(txn *badger.Txn) error) error {
	if staging && s.stager != nil {
		return s.st.Update(fn)
	}
	return s.db.Update(fn)
}

// stageJob stages the event of a job's change in the transaction making
// it; st is the printer status of a held job. Without a stager it does
// nothing (the event is emitted after the commit).
func (s *Spooler) stageJob(txn *badger.Txn, kind printers.EventKind, j *Job, st *printers.Status) error {
	e := s.jobEvent(kind, j)
	e.Status = st
	return s.stageEvent(txn, e)
}

// stageEvent stages a job event in the transaction making its change;
// without a stager it does nothing.
func (s *Spooler) stageEvent(txn *badger.Txn, e printers.Event) error {
	if s.stager == nil {
		return nil
	}
	if err := s.stager.StageJobEvent(txn, e); err != nil {
		return fmt.Errorf("%w: %s of job %s: %w", ErrEventNotStored, e.Kind, e.JobID, err)
	}
	return nil
}

// applyKeys writes the job and keeps the queue and in-flight keys in step
// with its state.
func (s *Spooler) applyKeys(txn *badger.Txn, j *Job, oldState State, oldSeq uint64) error {
	j.Updated = s.o.Now()
	if err := putJob(txn, j); err != nil {
		return err
	}
	if oldState.Active() && (!j.State.Active() || oldSeq != j.Seq) {
		if err := txn.Delete(qKey(j.Printer, oldSeq)); err != nil {
			return err
		}
	}
	if j.State.Active() && (!oldState.Active() || oldSeq != j.Seq) {
		if err := txn.Set(qKey(j.Printer, j.Seq), []byte(j.ID)); err != nil {
			return err
		}
	}
	if j.State == Sending && oldState != Sending {
		return txn.Set([]byte(keyInFlight+j.ID), []byte(j.Printer))
	}
	if oldState == Sending && j.State != Sending {
		return txn.Delete([]byte(keyInFlight + j.ID))
	}
	return nil
}

// Request is an operator's reprint or cancel: who asks, and why. The
// label audit trail records both with the job's event.
type Request struct {
	By printers.Actor
	// Reason is required: a reprint or a cancel without one is refused
	// (ErrReasonRequired).
	Reason string
}

// ErrReasonRequired: a reprint or a cancel was asked for without a
// reason; nothing changed. Say why (a smudged label, a damaged carton).
var ErrReasonRequired = errors.New("no reason given")

func (r Request) check(id, op string) error {
	if strings.TrimSpace(r.Reason) == "" {
		return fmt.Errorf("%w: reason: say why job %s is %s", ErrReasonRequired, id, op)
	}
	if r.By.Via == "" {
		return fmt.Errorf("%w: job %s: the %s names no one who asked for it", ErrInvalidJob, id, op)
	}
	return nil
}

// ReprintBy is an operator's Reprint: the job.reprint event names who
// asked and why. A request without a reason is refused with
// ErrReasonRequired, and the job is left as it was.
func (s *Spooler) ReprintBy(id string, r Request) error {
	if err := r.check(id, "reprinted"); err != nil {
		return err
	}
	return s.reprint(id, &r)
}

// Reprint queues a failed, unknown, confirmed or cancelled job again, at the
// end of its printer's queue, on the gateway's own decision: its event
// names the gateway as who asked (operators' reprints go through
// ReprintBy). Its job.reprint event commits with it: when the event cannot
// be stored the job stays as it was and the error wraps ErrEventNotStored.
func (s *Spooler) Reprint(id string) error {
	return s.reprint(id, &Request{By: printers.Actor{Via: printers.ViaGateway}})
}

func (s *Spooler) reprint(id string, req *Request) error {
	if _, ok := s.peekPrinter(id); !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	j, err := s.updateFor(context.Background(), id, printers.EventJobReprint, req, func(j *Job) error {
		switch j.State {
		case Failed, Unknown, Confirmed, Cancelled:
		default:
			return &StateError{ID: j.ID, State: j.State, Op: "reprint", Err: ErrNotReprint}
		}
		if _, ok := s.cfg[j.Printer]; !ok {
			return fmt.Errorf("%w %q: the job's printer is no longer configured", ErrUnknownPrint, j.Printer)
		}
		j.State, j.Reason, j.Seq = Queued, "", s.seq.Add(1)
		return nil
	})
	if err != nil {
		return err
	}
	s.runners[j.Printer].poke()
	return nil
}

// CancelBy is an operator's Cancel: the job's reason and its
// job.cancelled event name who asked and why. A request without a reason
// is refused with ErrReasonRequired, and the job is left as it was.
func (s *Spooler) CancelBy(id string, r Request) error {
	if err := r.check(id, "cancelled"); err != nil {
		return err
	}
	return s.cancel(id, &r)
}

// Cancel drops a queued, held, failed or unknown job on the gateway's own
// decision (operators' cancels go through CancelBy). A job being sent or
// sent to the printer cannot be cancelled (ErrInFlight); cancelling a
// cancelled job is a no-op. Its job.cancelled event commits with it, as
// Reprint's does.
func (s *Spooler) Cancel(id string) error {
	return s.cancel(id, &Request{By: printers.Actor{Via: printers.ViaGateway}})
}

func (s *Spooler) cancel(id string, req *Request) error {
	_, err := s.updateFor(context.Background(), id, printers.EventJobCancelled, req, func(j *Job) error {
		switch j.State {
		case Queued, Held, Failed, Unknown:
		case Cancelled:
			return errDuplicate
		case Sending, Sent:
			return &StateError{ID: j.ID, State: j.State, Op: "cancel", Err: ErrInFlight}
		default:
			return &StateError{ID: j.ID, State: j.State, Op: "cancel", Err: ErrNotCancelable}
		}
		j.State, j.Reason = Cancelled, "cancelled by an operator"
		if req.Reason != "" {
			j.Reason = "cancelled by " + req.By.String() + ": " + req.Reason
		}
		return nil
	})
	if errors.Is(err, errDuplicate) {
		return nil
	}
	return err
}

func (s *Spooler) peekPrinter(id string) (string, bool) {
	j, err := s.Get(id)
	return j.Printer, err == nil
}

// Run drives every printer until ctx ends. It returns nil on cancellation
// and the first store error otherwise.
func (s *Spooler) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, r := range s.runners {
		g.Go(func() error { return r.run(ctx) })
	}
	err := g.Wait()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// QueueLen counts the active jobs of a printer (a scan of its queue keys).
func (s *Spooler) QueueLen(printer string) (int, error) {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: qPrefix(printer)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}

func (s *Spooler) jobEvent(kind printers.EventKind, j *Job) printers.Event {
	c := s.cfg[j.Printer]
	return printers.Event{Kind: kind, Printer: j.Printer, Door: c.Door, Time: s.o.Now(), JobID: j.ID,
		Lot: j.Lot, Carton: j.Carton, State: string(j.State), Attempts: j.Attempts, Reason: j.Reason,
		Template: j.Template, Copies: j.Copies, By: j.By, EPC: j.EPC, Encode: j.Encode}
}

// requestEvent is the job event of an operator's request: it names who
// asked and why instead of the job's requester (req nil: jobEvent).
func (s *Spooler) requestEvent(kind printers.EventKind, j *Job, req *Request) printers.Event {
	e := s.jobEvent(kind, j)
	if req != nil {
		by := req.By
		e.By, e.Why = &by, req.Reason
	}
	return e
}

func (s *Spooler) emit(ctx context.Context, e printers.Event) {
	if s.o.Events == nil {
		return
	}
	if err := s.o.Events.PrinterEvent(ctx, e); err != nil {
		s.log.Warn("event not delivered", "kind", e.Kind, "job", e.JobID, "err", err)
	}
}

// head reads the first jobs of a printer's queue: up to n jobs and about
// maxBytes of ZPL, stopping where the states change between sent and not.
func (s *Spooler) head(printer string, n, maxBytes int) ([]*Job, error) {
	var out []*Job
	var orphans [][]byte
	defer func() {
		// a queue entry without its job (a store restored in part) is
		// dropped so it cannot block the queue
		for _, k := range orphans {
			s.log.Warn("dropping a queue entry without its job", "key", hex.EncodeToString(k))
			_ = s.db.Update(func(txn *badger.Txn) error { return txn.Delete(k) })
		}
	}()
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: qPrefix(printer)})
		defer it.Close()
		size := 0
		for it.Rewind(); it.Valid() && len(out) < n; it.Next() {
			var id string
			if err := it.Item().Value(func(v []byte) error { id = string(v); return nil }); err != nil {
				return err
			}
			j, err := getJob(txn, id)
			if errors.Is(err, ErrNotFound) {
				orphans = append(orphans, it.Item().KeyCopy(nil))
				continue
			}
			if err != nil {
				return fmt.Errorf("queue entry %s: %w", hex.EncodeToString(it.Item().Key()), err)
			}
			if len(out) > 0 && (j.State == Sent) != (out[0].State == Sent) {
				break
			}
			if len(out) > 0 && size+len(j.ZPL)*j.Copies > maxBytes {
				break
			}
			size += len(j.ZPL) * j.Copies
			out = append(out, j)
		}
		return nil
	})
	return out, err
}

// transition moves jobs to a new state in one transaction, without an
// event; jobs whose stored state is no longer one of from are left alone
// and not returned.
func (s *Spooler) transition(jobs []*Job, from []State, to State, reason string, attempt bool) ([]*Job, error) {
	done, err := s.transitions(context.Background(), move{jobs: jobs, from: from, to: to, reason: reason, attempt: attempt})
	if err != nil {
		return nil, err
	}
	return done[0], nil
}

// move is one group of a transition: jobs from one of the states from to
// state to. Each job moved publishes an event of kind event, unless it is
// "" (status is the printer status a job.held event carries), and then one
// of kind also, unless it is "". edit, when set, changes each job moved
// before it is written (done: the jobs the move changed before it), in
// the transaction.
type move struct {
	jobs    []*Job
	from    []State
	to      State
	reason  string
	attempt bool
	event   printers.EventKind
	also    printers.EventKind
	status  *printers.Status
	edit    func(txn *badger.Txn, j *Job, done []*Job) error
}

// transitions applies moves in one transaction (a batch's outcome: written,
// cut off, not sent), so that a crash leaves all of them or none; it returns
// the jobs each move changed. The events of the moves are staged in the
// transaction with a JobEventStager (an error wrapping ErrEventNotStored
// refuses every move), and emitted with ctx after the commit otherwise.
func (s *Spooler) transitions(ctx context.Context, moves ...move) ([][]*Job, error) {
	staging := slices.ContainsFunc(moves, func(m move) bool { return m.event != "" && len(m.jobs) > 0 })
	for try := 0; ; try++ {
		done := make([][]*Job, len(moves))
		err := s.commit(staging, func(txn *badger.Txn) error {
			for m, mv := range moves {
				done[m] = nil
				for _, j0 := range mv.jobs {
					j, err := getJob(txn, j0.ID)
					if err != nil {
						return err
					}
					if !slices.Contains(mv.from, j.State) {
						continue
					}
					oldState, oldSeq := j.State, j.Seq
					j.State, j.Reason = mv.to, mv.reason
					if mv.attempt {
						j.Attempts++
					}
					if mv.edit != nil {
						if err := mv.edit(txn, j, done[m]); err != nil {
							return err
						}
					}
					if err := s.applyKeys(txn, j, oldState, oldSeq); err != nil {
						return err
					}
					for _, kind := range []printers.EventKind{mv.event, mv.also} {
						if kind == "" {
							continue
						}
						if err := s.stageJob(txn, kind, j, mv.status); err != nil {
							return err
						}
					}
					done[m] = append(done[m], j)
				}
			}
			return nil
		})
		if errors.Is(err, badger.ErrConflict) && try < 10 {
			continue
		}
		if err == nil && s.stager == nil {
			for m, mv := range moves {
				for _, kind := range []printers.EventKind{mv.event, mv.also} {
					if kind == "" {
						continue
					}
					for _, j := range done[m] {
						e := s.jobEvent(kind, j)
						e.Status = mv.status
						s.emit(ctx, e)
					}
				}
			}
		}
		return done, err
	}
}

// Prune deletes confirmed and cancelled jobs last updated before the cutoff
// and returns how many it deleted. A pruned job's id is free again: the
// idempotency of Submit holds for as long as the job is kept.
func (s *Spooler) Prune(before time.Time) (int, error) {
	var ids []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(keyData), PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var j Job
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &j) }); err != nil {
				return err
			}
			if (j.State == Confirmed || j.State == Cancelled) && j.Updated.Before(before) {
				ids = append(ids, j.ID)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for start := 0; start < len(ids); start += 500 {
		batch := ids[start:min(start+500, len(ids))]
		err := s.db.Update(func(txn *badger.Txn) error {
			for _, id := range batch {
				j, err := getJob(txn, id)
				if err != nil {
					continue
				}
				if j.State != Confirmed && j.State != Cancelled {
					continue // reprinted meanwhile
				}
				if err := txn.Delete(dKey(id)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += len(batch)
	}
	return n, nil
}
