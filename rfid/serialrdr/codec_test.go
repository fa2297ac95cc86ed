package serialrdr_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

// fixture is one frame on the wire and what it decodes to.
type fixture struct {
	desc    string
	proto   string
	raw     []byte
	decoded any // serialrdr.M100Frame, serialrdr.RU5102Frame, rfid.Read, []rfid.Read
	err     error
}

var epc96 = rfid.MustParseEPC("3074257BF7194E4000001A85")

var fixtures = []fixture{
	{desc: "M100 single inventory command", proto: "m100", raw: hx("BB 00 22 0000 22 7E"),
		decoded: serialrdr.M100Frame{Type: 0, Cmd: 0x22, Params: nil}},
	{desc: "M100 stop multi-poll", proto: "m100", raw: hx("BB 00 28 0000 28 7E"),
		decoded: serialrdr.M100Frame{Type: 0, Cmd: 0x28, Params: nil}},
	{desc: "M100 multi-poll 10000 rounds", proto: "m100", raw: hx("BB 00 27 0003 22 2710 83 7E"),
		decoded: serialrdr.M100Frame{Type: 0, Cmd: 0x27, Params: hx("22 2710")}},
	{desc: "M100 no tag error", proto: "m100", raw: hx("BB 01 FF 0001 15 16 7E"),
		decoded: serialrdr.M100Frame{Type: 1, Cmd: 0xFF, Params: []byte{0x15}}},
	{desc: "M100 tag notice: RSSI -55, PC 3000, EPC-96, CRC", proto: "m100",
		raw:     hx("BB 02 22 0011 C9 3000 3074257BF7194E4000001A85 AAF9 52 7E"),
		decoded: rfid.Read{EPC: epc96, RSSI: -55, HasRSSI: true, PC: 0x3000}},
	{desc: "M100 bad checksum is skipped", proto: "m100", raw: hx("BB 00 22 0000 23 7E"), err: io.EOF},
	{desc: "RU5102 inventory command at address 0", proto: "ru5102", raw: hx("04 00 01 DB 4B"),
		decoded: serialrdr.RU5102Frame{Addr: 0, Cmd: 1, Data: nil}},
	{desc: "RU5102 inventory reply with two EPCs", proto: "ru5102",
		raw:     serialrdr.AppendRU5102Inventory(nil, 0, []rfid.EPC{epc96, rfid.MustParseEPC("E2801160600002084E5C7A11")}),
		decoded: []rfid.Read{{EPC: epc96}, {EPC: rfid.MustParseEPC("E2801160600002084E5C7A11")}}},
	{desc: "RU5102 no tag", proto: "ru5102", raw: hx("05 00 01 FB F2 3D"), decoded: []rfid.Read(nil)},
	{desc: "RU5102 bad CRC is skipped", proto: "ru5102", raw: hx("04 00 01 DB 4C"), err: io.EOF},
	{desc: "ASCII EPC, antenna, RSSI", proto: "ascii", raw: []byte("3074257BF7194E4000001A85,2,-61\r\n"),
		decoded: rfid.Read{EPC: epc96, Antenna: 2, RSSI: -61, HasRSSI: true}},
	{desc: "ASCII bare EPC", proto: "ascii", raw: []byte("3074257bf7194e4000001a85\n"), decoded: rfid.Read{EPC: epc96}},
	{desc: "ASCII garbage line then EOF", proto: "ascii", raw: []byte("hello world\n"), err: io.EOF},
}

// decodeOne decodes the first item of raw with the fixture's protocol.
func decodeOne(proto string, r io.Reader) (any, error) {
	switch proto {
	case "m100":
		f, err := serialrdr.NewM100Decoder(r).Next()
		if err != nil {
			return nil, err
		}
		if f.Type == serialrdr.M100TypeNotice {
			var rd rfid.Read
			err := serialrdr.M100Tag(f, &rd)
			return rd, err
		}
		return f, nil
	case "ru5102":
		f, err := serialrdr.NewRU5102Decoder(r).Next()
		if err != nil {
			return nil, err
		}
		if len(f.Data) > 0 {
			return serialrdr.RU5102Inventory(f, nil)
		}
		return f, nil
	}
	d, err := serialrdr.NewASCIIDecoder(r, "")
	if err != nil {
		return nil, err
	}
	var rd rfid.Read
	err = d.Next(&rd)
	return rd, err
}

