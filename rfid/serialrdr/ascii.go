package serialrdr

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"github.com/dockgate/dockgate/rfid"
)

// DefaultASCIIPattern matches "EPC", "EPC,ant" and "EPC,ant,rssi" lines
// (comma, semicolon or blank separated).
const DefaultASCIIPattern = `^\s*(?:0[xX])?(?P<epc>[0-9A-Fa-f]{4,124})\s*(?:[,;\s]\s*(?P<ant>\d{1,5}))?\s*(?:[,;\s]\s*(?P<rssi>-?\d{1,3}))?\s*$`

// MaxASCIILine caps a line; longer input is skipped up to the next newline.
const MaxASCIILine = 1024

// ASCIIDecoder reads one tag per line, parsed with a regular expression
// with named groups epc (required), ant and rssi (optional).
type ASCIIDecoder struct {
	r    *bufio.Reader
	re   *regexp.Regexp
	iEPC int
	iAnt int
	iRSS int
	// Skipped counts lines that did not match.
	Skipped int
}

// NewASCIIDecoder reads lines from r; pattern "" is DefaultASCIIPattern.
func NewASCIIDecoder(r io.Reader, pattern string) (*ASCIIDecoder, error) {
	if pattern == "" {
		pattern = DefaultASCIIPattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("serialrdr: ASCII line pattern: %w", err)
	}
	d := &ASCIIDecoder{r: bufio.NewReaderSize(r, MaxASCIILine), re: re,
		iEPC: re.SubexpIndex("epc"), iAnt: re.SubexpIndex("ant"), iRSS: re.SubexpIndex("rssi")}
	if d.iEPC < 0 {
		return nil, fmt.Errorf("serialrdr: ASCII line pattern %q has no (?P<epc>…) group", pattern)
	}
	return d, nil
}

// Next returns the next line that parses as a tag read (EPC, and antenna
// and RSSI when the line has them).
func (d *ASCIIDecoder) Next(rd *rfid.Read) error {
	for {
		line, err := d.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				_, err = d.r.ReadSlice('\n')
			}
			d.Skipped++
			if err != nil {
				return err
			}
			continue
		}
		if err != nil && len(line) == 0 {
			return err
		}
		if ok := d.parse(bytes.TrimRight(line, "\r\n"), rd); ok {
			return nil
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			d.Skipped++
		}
	}
}

func (d *ASCIIDecoder) parse(line []byte, rd *rfid.Read) bool {
	m := d.re.FindSubmatchIndex(line)
	if m == nil || m[2*d.iEPC] < 0 {
		return false
	}
	h := line[m[2*d.iEPC]:m[2*d.iEPC+1]]
	var buf [rfid.MaxEPCBits / 8]byte
	if len(h)%2 != 0 || len(h)/2 > len(buf) {
		return false
	}
	for i := 0; i < len(h); i += 2 {
		hi, ok1 := unhex(h[i])
		lo, ok2 := unhex(h[i+1])
		if !ok1 || !ok2 {
			return false
		}
		buf[i/2] = hi<<4 | lo
	}
	*rd = rfid.Read{}
	if rd.EPC.Set(buf[:len(h)/2], len(h)*4) != nil {
		return false
	}
	if d.iAnt >= 0 && m[2*d.iAnt] >= 0 {
		a, err := strconv.Atoi(string(line[m[2*d.iAnt]:m[2*d.iAnt+1]]))
		if err != nil || a > 0xFFFF {
			return false
		}
		rd.Antenna = uint16(a)
	}
	if d.iRSS >= 0 && m[2*d.iRSS] >= 0 {
		v, err := strconv.Atoi(string(line[m[2*d.iRSS]:m[2*d.iRSS+1]]))
		if err != nil || v < -128 || v > 127 {
			return false
		}
		rd.RSSI, rd.HasRSSI = int8(v), true
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// AppendASCII appends "EPC,ant,rssi\r\n" for rd.
func AppendASCII(dst []byte, rd *rfid.Read) []byte {
	dst = rd.EPC.AppendHex(dst)
	dst = append(dst, ',')
	dst = strconv.AppendUint(dst, uint64(rd.Antenna), 10)
	if rd.HasRSSI {
		dst = append(dst, ',')
		dst = strconv.AppendInt(dst, int64(rd.RSSI), 10)
	}
	return append(dst, '\r', '\n')
}
