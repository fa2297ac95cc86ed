// Package shipping is the outbound side of the dock: shipments announced by
// a WMS, cartons loaded at a shipping door, returns, cycle counts, and the
// reports that answer a recall and FSMA 204.
//
// A shipment (Create, idempotent by id) names a door, an order, a customer
// and a ship-to location, and what should leave: SSCCs, cartons of a lot,
// or N cartons of a GTIN that the gateway picks by FEFO from the lot
// registry, never from a lot on hold, recalled or expired (the answer says
// which lots it proposed and which it skipped).
//
// Loading. The portal's out passes at a shipping door are matched to the
// door's open shipments inside the transaction that records the pass
// (OnPass, run by the gateway's pass commit under LockPass): a carton a
// shipment expects is loaded on it, and when every expected carton is
// loaded the shipment is loaded (shipment.loaded). A carton of a lot on
// hold, recalled or expired, of another shipment, not ordered, or unknown
// raises shipment.mismatch naming it and why; a known carton that leaves
// anyway is kept on the shipment as unplanned, so that the trace says
// where it went, until an in pass at the door takes it (or a loaded
// carton) back. Close ends a shipment: shipment.shipped says what left, by
// lot, and names what is missing; its EPCIS document is a shipping
// ObjectEvent.
//
// Returns put a carton (by EPC or SSCC) or units (a scan of (01)+(10))
// back under their lot with a condition; a return of a recalled lot goes to
// quarantine whatever was asked. At a returns door the portal's in passes
// return the cartons that left with a shipment, in the door's condition. Counts compare a counted quantity, or the
// EPCs of an RFID sweep, with the stock the gateway knows per lot.
//
// Traces and reports read indexes written when a shipment closes, so that
// none of them reads cartons: a lot's shipments (its trace and recall
// report, and the FSMA 204 rows of one lot), a customer's and an order's
// shipments (trace customer, trace order; compact binary summaries, see
// summary.go), and shipments by time (the FSMA 204 export of a date range).
//
// Every change and its events commit in one transaction: the emitter
// stages them (outbox.Stage) in the transaction of the change.
package shipping
