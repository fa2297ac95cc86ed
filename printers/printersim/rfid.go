package printersim

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dockgate/dockgate/printers/zebra"
)

// rfidFormat is what a format asks of the RFID encoder.
type rfidFormat struct {
	write string // ^RFW … ^FD<data>^FS: the EPC to write ("" none)
	tries int    // ^RS n: labels to try (1-10, default 3)
	void  int    // ^RS v: void print length, dots (0: the label's)
	onErr byte   // ^RS e: N drop the format (default), P pause, E error (a pause here)
	// reads are the ^FNk^RFR…^FS fields with a ^HVk reply, in the order
	// of their ^HV.
	reads []hvRead
	// ^RFW,H,P^FD<kill>,<access>^FS writes the tag's passwords; ^RLM,k,a,
	// e,u with e L or P locks its EPC bank (which needs an access password
	// other than 0).
	access  string
	lockEPC bool
	// ^HRa,b: tag calibration with its table between a and b.
	calibrate        bool
	calStart, calEnd string
}

// hvRead is one tag read returned with ^HV: the bank read (EPC or TID) and
// the reply's length, header, terminator and whether it comes per label.
type hvRead struct {
	tid      bool
	n        int
	head     string
	term     string
	perLabel bool
}

var (
	rsRE   = regexp.MustCompile(`(?i)\^RS([^\^~]*)`)
	rfwRE  = regexp.MustCompile(`(?i)\^RF[WL](,[^,\^~]*,([^,\^~]*))?[^\^~]*\^FD([^\^~]*)\^FS`)
	rlmRE  = regexp.MustCompile(`(?i)\^RLM,([^,\^~]*),([^,\^~]*),([^,\^~]*)`)
	rfrRE  = regexp.MustCompile(`(?i)\^FN(\d{1,4})\^RFR([^\^~]*)\^FS`)
	hvRE   = regexp.MustCompile(`(?i)(\^FH(.?))?\^HV(\d{1,4}),([^\^~]*)\^FS`)
	hrRE   = regexp.MustCompile(`(?i)\^HR([^\^~]*)`)
	llRE   = regexp.MustCompile(`(?i)\^LL(\d{1,5})`)
	hexEsc = regexp.MustCompile(`^[0-9A-Fa-f]{2}`)
)

// parseFormat reads the RFID commands and the label length of a format.
func parseFormat(zpl []byte) (*rfidFormat, int) {
	length := 0
	if m := llRE.FindSubmatch(zpl); m != nil {
		length, _ = strconv.Atoi(string(m[1]))
	}
	r := &rfidFormat{tries: 3, onErr: 'N'}
	any := false
	if m := rsRE.FindSubmatch(zpl); m != nil {
		any = true
		ps := strings.Split(string(m[1]), ",")
		if len(ps) > 2 {
			r.void, _ = strconv.Atoi(strings.TrimSpace(ps[2]))
		}
		if len(ps) > 3 {
			if n, err := strconv.Atoi(strings.TrimSpace(ps[3])); err == nil && n >= 1 && n <= 10 {
				r.tries = n
			}
		}
		if len(ps) > 4 {
			if e := strings.ToUpper(strings.TrimSpace(ps[4])); e == "P" || e == "E" {
				r.onErr = e[0]
			}
		}
	}
	for _, m := range rfwRE.FindAllSubmatch(zpl, -1) {
		any = true
		data := strings.ToUpper(string(m[3]))
		if strings.EqualFold(strings.TrimSpace(string(m[2])), "P") {
			// passwords: kill,access
			if _, access, ok := strings.Cut(data, ","); ok {
				r.access = strings.TrimSpace(access)
			}
			continue
		}
		if r.write == "" {
			r.write = data
		}
	}
	if m := rlmRE.FindSubmatch(zpl); m != nil {
		any = true
		e := strings.ToUpper(strings.TrimSpace(string(m[3])))
		r.lockEPC = e == "L" || e == "P"
	}
	// ^FNk^RFR,f,b,n,m^FS: m 2 reads the TID bank, anything else the EPC.
	banks := map[string]bool{}
	for _, m := range rfrRE.FindAllSubmatch(zpl, -1) {
		ps := strings.Split(string(m[2]), ",")
		banks[strings.TrimLeft(string(m[1]), "0")] = len(ps) > 4 && strings.TrimSpace(ps[4]) == "2"
	}
	for _, m := range hvRE.FindAllSubmatch(zpl, -1) {
		tid, ok := banks[strings.TrimLeft(string(m[3]), "0")]
		if !ok {
			continue
		}
		any = true
		ps := strings.Split(string(m[4]), ",")
		h := hvRead{tid: tid, n: 64}
		if len(ps) > 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(ps[0])); err == nil && n >= 1 && n <= 256 {
				h.n = n
			}
		}
		esc := byte(0)
		if len(m[1]) > 0 {
			esc = '_'
			if len(m[2]) == 1 {
				esc = m[2][0]
			}
		}
		if len(ps) > 1 {
			h.head = unescapeFH(ps[1], esc)
		}
		if len(ps) > 2 {
			h.term = unescapeFH(ps[2], esc)
		}
		h.perLabel = len(ps) > 3 && strings.EqualFold(strings.TrimSpace(ps[3]), "L")
		r.reads = append(r.reads, h)
	}
	if m := hrRE.FindSubmatch(zpl); m != nil {
		any = true
		ps := strings.Split(string(m[1]), ",")
		r.calibrate = true
		r.calStart, r.calEnd = "start", "end"
		if len(ps) > 0 && ps[0] != "" {
			r.calStart = ps[0]
		}
		if len(ps) > 1 && ps[1] != "" {
			r.calEnd = ps[1]
		}
	}
	if !any {
		return nil, length
	}
	return r, length
}

