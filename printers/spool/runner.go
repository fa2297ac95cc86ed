package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/zebra"
)

// runner drives one printer: one connection, jobs in queue order.
type runner struct {
	sp   *Spooler
	cfg  printers.Config
	wake chan struct{}
	log  *slog.Logger

	conn    printers.Conn
	q       *zebra.Querier
	fails   int    // consecutive connection failures
	lastErr string // the last connection error
	// reached: a connection was opened since the start or the last
	// failure. printer.connected is said when it becomes true, not for
	// every connection (an idle printer is reconnected for its status
	// every timeouts.watch).
	reached  bool
	last     printers.Status
	haveLast bool
	// refused counts the consecutive tries of a step whose job event could
	// not be stored (ErrEventNotStored); refusedSince is the first.
	refused      int
	refusedSince time.Time

	// prof is the printer's firmware profile (nil without one).
	prof *firmwareprofiles.Profile
	// noCounter: the label counter could not be read; batches go without.
	noCounter    bool
	counterFails int  // counter reads that failed in a row
	skipMark     bool // send the next batch without reading the counter
	// dialFails counts the failed dials of this run; batchDials is its
	// value when the batch being confirmed was written.
	dialFails, batchDials int
	// encodes gathers the encode reports of RFID jobs sent and not yet
	// settled, by queue position; rvOwed lists the jobs owed a ~RV report
	// on the current connection, one entry per format, in order.
	encodes map[uint64]*encodeState
	rvOwed  []uint64
}

// wired is a job's bytes for one attempt (nil: its ZPL once per copy) and
// the encode reports they will bring.
type wired struct {
	zpl  []byte
	plan rfidPlan
}

