// Package firmwareprofiles holds the printer firmware profiles dockgate ships:
// one YAML file per printer model and print-head resolution, embedded in the
// binary. A profile says what the label engine may ask of a printer: its
// resolution (dpi) and print-head width in dots, the longest label it feeds,
// its printer language, which ZPL features its firmware has (^BC mode D,
// ^CI28, the ^BX escape default, the largest QR magnification), which
// symbologies it draws natively and which the engine must rasterise into
// ^GF, whether it encodes RFID tags and with which commands (and whether it
// reports encoding results with ~RV, how many labels it tries per tag),
// which status commands it answers (~HS, ~HQES, SGD, ^HV), which label
// counter it keeps (SGD odometer.total_label_count or the ~HQOD print
// length), its transport defaults and its known quirks.
//
// Lookup and List serve the embedded set; Parse validates a profile from
// outside bytes with errors that name the file, the line and the field.
package firmwareprofiles
