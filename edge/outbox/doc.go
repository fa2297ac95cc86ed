// Package outbox is the gateway's durable store-and-forward queue: every
// event that leaves the gateway over MQTT is appended here first and removed
// only after the broker acknowledged it (PUBACK).
//
// Concepts:
//
//   - An Event has a stable ID (urn:uuid), a per-gateway sequence number Seq
//     allocated in the same transaction that stores the event (contiguous, never
//     reused), a Type, a Time, a Source, a Priority and a JSON Body.
//   - Append returns only once the event is durable (fsynced). One writer
//     goroutine batches concurrent appends (and acks) into a single Badger
//     transaction: many appends share one sync (group commit).
//   - Priorities: PriorityLifecycle (status, alarms, command replies) is
//     delivered first, then PriorityLot (lot and receiving events), then
//     PriorityTelemetry. Order is kept within a priority.
//   - Bounds: MaxBytes of queued events and MinFreeBytes of free disk. A lot
//     event that does not fit is refused with ErrStoreFull and an alarm;
//     telemetry is dropped oldest-first and counted. Lifecycle events may use a
//     small reserve above MaxBytes so that replies and alarms still go out.
//   - Delivery: Next hands out pending events in priority order from in-memory
//     cursors; Ack deletes delivered events; Rewind (at every new broker
//     session) sends every unacknowledged event again. An event handed out in
//     MaxAttempts sessions without an ack is a poison message and moves to the
//     quarantine (Quarantine, Quarantined, Requeue).
//
// Keys in the shared store: q/<priority>/<big-endian seq> for queued events,
// qx/<seq> for quarantined ones and qm/state for the sequence and counters.
package outbox
