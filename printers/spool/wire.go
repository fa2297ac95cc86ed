package spool

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dockgate/dockgate/printers/zebra"
)

// What the spooler sends is a job's ZPL, changed in two ways only: a job
// cut in the middle is sent again with the labels that did not print
// (remaining), and an RFID format on a printer that verifies by read-back
// gets a read of its tag with a ^HV reply (withReadback). Both work on the
// formats as the printer reads them: line breaks dropped, command names in
// any case.

// zformat is one ^XA … ^XZ format of a job's ZPL: z[start:end] with the
// ^XZ at xz; lead is the text before it since the previous format (~
// downloads).
type zformat struct {
	lead           string
	start, xz, end int
	qty            int
}

// splitFormats returns the formats of zpl (line breaks dropped) and the
// text after the last one. The ZPL has passed CheckZPL.
func splitFormats(zpl string) (string, []zformat, string) {
	raw := strings.NewReplacer("\r", "", "\n", "").Replace(zpl)
	up := asciiUpper(raw)
	var fs []zformat
	i := 0
	for {
		a := strings.Index(up[i:], "^XA")
		if a < 0 {
			break
		}
		z := strings.Index(up[i+a:], "^XZ")
		if z < 0 {
			break
		}
		f := zformat{lead: raw[i : i+a], start: i + a, xz: i + a + z, end: i + a + z + 3}
		f.qty = quantity(up[f.start+3 : f.xz])
		fs = append(fs, f)
		i = f.end
	}
	return raw, fs, raw[i:]
}

// errNotResumable is wrapped by remaining's errors.
var errNotResumable = errors.New("the rest of the job cannot be sent exactly")

// remaining returns the ZPL that prints the labels of a job (zpl sent
// copies times) after its first printed ones: whole formats that printed
// are left out, the format cut in the middle is sent with its ^PQ lowered
// to the labels it still owes. A format cut in the middle that numbers
// its labels (^SN, ^SF) would number them again from the start: that is
// refused.
func remaining(zpl string, copies, printed int) (string, error) {
	if printed <= 0 {
		return zpl, nil
	}
	raw, fs, tail := splitFormats(zpl)
	up := asciiUpper(raw)
	var b strings.Builder
	left := printed
	for c := 0; c < copies; c++ {
		for _, f := range fs {
			switch {
			case left >= f.qty:
				left -= f.qty
				b.WriteString(f.lead) // downloads the later formats may use
			case left > 0:
				body := up[f.start:f.xz]
				if strings.Contains(body, "^SN") || strings.Contains(body, "^SF") {
					return "", fmt.Errorf("%w: its format %d numbers its labels (^SN/^SF) and was cut after %d of %d labels: sending the rest would number them again from the start", errNotResumable, c*len(fs)+1, left, f.qty)
				}
				b.WriteString(f.lead)
				b.WriteString(withQuantity(raw[f.start:f.xz], up[f.start:f.xz], f.qty-left))
				b.WriteString(raw[f.xz:f.end])
				left = 0
			default:
				b.WriteString(f.lead)
				b.WriteString(raw[f.start:f.end])
			}
		}
	}
	if left > 0 {
		return "", fmt.Errorf("%w: %d labels printed, more than the job's", errNotResumable, printed)
	}
	b.WriteString(tail)
	return b.String(), nil
}

// withQuantity sets the first parameter of a format body's last ^PQ to q
// (up is the body in upper case), or adds ^PQq.
func withQuantity(body, up string, q int) string {
	k := strings.LastIndex(up, "^PQ")
	if k < 0 {
		return body + "^PQ" + strconv.Itoa(q)
	}
	p := k + 3
	for p < len(body) && (body[p] == ' ' || body[p] == '\t') {
		p++
	}
	e := p
	for e < len(body) && body[e] >= '0' && body[e] <= '9' {
		e++
	}
	return body[:k+3] + strconv.Itoa(q) + body[e:]
}

// rfidWrite is the tag write of one format.
type rfidWrite struct {
	epc   string // hex, upper case; "" when the data is not hex
	tries int    // ^RS n, 0 when the format does not say
}

// formatWrite reads the ^RFW write and the ^RS tries of a format body (upper
// case). ok is false when the format writes no tag.
func formatWrite(up string) (rfidWrite, bool) {
	k := strings.Index(up, "^RFW")
	if k < 0 {
		k = strings.Index(up, "^RFL") // write and lock
	}
	if k < 0 {
		return rfidWrite{}, false
	}
	var w rfidWrite
	rest := up[k+4:]
	params := rest
	if e := strings.IndexAny(rest, "^~"); e >= 0 {
		params = rest[:e]
	}
	mode := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(params, ","), ",", 2)[0])
	if d := strings.Index(rest, "^FD"); d >= 0 {
		data := rest[d+3:]
		if e := strings.IndexAny(data, "^~"); e >= 0 {
			data = data[:e]
		}
		data = strings.TrimSpace(data)
		if (mode == "" || mode == "H") && data != "" && len(data)%4 == 0 && strings.Trim(data, "0123456789ABCDEF") == "" {
			w.epc = data
		}
	}
	if r := strings.Index(up, "^RS"); r >= 0 {
		ps := up[r+3:]
		if e := strings.IndexAny(ps, "^~"); e >= 0 {
			ps = ps[:e]
		}
		if f := strings.Split(ps, ","); len(f) > 3 {
			if n, err := strconv.Atoi(strings.TrimSpace(f[3])); err == nil && n >= 1 && n <= 10 {
				w.tries = n
			}
		}
	}
	return w, true
}

