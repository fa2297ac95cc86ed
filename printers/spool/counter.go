package spool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/zebra"
)

// In-flight jobs resolved by the printer's label counter. On a printer
// whose profile has one (Config.LabelCounter), the counter is read before
// each batch, once ~HS shows the printer's buffer empty, and kept on each
// job of the batch with the labels the batch sends ahead of it (Mark), in
// the transaction that puts the batch in sending. When the batch is cut
// short (the connection drops while writing or before the printer is seen
// to take it, a write stalls and is reset, or the gateway restarts), the
// spooler waits for the printer's buffer to drain, reads the counter again
// and places the labels printed since, in order, on the batch's jobs: a
// job whose labels all printed is confirmed, one that did not print is
// queued again at its place, and one cut in the middle is queued with only
// its remaining labels when they can be sent exactly (Resume), else left
// unknown with the reason. Voided RFID labels are taken off with the
// printer's void counter. When the count cannot be trusted (the printer
// restarted, as its uptime shows, so that a buffer was lost and a
// non-volatile counter may lag; the counter went back; more labels printed
// than the batch has; voids the printer's reports do not account for), the
// jobs are unknown as without a counter. A printer without a counter
// leaves them unknown.

// SGD settings the counter is read from.
const (
	sgdLabelCount = "odometer.total_label_count"
	sgdVoidCount  = "odometer.rfid.void_resettable"
	sgdUptime     = "device.uptime"
)

// bootSlack is how far two readings of the printer's boot time (the
// gateway's clock minus the printer's uptime) may differ for the printer to
// count as not restarted; a printer up for less than that when the batch
// started counts as possibly restarted.
const bootSlack = 10 * time.Second

// errNoCounter: the printer does not know its label counter setting.
var errNoCounter = errors.New("the printer has no label counter")

// counterFailLimit is how many reads of the counter in a row may fail
// before a batch is sent without it (or a batch cut short is left
// unknown).
const counterFailLimit = 3

// reading is one reading of the printer's counters.
type reading struct {
	counter int64 // labels (sgd) or print length units (hqod)
	voids   int64 // voided RFID labels, -1 unknown
	uptime  int64 // seconds, -1 unknown
	unit    string
	at      time.Time
}

// counting reports whether the printer's label counter is read.
func (r *runner) counting() bool {
	return (r.cfg.LabelCounter == printers.CounterSGD || r.cfg.LabelCounter == printers.CounterHQOD) && !r.noCounter
}

// readCounter reads the printer's counters on the open connection.
func (r *runner) readCounter(ctx context.Context) (reading, error) {
	rd := reading{voids: -1, uptime: -1}
	if r.cfg.LabelCounter == printers.CounterHQOD {
		o, err := r.q.Odometer(ctx, r.cfg.Timeouts.Status)
		if err != nil {
			return rd, err
		}
		rd.counter, rd.unit, rd.at = int64(o.Total), o.Unit, r.sp.o.Now()
		return rd, nil
	}
	names := []string{sgdLabelCount, sgdUptime}
	if r.prof != nil && r.prof.RFID.Supported {
		names = append(names, sgdVoidCount)
	}
	vals, err := r.q.Getvar(ctx, r.cfg.Timeouts.Status, names...)
	if err != nil {
		return rd, err
	}
	rd.at = r.sp.o.Now()
	if vals[0].Unknown() {
		return rd, fmt.Errorf("%w: it answers %q to %s", errNoCounter, vals[0], sgdLabelCount)
	}
	if rd.counter, err = strconv.ParseInt(string(vals[0]), 10, 64); err != nil || rd.counter < 0 {
		return rd, fmt.Errorf("%w: %s reads %q", printers.ErrBadStatus, sgdLabelCount, vals[0])
	}
	if up, err := zebra.ParseUptime(string(vals[1])); err == nil {
		rd.uptime = int64(up / time.Second)
	}
	if len(vals) > 2 {
		if v, err := strconv.ParseInt(string(vals[2]), 10, 64); err == nil && v >= 0 {
			rd.voids = v
		}
	}
	return rd, nil
}

