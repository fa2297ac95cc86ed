// Package lots is the gateway's lot registry: it issues lot codes durably and
// keeps what the dock knows about each lot, in the gateway's Badger store
// (keys under lot/ and loti/, sequence counters named lot/…).
//
// Issuing. Issue takes the next number of a durable counter (an error
// instead of a wrap), makes the code with its encoder/lot format and, in the
// same synced transaction, checks the code is not registered yet and creates
// the lot record; if the code is taken (a supplier lot with the same code, a
// format changed in place) the number is spent and the next one tried. The
// number and the record commit together, so a code is never issued twice: not
// after a restart, not after a crash, not under concurrent requests (issuing
// is serialised), and not after the lot expires (records are never deleted). Several gateways issuing one shared
// format stay apart through the {SITE}, {GATEWAY} or {DOOR} token the format
// must carry (encoder/lot enforces it), each gateway with its own value.
//
// Register records a lot whose code is the supplier's lot code (read from the
// supplier's GS1 label). A generated lot keeps the supplier and the supplier's
// lot code it came from: FSMA 204 requires the receiver to keep the supplier's
// traceability lot code, so it is written once and never overwritten.
//
// Status. A lot is active when made; Hold puts it on_hold with a reason,
// Release makes it released (available again), Recall makes it recalled
// (final), ExpireDue makes active and released lots past their expiry date
// expired. Every change is appended to the lot's history (never rewritten) and
// handed to Options.OnChange inside the transaction that makes it, where the
// gateway stages its events in the outbox: a change and its events commit
// together, so no crash can leave a change that central never hears of.
//
// Links. Link records that a carton, SSCC or EPC belongs to a lot; LinksOf
// lists a lot's links and LotsOf finds the lots of an identifier through a
// reverse index, one short key scan, because the portal's hold check
// (IsHeldLinked) runs per carton at the door.
//
// Queries. List filters by product, supplier, status and production date range,
// and orders a product's available (active or released) lots FEFO (first
// expiry first) or FIFO (first produced first) from indexes kept for that
// purpose; Expiring lists lots whose expiry date is within N days.
package lots
