// Package labels is the gateway's label audit trail and its reconciliation
// of what was received, printed, encoded and seen.
//
// Every print, reprint, void and cancel of a label is a Record: the job,
// its carton (SSCC and EPC), lot, template and copies, who asked (a
// printers.Actor: the API token's name, the MQTT command's sender, the CLI
// user, "local" on a loopback API) and why (an operator's reason, required
// for reprints and cancels), and the tag's encode outcome when the printer
// reported one. Records come from the spooler's job events (FromEvent):
//
//	job.confirmed        → printed    (the printer took the job)
//	job.reprint          → reprinted  (an operator queued it again)
//	job.cancelled        → cancelled
//	label.encode_failed  → voided     (the tag could not be written)
//
// and a printed label whose encode outcome says the printer voided labels
// before it got a good tag is also a voided record. The gateway appends
// each record (Trail.Append) in the Badger transaction that changes the
// job, where the job's event is staged, and publishes it as a label.*
// event from the same transaction: a change, its record and its event
// commit together or not at all.
//
// Keys (store.PrefixLabel), each ending in the record's sequence number
// (8 bytes big-endian, increasing across restarts), so that each index is
// one range scan in the order records were appended:
//
//	lbl/l/<lot>\x00<seq>     Record JSON (the records of a lot)
//	lbl/c/<sscc>\x00<seq>    its lbl/l/ key (the records of a carton)
//	lbl/j/<job>\x00<seq>     its lbl/l/ key (the records of a job)
//	lbl/t/<seq>              its lbl/l/ key (every record, in order)
//
// Reconcile compares a receipt's or a lot's cartons with their records
// and portal passes: cartons received, labels printed, tags encoded,
// cartons seen, and the cartons that make each difference.
package labels
