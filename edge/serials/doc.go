// Package serials issues the serial numbers of item-level RFID tags: one
// durable counter per GTIN, so a serial is never issued twice for the same
// GTIN — not under concurrent label jobs and not after a crash or restart.
//
// The counters live in the gateway's store (edge/store, key
// ctr/sgtin/<GTIN-14>, so a GTIN-13 and its GTIN-14 share one); an
// [Allocator] turns them into SGTIN-96, SGTIN-198 or SGTIN+ EPCs with
// encoder/epc, and checks the encoding before it spends a serial. Serials
// start at 1 by default and end at 2^38−1, the largest SGTIN-96 serial;
// running out is an error wrapping [ErrExhausted], never a wrap-around.
package serials