// unescapeFH decodes ^FH hex escapes (esc followed by two hex digits).
func unescapeFH(s string, esc byte) string {
	if esc == 0 || strings.IndexByte(s, esc) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == esc && hexEsc.MatchString(s[i+1:]) {
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(v))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// printOneLocked prints the next label of f, with the labels its tag write
// voids, and reports whether f is finished.
func (s *Sim) printOneLocked(f *Format) bool {
	r := f.rfid
	if r == nil || !s.caps.rfid {
		s.feedLocked(f, Label{Format: f.Seq, Copy: f.Printed + 1})
		f.Printed++
		return f.Printed >= f.Copies
	}
	if r.calibrate {
		b := zebra.AppendCalibration(nil, s.calibrationLocked())
		b = append([]byte(r.calStart), b[len(zebra.CalibrationStart):]...)
		b = append(b[:len(b)-len(zebra.CalibrationEnd)-2], r.calEnd+"\r\n"...)
		s.replyLocked(b)
	}
	copyN := f.Printed + 1
	tag, tid, ok := "", "", false
	if r.write == "" {
		ok = true // a read or a calibration only: nothing to write
	}
	for t := 1; t <= r.tries && !ok; t++ {
		s.tagsTried++
		if s.badTagLocked() {
			f.Voids++
			s.feedLocked(f, Label{Format: f.Seq, Copy: copyN, Void: true, Try: t})
			continue
		}
		epc := r.write
		if s.misEPC && s.prevEPC != "" {
			epc = s.prevEPC
		}
		s.prevEPC = r.write
		tag, tid, ok = epc, tidOf(s.tagsTried), true
		locked := r.lockEPC && r.access != "" && strings.Trim(r.access, "0") != ""
		s.feedLocked(f, Label{Format: f.Seq, Copy: copyN, EPC: epc, TID: tid, Try: t, Locked: locked})
	}
	if r.write == "" {
		s.feedLocked(f, Label{Format: f.Seq, Copy: copyN})
	}
	done := false
	if ok {
		f.Printed++
		done = f.Printed >= f.Copies
	} else {
		f.EncodeFailed = true
		done = true // ^RS e N: the rest of the format is dropped
		if r.onErr != 'N' {
			s.faults[Pause] = true
		}
	}
	for _, h := range r.reads {
		if !h.perLabel && !done {
			continue
		}
		data := tag
		if h.tid {
			data = tid
		}
		if len(data) > h.n {
			data = data[:h.n]
		}
		s.replyLocked([]byte(h.head + data + h.term))
	}
	if done && s.rv && r.write != "" {
		s.replyLocked(zebra.AppendEncodeReport(nil, zebra.EncodeReport{OK: !f.EncodeFailed, Voids: f.Voids}))
	}
	return done
}

// tidOf is the TID of the n-th tag the simulator tried: an Impinj-like
// class identifier (E2801160) and a serial, 96 bits.
func tidOf(n int64) string { return fmt.Sprintf("E2801160%016X", n) }

// badTagLocked decides whether the next tag takes no write.
func (s *Sim) badTagLocked() bool {
	if s.failNext > 0 {
		s.failNext--
		return true
	}
	return s.badTags > 0 && s.rng.Float64() < s.badTags
}

// feedLocked records one label leaving the printer and moves the counters.
func (s *Sim) feedLocked(f *Format, l Label) {
	s.printed = append(s.printed, l)
	s.total++
	length := f.length
	if length <= 0 {
		length = s.labelLen
	} else {
		s.labelLen = length
	}
	s.lengthDots += int64(length)
	switch {
	case l.Void:
		s.voids++
	default:
		s.labels++
		if l.EPC != "" {
			s.valid++
		}
	}
}

// calibrationLocked is the ^HR table of the simulated encoder: tags read
// and written from 190 to 200 dots, 195 chosen.
func (s *Sim) calibrationLocked() zebra.Calibration {
	c := zebra.Calibration{Position: "195"}
	for p := 180; p <= 210; p += 5 {
		ok := p >= 190 && p <= 200
		c.Rows = append(c.Rows, zebra.CalibrationRow{Position: strconv.Itoa(p), Read: ok || p == 205, Write: ok})
	}
	return c
}

func (s *Sim) setRV(on bool) {
	s.mu.Lock()
	s.rv = on && s.caps.rv && s.caps.rfid
	s.mu.Unlock()
}

// SGD settings the simulator answers.
const (
	SGDLabelCount = "odometer.total_label_count"
	SGDRFIDValid  = "odometer.rfid.valid_resettable"
	SGDRFIDVoid   = "odometer.rfid.void_resettable"
	SGDUptime     = "device.uptime"
)

// replySGD answers one SGD line (! U1 getvar "name"); setvar and do are
// taken silently. A printer without SGD ignores the line.
func (s *Sim) replySGD(out, line []byte) []byte {
	fs := strings.Fields(string(line))
	if len(fs) < 3 || fs[0] != "!" || !strings.EqualFold(fs[2], "getvar") {
		return out
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.caps.sgd {
		return out
	}
	name := ""
	if len(fs) > 3 {
		name = strings.Trim(strings.Join(fs[3:], " "), `"`)
	}
	v := "?"
	switch strings.ToLower(name) {
	case SGDLabelCount:
		v = strconv.FormatInt(s.total, 10)
	case SGDRFIDValid:
		if s.caps.rfid {
			v = strconv.FormatInt(s.valid, 10)
		}
	case SGDRFIDVoid:
		if s.caps.rfid {
			v = strconv.FormatInt(s.voids, 10)
		}
	case SGDUptime:
		v = string(zebra.AppendUptime(nil, s.o.Now().Sub(s.boot)))
	}
	return zebra.AppendSGD(out, v)
}

func (s *Sim) replyHQOD(out []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := int(s.lengthDots / int64(s.dpi))
	return zebra.AppendOdometer(out, zebra.Odometer{Total: in, User1: in, User2: in, Unit: "in"})
}

// Counters are the simulator's non-volatile label counters.
type Counters struct {
	// Total counts every label fed, voided ones too
	// (odometer.total_label_count).
	Total int64 `json:"total"`
	// Valid counts labels whose tag took its write; Void the voided ones.
	Valid int64 `json:"valid"`
	Void  int64 `json:"void"`
	// LengthDots is the print length fed, in dots (~HQOD in inches).
	LengthDots int64 `json:"length_dots"`
}

// Counters returns the label counters.
func (s *Sim) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Counters{Total: s.total, Valid: s.valid, Void: s.voids, LengthDots: s.lengthDots}
}

// Labels returns the log of every label printed or voided, in order.
func (s *Sim) Labels() []Label {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Label(nil), s.printed...)
}