// readMark reads the counter before a batch; st is the preflight status.
// nil when the printer has no counter, its buffer is not empty (a count
// taken now would include labels of someone else's formats) or the read
// failed: the batch is then sent unmarked, and its jobs are unknown if it
// is cut short, as without a counter.
func (r *runner) readMark(ctx context.Context, st printers.Status) *Mark {
	if !r.counting() {
		return nil
	}
	if !st.Drained() {
		r.log.Debug("label counter not read: the printer's buffer is not empty", "formats", st.FormatsInBuffer, "labels", st.LabelsRemaining)
		return nil
	}
	rd, err := r.readCounter(ctx)
	if err != nil {
		r.counterFailed(err)
		return nil
	}
	r.counterFails = 0
	m := &Mark{Counter: rd.counter, Voids: rd.voids, Uptime: rd.uptime, At: rd.at, Source: r.cfg.LabelCounter}
	if m.Source == printers.CounterHQOD {
		dpi := 203
		if r.prof != nil && r.prof.DPI > 0 {
			dpi = r.prof.DPI
		}
		if st.LabelLength <= 0 {
			return nil
		}
		m.LabelDots = st.LabelLength
		m.PerLabel = float64(st.LabelLength) / float64(dpi)
		if rd.unit == "cm" {
			m.PerLabel *= 2.54
		}
	}
	return m
}

// counterFailed notes a counter read that failed. A printer that does not
// know the setting is not asked again in this run; after counterFailLimit
// failures in a row a batch is sent without the counter.
func (r *runner) counterFailed(err error) {
	if errors.Is(err, errNoCounter) {
		r.noCounter = true
		r.log.Warn("the printer has no label counter: batches are sent without it, and a batch cut short leaves its jobs unknown", "counter", r.cfg.LabelCounter, "err", err)
		return
	}
	r.counterFails++
	r.log.Warn("label counter not read", "err", err, "tries", r.counterFails)
}

