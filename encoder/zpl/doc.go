// Package zpl turns a label.Layout into ZPL II for one firmware profile, and
// reads ZPL back.
//
// Encode writes one format (^XA … ^XZ) per layout: ^CI28 where the firmware
// has it, ^PW/^LL from the layout, text through ^FH hex escapes (so "^" and
// "~" in a value print literally and can never start a command), Code 128
// and GS1-128 as ^BC mode N with explicit subset and FNC1 invocation codes
// computed from the layout's symbol characters, QR as ^BQ with a byte-mode
// count, GS1 DataMatrix as ^BX with an explicit escape character, images
// and any symbology the profile lacks as ^GF Z64 graphics with their CRC,
// the RFID EPC write where the profile encodes tags, and ^PQ for the
// quantity. Output is deterministic: the same layout gives the same bytes.
//
// Interpret is a small interpreter written from the ZPL guide: it splits
// formats, applies ^FH, Code 128 invocation codes, the QR mode prefix and
// DataMatrix escapes, and reports the payload each barcode field will
// encode, so tests and the printer simulator can check what a printer would
// print without one.
package zpl
