package llrp

import (
	"encoding/binary"
	"fmt"
)

// Parameter types used by a portal client (LLRP 1.0.1 §17.2).
const (
	// TV parameters.
	ParamAntennaID                 uint16 = 1
	ParamFirstSeenTimestampUTC     uint16 = 2
	ParamFirstSeenTimestampUptime  uint16 = 3
	ParamLastSeenTimestampUTC      uint16 = 4
	ParamLastSeenTimestampUptime   uint16 = 5
	ParamPeakRSSI                  uint16 = 6
	ParamChannelIndex              uint16 = 7
	ParamTagSeenCount              uint16 = 8
	ParamROSpecID                  uint16 = 9
	ParamInventoryParameterSpecID  uint16 = 10
	ParamC1G2CRC                   uint16 = 11
	ParamC1G2PC                    uint16 = 12
	ParamEPC96                     uint16 = 13
	ParamSpecIndex                 uint16 = 14
	ParamClientRequestOpSpecResult uint16 = 15
	ParamAccessSpecID              uint16 = 16
	ParamOpSpecID                  uint16 = 17
	ParamC1G2SingulationDetails    uint16 = 18
	ParamC1G2XPCW1                 uint16 = 19
	ParamC1G2XPCW2                 uint16 = 20

	// TLV parameters.
	ParamUTCTimestamp                uint16 = 128
	ParamUptime                      uint16 = 129
	ParamGeneralDeviceCapabilities   uint16 = 137
	ParamROSpec                      uint16 = 177
	ParamROBoundarySpec              uint16 = 178
	ParamROSpecStartTrigger          uint16 = 179
	ParamROSpecStopTrigger           uint16 = 182
	ParamAISpec                      uint16 = 183
	ParamAISpecStopTrigger           uint16 = 184
	ParamInventoryParameterSpec      uint16 = 186
	ParamAccessSpec                  uint16 = 207
	ParamAccessSpecStopTrigger       uint16 = 208
	ParamAccessCommand               uint16 = 209
	ParamKeepaliveSpec               uint16 = 220
	ParamEventsAndReports            uint16 = 226
	ParamROReportSpec                uint16 = 237
	ParamTagReportContentSelector    uint16 = 238
	ParamAccessReportSpec            uint16 = 239
	ParamTagReportData               uint16 = 240
	ParamEPCData                     uint16 = 241
	ParamReaderEventNotificationSpec uint16 = 244
	ParamEventNotificationState      uint16 = 245
	ParamReaderEventNotificationData uint16 = 246
	ParamROSpecEvent                 uint16 = 249
	ParamReportBufferLevelWarning    uint16 = 250
	ParamReportBufferOverflowError   uint16 = 251
	ParamReaderExceptionEvent        uint16 = 252
	ParamAntennaEvent                uint16 = 255
	ParamConnectionAttemptEvent      uint16 = 256
	ParamConnectionCloseEvent        uint16 = 257
	ParamLLRPStatus                  uint16 = 287
	ParamFieldError                  uint16 = 288
	ParamParameterError              uint16 = 289
	ParamC1G2TagSpec                 uint16 = 338
	ParamC1G2TargetTag               uint16 = 339
	ParamC1G2Write                   uint16 = 342
	ParamC1G2WriteOpSpecResult       uint16 = 350
	ParamCustom                      uint16 = 1023
	maxTVType                        uint16 = 127
	minTLVType                       uint16 = 128
	tlvHeaderLen                            = 4
	paramReserved6Mask                      = 0x3FF
)

// tvSize is the value size in bytes of each TV parameter type; 0 = unknown.
var tvSize = [maxTVType + 1]uint8{
	1: 2, 2: 8, 3: 8, 4: 8, 5: 8, 6: 1, 7: 2, 8: 2, 9: 4, 10: 2,
	11: 2, 12: 2, 13: 12, 14: 2, 15: 2, 16: 4, 17: 2, 18: 4, 19: 2, 20: 2,
}

// TVSize returns the value size of TV parameter type t, or false if t is
// not a known TV type (such a parameter cannot be skipped).
func TVSize(t uint16) (int, bool) {
	if t == 0 || t > maxTVType || tvSize[t] == 0 {
		return 0, false
	}
	return int(tvSize[t]), true
}

