package lot

import "errors"

// Errors of the package. Errors returned by Compile, Generate and Decode wrap
// one of them, so errors.Is tells the kind; the message names the token or
// field and how to fix it.
var (
	// ErrFormat: a format template is malformed (unknown token, bad {SEQ:n}).
	ErrFormat = errors.New("lot: bad format")
	// ErrTooLong: a format can produce, or a code has, more than 20 characters.
	ErrTooLong = errors.New("lot: code longer than AI (10) allows")
	// ErrCharset: a character outside GS1 CSET 82.
	ErrCharset = errors.New("lot: character outside GS1 CSET 82")
	// ErrValue: a value given for a code token is missing, too long or would
	// make the code unreadable.
	ErrValue = errors.New("lot: bad token value")
	// ErrSeqRange: a sequence number does not fit its {SEQ:n} width.
	ErrSeqRange = errors.New("lot: sequence out of range")
	// ErrNoMatch: a code does not match the format it is decoded with.
	ErrNoMatch = errors.New("lot: code does not match format")
	// ErrCheck: a code's {CHECK} character is wrong.
	ErrCheck = errors.New("lot: check character mismatch")
	// ErrConfig: the lots configuration is invalid.
	ErrConfig = errors.New("lot: bad configuration")
)
