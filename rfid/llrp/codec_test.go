package llrp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/llrp/llrptest"
)

const testCap = 64 << 10

// decodeBody parses a message body by type into the fixture's Decoded form.
func decodeBody(m llrp.Message) (any, error) {
	switch m.Type {
	case llrp.MsgROAccessReport:
		var d llrp.ReportDecoder
		if err := d.Decode(m.Body); err != nil {
			return nil, err
		}
		return append([]rfid.Read{}, d.Reads...), nil
	case llrp.MsgReaderEventNotification:
		return llrp.ParseReaderEvent(m.Body)
	case llrp.MsgSetReaderConfig:
		return llrp.ParseReaderConfig(m.Body)
	case llrp.MsgGetReaderConfig:
		return llrp.ParseGetReaderConfig(m.Body)
	case llrp.MsgGetReaderConfigResponse:
		return llrp.ParseGetReaderConfigResponse(m.Body)
	case llrp.MsgAddROSpec:
		return llrp.ParseAddROSpec(m.Body)
	case llrp.MsgAddAccessSpec:
		return llrp.ParseAddAccessSpec(m.Body)
	case llrp.MsgErrorMessage, llrp.MsgAddROSpecResponse, llrp.MsgSetReaderConfigResponse, llrp.MsgCloseConnectionResponse:
		return llrp.ParseStatus(m.Body)
	case llrp.MsgGetReaderCapabilitiesResponse:
		return llrp.ParseCapabilities(m.Body)
	}
	if len(m.Body) != 0 {
		return nil, fmt.Errorf("unexpected body for type %d", m.Type)
	}
	return nil, nil
}

func encode(f llrptest.Fixture, h llrp.Header) []byte {
	if h.Type == llrp.MsgGetReaderConfigResponse {
		return llrp.AppendGetReaderConfigResponse(nil, h.ID, llrp.Status{}, f.Decoded.(llrp.ReaderConfig))
	}
	switch v := f.Decoded.(type) {
	case nil:
		return llrp.AppendEmpty(nil, h.Type, h.ID)
	case []rfid.Read:
		return llrp.AppendROAccessReport(nil, h.ID, v)
	case llrp.EventData:
		return llrp.AppendReaderEvent(nil, h.ID, v)
	case llrp.ReaderConfig:
		return llrp.AppendSetReaderConfig(nil, h.ID, v)
	case llrp.GetReaderConfig:
		return llrp.AppendGetReaderConfig(nil, h.ID, v)
	case llrp.ROSpec:
		return llrp.AppendAddROSpec(nil, h.ID, v)
	case llrp.Status:
		return llrp.AppendResponse(nil, h.Type, h.ID, v)
	}
	panic(fmt.Sprintf("no encoder for %T", f.Decoded))
}

