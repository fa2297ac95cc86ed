package serialrdr

import (
	"bufio"
	"fmt"
	"io"

	"github.com/dockgate/dockgate/rfid"
)

// CF-RU5102 constants.
const (
	RU5102CmdInventory = 0x01
	RU5102StatusNoTag  = 0xFB
	// RU5102 frames: Len counts the bytes after itself; at least address,
	// command and CRC.
	ru5102MinLen = 4
)

// CRC16MCRF4XX is the RU5102 checksum: reflected poly 0x8408, init 0xFFFF,
// no final xor.
func CRC16MCRF4XX(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, c := range b {
		crc ^= uint16(c)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0x8408
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// RU5102Frame is one frame. In a reply, Data starts with the status byte.
type RU5102Frame struct {
	Addr byte
	Cmd  byte
	Data []byte // aliases the decoder's buffer until the next call
}

// AppendRU5102 appends Len Adr Cmd Data CRClo CRChi.
func AppendRU5102(dst []byte, addr, cmd byte, data []byte) []byte {
	start := len(dst)
	dst = append(dst, byte(len(data)+4), addr, cmd)
	dst = append(dst, data...)
	crc := CRC16MCRF4XX(dst[start:])
	return append(dst, byte(crc), byte(crc>>8))
}

// RU5102Decoder reads frames from a byte stream. The framing has no start
// byte: a candidate frame whose CRC fails is dropped one byte at a time.
type RU5102Decoder struct {
	r       *bufio.Reader
	Skipped int
	data    []byte
}

// NewRU5102Decoder reads frames from r.
func NewRU5102Decoder(r io.Reader) *RU5102Decoder {
	return &RU5102Decoder{r: bufio.NewReaderSize(r, 512)}
}

// Next returns the next frame whose CRC holds.
func (d *RU5102Decoder) Next() (RU5102Frame, error) {
	for {
		b, err := d.r.Peek(1)
		if err != nil {
			return RU5102Frame{}, err
		}
		n := int(b[0])
		if n < ru5102MinLen {
			d.skip()
			continue
		}
		f, err := d.r.Peek(1 + n)
		if err == io.EOF {
			// The stream ended inside a candidate: it was garbage if a
			// shorter frame follows.
			d.skip()
			continue
		}
		if err != nil {
			return RU5102Frame{}, err
		}
		crc := CRC16MCRF4XX(f[:n-1])
		if f[n-1] != byte(crc) || f[n] != byte(crc>>8) {
			d.skip()
			continue
		}
		d.data = append(d.data[:0], f[3:n-1]...)
		fr := RU5102Frame{Addr: f[1], Cmd: f[2], Data: d.data}
		_, _ = d.r.Discard(1 + n)
		return fr, nil
	}
}

func (d *RU5102Decoder) skip() {
	_, _ = d.r.Discard(1)
	d.Skipped++
}

// RU5102Inventory decodes an inventory reply: Status Num [EPCLen EPC]…,
// appending a read per EPC. Status 0xFB (no tag) gives no reads.
func RU5102Inventory(f RU5102Frame, dst []rfid.Read) ([]rfid.Read, error) {
	if f.Cmd != RU5102CmdInventory {
		return dst, fmt.Errorf("%w: RU5102 reply to command %#02x is not an inventory", rfid.ErrFraming, f.Cmd)
	}
	if len(f.Data) < 1 {
		return dst, fmt.Errorf("%w: RU5102 reply without status", rfid.ErrFraming)
	}
	switch st := f.Data[0]; {
	case st == RU5102StatusNoTag:
		return dst, nil
	case st < 0x01 || st > 0x04:
		return dst, fmt.Errorf("%w: RU5102 inventory status %#02x", rfid.ErrReaderStatus, st)
	}
	if len(f.Data) < 2 {
		return dst, fmt.Errorf("%w: RU5102 inventory reply without tag count", rfid.ErrFraming)
	}
	num, b := int(f.Data[1]), f.Data[2:]
	for i := range num {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return dst, fmt.Errorf("%w: RU5102 inventory reply ends inside EPC %d of %d", rfid.ErrFraming, i+1, num)
		}
		n := int(b[0])
		dst = append(dst, rfid.Read{})
		if err := dst[len(dst)-1].EPC.Set(b[1:1+n], n*8); err != nil {
			return dst[:len(dst)-1], err
		}
		b = b[1+n:]
	}
	return dst, nil
}

// AppendRU5102Inventory appends an inventory reply carrying epcs (status
// 0x01), or status 0xFB when there are none.
func AppendRU5102Inventory(dst []byte, addr byte, epcs []rfid.EPC) []byte {
	if len(epcs) == 0 {
		return AppendRU5102(dst, addr, RU5102CmdInventory, []byte{RU5102StatusNoTag})
	}
	data := []byte{0x01, byte(len(epcs))}
	for i := range epcs {
		b := epcs[i].Bytes()
		data = append(data, byte(len(b)))
		data = append(data, b...)
	}
	return AppendRU5102(dst, addr, RU5102CmdInventory, data)
}