func TestFixtures(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.desc, func(t *testing.T) {
			for name, r := range map[string]io.Reader{
				"whole":    bytes.NewReader(f.raw),
				"one byte": iotest.OneByteReader(bytes.NewReader(f.raw)),
				// Garbage before the frame must be skipped.
				"after garbage": io.MultiReader(bytes.NewReader([]byte{0x7E, 0xBB, 0x00, 0x01, 0x02, 0x03}), bytes.NewReader(f.raw)),
			} {
				if f.proto == "ascii" && name == "after garbage" {
					r = io.MultiReader(strings.NewReader("\x00\x7e junk\r\n"), bytes.NewReader(f.raw))
				}
				got, err := decodeOne(f.proto, r)
				if f.err != nil {
					if !errors.Is(err, f.err) && !(f.err == io.EOF && errors.Is(err, io.ErrUnexpectedEOF)) {
						t.Fatalf("%s: error %v, want %v", name, err, f.err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(got, f.decoded) {
					t.Fatalf("%s: decoded\n %#v\nwant\n %#v", name, got, f.decoded)
				}
			}
		})
	}
}

func TestEncodersMatchFixtures(t *testing.T) {
	if got := serialrdr.AppendM100(nil, 0, 0x27, hx("22 2710")); !bytes.Equal(got, fixtures[2].raw) {
		t.Errorf("multi-poll % X", got)
	}
	rd := fixtures[4].decoded.(rfid.Read)
	if got := serialrdr.AppendM100Tag(nil, &rd); !bytes.Equal(got, fixtures[4].raw) {
		t.Errorf("tag notice % X\nwant       % X", got, fixtures[4].raw)
	}
	if got := serialrdr.AppendRU5102(nil, 0, 1, nil); !bytes.Equal(got, hx("04 00 01 DB 4B")) {
		t.Errorf("RU5102 inventory % X", got)
	}
	if got := serialrdr.AppendRU5102Inventory(nil, 0, nil); !bytes.Equal(got, fixtures[8].raw) {
		t.Errorf("RU5102 no tag % X", got)
	}
	if got := serialrdr.CRC16MCRF4XX([]byte("abcdef")); got != 64265 {
		t.Errorf("CRC-16/MCRF4XX(abcdef) = %d, want 64265", got)
	}
	if got := string(serialrdr.AppendASCII(nil, &rfid.Read{EPC: epc96, Antenna: 2, RSSI: -61, HasRSSI: true})); got != string(fixtures[10].raw) {
		t.Errorf("ASCII %q", got)
	}
}

func TestOversizedLengthResyncs(t *testing.T) {
	// A start byte with a huge length must not swallow the next frame.
	stream := append(hx("BB 02 22 FFFF"), hx("BB 00 22 0000 22 7E")...)
	d := serialrdr.NewM100Decoder(bytes.NewReader(stream))
	f, err := d.Next()
	if err != nil || f.Cmd != 0x22 || f.Type != 0 {
		t.Fatalf("frame %+v, %v", f, err)
	}
	if d.Skipped != 5 {
		t.Errorf("skipped %d bytes, want 5", d.Skipped)
	}
	long := strings.Repeat("A", serialrdr.MaxASCIILine+10) + "\n3074257BF7194E4000001A85\n"
	ad, _ := serialrdr.NewASCIIDecoder(strings.NewReader(long), "")
	var rd rfid.Read
	if err := ad.Next(&rd); err != nil || rd.EPC != epc96 {
		t.Fatalf("after an overlong line: %v %v", rd.EPC, err)
	}
}

type chunkReader struct {
	b    []byte
	size int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := min(r.size, len(p), len(r.b))
	copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

func fuzzDecoder(f *testing.F, proto string) {
	for _, fx := range fixtures {
		if fx.proto == proto {
			f.Add(fx.raw, uint8(2))
			f.Add(append([]byte{0xBB, 0, 0xBB}, fx.raw...), uint8(1))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		r := &chunkReader{b: data, size: int(chunk%13) + 1}
		for range 64 {
			v, err := decodeOne(proto, r)
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return
				}
				continue
			}
			if rd, ok := v.(rfid.Read); ok && rd.EPC.BitLen() > rfid.MaxEPCBits {
				t.Fatal("EPC too long")
			}
		}
	})
}

func FuzzM100(f *testing.F)   { fuzzDecoder(f, "m100") }
func FuzzRU5102(f *testing.F) { fuzzDecoder(f, "ru5102") }
func FuzzASCII(f *testing.F)  { fuzzDecoder(f, "ascii") }

func BenchmarkM100Decode(b *testing.B) {
	var stream []byte
	rd := rfid.Read{EPC: epc96, RSSI: -50, HasRSSI: true}
	for range 1000 {
		stream = serialrdr.AppendM100Tag(stream, &rd)
	}
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		d := serialrdr.NewM100Decoder(bytes.NewReader(stream))
		var r rfid.Read
		for {
			f, err := d.Next()
			if err != nil {
				break
			}
			_ = serialrdr.M100Tag(f, &r)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "reads/s")
}
