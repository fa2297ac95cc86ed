package zebra

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers"
)

func parseAny(raw []byte) (*HostStatus, *ExtendedStatus, error) {
	if isHQESFrame(raw) {
		x, err := ParseHQES(raw)
		return nil, &x, err
	}
	h, err := ParseHS(raw)
	return &h, nil, err
}

func TestFixtures(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.desc, func(t *testing.T) {
			hs, x, err := parseAny([]byte(f.raw))
			if f.err {
				if err == nil {
					t.Fatalf("parsed %+v %+v, want an error", hs, x)
				}
				if !errors.Is(err, printers.ErrBadStatus) {
					t.Fatalf("error %v does not wrap ErrBadStatus", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.hs != nil && !reflect.DeepEqual(*hs, *f.hs) {
				t.Fatalf("got  %+v\nwant %+v", *hs, *f.hs)
			}
			if f.hqes != nil && !reflect.DeepEqual(*x, *f.hqes) {
				t.Fatalf("got  %+v\nwant %+v", *x, *f.hqes)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, f := range fixtures {
		if f.err {
			continue
		}
		if f.hs != nil {
			raw := AppendHS(nil, *f.hs)
			got, err := ParseHS(raw)
			if err != nil || !reflect.DeepEqual(got, *f.hs) {
				t.Errorf("%s: round trip %q: %+v %v", f.desc, raw, got, err)
			}
		}
		if f.hqes != nil {
			raw := AppendHQES(nil, *f.hqes)
			got, err := ParseHQES(raw)
			if err != nil || !reflect.DeepEqual(got, *f.hqes) {
				t.Errorf("%s: round trip %q: %+v %v", f.desc, raw, got, err)
			}
		}
	}
}

func TestComm(t *testing.T) {
	c := distinctHS.Comm() // 179 = 1011 0011
	want := Comm{Baud: 1200, DataBits: 7, StopBits: 1, Parity: "odd", Handshake: "dtr"}
	if c != want {
		t.Fatalf("Comm(179) = %+v, want %+v", c, want)
	}
	h := HostStatus{CommSettings: 0b1_0101_1011} // a8 + even-but-disabled + 1 stop + 8 bits + 011
	want = Comm{Baud: 115200, DataBits: 8, StopBits: 1, Parity: "none", Handshake: "xonxoff"}
	if c := h.Comm(); c != want {
		t.Fatalf("Comm(%d) = %+v, want %+v", h.CommSettings, c, want)
	}
}

func TestStatusMapping(t *testing.T) {
	at := time.Unix(100, 0)
	hs := distinctHS
	x := fixtures[3].hqes
	s := Status(at, &hs, x)
	if !s.Known || !s.PaperOut || !s.Paused || !s.HeadOpen || !s.RibbonOut || !s.BufferFull ||
		!s.UnderTemp || !s.OverTemp || !s.CorruptRAM || !s.PartialFormat || !s.LabelWaiting ||
		!s.HeadOverTemp || !s.MotorOverTemp || !s.BadHead || !s.HeadDetect {
		t.Fatalf("flags lost: %+v", s)
	}
	if s.FormatsInBuffer != 56 || s.LabelsRemaining != 12345 {
		t.Fatalf("counts: %d %d", s.FormatsInBuffer, s.LabelsRemaining)
	}
	if s.CutterFault {
		t.Fatal("cutter fault set from 0xF5 (bit 3 is clear)")
	}
	if s.Ready() || s.Drained() {
		t.Fatal("faulted status reports ready/drained")
	}
	for _, e := range []error{printers.ErrPaperOut, printers.ErrPaused, printers.ErrHeadOpen, printers.ErrRibbonOut, printers.ErrOverTemp} {
		if !errors.Is(s.Err(), e) {
			t.Errorf("Err() = %v, does not wrap %v", s.Err(), e)
		}
	}
	u := Status(at, nil, nil)
	if u.Known || u.Ready() || u.Drained() || !errors.Is(u.Err(), printers.ErrStatusTimeout) {
		t.Fatalf("unknown status reads as %+v ready=%v", u, u.Ready())
	}
	idle, _ := ParseHS([]byte(fixtures[1].raw))
	s = Status(at, &idle, &ExtendedStatus{})
	if !s.Ready() || !s.Drained() {
		t.Fatalf("idle printer not ready/drained: %s", s.Summary())
	}
}

// chunked is a reader returning its data in given chunk sizes.
type chunked struct {
	data  []byte
	sizes []int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = c.sizes[0]
		c.sizes = c.sizes[1:]
	}
	n = max(1, min(n, len(p), len(c.data)))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// readAll collects every reply and frame error from a stream.
func readAll(r io.Reader) (reps []Reply, frameErrs int, err error) {
	rd := NewReader(r)
	for {
		rep, err := rd.Next()
		switch {
		case err == nil:
			reps = append(reps, rep)
		case IsFrameError(err):
			frameErrs++
		case errors.Is(err, io.EOF):
			return reps, frameErrs, nil
		default:
			return reps, frameErrs, err
		}
	}
}

func TestReaderChunked(t *testing.T) {
	var all []byte
	var want int
	for _, f := range fixtures {
		if !f.err {
			all = append(all, f.raw...)
			want++
		}
	}
	whole, _, err := readAll(bytes.NewReader(all))
	if err != nil || len(whole) != want {
		t.Fatalf("whole stream: %d replies, %v; want %d", len(whole), err, want)
	}
	for size := 1; size <= 7; size++ {
		reps, _, err := readAll(&chunked{data: all, sizes: []int{size, size + 3, 1}})
		if err != nil || !reflect.DeepEqual(reps, whole) {
			t.Fatalf("chunk %d: %d replies, %v", size, len(reps), err)
		}
	}
}

func FuzzReader(f *testing.F) {
	for _, fx := range fixtures {
		f.Add([]byte(fx.raw), uint8(1), uint8(3))
	}
	f.Add([]byte(fixtures[0].raw+fixtures[3].raw), uint8(2), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		whole, errsWhole, err := readAll(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		sizes := []int{int(a)%17 + 1, int(b)%31 + 1, 1, int(a^b)%5 + 1}
		for i := 0; i < 6; i++ {
			sizes = append(sizes, sizes...)
		}
		reps, errsChunked, err := readAll(&chunked{data: data, sizes: sizes})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(reps, whole) || errsChunked != errsWhole {
			t.Fatalf("chunking changed the result: %d/%d replies, %d/%d frame errors", len(reps), len(whole), errsChunked, errsWhole)
		}
		for _, r := range whole {
			if r.HS != nil {
				back, err := ParseHS(AppendHS(nil, *r.HS))
				if err != nil || !reflect.DeepEqual(back, *r.HS) {
					t.Fatalf("re-encoded ~HS does not parse back: %+v %v", back, err)
				}
			}
		}
	})
}

func BenchmarkParseHS(b *testing.B) {
	raw := []byte(fixtures[0].raw)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := ParseHS(raw); err != nil {
			b.Fatal(err)
		}
	}
}
