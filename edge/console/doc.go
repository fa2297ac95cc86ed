// Package console is the dock console: the gateway's web pages for the
// people at the door, served on the HTTP API's listener beside the API.
//
// Pages are rendered on the server from html/template with embedded
// assets (a pinned, vendored htmx and a little JavaScript of its own), one
// handler per page:
//
//	GET  /                          the doors, their receipts and devices
//	GET  /doors/{id}                the door board: the receipt in progress, the
//	                                last passes, alerts in a red banner until
//	                                acknowledged, the door's printer and reader
//	                                (with its inputs) and its light stack
//	GET  /receive                   receive form (a keyboard-wedge scan field)
//	GET  /lots, /lots/{code}        lot search, a lot with its trace and its
//	                                hold, release and recall (for a browser:
//	                                the API answers the same paths with JSON)
//	GET  /trace?key=                backward trace from an EPC, SSCC or scan
//	GET  /printers, /printers/{id}  status, queue and job history
//	GET  /labels                    templates and a live preview
//	GET  /health                    what /healthz says, with what to do
//	GET  /events?topic=             Server-Sent Events
//
// Live updates come from the gateway's own event stream: the Hub is fed
// with every event the outbox queues (outbox.Options.OnQueued), after its
// change committed. Run takes them in batches, renders each door board
// that changed once, and hands the bytes to every client watching it.
// Publishing never blocks the outbox's writer, and a client whose buffer
// is full is dropped (its browser reconnects and gets a fresh board):
// a slow tablet never slows receiving. Changes that are no outbox events
// are marked on the Hub: a reader's connection, antennas and inputs
// (ReaderChanged) and a door's lights (DoorChanged, fed by the signals
// engine's OnChange); Run renders their boards the same way.
//
// The console authenticates as the API does: on a loopback listener
// everyone is let in; elsewhere a request needs the API's bearer token or
// a session cookie that the login form sets once the token is given (a
// signature keyed by the token, so a new token ends every session). The
// cookie is the console's only: the API itself still asks for the token.
// Forms are protected against cross-site requests (Sec-Fetch-Site,
// Origin).
//
// A door alert (a carton of a held lot at the door, a lot received at the
// door put on hold or recalled) is recorded in the transaction that
// raises it (OpenAlertIn) and stays on the board until someone
// acknowledges it; the acknowledgement, with who and when, is recorded
// with its event lot.hold.alert.acknowledged staged in the same
// transaction. Keys: con/ao/<door>\x00<alert id> (open), con/aa/<alert
// id> (acknowledged).
package console
