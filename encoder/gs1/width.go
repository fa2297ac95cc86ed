package gs1

import "strconv"

// GS1-128 physical limits (GenSpecs §5.4.1): at most 165 mm wide including
// the quiet zones of 10 X on each side.
const (
	MaxGS1128WidthMM = 165.0
	gs1128QuietZone  = 10 // modules on each side
)

// Code 128 code sets for the shortest-encoding search.
const (
	setA = iota
	setB
	setC
	numSets
)

// inSetA reports bytes Code 128 set A can encode (ASCII 0-95).
func inSetA(c byte) bool { return c < 96 }

// inSetB reports bytes Code 128 set B can encode (ASCII 32-127).
func inSetB(c byte) bool { return c >= 32 && c < 128 }

// GS1128Modules returns the width in modules of the shortest GS1-128 symbol
// for the message in its current order: start character, FNC1, data with
// FNC1 separators, symbol check character, stop pattern and both quiet
// zones. Code sets A, B and C and shifts are chosen to minimise the symbol
// characters. It returns -1 if a value holds a byte Code 128 cannot encode.
func GS1128Modules(m Message) int {
	// data: AI digits and values, with 0 standing for an FNC1 separator.
	data := []byte(m.Join("", "\x00"))
	const inf = 1 << 30
	// cost[s] = fewest symbol characters to encode data[:i] ending in set s.
	var start [numSets]int
	for s := range start {
		start[s] = 1 // start character of set s
	}
	isDigit := func(i int) bool { return i < len(data) && data[i] >= '0' && data[i] <= '9' }
	fnc1 := func(i int) bool { return data[i] == 0 }
	// best[i][s] table, walked forward; pairs in set C jump two positions.
	best := make([][numSets]int, len(data)+1)
	for i := range best {
		for s := range best[i] {
			best[i][s] = inf
		}
	}
	best[0] = start
	for i := 0; i < len(data); i++ {
		// Latching between sets costs one character.
		for s := 0; s < numSets; s++ {
			for t := 0; t < numSets; t++ {
				if t != s && best[i][s]+1 < best[i][t] {
					best[i][t] = best[i][s] + 1
				}
			}
		}
		for s := 0; s < numSets; s++ {
			c := best[i][s]
			if c >= inf {
				continue
			}
			switch {
			case fnc1(i):
				relax(&best[i+1][s], c+1)
			case s == setC:
				if isDigit(i) && isDigit(i+1) {
					relax(&best[i+2][s], c+1)
				}
			case s == setA:
				if inSetA(data[i]) {
					relax(&best[i+1][s], c+1)
				} else if inSetB(data[i]) {
					relax(&best[i+1][s], c+2) // SHIFT to B for one character
				}
			case s == setB:
				if inSetB(data[i]) {
					relax(&best[i+1][s], c+1)
				} else if inSetA(data[i]) {
					relax(&best[i+1][s], c+2) // SHIFT to A for one character
				}
			}
		}
	}
	chars := inf
	for s := 0; s < numSets; s++ {
		chars = min(chars, best[len(data)][s])
	}
	if chars >= inf {
		return -1
	}
	// +1 leading FNC1, +1 symbol check character; 11 modules each, the stop
	// pattern has 13.
	return (chars+2)*11 + 13 + 2*gs1128QuietZone
}

func relax(p *int, v int) {
	if v < *p {
		*p = v
	}
}

// CheckGS1128Width reports ErrCapacity when the message does not fit the
// 48 data characters of a GS1-128 symbol or, at X-dimension xMM millimetres,
// would be wider than 165 mm including quiet zones.
func CheckGS1128Width(m Message, xMM float64) error {
	if err := CheckGS1128Capacity(m); err != nil {
		return err
	}
	n := GS1128Modules(m)
	if n < 0 {
		return newErr("", -1, "capacity", ErrCharset, "a value holds a byte Code 128 cannot encode")
	}
	if w := float64(n) * xMM; w > MaxGS1128WidthMM {
		return newErr("", -1, "capacity", ErrCapacity, "GS1-128 symbol would be "+strconv.FormatFloat(w, 'f', 1, 64)+" mm wide ("+strconv.Itoa(n)+" modules at X "+strconv.FormatFloat(xMM, 'f', 3, 64)+" mm); the limit is 165 mm including quiet zones: use a smaller X, fewer AIs, or GS1 DataMatrix")
	}
	return nil
}