func TestFixtures(t *testing.T) {
	for _, f := range llrptest.Fixtures {
		t.Run(f.Desc, func(t *testing.T) {
			m, err := llrp.NewDecoder(bytes.NewReader(f.Raw), testCap).Next()
			if f.Framing {
				if !errors.Is(err, f.Err) {
					t.Fatalf("Next() error %v, want %v", err, f.Err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Next(): %v", err)
			}
			got, err := decodeBody(m)
			if f.Err != nil {
				if !errors.Is(err, f.Err) {
					t.Fatalf("decode error %v, want %v", err, f.Err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, f.Decoded) {
				t.Fatalf("decoded\n %#v\nwant\n %#v", got, f.Decoded)
			}
			if f.Encode {
				if enc := encode(f, m.Header); !bytes.Equal(enc, f.Raw) {
					t.Fatalf("encoded\n %x\nwant\n %x", enc, f.Raw)
				}
			}
		})
	}
}

// chunkReader returns its input in chunks of the given sizes, cycling.
type chunkReader struct {
	b     []byte
	sizes []int
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := r.sizes[r.i%len(r.sizes)]
	r.i++
	n = min(n, len(p), len(r.b))
	copy(p, r.b[:n])
	r.b = r.b[n:]
	return n, nil
}

func TestDecoderChunkedStream(t *testing.T) {
	var stream []byte
	var want []llrptest.Fixture
	for _, f := range llrptest.Fixtures {
		if !f.Framing {
			stream = append(stream, f.Raw...)
			want = append(want, f)
		}
	}
	readers := map[string]io.Reader{
		"one byte": iotest.OneByteReader(bytes.NewReader(stream)),
		"3,7,1":    &chunkReader{b: stream, sizes: []int{3, 7, 1}},
		"half":     iotest.HalfReader(bytes.NewReader(stream)),
	}
	for name, r := range readers {
		dec := llrp.NewDecoder(r, testCap)
		for _, f := range want {
			m, err := dec.Next()
			if err != nil {
				t.Fatalf("%s: %s: %v", name, f.Desc, err)
			}
			if n := int(m.Length); !bytes.Equal(append(llrp.AppendHeader(nil, m.Type, m.Length, m.ID), m.Body...), f.Raw[:n]) {
				t.Fatalf("%s: %s: bytes differ", name, f.Desc)
			}
		}
		if _, err := dec.Next(); err != io.EOF {
			t.Fatalf("%s: at end: %v, want io.EOF", name, err)
		}
	}
	_, err := llrp.NewDecoder(bytes.NewReader(llrptest.Fixtures[3].Raw[:15]), testCap).Next()
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated message: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestCapabilitiesAndAccessSpecRoundTrip(t *testing.T) {
	caps := llrp.Capabilities{MaxAntennas: 4, HasUTCClock: true, Manufacturer: 25882, Model: 2001002, Firmware: "7.1.0"}
	m, err := llrp.NewDecoder(bytes.NewReader(llrp.AppendCapabilitiesResponse(nil, 9, llrp.Status{}, caps)), 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	got, err := llrp.ParseCapabilities(m.Body)
	if err != nil || !reflect.DeepEqual(got, caps) {
		t.Fatalf("capabilities %+v, %v", got, err)
	}
	target := rfid.MustParseEPC("E2801160600002084E5C7A11")
	newEPC := rfid.MustParseEPC("3074257BF7194E4000001A85")
	spec, err := llrp.WriteEPCSpec(7, 1, 0, target, newEPC, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err = llrp.NewDecoder(bytes.NewReader(llrp.AppendAddAccessSpec(nil, 3, spec)), 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	back, err := llrp.ParseAddAccessSpec(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, spec) {
		t.Fatalf("access spec\n %+v\nwant\n %+v", back, spec)
	}
	if spec.WordPointer != 2 || len(spec.Words) != 6 {
		t.Fatalf("same-length EPC write must start at word 2 with 6 words: %+v", spec)
	}
	longer := rfid.MustParseEPC("3074257BF7194E4000001A850000")
	spec, _ = llrp.WriteEPCSpec(7, 1, 0, target, longer, 0)
	if spec.WordPointer != 1 || spec.Words[0] != 7<<11 {
		t.Fatalf("length change must rewrite the PC word: %+v", spec)
	}
	if _, err := llrp.WriteEPCSpec(7, 1, 0, target, rfid.MustParseEPC("30742"), 0); err == nil {
		t.Fatal("odd-length EPC accepted")
	}
}

func TestStatusError(t *testing.T) {
	body := llrp.AppendResponse(nil, llrp.MsgAddROSpecResponse, 1, llrp.Status{Code: 101, Description: "bad"})[llrp.HeaderLen:]
	err := llrp.CheckResponse(llrp.MsgAddROSpec, body)
	var se *llrp.StatusError
	if !errors.As(err, &se) || se.Code != 101 || !errors.Is(err, rfid.ErrReaderStatus) {
		t.Fatalf("CheckResponse = %v", err)
	}
}

func TestReportDecodeDoesNotAllocate(t *testing.T) {
	msg := benchReport(100)
	var d llrp.ReportDecoder
	body := msg[llrp.HeaderLen:]
	if err := d.Decode(body); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(50, func() { _ = d.Decode(body) }); n != 0 {
		t.Fatalf("Decode allocates %v times per report", n)
	}
	if len(d.Reads) != 100 {
		t.Fatalf("%d reads", len(d.Reads))
	}
}

// benchReport builds an RO_ACCESS_REPORT of n distinct SGTIN-96 tags.
func benchReport(n int) []byte {
	reads := make([]rfid.Read, n)
	for i := range reads {
		e := rfid.MustParseEPC(fmt.Sprintf("3034257BF40C0E40%08X", i))
		reads[i] = rfid.Read{EPC: e, Antenna: uint16(1 + i%2), RSSI: -50, HasRSSI: true, ReaderTime: llrptest.FirstSeen, SeenCount: 1}
	}
	return llrp.AppendROAccessReport(nil, 1, reads)
}

func BenchmarkReportDecode(b *testing.B) {
	body := benchReport(200)[llrp.HeaderLen:]
	var d llrp.ReportDecoder
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*200/b.Elapsed().Seconds(), "reads/s")
}

func FuzzDecoder(f *testing.F) {
	for _, fx := range llrptest.Fixtures {
		f.Add(fx.Raw, uint8(3))
	}
	f.Add(benchReport(3), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		sizes := []int{int(chunk%17) + 1, 1, int(chunk%5) + 2}
		dec := llrp.NewDecoder(&chunkReader{b: data, sizes: sizes}, 4096)
		for range 64 {
			m, err := dec.Next()
			if err != nil {
				return
			}
			if int(m.Length) != llrp.HeaderLen+len(m.Body) {
				t.Fatalf("length %d but body %d", m.Length, len(m.Body))
			}
			v, err := decodeBody(m)
			if err != nil {
				continue
			}
			if reads, ok := v.([]rfid.Read); ok {
				for _, r := range reads {
					if r.EPC.BitLen() > rfid.MaxEPCBits || len(r.EPC.Bytes()) != (r.EPC.BitLen()+7)/8 {
						t.Fatalf("bad EPC %v", r.EPC)
					}
				}
				// A decoded report re-encodes and decodes to the same reads.
				again := llrp.AppendROAccessReport(nil, m.ID, reads)
				m2, err := llrp.NewDecoder(bytes.NewReader(again), 1<<20).Next()
				if err != nil {
					t.Fatal(err)
				}
				v2, err := decodeBody(m2)
				if err != nil {
					t.Fatal(err)
				}
				r2 := v2.([]rfid.Read)
				for i := range reads {
					if r2[i].EPC != reads[i].EPC || r2[i].Antenna != reads[i].Antenna || r2[i].RSSI != reads[i].RSSI {
						t.Fatalf("round trip changed read %d: %+v → %+v", i, reads[i], r2[i])
					}
				}
			}
		}
	})
}