// epcOf is the EPC the first tag write of zpl writes ("" none, or not hex).
func epcOf(zpl string) string {
	raw, fs, _ := splitFormats(zpl)
	up := asciiUpper(raw)
	for _, f := range fs {
		if w, ok := formatWrite(up[f.start:f.xz]); ok {
			return w.epc
		}
	}
	return ""
}

// writesTag reports whether a format of zpl writes an RFID tag.
func writesTag(zpl string) bool {
	raw, fs, _ := splitFormats(zpl)
	up := asciiUpper(raw)
	for _, f := range fs {
		if _, ok := formatWrite(up[f.start:f.xz]); ok {
			return true
		}
	}
	return false
}

// readbackField and tidField are the ^FN field numbers of the spooler's
// EPC and TID reads.
const (
	readbackField = "999"
	tidField      = "998"
)

// readCommand is the profile's EPC read (e.g. ^RFR,H,0,12,E) set to read
// n bytes.
func readCommand(read string, n int) string {
	f := strings.Split(read, ",")
	if len(f) >= 4 {
		f[3] = strconv.Itoa(n)
	}
	return strings.Join(f, ",")
}

// rfidPlan is what a job's wire ZPL asks of the printer's encoder: the
// RFID formats (one ~RV report each per time sent) and their labels (one
// ^HV reply each), with the EPC each writes.
type rfidPlan struct {
	formats int
	labels  []rfidLabel
	tids    int // TID replies (capture_tid)
	tries   int // the tries of the job's formats (the smallest given)
}

// rfidLabel is one label of an RFID format: the read-back reply's tag and
// the EPC its tag must hold.
type rfidLabel struct {
	tag string
	epc string
}

// tidSuffix ends the ^HV tag of a TID read.
const tidSuffix = ".tid"

// tidBytes is how much of the TID bank is read: 96 bits, the serialised
// TID of common Gen2 chips (its length is chip-specific).
const tidBytes = 12

// withReadback adds to each RFID format of zpl a read of its tag
// (readEPC, the profile's command) with a ^HV reply per label tagged
// "<seq>.<n>", when readback is set, and the lock commands lock (none:
// ""), and returns the plan of the replies the wire ZPL makes. A format
// whose write is not hex is not read back nor locked.
func withReadback(zpl string, seq uint64, readEPC string, readback, tid bool, lock string) (string, rfidPlan) {
	raw, fs, tail := splitFormats(zpl)
	up := asciiUpper(raw)
	var plan rfidPlan
	var b strings.Builder
	changed := false
	for i, f := range fs {
		b.WriteString(f.lead)
		w, ok := formatWrite(up[f.start:f.xz])
		if !ok {
			b.WriteString(raw[f.start:f.end])
			continue
		}
		plan.formats++
		if w.tries > 0 && (plan.tries == 0 || w.tries < plan.tries) {
			plan.tries = w.tries
		}
		if (!readback && lock == "") || w.epc == "" {
			b.WriteString(raw[f.start:f.end])
			continue
		}
		b.WriteString(raw[f.start:f.xz])
		changed = true
		if readback {
			tag := strconv.FormatUint(seq, 10) + "." + strconv.Itoa(i+1)
			b.WriteString("^FN" + readbackField + readCommand(readEPC, len(w.epc)/2) + "^FS^HV" + readbackField + "," +
				strconv.Itoa(len(w.epc)) + "," + zebra.VerifyHeader + tag + string(zebra.VerifyOpen) + "," + string(zebra.VerifyClose) + ",L^FS")
			if tid {
				b.WriteString("^FN" + tidField + "^RFR,H,0," + strconv.Itoa(tidBytes) + ",2^FS^HV" + tidField + "," +
					strconv.Itoa(2*tidBytes) + "," + zebra.VerifyHeader + tag + tidSuffix + string(zebra.VerifyOpen) + "," + string(zebra.VerifyClose) + ",L^FS")
				plan.tids += f.qty
			}
			for q := 0; q < f.qty; q++ {
				plan.labels = append(plan.labels, rfidLabel{tag: tag, epc: w.epc})
			}
		}
		// The lock follows the write and its read-back, in the same
		// format: the tag read back is the tag locked.
		b.WriteString(lock)
		b.WriteString(raw[f.xz:f.end])
	}
	if !changed {
		return zpl, plan
	}
	b.WriteString(tail)
	return b.String(), plan
}

// labelLengths returns the ^LL label lengths the formats of zpl set (0 for
// a format that sets none).
func labelLengths(zpl string) []int {
	raw, fs, _ := splitFormats(zpl)
	up := asciiUpper(raw)
	var out []int
	for _, f := range fs {
		body := up[f.start:f.xz]
		k := strings.LastIndex(body, "^LL")
		n := 0
		if k >= 0 {
			for p := k + 3; p < len(body) && body[p] >= '0' && body[p] <= '9' && n < 1e6; p++ {
				n = n*10 + int(body[p]-'0')
			}
		}
		out = append(out, n)
	}
	return out
}
