package label

import (
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Text is measured with the Go Bold font, em size = font height in dots;
// the raster preview draws with the same font, so wrapping and shrinking
// decided here are what the preview shows. The printer's resident ^A0 font
// is narrower, so text that fits here fits on the printer.

const measurePPEM = 1000

var (
	fontOnce  sync.Once
	textFont  *sfnt.Font
	asciiAdv  [128]int32 // advance at measurePPEM, in 1/64 px
	otherAdv  sync.Map   // rune → int32
	fontError error
)

// TextFont returns the parsed font text is measured and drawn with.
func TextFont() (*sfnt.Font, error) {
	fontOnce.Do(func() {
		textFont, fontError = opentype.Parse(gobold.TTF)
		if fontError != nil {
			return
		}
		var buf sfnt.Buffer
		for r := rune(0); r < 128; r++ {
			asciiAdv[r] = advance(&buf, r)
		}
	})
	return textFont, fontError
}

func advance(buf *sfnt.Buffer, r rune) int32 {
	idx, err := textFont.GlyphIndex(buf, r)
	if err != nil || idx == 0 {
		idx, _ = textFont.GlyphIndex(buf, '?')
	}
	a, err := textFont.GlyphAdvance(buf, idx, fixed.I(measurePPEM), font.HintingNone)
	if err != nil {
		return 0
	}
	return int32(a)
}

// TextWidth is the width in dots of s set at font height h dots.
func TextWidth(s string, h int) int {
	if _, err := TextFont(); err != nil {
		return 0
	}
	var sum int64
	for _, r := range s {
		if r < 128 {
			sum += int64(asciiAdv[r])
			continue
		}
		if v, ok := otherAdv.Load(r); ok {
			sum += int64(v.(int32))
			continue
		}
		var buf sfnt.Buffer
		a := advance(&buf, r)
		otherAdv.Store(r, a)
		sum += int64(a)
	}
	// sum is in 1/64 px at measurePPEM; scale to h.
	return int((sum*int64(h) + 64*measurePPEM - 1) / (64 * measurePPEM))
}

// wrapText breaks s into lines no wider than w at height h, breaking at
// spaces and, for a word wider than w, inside the word. It measures each
// word once, so it is linear in the length of s.
func wrapText(s string, h, w int) []string {
	space := TextWidth(" ", h)
	var lines []string
	var cur strings.Builder
	curW := 0
	for _, word := range strings.Fields(s) {
		ww := TextWidth(word, h)
		if cur.Len() > 0 && curW+space+ww <= w {
			cur.WriteByte(' ')
			cur.WriteString(word)
			curW += space + ww
			continue
		}
		if cur.Len() > 0 {
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
		if ww > w {
			start, segW := 0, 0
			for i, r := range word {
				rw := TextWidth(string(r), h)
				if segW+rw > w && i > start {
					lines = append(lines, word[start:i])
					start, segW = i, 0
				}
				segW += rw
			}
			word, ww = word[start:], segW
		}
		cur.WriteString(word)
		curW = ww
	}
	if cur.Len() > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