func (r *runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *runner) run(ctx context.Context) (err error) {
	if r.cfg.Profile != "" {
		r.prof, _ = firmwareprofiles.Lookup(r.cfg.Profile)
	}
	defer r.closeConn()
	defer func() {
		if ctx.Err() != nil && errors.Is(err, ErrEventNotStored) {
			// Stopped while waiting for a job event to be stored: the
			// job is left in its state for the next Run.
			err = nil
		}
	}()
	for ctx.Err() == nil {
		batch, err := r.sp.head(r.cfg.ID, r.cfg.BatchJobs, r.cfg.BatchBytes)
		if err != nil {
			return fmt.Errorf("printer %s: read queue: %w", r.cfg.ID, err)
		}
		if len(batch) == 0 {
			r.idle(ctx)
			continue
		}
		if batch[0].State == Sent {
			// fully written before a restart: only the confirmation is
			// resumed.
			if err := r.confirm(ctx, batch, nil); err != nil {
				return err
			}
			continue
		}
		if batch[0].State == Sending {
			// Left by a stop (recovered in New) whose job.unknown event
			// could not be stored then, or by an earlier Run.
			if _, err := r.commit(ctx, move{jobs: batch[:1], from: []State{Sending}, to: Unknown,
				reason: reasonStopped, event: printers.EventJobUnknown}); err != nil {
				return err
			}
			continue
		}
		if reason, err := r.encodeHold(); err != nil {
			return fmt.Errorf("printer %s: read encode hold: %w", r.cfg.ID, err)
		} else if reason != "" {
			st := printers.Unknown(r.sp.o.Now())
			if r.haveLast {
				st = r.last
			}
			if err := r.hold(ctx, batch[0], st, reason); err != nil {
				return err
			}
			r.idleFor(ctx, r.cfg.Timeouts.Poll)
			continue
		}
		fresh := r.conn == nil
		if !r.ensureConn(ctx) {
			if err := r.hold(ctx, batch[0], printers.Unknown(r.sp.o.Now()), "printer unreachable: "+r.lastErr); err != nil {
				return err
			}
			continue
		}
		var st printers.Status
		if r.cfg.Status != printers.StatusNone {
			var serr error
			st, serr = r.status(ctx)
			if serr != nil && !errors.Is(serr, printers.ErrStatusTimeout) {
				r.connFailed(ctx, serr)
				continue
			}
			if !st.Ready() {
				if err := r.hold(ctx, batch[0], st, "printer "+st.Summary()); err != nil {
					return err
				}
				if serr != nil {
					r.closeConn() // a dead peer: dial again next time
				}
				sleep(ctx, r.cfg.Timeouts.Poll)
				continue
			}
		}
		if r.q != nil && r.q.Pending() {
			// A status reply is still owed to a query that timed out; on
			// this connection it would later be read as the confirmation
			// of the jobs about to be sent. Send them on a fresh
			// connection whose preflight was answered in full; a printer
			// that even then leaves ~HS unanswered holds the job (its
			// buffer counts, which confirm the job, are unknown).
			r.closeConn()
			if fresh {
				if err := r.hold(ctx, batch[0], printers.Unknown(r.sp.o.Now()), "the printer did not answer ~HS in time: its buffer is unknown"); err != nil {
					return err
				}
				sleep(ctx, r.cfg.Timeouts.Poll)
			}
			continue
		}
		wires, bad := r.wires(batch)
		if len(bad) > 0 {
			if _, err := r.commit(ctx, move{jobs: bad, from: []State{Queued, Held}, to: Unknown, event: printers.EventJobUnknown,
				reason: "printed in part before, and the rest cannot be sent exactly: check its labels, then reprint or cancel it", edit: clearMarks}); err != nil {
				return err
			}
			continue
		}
		var mark *Mark
		if !r.skipMark {
			mark = r.readMark(ctx, st)
			if mark == nil && r.q != nil && r.q.Pending() {
				// A counter reply is owed: start afresh, and after a few
				// tries send the next batch without the counter.
				r.closeConn()
				r.skipMark = r.counterFails >= counterFailLimit
				continue
			}
		}
		if r.skipMark {
			r.skipMark, r.counterFails = false, 0
		}
		moved, err := r.sp.transitions(context.Background(), move{jobs: batch, from: []State{Queued, Held}, to: Sending, attempt: true,
			edit: func(_ *badger.Txn, j *Job, done []*Job) error {
				j.Mark = nil
				if mark != nil {
					m := *mark
					for _, d := range done {
						m.Before += d.Mark.Labels
					}
					m.Labels = j.Labels - j.printedBefore()
					j.Mark = &m
				}
				return nil
			}})
		if err != nil {
			return err
		}
		jobs := moved[0]
		if len(jobs) == 0 {
			continue
		}
		r.batchDials = r.dialFails
		if err := r.send(ctx, jobs, wires); err != nil {
			return err
		}
	}
	return nil
}

// idle waits for work. It closes the connection after the idle timeout so
// other tools can reach the printer, and reads the status every watch
// interval so a fault shows (as an event) before the next job.
func (r *runner) idle(ctx context.Context) {
	var idleC <-chan time.Time
	if r.conn != nil {
		t := time.NewTimer(r.cfg.Timeouts.Idle)
		defer t.Stop()
		idleC = t.C
	}
	watch := time.NewTimer(r.cfg.Timeouts.Watch)
	defer watch.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			return
		case <-idleC:
			r.closeConn()
			idleC = nil
		case <-watch.C:
			if r.cfg.Status != printers.StatusNone {
				opened := r.conn == nil
				if r.ensureConn(ctx) {
					if _, err := r.status(ctx); err != nil {
						r.closeConn()
					}
				}
				if opened {
					r.closeConn()
				}
			}
			watch.Reset(r.cfg.Timeouts.Watch)
		}
	}
}

