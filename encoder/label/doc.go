// Package label is dockgate's label model: templates in millimetres whose
// variables are bound from a lot or carton record, laid out for one printer
// firmware profile into elements in dots.
//
// A Template (built in, or read from YAML with LoadTemplate) lists elements
// — text, boxes and lines, Code 128, GS1-128, QR, GS1 DataMatrix, images and
// an RFID EPC write — with their positions and sizes in mm. Render binds the
// values, validates them by type (GTIN, SSCC, lot, date, …), converts mm to
// dots at the profile's dpi, encodes barcodes far enough to know their width
// (Code 128 symbol characters, QR version, DataMatrix size), narrows a module
// width down to the symbology's minimum when a symbol would not fit, and
// refuses with a *FitError naming the element and the overrun when it still
// does not fit. The resulting Layout is what encoder/zpl turns into ZPL and
// encoder/raster into a PNG preview or ^GF graphics: both draw the same dots.
//
// The package is pure: no I/O except LoadTemplate reading the template and
// its images, no goroutines, no clock reads.
package label
