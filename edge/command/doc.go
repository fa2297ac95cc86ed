// Package command takes commands from the central system (MQTT topic
// cmd/{name}), runs each at most once, and replies through the outbox.
//
// A command's payload is a JSON object with at least
//
//	{"id": "c-123", "expires_at": "2026-11-26T15:00:00Z", "reply_to": "optional/topic", ...}
//
// Field names are snake_case, as in all the gateway's JSON; the camelCase
// expiresAt and replyTo of earlier versions are deprecated and still
// accepted. id is the idempotency key: the outcome of every command is
// remembered in the store (keys cmd/<id>) for Options.TTL, and a repeated
// id gets the remembered outcome again instead of a second execution.
// expires_at bounds how late a command may run (MQTT 3.1.1 has no message
// expiry). Replies go to reply/{id} under the gateway's prefix, or to
// reply_to, at the outbox's top priority: first {"status":"accepted"},
// then {"status":"done","result":…} or {"status":"failed","reason":…}.
// A malformed, expired or unknown command
// gets a failed reply; a handler that panics gets a failed reply; nothing
// in a payload can stop the dispatcher. A command still accepted when the
// gateway stopped is reported failed ("interrupted") at the next start.
//
// The gateway's commands are receive, print, reprint, cancel, lot.hold,
// lot.release, ship and ship.close; each subsystem registers its Handler
// with Handle.
package command
