package epc

import (
	"strconv"
	"unicode/utf8"
)

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

// padded formats v with at least n digits; n 0 and v 0 give "".
func padded(v uint64, n int) string {
	var buf [20]byte
	return string(appendPadded(buf[:0], v, n))
}

func appendPadded(dst []byte, v uint64, n int) []byte {
	var buf [20]byte
	i := len(buf)
	for v > 0 || len(buf)-i < n {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, buf[i:]...)
}

// quoteChar shows the character at byte offset i of s as 'c': the whole
// character, 'Ü' rather than the 'Ã' of its first byte (i is where a byte
// loop stopped: the first byte of the character). A byte that is not
// UTF-8 shows as byte 0xNN.
func quoteChar(s string, i int) string {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n <= 1 {
		const hexd = "0123456789ABCDEF"
		return "byte 0x" + string([]byte{hexd[s[i]>>4], hexd[s[i]&15]})
	}
	return strconv.QuoteRune(r)
}

// charPos is byte offset i of s counted in characters.
func charPos(s string, i int) int { return utf8.RuneCountInString(s[:i]) }

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// uriEscape percent-escapes the characters of CSET 82 that an EPC URI may
// not hold as they are (TDS Table A-1): " % & / < > ?
func appendURIEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '%', '&', '/', '<', '>', '?':
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
