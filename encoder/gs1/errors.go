package gs1

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Sentinel errors. Every *Error returned by this package unwraps to one of
// them.
var (
	// ErrSyntax: the input is not in the form the parser expects (missing
	// leading FNC1, unclosed bracket, bad percent-encoding, empty value...).
	ErrSyntax = errors.New("gs1: syntax error")
	// ErrUnknownAI: the digits do not name an AI of the dictionary.
	ErrUnknownAI = errors.New("gs1: unknown AI")
	// ErrLength: a value or component is too short or too long.
	ErrLength = errors.New("gs1: wrong length")
	// ErrCharset: a character outside the component's character set.
	ErrCharset = errors.New("gs1: illegal character")
	// ErrCheckDigit: a mod-10 check digit or alphanumeric check pair is wrong.
	ErrCheckDigit = errors.New("gs1: wrong check digit")
	// ErrDate: an impossible date or time.
	ErrDate = errors.New("gs1: invalid date or time")
	// ErrLint: another dictionary linter failed (country, currency,
	// percent-encoding, ...); Error.Rule names the linter.
	ErrLint = errors.New("gs1: value rejected by linter")
	// ErrAssociation: a req= companion is missing or an ex= companion is
	// present.
	ErrAssociation = errors.New("gs1: invalid AI association")
	// ErrDuplicate: the same AI twice with different values.
	ErrDuplicate = errors.New("gs1: AI repeated with a different value")
	// ErrDigitalLink: a Digital Link URI breaks the Digital Link rules
	// (no primary key, qualifier order, qualifier in the query string,
	// zero-suppressed GTIN, AI not allowed in a URI).
	ErrDigitalLink = errors.New("gs1: invalid Digital Link")
	// ErrCapacity: the message does not fit the symbol.
	ErrCapacity = errors.New("gs1: too much data for the symbol")
	// ErrEmpty: no elements at all.
	ErrEmpty = errors.New("gs1: no AI data")
)

// Error is a failure tied to one AI (or, with AI == "", to the input as a
// whole).
//
// Pos is the byte offset where the offending data starts: in the parsed input
// for the Parse functions (for Digital Link, in the URI), and within the
// element's value for Validate of a built Message. Pos is -1 when the rule is
// about the message as a whole (associations, duplicates, capacity).
//
// Rule names the rule: a linter of the dictionary ("csum", "yymmd0",
// "iso3166", ...) or one of "syntax", "ai", "length", "charset", "req", "ex",
// "duplicate", "dl", "capacity".
type Error struct {
	AI   string
	Pos  int
	Rule string
	Msg  string
	Err  error
}

// Error reads like: AI (17): illegal day 29 for month 02 in "250229".
func (e *Error) Error() string {
	if e.AI == "" {
		return e.Msg
	}
	return "AI (" + e.AI + "): " + e.Msg
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// Detail is Error() followed by the rule and position, for operators:
// AI (17): illegal day 29 for month 02 in "250229" [rule yymmd0, position 4].
func (e *Error) Detail() string {
	s := e.Error() + " [rule " + e.Rule
	if e.Pos >= 0 {
		s += ", position " + strconv.Itoa(e.Pos)
	}
	return s + "]"
}

func newErr(ai string, pos int, rule string, sentinel error, msg string) *Error {
	return &Error{AI: ai, Pos: pos, Rule: rule, Msg: msg, Err: sentinel}
}

// at shifts an error's position by off when it is a value-relative position.
func at(err error, off int) error {
	var e *Error
	if errors.As(err, &e) && e.Pos >= 0 {
		e.Pos += off
	}
	return err
}

// quoteChar shows the character at byte offset i of s as 'c': the whole
// character, 'Ü' rather than the 'Ã' of its first byte, even when i is in
// its middle. An ASCII control character and a byte that is not UTF-8 show
// as byte 0xNN.
func quoteChar(s string, i int) string {
	i = charStart(s, i)
	r, n := utf8.DecodeRuneInString(s[i:])
	if r >= 0x20 && r != 0x7f && !(r == utf8.RuneError && n <= 1) {
		return strconv.QuoteRune(r)
	}
	const hexd = "0123456789ABCDEF"
	c := s[i]
	return "byte 0x" + string([]byte{hexd[c>>4], hexd[c&15]})
}

// charPos is the position of the character at byte offset i of s counted
// in characters, as a message shows it.
func charPos(s string, i int) string {
	return strconv.Itoa(utf8.RuneCountInString(s[:charStart(s, i)]))
}

// charStart is the offset of the first byte of the character that byte
// offset i of s is part of (i itself for ASCII and for a byte that is not
// UTF-8).
func charStart(s string, i int) int {
	for j := i; j >= 0 && j > i-utf8.UTFMax; j-- {
		if utf8.RuneStart(s[j]) {
			if r, n := utf8.DecodeRuneInString(s[j:]); j+n > i && !(r == utf8.RuneError && n <= 1) {
				return j
			}
			break
		}
	}
	return i
}
