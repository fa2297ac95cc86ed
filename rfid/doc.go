// Package rfid holds what every RFID reader driver and the portal logic share:
// a tag read ([Read]) with its EPC ([EPC], a fixed-size comparable value so
// that hot paths neither allocate nor hash strings), reader health events
// ([ReaderEvent]) and the sentinel errors drivers wrap.
//
// Drivers live in subpackages: llrp (LLRP 1.0.1 codec and client session over
// TCP), serialrdr (UART readers: M100/JRD, CF-RU5102, ASCII lines). The portal
// package turns reads into arrivals, departures and passes through a door, and
// readersim simulates readers that speak the real bytes for tests and
// installers.
//
// A driver delivers reads in batches through a callback; a batch and the
// reads in it are only valid during the call, so a consumer that keeps reads
// copies them (a Read is a plain value, copying is enough).
package rfid
