// Package receiving is the gateway's main job: a receipt of goods at a dock
// door, from the request to the cartons confirmed at the portal.
//
// A receipt starts from a scanned supplier label (any GS1 form), a WMS
// command, the HTTP API or the CLI. For each receipt the service resolves the
// lot (keeping and linking the supplier's lot when the label carries (10),
// otherwise issuing one in the configured format), allocates an SSCC per
// carton and its SSCC-96 EPC, renders one label per carton for the door
// printer's profile, records receipt, cartons and tag links in the store in
// one transaction, spools the label jobs and emits the events (a receiving
// event and its EPCIS document) through the outbox.
//
// Cartons read at the receiving door are matched to their receipt: when all
// have been seen the receipt is complete; Close names the missing ones, and
// tags that belong to no receipt are reported as unexpected.
//
// Trace answers the recall questions: forward from a lot to every carton,
// EPC, label job, door pass and event; backward from an EPC or SSCC to its
// lot, receipt and supplier lot.
package receiving
