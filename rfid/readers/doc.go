// Package readers builds a running reader from its configuration (the
// readers: key): an LLRP session, a serial reader, or an in-process LLRP
// simulator for demos ("sim"). It is the only place that knows every driver.
// LLRP and simulated readers take a [Trigger] (GPI, periodic, timeout) and
// are rfid.GPOSetters and [RFApplier]s: their RF settings change while they
// run, over those in force, checked as the configuration's are.
package readers
