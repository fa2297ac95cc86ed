package lot

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// MaxLength is the longest value GS1 AI (10) batch/lot number takes (X..20).
const MaxLength = 20

// cset82 marks the characters of GS1 CSET 82 (GenSpecs figure 7.11-1).
var cset82 [128]bool

func init() {
	for _, c := range "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz" {
		cset82[c] = true
	}
}

// InCSET82 reports whether c is a GS1 CSET 82 character.
func InCSET82(c byte) bool { return c < 128 && cset82[c] }

// quoteChar quotes the character at byte offset i of s, where a loop over
// bytes stopped: 'Ü', not the 'Ã' of its first byte; a byte that is not
// UTF-8 shows as byte 0xNN.
func quoteChar(s string, i int) string {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n <= 1 {
		return fmt.Sprintf("byte 0x%02X", s[i])
	}
	return strconv.QuoteRune(r)
}

// charPos is byte offset i of s counted in characters, as messages give
// positions.
func charPos(s string, i int) int { return utf8.RuneCountInString(s[:i]) }

// firstOutsideCSET82 returns the index of the first character of s outside
// CSET 82, or -1.
func firstOutsideCSET82(s string) int {
	for i := 0; i < len(s); i++ {
		if !InCSET82(s[i]) {
			return i
		}
	}
	return -1
}

// checkAlphabet is the alphabet of ISO/IEC 7064 MOD 37,36: digits then
// upper-case letters, values 0 … 35.
const checkAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

func checkValue(c byte) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10, true
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10, true
	}
	return 0, false
}

// CheckChar computes the ISO/IEC 7064 MOD 37,36 (hybrid system) check
// character of s. Letters count case-insensitively; characters that are not
// letters or digits (separators such as '-') are skipped.
func CheckChar(s string) byte {
	const m = 36
	p := m
	for i := 0; i < len(s); i++ {
		v, ok := checkValue(s[i])
		if !ok {
			continue
		}
		t := (p + v) % m
		if t == 0 {
			t = m
		}
		p = (2 * t) % (m + 1)
	}
	return checkAlphabet[(m+1-p)%m]
}
