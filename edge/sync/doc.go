// Package sync is what one gateway keeps of the site it belongs to: a
// distribution centre with a gateway per dock door (or per few doors),
// all on one MQTT broker, where a hold made at any door must stop the
// lot's cartons at every door, and a carton received at one door must be
// known at the door it leaves through.
//
// Concepts:
//
//   - A lot status ([LotStatus]) is a lot's hold, release or recall as the
//     site knows it: {"code","status","reason","by","time","gateway",
//     "version"}, retained on dockgate/v1/{site}/lots/{code}/status
//     ([LotStatusTopic]). Every gateway publishes its own changes there and
//     subscribes to all of them; a central system may publish there too.
//   - A [Version] orders the statuses of a lot: a hybrid logical clock
//     ([Clock]), the wall clock in milliseconds times 1000 plus a counter,
//     never below a version the gateway has seen. A later version wins; a
//     recall is final ([LotStatus.Supersedes]). Applying a status is
//     idempotent, so a gateway's own echoes and messages delivered twice
//     change nothing.
//   - [State] keeps the winning status of every lot in the gateway's store
//     (keys sy/l/<code>): a gateway cut off from the broker keeps enforcing
//     the last state it knew. [StaleFor] says when that knowledge is old.
//   - A receipt message ([ReceiptMessage]) lists the cartons (SSCC, EPC) of
//     one receipt with their lot, GTIN and expiry, retained on
//     dockgate/v1/{site}/cartons/{gateway}/{receipt}/{part}
//     ([CartonTopic]): one message per receipt (in parts of at most
//     [MaxPartCartons] cartons), not one per carton, so that millions of
//     cartons are thousands of retained messages.
//   - [Index] is the site's cartons as this gateway knows them: an EPC →
//     receipt index in the store (sy/c/<EPC bytes>, a few bytes of value)
//     and, for the portal, a compact in-memory table (8 bytes a slot) that
//     resolves an EPC to its lot without a store read.
//
// The package does no MQTT itself: the gateway publishes through its
// outbox and subscribes with edge/mqttpub.
package sync
