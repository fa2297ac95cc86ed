// Package serialrdr drives UART UHF readers: the M100/JRD family
// (BB type cmd len params sum 7E, M5Stack UHF, YPD-R200 …), the Chafon
// CF-RU5102 ("UHFReader18": Len Adr Cmd Data CRC-16/MCRF4XX) and readers
// that print one EPC per line (optionally with antenna and RSSI).
//
// The codecs work on io.Reader/io.Writer: decoders resynchronise after
// garbage (on the start byte, or byte by byte until a checksum holds), cap
// lengths, and accept input in arbitrary chunks. [Reader] is the driver: it
// polls the reader, turns frames into rfid.Read batches and reconnects with
// backoff; only [OpenSerial] touches go.bug.st/serial, so everything else runs
// over net.Pipe or a pty in tests.
package serialrdr
