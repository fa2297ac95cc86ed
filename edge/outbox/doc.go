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
//   - Stage is the transactional outbox: a producer writes its events into the
//     Badger transaction of the change they report (a lot, a receipt, a job),
//     as staged events. They commit with the change or not at all; once the
//     transaction commits (store.Update tells the outbox), the writer moves
//     them into the queue in one transaction for all changes committed
//     meanwhile, allocating their sequence numbers, before the change's
//     Update returns. Events staged when the process died are moved by Open;
//     a pass every second catches a transaction committed another way.
//   - Priorities: PriorityLifecycle (status, alarms, command replies) is
//     delivered first, then PriorityLot (lot and receiving events), then
//     PriorityTelemetry. Order is kept within a priority.
//   - Bounds: MaxBytes of queued events and MinFreeBytes of free disk. A lot
//     event that does not fit is refused with ErrStoreFull and an alarm;
//     telemetry is dropped oldest-first and counted. Lifecycle events may use a
//     small reserve above MaxBytes so that replies and alarms still go out.
//   - Delivery: Next hands out pending events in priority order from in-memory
//     cursors; Ack deletes delivered events; Rewind (at every new broker
//     session) sends every unacknowledged event again. The first unacked
//     event of a broken session is charged one attempt; one charged in
//     MaxAttempts sessions is a poison message (a broker that drops the
//     connection on it) and moves to the quarantine (Quarantine, Quarantined,
//     Requeue), so that one bad message cannot wedge the queue.
//   - Run runs the value-log GC of the shared store until its context ends.
//
// Keys in the shared store: q/<priority>/<big-endian seq> for queued events
// (a small binary record: ID, type, time, source, topic, body), qs/<stamp>
// <priority> for staged ones (the same record), qx/<seq> for quarantined ones
// (JSON) and qm/state for the sequence and the counters, written in the same
// transaction as the events they count.
package outbox
