// Package epcis maps the gateway's facts to EPCIS 2.0 JSON (GS1 EPCIS/CBV
// 2.0), the format central traceability systems ingest. It is pure: plain
// structs in, JSON-ready structs out, no I/O and no clock.
//
// Mappings:
//
//   - Receiving: an ObjectEvent with bizStep receiving and disposition
//     in_progress. When the gateway assigned the lot, action ADD with ilmd
//     (cbvmda:lotNumber, cbvmda:itemExpirationDate, and the supplier's lot
//     linked as dockgate:supplierLot); when the supplier's lot is kept,
//     action OBSERVE and no ilmd. FSMA 204 receiving KDEs map to quantityList
//     (traceability lot code in the LGTIN class, quantity, unit),
//     sourceList (immediate previous source), bizLocation (location
//     received), eventTime (date received), bizTransactionList (reference
//     documents) and the extension dockgate:tlcSource (traceability lot code
//     source).
//   - PortalPass: an ObjectEvent OBSERVE with the tags' epcList, readPoint
//     the door, bizStep receiving (inbound) or shipping (outbound).
//   - LotHold: an ObjectEvent OBSERVE of the lot's LGTIN class with bizStep
//     holding and disposition non_sellable_other; a release is bizStep
//     storing with disposition sellable_not_accessible.
//   - Shipping: an ObjectEvent OBSERVE with bizStep shipping and disposition
//     in_transit, the cartons' epcList and the lots' quantityList by LGTIN
//     class, sourceList (the shipping party and site) and destinationList
//     (the customer and its ship-to location: FSMA's immediate subsequent
//     recipient), bizTransactionList (po, desadv) and dockgate:order and
//     dockgate:carrier.
//   - Returning: an ObjectEvent OBSERVE with bizStep receiving whose
//     disposition is the returned goods' condition (resaleable:
//     sellable_accessible, damaged: damaged, quarantine:
//     non_sellable_other), sourceList the customer, bizTransactionList the
//     RMA.
//
// Event IDs are stable across retries: a mapping uses the given EventID or
// derives a name-based urn:uuid from the fact's own key (receipt, pass,
// hold, shipment or return ID), never a random one. Publish a Document (or
// a single event) on the gateway's epcis topic through the outbox with the
// event's ID as the outbox event ID.
package epcis
