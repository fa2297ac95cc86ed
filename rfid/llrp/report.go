package llrp

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dockgate/dockgate/rfid"
)

// WriteResult is a C1G2WriteOpSpecResult from a tag report.
type WriteResult struct {
	EPC          rfid.EPC
	AccessSpecID uint32
	OpSpecID     uint16
	Result       uint8 // 0 success
	WordsWritten uint16
}

// ReportDecoder decodes RO_ACCESS_REPORT bodies into reads. It reuses its
// slices: after warm-up, decoding allocates nothing.
type ReportDecoder struct {
	// Reads and Writes hold the last decoded report; they are overwritten by
	// the next Decode.
	Reads  []rfid.Read
	Writes []WriteResult
	// Reader is copied into every Read.
	Reader string
}

// Decode decodes one RO_ACCESS_REPORT body into d.Reads (and d.Writes for
// write results). A tag report without an EPC is a malformed message. Only
// reader-side fields are filled: Read.Time is left for the session to set.
func (d *ReportDecoder) Decode(body []byte) error {
	d.Reads = d.Reads[:0]
	d.Writes = d.Writes[:0]
	b := body
	for len(b) > 0 {
		p, n, err := nextParam(b)
		if err != nil {
			return err
		}
		b = b[n:]
		if p.Type != ParamTagReportData {
			continue // RFSurveyReportData, Custom
		}
		if err := d.tag(p.Value); err != nil {
			return err
		}
	}
	return nil
}

func (d *ReportDecoder) tag(b []byte) error {
	d.Reads = append(d.Reads, rfid.Read{})
	rd := &d.Reads[len(d.Reads)-1]
	rd.Reader = d.Reader
	hasEPC := false
	var firstUTC, lastUTC uint64
	var accessID uint32
	writes0 := len(d.Writes)
	for len(b) > 0 {
		c := b[0]
		if c&0x80 != 0 {
			t := uint16(c & 0x7F)
			sz, ok := TVSize(t)
			if !ok {
				return fmt.Errorf("%w: unknown TV parameter type %d in TagReportData", ErrMalformed, t)
			}
			if len(b) < 1+sz {
				return fmt.Errorf("%w: TV parameter %d in TagReportData is truncated", ErrMalformed, t)
			}
			v := b[1 : 1+sz]
			switch t {
			case ParamEPC96:
				rd.EPC.SetEPC96((*[12]byte)(v))
				hasEPC = true
			case ParamAntennaID:
				rd.Antenna = binary.BigEndian.Uint16(v)
			case ParamPeakRSSI:
				rd.RSSI, rd.HasRSSI = int8(v[0]), true
			case ParamFirstSeenTimestampUTC:
				firstUTC = binary.BigEndian.Uint64(v)
			case ParamLastSeenTimestampUTC:
				lastUTC = binary.BigEndian.Uint64(v)
			case ParamTagSeenCount:
				rd.SeenCount = binary.BigEndian.Uint16(v)
			case ParamChannelIndex:
				rd.Channel = binary.BigEndian.Uint16(v)
			case ParamC1G2PC:
				rd.PC = binary.BigEndian.Uint16(v)
			case ParamAccessSpecID:
				accessID = binary.BigEndian.Uint32(v)
			}
			b = b[1+sz:]
			continue
		}
		p, n, err := nextParam(b)
		if err != nil {
			return err
		}
		b = b[n:]
		switch p.Type {
		case ParamEPCData:
			if len(p.Value) < 2 {
				return fmt.Errorf("%w: EPCData without its bit length", ErrMalformed)
			}
			bits := int(binary.BigEndian.Uint16(p.Value))
			if err := rd.EPC.Set(p.Value[2:], bits); err != nil {
				return fmt.Errorf("%w: EPCData: %w", ErrMalformed, err)
			}
			hasEPC = true
		case ParamC1G2WriteOpSpecResult:
			if len(p.Value) < 5 {
				return fmt.Errorf("%w: C1G2WriteOpSpecResult is truncated", ErrMalformed)
			}
			d.Writes = append(d.Writes, WriteResult{
				Result: p.Value[0], OpSpecID: binary.BigEndian.Uint16(p.Value[1:]),
				WordsWritten: binary.BigEndian.Uint16(p.Value[3:]),
			})
		}
	}
	if !hasEPC {
		return fmt.Errorf("%w: TagReportData without EPC-96 or EPCData", ErrMalformed)
	}
	if firstUTC == 0 {
		firstUTC = lastUTC
	}
	if firstUTC != 0 {
		rd.ReaderTime = time.UnixMicro(int64(firstUTC))
	}
	for i := writes0; i < len(d.Writes); i++ {
		d.Writes[i].EPC = rd.EPC
		d.Writes[i].AccessSpecID = accessID
	}
	return nil
}

