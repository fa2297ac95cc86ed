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