func (r *runner) ensureConn(ctx context.Context) bool {
	if r.conn != nil {
		return true
	}
	dctx, cancel := context.WithTimeout(ctx, r.cfg.Timeouts.Dial)
	c, err := r.sp.o.Dial(dctx, r.cfg)
	cancel()
	if err != nil {
		r.dialFails++
		r.connFailed(ctx, err)
		return false
	}
	r.conn = c
	r.q = zebra.NewQuerier(c, r.cfg.Status, r.sp.o.Now)
	r.q.OnAsync(r.onAsync)
	r.log.Debug("connected", "target", r.cfg.Target())
	if !r.reached {
		r.reached = true
		r.sp.emit(ctx, printers.Event{Kind: printers.EventPrinterOnline, Printer: r.cfg.ID, Door: r.cfg.Door, Time: r.sp.o.Now(), Reason: r.cfg.Target()})
	}
	return true
}

// connFailed drops the connection, reports the printer unknown and backs
// off before the next attempt.
func (r *runner) connFailed(ctx context.Context, err error) {
	r.closeConn()
	r.reached = false
	r.fails++
	r.lastErr = err.Error()
	if ctx.Err() != nil {
		return
	}
	r.log.Warn("printer connection failed", "err", err, "attempt", r.fails)
	st := printers.Unknown(r.sp.o.Now())
	r.noteStatus(ctx, st, err.Error())
	sleep(ctx, r.sp.o.Backoff(r.fails))
}

func (r *runner) closeConn() {
	if r.conn != nil {
		_ = r.conn.Close()
		r.conn, r.q = nil, nil
	}
	// ~RV reports of formats still in the printer come on the next
	// connection with no name: they are not taken for the next batch's.
	r.rvOwed = nil
}

// idleFor waits d, or less when a job is submitted or reprinted.
func (r *runner) idleFor(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-r.wake:
	case <-t.C:
	}
}

// wires builds the bytes of a batch's jobs for this attempt; bad lists
// the jobs whose remaining labels cannot be sent exactly.
func (r *runner) wires(batch []*Job) (map[string]wired, []*Job) {
	out := make(map[string]wired, len(batch))
	var bad []*Job
	for _, j := range batch {
		z, plan, err := r.wire(j)
		if err != nil {
			r.log.Warn("job not sent again", "job", j.ID, "err", err)
			bad = append(bad, j)
			continue
		}
		out[j.ID] = wired{zpl: z, plan: plan}
	}
	return out, bad
}

func (r *runner) status(ctx context.Context) (printers.Status, error) {
	st, err := r.q.Status(ctx, r.cfg.Timeouts.Status)
	if err == nil || errors.Is(err, printers.ErrStatusTimeout) {
		reason := ""
		if err != nil {
			reason = err.Error()
		}
		r.noteStatus(ctx, st, reason)
	}
	return st, err
}

// noteStatus emits a status event when the condition changed.
func (r *runner) noteStatus(ctx context.Context, st printers.Status, reason string) {
	if st.Known {
		r.fails = 0
	}
	if r.haveLast && r.last.Same(st) {
		return
	}
	r.last, r.haveLast = st, true
	cp := st
	if reason == "" {
		reason = st.Summary()
	}
	r.sp.emit(ctx, printers.Event{Kind: printers.EventStatus, Printer: r.cfg.ID, Door: r.cfg.Door, Time: r.sp.o.Now(), Status: &cp, Reason: reason})
}

// hold marks the head job held (once per reason). When its job.held event
// cannot be stored the job is left as it is: the loop reads the status
// again after its wait, and holds the job or sends it then.
func (r *runner) hold(ctx context.Context, j *Job, st printers.Status, reason string) error {
	if j.State == Held && j.Reason == reason {
		return nil
	}
	done, err := r.tryCommit(ctx, move{jobs: []*Job{j}, from: []State{Queued, Held}, to: Held, reason: reason,
		event: printers.EventJobHeld, status: &st})
	if errors.Is(err, ErrEventNotStored) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, d := range done[0] {
		r.log.Info("job held", "job", d.ID, "reason", reason)
	}
	return nil
}

