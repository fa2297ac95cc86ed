package serialrdr

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/dockgate/dockgate/rfid"
)

// M100 framing constants.
const (
	M100Start = 0xBB
	M100End   = 0x7E
	// Frame types.
	M100TypeCommand  = 0x00
	M100TypeResponse = 0x01
	M100TypeNotice   = 0x02
	// Commands.
	M100CmdInventory = 0x22 // single inventory
	M100CmdMultiPoll = 0x27 // multi-poll: params 0x22, count u16
	M100CmdStop      = 0x28 // stop multi-poll
	M100CmdError     = 0xFF // error response; params[0] is the code
	M100ErrNoTag     = 0x15
	// M100MaxParams caps the parameter length accepted from a reader.
	M100MaxParams = 512
)

// M100Frame is one M100/JRD frame.
type M100Frame struct {
	Type   byte
	Cmd    byte
	Params []byte // aliases the decoder's buffer until the next call
}

// AppendM100 appends a frame: BB type cmd PL(u16 BE) params checksum 7E,
// the checksum being the low byte of the sum of type..params.
func AppendM100(dst []byte, typ, cmd byte, params []byte) []byte {
	start := len(dst)
	dst = append(dst, M100Start, typ, cmd)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(params)))
	dst = append(dst, params...)
	var sum byte
	for _, c := range dst[start+1:] {
		sum += c
	}
	return append(dst, sum, M100End)
}

// M100Decoder reads frames from a byte stream.
type M100Decoder struct {
	r *bufio.Reader
	// Skipped counts bytes discarded while resynchronising.
	Skipped int
	params  []byte
}

// NewM100Decoder reads frames from r.
func NewM100Decoder(r io.Reader) *M100Decoder {
	return &M100Decoder{r: bufio.NewReaderSize(r, M100MaxParams+16)}
}

// Next returns the next valid frame. Bytes that do not start a frame with a
// sane length, a correct checksum and the end byte are skipped one at a
// time, so a frame after garbage is still found.
func (d *M100Decoder) Next() (M100Frame, error) {
	for {
		b, err := d.r.Peek(1)
		if err != nil {
			return M100Frame{}, err
		}
		if b[0] != M100Start {
			d.skip()
			continue
		}
		h, err := d.r.Peek(5)
		if err == io.EOF {
			// The stream ended inside a candidate: it was garbage if a
			// shorter frame follows.
			d.skip()
			continue
		}
		if err != nil {
			return M100Frame{}, err
		}
		pl := int(binary.BigEndian.Uint16(h[3:]))
		if pl > M100MaxParams {
			d.skip()
			continue
		}
		f, err := d.r.Peek(5 + pl + 2)
		if err == io.EOF {
			// The stream ended inside a candidate: it was garbage if a
			// shorter frame follows.
			d.skip()
			continue
		}
		if err != nil {
			return M100Frame{}, err
		}
		var sum byte
		for _, c := range f[1 : 5+pl] {
			sum += c
		}
		if f[5+pl] != sum || f[6+pl] != M100End {
			d.skip()
			continue
		}
		d.params = append(d.params[:0], f[5:5+pl]...)
		fr := M100Frame{Type: f[1], Cmd: f[2], Params: d.params}
		_, _ = d.r.Discard(7 + pl)
		return fr, nil
	}
}

func (d *M100Decoder) skip() {
	_, _ = d.r.Discard(1)
	d.Skipped++
}

// M100Tag decodes a tag notice (type 02, cmd 22): RSSI (int8 dBm), PC, EPC,
// CRC. The EPC length comes from the frame length.
func M100Tag(f M100Frame, rd *rfid.Read) error {
	if f.Type != M100TypeNotice || f.Cmd != M100CmdInventory {
		return fmt.Errorf("%w: M100 frame type %#02x cmd %#02x is not a tag notice", rfid.ErrFraming, f.Type, f.Cmd)
	}
	if len(f.Params) < 5+2 {
		return fmt.Errorf("%w: M100 tag notice of %d bytes has no EPC", rfid.ErrFraming, len(f.Params))
	}
	epc := f.Params[3 : len(f.Params)-2]
	if err := rd.EPC.Set(epc, len(epc)*8); err != nil {
		return err
	}
	rd.RSSI, rd.HasRSSI = int8(f.Params[0]), true
	rd.PC = binary.BigEndian.Uint16(f.Params[1:])
	return nil
}

// AppendM100Tag appends a tag notice for rd (as a reader sends it).
func AppendM100Tag(dst []byte, rd *rfid.Read) []byte {
	p := make([]byte, 0, 5+len(rd.EPC.Bytes()))
	pc := rd.PC
	if pc == 0 {
		pc = uint16((len(rd.EPC.Bytes())+1)/2) << 11
	}
	p = append(p, byte(rd.RSSI), byte(pc>>8), byte(pc))
	p = append(p, rd.EPC.Bytes()...)
	crc := crc16Genibus(p[1:])
	p = append(p, byte(crc>>8), byte(crc))
	return AppendM100(dst, M100TypeNotice, M100CmdInventory, p)
}

// crc16Genibus is the Gen2 tag CRC-16 (poly 0x1021, init 0xFFFF, inverted)
// over PC+EPC, as the tag backscatters it.
func crc16Genibus(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return ^crc
}
