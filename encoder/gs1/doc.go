// Package gs1 reads, checks and writes GS1 Application Identifier (AI) data:
// element strings, human-readable interpretation (HRI), scanner output and GS1
// Digital Link URIs.
//
// A Message is an ordered list of Elements, each an AI and its value. The AI
// table is generated from the GS1 Barcode Syntax Dictionary (see
// DictionaryRelease) and gives each AI its components, character sets,
// linters, required (req=) and excluded (ex=) companions, whether it has a
// predefined length (no FNC1 separator needed after it) and its Digital Link
// role (primary key, key qualifier, data attribute).
//
// The four input forms:
//
//	HRI             (01)09520123456788(10)ABC123
//	element string  ^010952012345678810ABC123^17251231   ('^' is FNC1)
//	scan data       ]C1010952012345678810ABC123<GS>17251231
//	Digital Link    https://id.gs1.org/01/09520123456788/10/ABC123?17=251231
//
// Every Parse function validates what it read (Validate) and returns an
// *Error naming the AI, the position and the rule that failed; errors.Is
// matches the sentinel errors (ErrCheckDigit, ErrDate, ...). The same AI twice
// with the same value is kept once; with different values it is an error.
//
// The builders (HRI, ElementString, ScanData, DigitalLink, Join) write the
// elements in the order given; OrderForSymbol puts predefined-length AIs
// first so that only the variable-length ones need FNC1 separators.
// CheckGS1128Capacity and CheckGS1128Width check the GS1-128 limits of 48
// data characters and 165 mm.
//
// The package is pure: no I/O, no goroutines, no clock reads (ResolveYear
// takes the current year as an argument).
package gs1

//go:generate go run mktable.go