// commit applies moves in one transaction (tryCommit). When the job event
// of a move cannot be stored (ErrEventNotStored) nothing changes: commit
// waits a poll interval and tries the same moves again, until the events
// are stored or ctx ends (then it returns the error, and the jobs are left
// as they were for the next Run). The same moves, not the step afresh:
// which jobs were written, and whether the printer took them, is known
// only here.
func (r *runner) commit(ctx context.Context, moves ...move) ([][]*Job, error) {
	for {
		done, err := r.tryCommit(ctx, moves...)
		if !errors.Is(err, ErrEventNotStored) {
			return done, err
		}
		if !sleep(ctx, r.cfg.Timeouts.Poll) {
			return nil, err
		}
	}
}

// tryCommit applies moves in one transaction (Spooler.transitions), their
// events emitted even when ctx has ended. A warning is logged when job
// events begin to be refused, and a note when one is stored again, not at
// every try.
func (r *runner) tryCommit(ctx context.Context, moves ...move) ([][]*Job, error) {
	done, err := r.sp.transitions(context.WithoutCancel(ctx), moves...)
	switch {
	case errors.Is(err, ErrEventNotStored):
		if r.refused == 0 {
			r.refusedSince = time.Now()
			r.log.Warn("job event cannot be stored: the job keeps its state and the printer waits until it can", "err", err)
		}
		r.refused++
	case err == nil && r.refused > 0 && withEvents(moves, done):
		r.log.Info("job events stored again: the printer goes on", "tries", r.refused+1, "waited", time.Since(r.refusedSince).Round(time.Millisecond))
		r.refused = 0
	}
	return done, err
}

// withEvents reports whether moves that were applied published events.
func withEvents(moves []move, done [][]*Job) bool {
	for m, mv := range moves {
		if mv.event != "" && len(done[m]) > 0 {
			return true
		}
	}
	return false
}

// send writes jobs (already in sending) and confirms them.
func (r *runner) send(ctx context.Context, jobs []*Job, wires map[string]wired) error {
	// a write that stalls longer than the write timeout closes the
	// connection, which ends the write with an error
	conn := r.conn
	// The write timeout bounds a stall, not the batch: a printer that
	// slows the sender while it prints is still making progress.
	timer := time.AfterFunc(r.cfg.Timeouts.Write, func() { _ = conn.Close() })
	written := 0
	partial, flushFailed := false, false
	var werr error
	if rv, _ := r.verifying(); rv {
		for _, j := range jobs {
			if wires[j.ID].plan.formats > 0 {
				// the printer reports each RFID format from now on
				_, werr = conn.Write(zebra.CmdRVE)
				break
			}
		}
	}
	for _, j := range jobs {
		if werr != nil {
			break
		}
		w := wires[j.ID]
		r.expect(j, w.plan)
		total := 0
		if w.zpl != nil {
			n, err := conn.Write(w.zpl)
			total, werr = n, err
			if err == nil {
				timer.Reset(r.cfg.Timeouts.Write)
			}
		}
		for c := 0; w.zpl == nil && c < j.Copies && werr == nil; c++ {
			n, err := conn.Write([]byte(j.ZPL))
			total += n
			werr = err
			if err == nil {
				timer.Reset(r.cfg.Timeouts.Write)
			}
		}
		if werr != nil {
			partial = total > 0
			break
		}
		written++
	}
	if werr == nil {
		if f, ok := conn.(printers.Flusher); ok {
			werr = f.Flush()
			if werr != nil {
				// A failed flush says nothing of which bytes got out:
				// every job of the batch may or may not have printed.
				written, partial, flushFailed = 0, true, true
			}
		}
	}
	timer.Stop()
	if werr != nil && ctx.Err() == nil {
		r.log.Warn("write failed", "err", werr, "written", written, "partial", partial)
	}
	// The batch's outcome in one transaction: written, cut off (may have
	// printed), not sent.
	rest := jobs[written:]
	var cut []*Job
	if partial {
		n := 1
		if flushFailed {
			n = len(rest)
		}
		cut, rest = rest[:n], rest[n:]
	}
	notSent := ""
	if werr != nil {
		notSent = "not sent: " + werr.Error()
	}
	r.forget(rest)
	cutMove := move{jobs: cut, from: []State{Sending}, to: Unknown, event: printers.EventJobUnknown, edit: clearMarks,
		reason: fmt.Sprintf("connection lost while writing (%v); the printer may have printed it: reprint or cancel it", werr)}
	if len(cut) > 0 && cut[0].Mark != nil {
		// The printer's label counter will say how much of it printed.
		cutMove = move{jobs: cut, from: []State{Sending}, to: Sent}
	}
	done, err := r.commit(ctx,
		move{jobs: jobs[:written], from: []State{Sending}, to: Sent},
		cutMove,
		move{jobs: rest, from: []State{Sending}, to: Queued, reason: notSent, edit: clearMarks},
	)
	if err != nil {
		return err
	}
	sent := append(done[0], done[1]...)
	if cutMove.to == Unknown {
		sent = done[0]
		r.forget(cut)
	}
	if werr != nil {
		r.connFailed(ctx, werr)
	}
	if len(sent) == 0 {
		return nil
	}
	return r.confirm(ctx, sent, conn)
}