// SetBadTags sets the fraction of tags that take no write (0 to 1).
func (s *Sim) SetBadTags(fraction float64) {
	s.mu.Lock()
	s.badTags = min(max(fraction, 0), 1)
	s.mu.Unlock()
}

// FailTags makes the next n tags take no write.
func (s *Sim) FailTags(n int) {
	s.mu.Lock()
	s.failNext = max(n, 0)
	s.mu.Unlock()
}

// SetMiscalibrated turns the "previous EPC" fault on or off.
func (s *Sim) SetMiscalibrated(on bool) {
	s.mu.Lock()
	s.misEPC = on
	s.prevEPC = ""
	s.mu.Unlock()
}

// PowerCycle switches the printer off for off, then on again: the
// connection drops, the formats in its buffer are lost (Format.Lost), a
// pause and ~RV reporting are cleared, connections are refused while it is
// off, and its uptime starts again. The label counters are kept.
func (s *Sim) PowerCycle(off time.Duration) {
	s.mu.Lock()
	now := s.o.Now()
	for _, f := range s.queue {
		f.Lost = true
	}
	s.queue = s.queue[:0:0]
	s.started, s.left, s.inFmt = false, 0, false
	s.rv, s.prevEPC = false, ""
	delete(s.faults, Pause)
	s.offUntil = now.Add(off)
	s.boot = now.Add(off)
	if s.conn != nil {
		s.conn.Close()
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}
