package spool

import (
	"fmt"
	"strconv"
	"strings"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/zebra"
)

// Verified encoding. On a printer that verifies RFID jobs
// (Config.VerifyEncode), each batch with RFID formats is preceded by ~RVE
// (rv), and each RFID format with a hex EPC gets a read of its tag and a
// ^HV reply per label (readback, withReadback). The replies come as the
// labels print and are read with the status polls (zebra.Querier.OnAsync):
// ~RV reports carry no name and are matched to the RFID formats in the
// order they were sent on the connection; ^HV replies carry the job's
// queue position and format, so a reply that arrives on a later
// connection (a format that printed after the connection broke) still
// finds its job. A job's outcome is settled with its state change:
// encoded, voided, encode_failed or unverified.

// encodeState gathers the reports of one job's tag writes.
type encodeState struct {
	id    string
	plan  rfidPlan
	rv    int // ~RV reports received
	fails int // of which failures
	voids int
	reads []zebra.Verify // ^HV replies of the EPC read-back received
	tids  []string       // TIDs read (capture_tid)
}

// verifying reports whether the printer verifies RFID jobs, and how.
func (r *runner) verifying() (rv, readback bool) {
	switch r.cfg.VerifyEncode {
	case printers.VerifyRV:
		return true, false
	case printers.VerifyReadback:
		return false, true
	case printers.VerifyBoth:
		return true, true
	}
	return false, false
}

// readEPC is the read-back command of the printer's profile.
func (r *runner) readEPC() string {
	if r.prof != nil && r.prof.RFID.ReadEPC != "" {
		return r.prof.RFID.ReadEPC
	}
	return "^RFR,H,0,12,E"
}

// tries is how many tags the printer tries for one label when a format
// does not say (^RS n).
func (r *runner) tries(p rfidPlan) int {
	if p.tries > 0 {
		return p.tries
	}
	if r.prof != nil && r.prof.RFID.Tries > 0 {
		return r.prof.RFID.Tries
	}
	return 3
}

// wire is what is written for a job in this attempt: its ZPL (all copies)
// without the labels an earlier attempt printed, with the read-backs of
// its tags; and the replies its RFID formats will make. Plain jobs are
// their ZPL, written once per copy (nil wire).
func (r *runner) wire(j *Job) ([]byte, rfidPlan, error) {
	rv, readback := r.verifying()
	lock := r.lockCommands()
	printed := j.printedBefore()
	if printed == 0 && !((rv || readback || lock != "") && j.EPC != "") {
		return nil, rfidPlan{}, nil
	}
	z := strings.Repeat(j.ZPL, j.Copies)
	if printed > 0 {
		var err error
		if z, err = remaining(j.ZPL, j.Copies, printed); err != nil {
			return nil, rfidPlan{}, err
		}
	}
	var plan rfidPlan
	if rv || readback || lock != "" {
		z, plan = withReadback(z, j.Seq, r.readEPC(), readback, readback && r.cfg.CaptureTID, lock)
		if !rv {
			plan.formats = 0
		}
	}
	return []byte(z), plan, nil
}

// lockCommands are the commands that lock a tag after its write (lock:
// epc), "" when tags are not locked: the access password written to the
// reserved bank (kill password left 0), then the access password and the
// EPC bank locked (^RLM,k,a,e,u; L: writable with the password only).
func (r *runner) lockCommands() string {
	if r.cfg.Lock != printers.LockEPC || r.cfg.AccessPassword == "" {
		return ""
	}
	return "^RFW,H,P^FD00000000," + strings.ToUpper(r.cfg.AccessPassword) + "^FS^RLM,,L,L,^FS"
}