// Param is one parameter: its type and value (the bytes after its header).
// For a custom parameter (type 1023) Value starts with the vendor ID.
type Param struct {
	Type  uint16
	TV    bool
	Value []byte
}

// Params walks the parameters in a message body or parameter value.
type Params struct {
	b   []byte
	err error
}

// NewParams walks the parameters encoded in b.
func NewParams(b []byte) Params { return Params{b: b} }

// Next returns the next parameter, or false at the end or on a malformed
// parameter (then Err is set).
func (it *Params) Next() (Param, bool) {
	if len(it.b) == 0 || it.err != nil {
		return Param{}, false
	}
	p, n, err := nextParam(it.b)
	if err != nil {
		it.err = err
		return Param{}, false
	}
	it.b = it.b[n:]
	return p, true
}

// Err is the error that ended the walk, nil at a clean end.
func (it *Params) Err() error { return it.err }

// nextParam decodes the parameter at the start of b and returns its length.
func nextParam(b []byte) (Param, int, error) {
	if b[0]&0x80 != 0 {
		t := uint16(b[0] & 0x7F)
		n, ok := TVSize(t)
		if !ok {
			return Param{}, 0, fmt.Errorf("%w: unknown TV parameter type %d cannot be skipped", ErrMalformed, t)
		}
		if len(b) < 1+n {
			return Param{}, 0, fmt.Errorf("%w: TV parameter %d needs %d bytes, %d left", ErrMalformed, t, n, len(b)-1)
		}
		return Param{Type: t, TV: true, Value: b[1 : 1+n]}, 1 + n, nil
	}
	if len(b) < tlvHeaderLen {
		return Param{}, 0, fmt.Errorf("%w: %d stray bytes after the last parameter", ErrMalformed, len(b))
	}
	t := binary.BigEndian.Uint16(b) & paramReserved6Mask
	n := int(binary.BigEndian.Uint16(b[2:]))
	if t < minTLVType {
		return Param{}, 0, fmt.Errorf("%w: TLV parameter type %d is below 128", ErrMalformed, t)
	}
	if n < tlvHeaderLen || n > len(b) {
		return Param{}, 0, fmt.Errorf("%w: TLV parameter %d claims %d bytes, %d left", ErrMalformed, t, n, len(b))
	}
	return Param{Type: t, Value: b[tlvHeaderLen:n]}, n, nil
}

// find returns the first top-level parameter of type t in b.
func find(b []byte, t uint16) (Param, bool, error) {
	it := NewParams(b)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		if p.Type == t {
			return p, true, nil
		}
	}
	return Param{}, false, it.Err()
}

// builder appends messages and parameters, patching lengths at the end.
type builder struct {
	b []byte
}

func (w *builder) beginMsg(typ uint16, id uint32) int {
	off := len(w.b)
	w.b = AppendHeader(w.b, typ, 0, id)
	return off
}

func (w *builder) endMsg(off int) {
	binary.BigEndian.PutUint32(w.b[off+2:], uint32(len(w.b)-off))
}

func (w *builder) begin(typ uint16) int {
	off := len(w.b)
	w.b = binary.BigEndian.AppendUint16(w.b, typ&paramReserved6Mask)
	w.b = append(w.b, 0, 0)
	return off
}

func (w *builder) end(off int) {
	binary.BigEndian.PutUint16(w.b[off+2:], uint16(len(w.b)-off))
}

func (w *builder) u8(v uint8)   { w.b = append(w.b, v) }
func (w *builder) u16(v uint16) { w.b = binary.BigEndian.AppendUint16(w.b, v) }
func (w *builder) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }
func (w *builder) u64(v uint64) { w.b = binary.BigEndian.AppendUint64(w.b, v) }
func (w *builder) utf8(s string) {
	w.u16(uint16(len(s)))
	w.b = append(w.b, s...)
}
func (w *builder) tv(t uint16, v ...byte) {
	w.b = append(w.b, 0x80|byte(t))
	w.b = append(w.b, v...)
}

// reader reads fixed fields from a parameter value, remembering the first
// short read.
type reader struct {
	b    []byte
	what string
	err  error
}

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("%w: %s is truncated (%d bytes short)", ErrMalformed, r.what, n-len(r.b))
		return false
	}
	return true
}

func (r *reader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) u64() uint64 {
	if !r.need(8) {
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) utf8() string {
	n := int(r.u16())
	return string(r.bytes(n))
}