// recoverMarked moves the jobs a stop left in sending that carry a counter
// mark to sent (no event: nothing is decided yet), so that their printer's
// loop resolves them from its label counter rather than leaving them
// unknown.
func (s *Spooler) recoverMarked() error {
	ids, err := s.inFlight()
	if err != nil {
		return err
	}
	for _, id := range ids {
		_, err := s.update(context.Background(), id, "", func(j *Job) error {
			c, ok := s.cfg[j.Printer]
			if j.State != Sending || j.Mark == nil || !ok || c.LabelCounter != j.Mark.Source {
				return nil
			}
			j.State, j.Reason = Sent, "the gateway stopped while sending this job: the printer's label counter tells whether it printed"
			return nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("recover job %s: %w", id, err)
		}
	}
	return nil
}

// placeLabels puts good labels, printed in order, on jobs that owe eff
// labels each: how many each printed.
func placeLabels(eff []int, good int) []int {
	out := make([]int, len(eff))
	for i, n := range eff {
		out[i] = min(max(good, 0), n)
		good -= n
	}
	return out
}

// cutReason is the reason of jobs cut short, by what cut them.
func cutReason(restarted bool) string {
	if restarted {
		return "the gateway restarted before the printer was seen to take the job"
	}
	return "the connection broke before the printer was seen to take the job"
}

// resolve settles a batch cut short from the printer's label counter, once
// its buffer is empty. restarted: the batch was written by an earlier run.
// It reports false when the counter could not be read (try again).
func (r *runner) resolve(ctx, stopping context.Context, jobs []*Job, restarted bool) (bool, error) {
	var marked, plain []*Job
	for _, j := range jobs {
		if j.Mark != nil && j.Mark.Source == r.cfg.LabelCounter && r.counting() {
			marked = append(marked, j)
		} else {
			plain = append(plain, j)
		}
	}
	sort.SliceStable(marked, func(a, b int) bool { return marked[a].Mark.Before < marked[b].Mark.Before })
	if len(marked) > 0 {
		m0 := marked[0].Mark
		keep := marked[:0]
		for _, j := range marked {
			if j.Mark.At.Equal(m0.At) && j.Mark.Counter == m0.Counter {
				keep = append(keep, j)
			} else {
				plain = append(plain, j)
			}
		}
		marked = keep
	}
	var moves []move
	cut := cutReason(restarted)
	if len(plain) > 0 {
		// Bytes written but still in flight were lost with the
		// connection or the stopped process, and an empty buffer does not
		// tell them from printed ones.
		why := cut + ", and its buffer is empty now: it may or may not have printed; check the label, then reprint or cancel it"
		if restarted {
			why = cut + ", and its buffer is empty now: it may have printed, or its bytes may have been lost on the way; check the label, then reprint or cancel it"
		}
		moves = append(moves, r.unknownMove(plain, why))
	}
	if len(marked) > 0 {
		cur, err := r.readCounter(ctx)
		if err != nil {
			if errors.Is(err, errNoCounter) {
				r.counterFailed(err)
			} else {
				r.log.Warn("label counter not read after a batch was cut short; trying again", "err", err)
				return false, nil
			}
			moves = append(moves, r.unknownMove(marked, cut+", and the printer's label counter cannot be read now: check the labels, then reprint or cancel them"))
		} else {
			moves = append(moves, r.place(marked, cur, cut, restarted)...)
		}
	}
	done, err := r.commit(stopping, moves...)
	if err != nil {
		return true, err
	}
	for m, mv := range moves {
		if len(done[m]) > 0 && mv.to != Confirmed {
			r.log.Warn("jobs "+string(mv.to)+" after a batch was cut short", "jobs", len(done[m]), "reason", mv.reason)
		}
	}
	r.forget(jobs)
	return true, nil
}

// unknownMove makes jobs unknown with a reason.
func (r *runner) unknownMove(jobs []*Job, reason string) move {
	return move{jobs: jobs, from: []State{Sent}, to: Unknown, event: printers.EventJobUnknown, reason: reason, edit: clearMarks}
}

func clearMarks(_ *badger.Txn, j *Job, _ []*Job) error {
	j.Mark, j.Resume = nil, nil
	return nil
}

// place is the moves of a batch's jobs by the labels the counter says
// printed since the mark.
func (r *runner) place(jobs []*Job, cur reading, cut string, restarted bool) []move {
	m0 := jobs[0].Mark
	why := r.untrusted(jobs, m0, cur, restarted)
	var good int
	var dvoid int64
	if why == "" {
		switch m0.Source {
		case printers.CounterHQOD:
			good = int(math.Round(float64(cur.counter-m0.Counter) / m0.PerLabel))
		default:
			if m0.Voids >= 0 && cur.voids >= 0 {
				dvoid = cur.voids - m0.Voids
			}
			good = int(cur.counter - m0.Counter - dvoid)
		}
	}
	// What the printer's reports say of the RFID jobs.
	eff := make([]int, len(jobs))
	sum, known := 0, int64(0)
	minTries := 0
	for i, j := range jobs {
		eff[i] = j.Mark.Labels
		e := r.encodes[j.Seq]
		if e != nil {
			known += int64(e.voids)
			if e.fails > 0 {
				// the printer dropped the format after its last try
				if j.Mark.Labels == 1 {
					eff[i] = 0
				} else if why == "" {
					why = fmt.Sprintf("a tag of job %s failed to encode in the middle of its %d labels, so its printed labels cannot be counted", j.ID, j.Mark.Labels)
				}
			}
		}
		if writesTag(j.ZPL) && (e == nil || e.rv < e.plan.formats) {
			t := r.tries(rfidPlan{})
			if e != nil {
				t = r.tries(e.plan)
			}
			if minTries == 0 || t < minTries {
				minTries = t
			}
		}
		sum += eff[i]
	}
	if why == "" && minTries > 0 && dvoid-known >= int64(minTries) {
		why = fmt.Sprintf("the printer voided %d labels its reports do not account for, enough for a tag that failed and a label missing from the count", dvoid-known)
	}
	if why == "" && good > sum {
		why = fmt.Sprintf("the printer counted %d labels since the batch started, more than the %d it sends: something else printed", good, sum)
	}
	if why == "" && good < 0 {
		why = fmt.Sprintf("the printer's label counter fell by %d", -good)
	}
	printed := placeLabels(eff, good)
	r.log.Info("batch cut short resolved by the printer's label counter", "counter", m0.Source, "jobs", len(jobs), "labels", sum, "printed", good, "voids", dvoid)
	if why == "" {
		for i, j := range jobs {
			if e := r.encodes[j.Seq]; e != nil && printed[i] < eff[i] && (e.rv > e.fails || len(e.reads) > 0) {
				why = fmt.Sprintf("the printer reported job %s's tag written, but its label counter does not count the label", j.ID)
				break
			}
		}
	}
	if why != "" {
		return []move{r.unknownMove(jobs, cut+", and its label counter cannot place the labels: "+why+"; check them, then reprint or cancel them")}
	}
	var moves []move
	var plainDone []*Job
	for i, j := range jobs {
		p := printed[i]
		e := r.encodes[j.Seq]
		switch {
		case e != nil && e.fails > 0, p == eff[i]:
			if !writesTag(j.ZPL) {
				plainDone = append(plainDone, j)
				continue
			}
			moves = append(moves, r.printedMove(j))
		case p == 0:
			moves = append(moves, r.requeueMove(j, j.printedBefore(),
				cut+"; its label counter shows it did not print: sent again"))
		default:
			total := j.printedBefore() + p
			if _, err := remaining(j.ZPL, j.Copies, total); err != nil {
				moves = append(moves, r.unknownMove([]*Job{j}, fmt.Sprintf("%s in the middle: its label counter shows %d of its %d labels printed, but %v; check them, then reprint or cancel it", cut, total, j.Labels, err)))
				continue
			}
			moves = append(moves, r.requeueMove(j, total,
				fmt.Sprintf("%s in the middle: its label counter shows %d of its %d labels printed; the other %d are sent again", cut, total, j.Labels, j.Labels-total)))
		}
	}
	if len(plainDone) > 0 {
		moves = append([]move{{jobs: plainDone, from: []State{Sent}, to: Confirmed, event: printers.EventJobConfirmed, edit: clearMarks}}, moves...)
	}
	return moves
}

// untrusted says why the counter cannot place a batch's labels ("" when
// it can).
func (r *runner) untrusted(jobs []*Job, m0 *Mark, cur reading, restarted bool) string {
	rfid := false
	for _, j := range jobs {
		rfid = rfid || writesTag(j.ZPL)
	}
	switch m0.Source {
	case printers.CounterHQOD:
		// ~HQOD says nothing of a restart: the printer must have stayed
		// in reach of this run the whole time.
		if restarted || r.dialFails > r.batchDials {
			return "the printer was out of reach meanwhile and may have been switched off and on (its ~HQOD counter cannot tell, and a restart loses its buffer)"
		}
		if rfid {
			return "its print length counts voided RFID labels as printed ones"
		}
		if m0.PerLabel <= 2 {
			return fmt.Sprintf("a label is %.2f units long, too short for a print length counted in whole units", m0.PerLabel)
		}
		for _, j := range jobs {
			for _, l := range labelLengths(j.ZPL) {
				if l != 0 && l != m0.LabelDots {
					return fmt.Sprintf("job %s sets its label length to %d dots, not the printer's %d", j.ID, l, m0.LabelDots)
				}
			}
		}
	default:
		if m0.Uptime < 0 || cur.uptime < 0 {
			return "the printer does not say how long it has been on, so a restart (which loses its buffer and may leave its counter behind) cannot be ruled out"
		}
		if m0.Uptime < int64(bootSlack/time.Second) {
			return fmt.Sprintf("the printer had been on for only %ds when the batch started, too little to rule out a restart", m0.Uptime)
		}
		boot0 := m0.At.Add(-time.Duration(m0.Uptime) * time.Second)
		boot1 := cur.at.Add(-time.Duration(cur.uptime) * time.Second)
		if cur.uptime < m0.Uptime || boot1.Sub(boot0).Abs() > bootSlack {
			return fmt.Sprintf("the printer restarted (its uptime is %ds, it was %ds %s earlier): a power cycle loses its buffer and may leave its counter behind", cur.uptime, m0.Uptime, cur.at.Sub(m0.At).Round(time.Second))
		}
		if rfid && (m0.Voids < 0 || cur.voids < 0) {
			return "the printer counts no voided RFID labels apart, and they cannot be told from printed ones"
		}
		if m0.Voids >= 0 && cur.voids >= 0 && cur.voids < m0.Voids {
			return "its void counter went back (reset)"
		}
	}
	if cur.counter < m0.Counter {
		return fmt.Sprintf("the counter went back from %d to %d (reset)", m0.Counter, cur.counter)
	}
	return ""
}

// printedMove settles a job whose labels all printed: confirmed, or by its
// encode outcome.
func (r *runner) printedMove(j *Job) move {
	enc := r.outcome(j)
	if enc == nil {
		return move{jobs: []*Job{j}, from: []State{Sent}, to: Confirmed, event: printers.EventJobConfirmed, edit: clearMarks}
	}
	switch enc.Outcome {
	case printers.EncodeFailed:
		return r.encodeFailed(j, enc)
	case printers.EncodeUnverified:
		return move{jobs: []*Job{j}, from: []State{Sent}, to: Failed, event: printers.EventJobFailed,
			reason: "encode unverified: " + enc.Reason, edit: withEncode(enc)}
	}
	return move{jobs: []*Job{j}, from: []State{Sent}, to: Confirmed, event: printers.EventJobConfirmed, edit: withEncode(enc)}
}

func withEncode(enc *printers.Encode) func(*badger.Txn, *Job, []*Job) error {
	return func(_ *badger.Txn, j *Job, _ []*Job) error {
		e := *enc
		j.Encode, j.Mark, j.Resume = &e, nil, nil
		return nil
	}
}

// requeueMove queues a job again at its place, with the labels that
// printed.
func (r *runner) requeueMove(j *Job, printed int, reason string) move {
	return move{jobs: []*Job{j}, from: []State{Sent}, to: Queued, reason: reason,
		edit: func(_ *badger.Txn, jj *Job, _ []*Job) error {
			jj.Mark, jj.Resume = nil, nil
			if printed > 0 {
				jj.Resume = &Resume{Seq: jj.Seq, Printed: printed}
			}
			return nil
		}}
}