// confirm polls the printer until it has taken the jobs (sent), then marks
// them confirmed. conn is the connection they were written on, nil when
// they were written before a restart.
//
// The confirm timeout bounds a printer that makes no progress, not the
// batch: a long run of labels may take far longer than the timeout, so the
// count restarts whenever the buffer counts move toward done. Time while
// the printer reports a fault does not count; time without an answer does.
// A printer that makes no progress for the whole timeout fails the jobs.
func (r *runner) confirm(ctx context.Context, jobs []*Job, conn printers.Conn) error {
	mode := r.cfg.Status
	if mode == printers.StatusNone || mode == printers.StatusHQES {
		// no buffer counts to wait for: written is taken
		return r.finishPrinted(ctx, jobs)
	}
	var counted time.Duration
	unread := 0              // counter reads that failed after a cut
	var prev printers.Status // the last answer, to see progress against
	wait := time.Duration(0)
	last := time.Now()
	// A stop waits a while for jobs already written to be seen taken: a
	// batch left sent is unknown at the next start, and asks an operator.
	stopping := ctx
	ctx = context.WithoutCancel(ctx)
	var stopBy time.Time
	for {
		if stopping.Err() != nil {
			if stopBy.IsZero() {
				stopBy = time.Now().Add(min(stopGrace, r.cfg.Timeouts.Confirm))
			}
			if time.Now().After(stopBy) {
				return nil // still sent; unknown at the next Run
			}
		}
		var st printers.Status
		var err error
		if r.ensureConn(ctx) {
			st, err = r.status(ctx)
			if err != nil && !errors.Is(err, printers.ErrStatusTimeout) {
				r.closeConn()
			}
		} else {
			err = printers.ErrStatusTimeout
		}
		now := time.Now()
		elapsed := now.Sub(last)
		last = now
		if err == nil && st.Drained() {
			if conn == nil || r.conn != conn {
				// Resumed after a restart, or the connection the jobs
				// went out on broke while they were awaited: bytes
				// written but still in flight were lost with it, and an
				// empty buffer does not tell them from printed ones. The
				// printer's label counter does, where it has one.
				done, err := r.resolve(ctx, stopping, jobs, conn == nil)
				if err != nil || done {
					return err
				}
				if unread++; unread >= counterFailLimit {
					r.noCounter = true
					if _, err := r.resolve(ctx, stopping, jobs, conn == nil); err != nil {
						return err
					}
					return nil
				}
			} else {
				return r.finishPrinted(stopping, jobs)
			}
		}
		switch {
		case err == nil && progressed(prev, st):
			counted = 0
		case err != nil || !st.Held():
			counted += elapsed
		}
		if err == nil {
			prev = st
		}
		if counted >= r.cfg.Timeouts.Confirm {
			reason := fmt.Sprintf("the printer did not take the job: no progress for %v (last status: %s, %s); it may or may not have printed: reprint or cancel it", r.cfg.Timeouts.Confirm, st.Summary(), bufferCounts(prev))
			return r.finish(stopping, jobs, Failed, reason)
		}
		if err == nil && st.Held() {
			wait = r.cfg.Timeouts.Poll
		}
		if stopping.Err() != nil {
			wait = min(wait, 50*time.Millisecond)
		}
		if !sleep(ctx, wait) {
			return nil
		}
		wait = min(max(2*wait, 5*time.Millisecond), r.cfg.Timeouts.Poll)
	}
}

