package store

// Key prefixes of the gateway's database. Each subsystem owns one and keeps
// its keys below it; a new subsystem adds its prefix here.
const (
	PrefixCounter  = "ctr/"  // durable counters (Next)
	PrefixOutbox   = "q/"    // edge outbox: q/<priority>/<seq>
	PrefixOutboxQ  = "qx/"   // edge outbox quarantine
	PrefixOutboxM  = "qm/"   // edge outbox metadata (sequence, cursors)
	PrefixOutboxS  = "qs/"   // events staged in a change's transaction: qs/<stamp><priority>
	PrefixLot      = "lot/"  // lot registry records
	PrefixLotIndex = "loti/" // lot registry secondary indexes
	PrefixJob      = "job/"  // print spooler jobs
	PrefixCommand  = "cmd/"  // remembered command idempotency keys
	PrefixReceipt  = "rcp/"  // receipts
	PrefixCarton   = "ctn/"  // cartons (SSCC) and their links
	PrefixTag      = "tag/"  // EPC → lot/carton links
	PrefixLabel    = "lbl/"  // label audit trail: records by lot, carton, job
	PrefixShipping = "shp/"  // shipments, loaded cartons, returns, counts and their indexes
	// Portal reads saved until the passes they make are in the outbox, to
	// be replayed after a crash: prd/<newest read's time><sequence>, a
	// batch of reads each; and the passes published while reads of theirs
	// may still be saved, which a replay leaves out:
	// prp/<pass's last read><sequence>.
	PrefixPortalRead = "prd/"
	// The chunks of a large pass that committed, so that a replay commits
	// only the others: pdc/<pass id>/<hash of the chunk's EPCs>, kept a week.
	PrefixPassChunk = "pdc/"
	// A site of gateways (edge/sync): lot statuses heard from the site and
	// this gateway's own, the index of the cartons other gateways received.
	PrefixSync = "sy/"
	// The dock console's door alerts, open and acknowledged.
	PrefixConsole = "con/"
	// Passes published while reads of theirs may still be saved (see
	// PrefixPortalRead).
	PrefixPortalPass = "prp/"
)
