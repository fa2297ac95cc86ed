package epc

import (
	"errors"
	"strconv"
)

// Sentinel errors. Every error the package returns is an [*Error] that
// unwraps to one of these, so callers branch with errors.Is.
var (
	// ErrHex: the input is not hexadecimal.
	ErrHex = errors.New("not hexadecimal")
	// ErrLength: the bit length does not fit the scheme.
	ErrLength = errors.New("wrong bit length")
	// ErrPartition: the partition value is 7, which no scheme defines.
	ErrPartition = errors.New("invalid partition value")
	// ErrFilter: the filter value is outside 0–7.
	ErrFilter = errors.New("filter value out of range")
	// ErrDigits: a numeric field has the wrong number of digits, or
	// something other than digits.
	ErrDigits = errors.New("wrong digits")
	// ErrRange: a value is too large for the bits of its field.
	ErrRange = errors.New("value out of range")
	// ErrCheckDigit: a GS1 key's check digit is wrong.
	ErrCheckDigit = errors.New("wrong check digit")
	// ErrSerial: a serial (or extension, asset reference) cannot be encoded
	// in the chosen scheme.
	ErrSerial = errors.New("serial not encodable")
	// ErrCharset: a character outside the set the field allows.
	ErrCharset = errors.New("character not allowed")
	// ErrPadding: bits that must be zero are not.
	ErrPadding = errors.New("non-zero padding bits")
	// ErrURI: the text is not a well-formed EPC URI.
	ErrURI = errors.New("malformed URI")
	// ErrScheme: the scheme is unknown or does not apply to the operation.
	ErrScheme = errors.New("unsupported scheme")
	// ErrCompanyPrefix: the company prefix length is missing, out of range
	// or unknown for the key.
	ErrCompanyPrefix = errors.New("company prefix length")
	// ErrDate: a date field is not a valid YYMMDD date.
	ErrDate = errors.New("invalid date")
	// ErrAIDC: +AIDC data after a '+' scheme EPC is malformed, or an AI
	// cannot be written there.
	ErrAIDC = errors.New("invalid +AIDC data")
	// ErrGS1: a GS1 element string does not carry the key the scheme needs.
	ErrGS1 = errors.New("GS1 element string does not match the scheme")
)

// Error says which field of which scheme broke which rule.
type Error struct {
	Scheme Scheme // SchemeRaw when not yet known
	Field  string // e.g. "serial", "gtin", "header", "partition"
	Value  string // the offending value as given, may be empty
	Rule   string // what is wrong and how to fix it
	Err    error  // one of the sentinel errors
}

func (e *Error) Error() string {
	s := "epc"
	if e.Scheme != SchemeRaw {
		s += " " + e.Scheme.String()
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	if e.Value != "" {
		s += " " + strconv.Quote(e.Value)
	}
	return s + ": " + e.Rule
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

func newErr(s Scheme, field, value string, sentinel error, rule string) error {
	return &Error{Scheme: s, Field: field, Value: value, Rule: rule, Err: sentinel}
}
