// Package signals answers the driver at a dock door with its reader's
// general purpose outputs: a light stack, a buzzer. A door's rules (a
// door's signals: key, Rule) light output ports when an event happens at
// the door, for a while, steady or blinking:
//
//	signals:
//	  - {on: lot.hold.alert, gpo: 2, for: 10s}             # red
//	  - {on: pass.matched, gpo: 1, for: 2s}                # green
//	  - {on: carton.unexpected, gpo: [2, 3], pattern: blink} # red and buzzer
//
// The events are the gateway's own, heard as the outbox queues them
// (outbox.Options.OnQueued), so a light never shows what was not recorded:
//
//   - lot.hold.alert, carton.unexpected, shipment.mismatch: the alerts of
//     those names, at the door their body names;
//   - pass: the last (or only) part of a portal.pass at the door;
//   - pass.matched: such a pass with no alert: no lot.hold.alert of the
//     pass (its pass_start is the pass's start), no carton.unexpected and
//     no shipment.mismatch of the pass (their time is the pass's end,
//     their door its door). They are committed before the pass, so the
//     pass decides;
//   - shipment.loaded, shipment.shipped: those events at the door.
//
// An alert wins: when an alert's rule lights, the door's other rules go
// off, and they do not light while it is lit. An event again while its rule
// is lit starts its time over. When a rule goes off, its ports go low unless
// another lit rule of a door on the same reader holds them high. A blinking
// rule is high for half its period, low for the other half. An event heard
// more than StaleAfter after it happened (replayed at a restart) lights
// nothing; a hold alert heard stale still keeps its pass from being a
// matched one, and a pass heard in time lights it (the alert carries the
// held carton's last read, which a long pass leaves far behind).
//
// The engine never waits on a reader: Queued decides what is lit, and one
// goroutine per reader (Run) sets the reader's outputs to the latest state,
// skipping states that came and went while it wrote. At every connection of
// the reader (rfid.EventConnected, ReaderEvent) each port a rule drives is
// written, low unless lit, so a light left on by a crash goes off; when Run
// ends, every such port is set low before the readers stop. A failed write
// is logged once per streak of failures, counted (Config.OnWrite), said by
// Warnings while it lasts, and tried again while the reader is connected: a second later, then twice as long
// after each failure in a row, up to 30 seconds.
//
// A rule's Label and Color are for people: the words and the lens the
// dock console's door board shows for it (by default the event's: red
// for an alert, green for a good outcome, white for any pass). Lights says
// which of a door's rules are lit and until when, for a screen (the door
// board, GET /doors/{id}/lights through Light's JSON); Config.OnChange
// tells when a rule of a door is lit, lit again or put out (not at each
// blinking phase).
//
// The rules are configured on the gateway's doors (edge/config's Door has a
// Signals field of this package's Rule): the portal engine (rfid/portal)
// knows nothing of them, and this package nothing of the configuration.
package signals