// expect registers the replies a job's wire ZPL will make, in the order
// it is written.
func (r *runner) expect(j *Job, plan rfidPlan) {
	if plan.formats == 0 && len(plan.labels) == 0 && !writesTag(j.ZPL) {
		return
	}
	if r.encodes == nil {
		r.encodes = map[uint64]*encodeState{}
	}
	r.encodes[j.Seq] = &encodeState{id: j.ID, plan: plan}
	for i := 0; i < plan.formats; i++ {
		r.rvOwed = append(r.rvOwed, j.Seq)
	}
}

// onAsync takes a reply the printer made as it printed.
func (r *runner) onAsync(rep zebra.Reply) {
	switch {
	case rep.Encode != nil:
		if len(r.rvOwed) == 0 {
			r.log.Debug("~RV report for no format sent on this connection", "ok", rep.Encode.OK, "voids", rep.Encode.Voids)
			return
		}
		seq := r.rvOwed[0]
		r.rvOwed = r.rvOwed[1:]
		if e := r.encodes[seq]; e != nil {
			e.rv++
			e.voids += rep.Encode.Voids
			if !rep.Encode.OK {
				e.fails++
			}
		}
	case rep.Verify != nil:
		seqText, _, _ := strings.Cut(rep.Verify.Tag, ".")
		seq, err := strconv.ParseUint(seqText, 10, 64)
		if e := r.encodes[seq]; err == nil && e != nil {
			if strings.HasSuffix(rep.Verify.Tag, tidSuffix) {
				e.tids = append(e.tids, rep.Verify.Data)
			} else {
				e.reads = append(e.reads, *rep.Verify)
			}
		} else {
			r.log.Debug("^HV reply for no job awaited", "tag", rep.Verify.Tag)
		}
	}
}

// outcome is the encode outcome of a job whose labels all printed (or
// whose format the printer dropped after its last try): nil for a job the
// printer does not verify, unverified when its reports are not all in.
func (r *runner) outcome(j *Job) *printers.Encode {
	e := r.encodes[j.Seq]
	if e == nil {
		// Sent by an earlier run, or on a connection whose reports were
		// lost: a job that writes a tag is unverified.
		_, plan, err := r.wire(j)
		if err != nil || (plan.formats == 0 && len(plan.labels) == 0) {
			return nil
		}
		e = &encodeState{id: j.ID, plan: plan}
	}
	if e.plan.formats == 0 && len(e.plan.labels) == 0 {
		return nil // a write the printer cannot verify (not hex)
	}
	enc := &printers.Encode{EPC: j.EPC, Voids: e.voids}
	if j.Encode != nil {
		enc.Reprinted = j.Encode.Reprinted
	}
	if e.rv > 0 {
		enc.Attempts = e.voids + e.rv - e.fails
	}
	mismatch := -1
	for i, rd := range e.reads {
		if rd.Data != e.want(rd.Tag) && mismatch < 0 {
			mismatch = i
		}
	}
	switch {
	case mismatch >= 0:
		enc.EPCRead = e.reads[mismatch].Data
	case len(e.reads) > 0:
		enc.EPCRead = e.reads[0].Data
	}
	if len(e.tids) > 0 {
		enc.TID = e.tids[0]
	}
	switch {
	case e.fails > 0:
		enc.Outcome = printers.EncodeFailed
		enc.Reason = fmt.Sprintf("no tag took EPC %s: the printer voided %d labels and gave up after %d tries per label (^RS)", j.EPC, e.voids, r.tries(e.plan))
	case mismatch >= 0 && enc.EPCRead == "":
		enc.Outcome = printers.EncodeFailed
		enc.Reason = fmt.Sprintf("no tag could be read back after writing EPC %s: the tag is dead or missing", e.want(e.reads[mismatch].Tag))
	case mismatch >= 0:
		enc.Outcome = printers.EncodeFailed
		enc.Reason = fmt.Sprintf("the tag reads back %s, not the EPC recorded %s: the printer's encoder may be miscalibrated (writing another label's tag); check its RFID calibration", enc.EPCRead, e.want(e.reads[mismatch].Tag))
	case len(e.plan.labels) > 0 && len(e.reads) >= len(e.plan.labels), len(e.plan.labels) == 0 && e.rv >= e.plan.formats:
		enc.Outcome = printers.EncodeEncoded
		if e.voids > 0 {
			enc.Outcome = printers.EncodeVoided
		}
	default:
		enc.Outcome = printers.EncodeUnverified
		enc.Reason = "the label printed, but the printer's report of its tag write never arrived (lost with the connection or a restart): read the tag, then reprint or cancel it"
	}
	return enc
}