// AppendROAccessReport appends an RO_ACCESS_REPORT with one TagReportData per
// read: EPC-96 for 96-bit EPCs, EPCData otherwise, then antenna, peak RSSI
// (if HasRSSI), first-seen UTC (ReaderTime, if set), seen count (if > 0).
func AppendROAccessReport(dst []byte, id uint32, reads []rfid.Read) []byte {
	w := builder{b: dst}
	m := w.beginMsg(MsgROAccessReport, id)
	for i := range reads {
		rd := &reads[i]
		o := w.begin(ParamTagReportData)
		if rd.EPC.BitLen() == 96 {
			w.tv(ParamEPC96, rd.EPC.Bytes()...)
		} else {
			e := w.begin(ParamEPCData)
			w.u16(uint16(rd.EPC.BitLen()))
			w.b = append(w.b, rd.EPC.Bytes()...)
			w.end(e)
		}
		w.tv(ParamAntennaID, byte(rd.Antenna>>8), byte(rd.Antenna))
		if rd.HasRSSI {
			w.tv(ParamPeakRSSI, byte(rd.RSSI))
		}
		if !rd.ReaderTime.IsZero() {
			w.b = append(w.b, 0x80|byte(ParamFirstSeenTimestampUTC))
			w.u64(uint64(rd.ReaderTime.UnixMicro()))
		}
		if rd.SeenCount > 0 {
			w.tv(ParamTagSeenCount, byte(rd.SeenCount>>8), byte(rd.SeenCount))
		}
		w.end(o)
	}
	w.endMsg(m)
	return w.b
}

// C1G2 write results (C1G2WriteOpSpecResult.Result).
var writeResultText = [...]string{"success", "tag memory overrun", "tag memory locked",
	"insufficient power", "nonspecific tag error", "no response from tag", "nonspecific reader error"}

// WriteResultText explains a C1G2WriteOpSpecResult result code.
func WriteResultText(code uint8) string {
	if int(code) < len(writeResultText) {
		return writeResultText[code]
	}
	return fmt.Sprintf("result %d", code)
}

// AppendWriteReport appends an RO_ACCESS_REPORT with one tag report that
// carries the result of an access spec's write on the tag r (its EPC before
// the write).
func AppendWriteReport(dst []byte, id uint32, r *rfid.Read, w WriteResult) []byte {
	wb := builder{b: dst}
	m := wb.beginMsg(MsgROAccessReport, id)
	o := wb.begin(ParamTagReportData)
	if r.EPC.BitLen() == 96 {
		wb.tv(ParamEPC96, r.EPC.Bytes()...)
	} else {
		e := wb.begin(ParamEPCData)
		wb.u16(uint16(r.EPC.BitLen()))
		wb.b = append(wb.b, r.EPC.Bytes()...)
		wb.end(e)
	}
	wb.tv(ParamAntennaID, byte(r.Antenna>>8), byte(r.Antenna))
	wb.b = append(wb.b, 0x80|byte(ParamAccessSpecID))
	wb.u32(w.AccessSpecID)
	p := wb.begin(ParamC1G2WriteOpSpecResult)
	wb.u8(w.Result)
	wb.u16(w.OpSpecID)
	wb.u16(w.WordsWritten)
	wb.end(p)
	wb.end(o)
	wb.endMsg(m)
	return wb.b
}
