// Package mqttpub publishes the gateway's outbox to an MQTT 3.1.1 broker
// with paho.mqtt.golang, and keeps the gateway's retained status there.
//
// Delivery: Run owns the reconnect loop (jittered backoff, a new client per
// session, paho's AutoReconnect off, CleanSession on). Every session starts
// by rewinding the outbox, so every event not yet acknowledged is sent again;
// events go out at QoS 1, never retained, through an in-flight window
// (InFlight), paced by a token bucket (Rate, Burst) so that the replay of a
// backlog after an outage does not flood the broker, and leave the outbox
// only after their PUBACK (removals are batched: a crash between PUBACK and
// removal only means a duplicate). A PUBACK that does not come within
// AckTimeout ends the session. The result is at-least-once delivery in order
// within each priority; consumers deduplicate by eventID.
//
// Session flow:
//
//	connect (LWT offline) → online status → device statuses → subscribe cmd/#
//	→ rewind outbox → reader (Next, prepare) → window → paho Publish
//	→ collector (PUBACK in order, AckTimeout) → acker (Outbox.Ack, batched)
//
// Topics, under TopicPrefix (dockgate/v1/{site}/{gateway}):
//
//	status               retained; LWT {"state":"offline"}; on connect
//	                     {"state":"online","version","config_hash","session"}
//	printer/{id}/status  retained device status carrying the session
//	reader/{id}/status   retained device status carrying the session
//	events/{type}        QoS 1 event envelopes (eventID, seq, type, time, source, body)
//	epcis                EPCIS 2.0 documents
//	cmd/{name}           commands in (handed to OnCommand)
//	reply/{id}           command replies out
//
// On a clean shutdown (ctx canceled) the publisher publishes the retained
// offline status itself before it disconnects.
package mqttpub