// stopGrace bounds how long a stop waits for the printer to take jobs
// already written.
const stopGrace = 5 * time.Second

// progressed reports whether the printer moved toward done between two
// answers: fewer formats waiting, or as many and fewer labels left of the
// current one, or a partial format completed. A new format starting raises
// the labels left while the formats fall, which is progress; counts the
// printer did not report (-1) are none.
func progressed(prev, cur printers.Status) bool {
	if !prev.Known || !cur.Known {
		return false
	}
	if prev.PartialFormat && !cur.PartialFormat {
		return true
	}
	if prev.FormatsInBuffer < 0 || cur.FormatsInBuffer < 0 || prev.LabelsRemaining < 0 || cur.LabelsRemaining < 0 {
		return false
	}
	if cur.FormatsInBuffer != prev.FormatsInBuffer {
		return cur.FormatsInBuffer < prev.FormatsInBuffer
	}
	return cur.LabelsRemaining < prev.LabelsRemaining
}

// bufferCounts describes the buffer counts of a status for a reason.
func bufferCounts(st printers.Status) string {
	if !st.Known || st.FormatsInBuffer < 0 {
		return "buffer counts unknown"
	}
	return fmt.Sprintf("%d formats in buffer, %d labels remaining", st.FormatsInBuffer, st.LabelsRemaining)
}

// finishPrinted settles jobs the printer took on the connection they were
// written on: confirmed, or by their encode outcome (RFID jobs on a printer
// that verifies them).
func (r *runner) finishPrinted(ctx context.Context, jobs []*Job) error {
	var plain []*Job
	var moves []move
	for _, j := range jobs {
		if _, ok := r.encodes[j.Seq]; !ok && !(j.EPC != "" || writesTag(j.ZPL)) {
			plain = append(plain, j)
			continue
		}
		moves = append(moves, r.printedMove(j))
	}
	if len(plain) > 0 {
		moves = append([]move{{jobs: plain, from: []State{Sent}, to: Confirmed, event: printers.EventJobConfirmed, edit: clearMarks}}, moves...)
	}
	done, err := r.commit(ctx, moves...)
	if err != nil {
		return err
	}
	for m, mv := range moves {
		if len(done[m]) > 0 && mv.to != Confirmed {
			r.log.Warn("job "+string(mv.to), "job", done[m][0].ID, "reason", mv.reason)
		}
	}
	r.forget(jobs)
	return nil
}

// finish moves jobs from sent to their outcome, with its event. ctx bounds
// the wait for an event that cannot be stored yet (commit).
func (r *runner) finish(ctx context.Context, jobs []*Job, to State, reason string) error {
	kind := printers.EventJobConfirmed
	switch to {
	case Failed:
		kind = printers.EventJobFailed
	case Unknown:
		kind = printers.EventJobUnknown
	}
	done, err := r.commit(ctx, move{jobs: jobs, from: []State{Sent}, to: to, reason: reason, event: kind, edit: clearMarks})
	if err != nil {
		return err
	}
	r.forget(jobs)
	if to != Confirmed {
		r.log.Warn("jobs "+string(to), "jobs", len(done[0]), "reason", reason)
	}
	return nil
}