// want is the EPC the label with a read-back tag must hold.
func (e *encodeState) want(tag string) string {
	for _, l := range e.plan.labels {
		if l.tag == tag {
			return l.epc
		}
	}
	return ""
}

// forget drops the reports of jobs that are settled.
func (r *runner) forget(jobs []*Job) {
	for _, j := range jobs {
		delete(r.encodes, j.Seq)
	}
	if len(r.encodes) == 0 {
		r.encodes = nil
	}
}

// keyHold is where a printer held by an encode failure keeps the job that
// failed: job/x/<printer> → job id.
const keyHold = "job/x/"

// encodeFailed is the move of a job whose tag write failed, by the
// printer's policy: reprint once (queued again at the end, with
// label.encode_failed and job.reprint), else failed with label.encode_failed
// (and, with hold, the printer's queue held until the job is reprinted or
// cancelled).
func (r *runner) encodeFailed(j *Job, enc *printers.Encode) move {
	reason := "encode failed: " + enc.Reason
	editEnc := func(reprinted bool) func(txn *badger.Txn, jj *Job, _ []*Job) error {
		return func(txn *badger.Txn, jj *Job, _ []*Job) error {
			e := *enc
			e.Reprinted = e.Reprinted || reprinted
			jj.Encode, jj.Mark, jj.Resume = &e, nil, nil
			if reprinted {
				jj.Seq = r.sp.seq.Add(1)
			}
			if r.cfg.OnEncodeFailure == printers.OnEncodeHold && !reprinted {
				return txn.Set([]byte(keyHold+r.cfg.ID), []byte(jj.ID))
			}
			return nil
		}
	}
	if r.cfg.OnEncodeFailure == printers.OnEncodeReprint && !enc.Reprinted {
		return move{jobs: []*Job{j}, from: []State{Sent}, to: Queued, event: printers.EventLabelEncodeFailed, also: printers.EventJobReprint,
			reason: reason + "; reprinted once on fresh stock (on_encode_failure: reprint)", edit: editEnc(true)}
	}
	if r.cfg.OnEncodeFailure == printers.OnEncodeHold {
		reason += "; the printer's queue is held until this job is reprinted or cancelled (on_encode_failure: hold)"
	} else {
		reason += "; reprint or cancel it"
	}
	return move{jobs: []*Job{j}, from: []State{Sent}, to: Failed, event: printers.EventJobFailed, also: printers.EventLabelEncodeFailed,
		reason: reason, edit: editEnc(false)}
}

// encodeHold reports why the printer's queue is held by an encode failure
// ("" when it is not). A hold whose job was reprinted, cancelled or
// pruned since is lifted.
func (r *runner) encodeHold() (string, error) {
	key := []byte(keyHold + r.cfg.ID)
	var id string
	err := r.sp.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(key)
		if err == badger.ErrKeyNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) error { id = string(v); return nil })
	})
	if err != nil || id == "" {
		return "", err
	}
	j, err := r.sp.Get(id)
	if err == nil && j.State == Failed && j.Encode != nil && j.Encode.Outcome == printers.EncodeFailed {
		return fmt.Sprintf("held: the tag of job %s failed to encode (on_encode_failure: hold); reprint or cancel it to go on", id), nil
	}
	r.log.Info("encode hold lifted", "job", id)
	return "", r.sp.db.Update(func(txn *badger.Txn) error { return txn.Delete(key) })
}
