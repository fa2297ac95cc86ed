// Package spool is the gateway's durable print spooler: one queue per
// printer, kept in the shared Badger store under the "job/" prefix, and one
// Run loop per printer that sends jobs in order over one connection.
//
// A job moves through
//
//	queued → sending → sent → confirmed
//	   ↑ ↓                  ↘ failed      (no progress for the confirm timeout)
//	  held                    unknown     (partly written, found in sending
//	                                       after a crash, or sent when its
//	                                       connection broke or the gateway
//	                                       restarted)
//	queued | held | failed | unknown → cancelled   (Cancel)
//	failed | unknown | confirmed | cancelled → queued (Reprint)
//
// Before sending, the printer's status is read (~HQES, which answers during
// faults, and ~HS in one query). Paper out, ribbon out, head open or pause
// holds the job at the head of the queue (state held) until the status
// clears; a printer that does not answer is "unknown, possibly faulted" and
// holds it too. Nothing is dropped.
//
// After a batch of jobs is written, the spooler polls ~HS until the printer
// has taken them (formats in buffer and labels remaining both 0) and marks
// them confirmed. The confirm timeout bounds a printer that makes no
// progress, not the batch: it starts again whenever the formats in buffer
// or the labels remaining fall, so a long batch is not failed while it
// prints. Time while the printer reports a fault does not count (the
// formats wait in the printer); time without an answer does. A batch
// without progress for the whole confirm timeout is failed.
//
// The spooler never prints a job twice on its own:
//
//   - A job's state is synced to disk before each step (sending before the
//     first byte, sent after the last), so a crash leaves it either queued
//     (not a byte written: sent normally), sending (it may or may not have
//     been written: it becomes unknown at the next start), or sent (fully
//     written: it is not sent again; once the printer's buffer is empty it
//     becomes unknown, because bytes lost on the way as the process stopped
//     leave the buffer as empty as printed ones do).
//   - A connection lost while writing leaves the job cut in the middle
//     unknown and the rest queued; jobs written in full on a connection
//     that broke before the printer was seen to take them become unknown
//     too.
//   - failed and unknown jobs wait for an operator: ReprintBy queues them
//     again (at the end of the queue), CancelBy drops them; both name who
//     asked and require a reason, which their events carry (the label
//     audit trail records them). Reprint and Cancel are the gateway's own.
//
// A printer whose profile has a label counter (Config.LabelCounter: the
// Link-OS odometer.total_label_count through SGD, or the ~HQOD print
// length) makes the unknown cases exact. The counter is read before each
// batch, once ~HS shows the buffer empty, and kept on each job of the
// batch (Mark) in the transaction that puts it in sending, so it survives a
// kill: a job found in sending after a restart goes to sent rather than
// unknown. When a batch is cut short (a connection lost while writing or
// before the printer is seen to take it, a write stalled and reset, a
// restart), the spooler waits for the buffer to drain, reads the counter
// again and places the labels printed since, in order, on the batch's jobs:
// printed → confirmed, not printed → queued again at its place, cut in
// the middle → queued with only its remaining labels when they can be sent
// exactly (whole formats, or a format's ^PQ lowered; not a format that
// numbers its labels), else unknown with the reason. Voided RFID labels
// are taken off with the printer's void counter. A restart of the printer
// (device.uptime; for ~HQOD, any time it was out of reach), a counter that
// went back, more labels than the batch sends, or voids the printer's
// reports do not explain leave the batch unknown, as without a counter.
//
// RFID jobs on a printer that verifies them (Config.VerifyEncode) get the
// printer's encode result per label: ~RV reports per format, and a read of
// each tag with a ^HV reply (withReadback) that is compared with the EPC
// the job writes. A job's outcome (Job.Encode: encoded, voided with the
// number of voids, encode_failed, or unverified when its report was lost)
// is settled with its state: encode_failed fails the job with the reason
// and raises label.encode_failed, staged with the change; by the printer's
// on_encode_failure the job is then sent once more (reprint), or the
// printer's queue is held until it is reprinted or cancelled (hold, key
// job/x/<printer>), or nothing more happens (alert).
//
// Job outcomes (confirmed, failed, unknown, held, cancelled, reprint) are
// events for the Events sink. A sink that is a JobEventStager (the
// gateway's outbox) gets each one staged in the transaction that changes
// the job, so a change and its event commit together; one it cannot store
// (ErrEventNotStored) refuses the change: Reprint and Cancel return the
// error, and a printer loop keeps the job in its state and tries the step
// again every poll interval. Any other sink is told after the commit.
// Printer status and connection events are telemetry and always go to
// PrinterEvent.
//
// Keys: job/d/<id> holds the job (JSON, with its ZPL); job/q/<printer>/<seq>
// orders the active jobs of a printer (queued, held, sending, sent), so the
// loop reads the head of the queue from Badger and never holds the queue in
// memory; job/f/<id> marks a job in sending for crash recovery.
package spool
