package label

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Code 128 symbol character values used by the encoder.
const (
	c128CodeC  = 99
	c128CodeB  = 100
	c128FNC1   = 102
	c128StartB = 104
	c128StartC = 105
	c128Stop   = 106
)

// FNC1 marks Function 1 inside Element.Data of GS1 symbols and inside
// Code 128 data: the byte 0x1D, which is also what a scanner transmits for
// an FNC1 that separates two element strings.
const FNC1 = '\x1d'

// code128Widths are the bar/space widths of the 107 Code 128 symbol
// characters (ISO/IEC 15417 table 1); the stop character has seven elements.
var code128Widths = [107]string{
	"212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
	"221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
	"221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
	"212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
	"231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
	"231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
	"314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
	"112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
	"111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
	"214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
	"114131", "311141", "411131", "211412", "211214", "211232", "2331112",
}

// Code128 is an encoded Code 128 symbol: its symbol characters from the
// start character on, without the check character and the stop.
type Code128 struct {
	Codewords []int
}

// EncodeCode128 encodes data (printable ASCII 32–126, FNC1 as 0x1D) into
// Code 128 symbol characters using subsets B and C: runs of four or more
// digits go to subset C, everything else to subset B. With gs1 true the
// symbol starts with FNC1 (GS1-128).
func EncodeCode128(data string, gs1 bool) (Code128, error) {
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c != FNC1 && (c < 32 || c > 126) {
			// The character, not its first byte ('Ü', not 0xC3), at its
			// position in characters.
			what := fmt.Sprintf("byte 0x%02X", c)
			if r, n := utf8.DecodeRuneInString(data[i:]); c >= utf8.RuneSelf && !(r == utf8.RuneError && n <= 1) {
				what = strconv.QuoteRune(r)
			}
			return Code128{}, fmt.Errorf("%w: %s at %d: Code 128 data must be printable ASCII", ErrData, what, utf8.RuneCountInString(data[:i]))
		}
	}
	if data == "" && !gs1 {
		return Code128{}, fmt.Errorf("%w: empty Code 128 data", ErrData)
	}
	cw := make([]int, 0, len(data)/2+8)
	digitRun := func(i int) int {
		n := 0
		for i+n < len(data) && data[i+n] >= '0' && data[i+n] <= '9' {
			n++
		}
		return n
	}
	set := 0
	first := digitRun(0)
	if first >= 4 || (first == len(data) && first%2 == 0 && first > 0) {
		set = 'C'
		cw = append(cw, c128StartC)
	} else {
		set = 'B'
		cw = append(cw, c128StartB)
	}
	if gs1 {
		cw = append(cw, c128FNC1)
	}
	for i := 0; i < len(data); {
		c := data[i]
		if c == FNC1 {
			cw = append(cw, c128FNC1)
			i++
			continue
		}
		if set == 'C' {
			if digitRun(i) >= 2 {
				cw = append(cw, int(c-'0')*10+int(data[i+1]-'0'))
				i += 2
				continue
			}
			set = 'B'
			cw = append(cw, c128CodeB)
			continue
		}
		if n := digitRun(i); n >= 4 && (i+n == len(data) || n >= 6 || data[i+n] == FNC1) {
			if n%2 == 1 {
				cw = append(cw, int(c)-32)
				i++
			}
			set = 'C'
			cw = append(cw, c128CodeC)
			continue
		}
		cw = append(cw, int(c)-32)
		i++
	}
	return Code128{Codewords: cw}, nil
}

// Check returns the symbol check character.
func (c Code128) Check() int {
	if len(c.Codewords) == 0 {
		return 0
	}
	sum := c.Codewords[0]
	for i, v := range c.Codewords[1:] {
		sum += (i + 1) * v
	}
	return sum % 103
}

// Modules is the symbol width in modules without quiet zones: 11 per
// symbol character including the check character, 13 for the stop.
func (c Code128) Modules() int { return 11*(len(c.Codewords)+1) + 13 }

// Bars returns the symbol as a run-length list of module widths starting
// with a bar (bar, space, bar, …), check character and stop included.
func (c Code128) Bars() []int {
	out := make([]int, 0, 6*(len(c.Codewords)+2)+1)
	add := func(v int) {
		for _, r := range code128Widths[v] {
			out = append(out, int(r-'0'))
		}
	}
	for _, v := range c.Codewords {
		add(v)
	}
	add(c.Check())
	add(c128Stop)
	return out
}

// Text decodes the symbol characters back to data with FNC1 as 0x1D,
// leaving out a leading FNC1 (reported by gs1).
func (c Code128) Text() (data string, gs1 bool) {
	if len(c.Codewords) == 0 {
		return "", false
	}
	set := 'B'
	if c.Codewords[0] == c128StartC {
		set = 'C'
	}
	b := make([]byte, 0, 2*len(c.Codewords))
	for i, v := range c.Codewords[1:] {
		switch {
		case v == c128FNC1:
			if i == 0 {
				gs1 = true
			} else {
				b = append(b, FNC1)
			}
		case v == c128CodeB && set == 'C':
			set = 'B'
		case v == c128CodeC && set == 'B':
			set = 'C'
		case set == 'C':
			b = append(b, byte('0'+v/10), byte('0'+v%10))
		default:
			b = append(b, byte(v+32))
		}
	}
	return string(b), gs1
}
