package printersim

import (
	"bytes"
	"testing"
)

// feedAll runs data through a fresh simulator's stream parser in chunks of
// the given sizes and returns the formats and the replies.
func feedAll(data []byte, sizes []int) ([][]byte, []byte) {
	s := New(Options{})
	p := &parser{s: s}
	var out []byte
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(sizes) > 0 {
			n = max(1, min(sizes[i%len(sizes)], len(data)))
		}
		out = append(out, p.feed(data[:n])...)
		data = data[n:]
	}
	var fs [][]byte
	for _, f := range s.Formats() {
		fs = append(fs, f.ZPL)
	}
	return fs, out
}

func FuzzParser(f *testing.F) {
	f.Add([]byte("^XA^FDa^FS^XZ~HS^XA^PQ2^FDb~HQES^XZ"), uint8(1), uint8(2))
	f.Add([]byte("junk ^X ^XA~H~HS^XZ^XZ^^XA^XZ"), uint8(3), uint8(1))
	f.Add([]byte("~HQE~HQES^XA^FD~~^XZ^"), uint8(2), uint8(7))
	f.Add([]byte("! U1 getvar \"odometer.total_label_count\"\r\n~HQOD~RVE^XA^RS8^RFW,H,,,A^FD3034^FS^FN1^RFR,H,0,12,E^FS^HV1,24,DGV1[,],L^FS^XZ~RVD"), uint8(4), uint8(3))
	f.Add([]byte("!!\n! U1 getvar \"device.uptime\" ~HQ~HQO^XA^HRa,b^XZ"), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, a, b uint8) {
		whole, rw := feedAll(data, nil)
		chunked, rc := feedAll(data, []int{int(a)%9 + 1, int(b)%5 + 1, 1})
		if len(whole) != len(chunked) || !bytes.Equal(rw, rc) {
			t.Fatalf("chunking changed the result: %d/%d formats, %d/%d reply bytes", len(chunked), len(whole), len(rc), len(rw))
		}
		for i := range whole {
			if !bytes.Equal(whole[i], chunked[i]) {
				t.Fatalf("format %d: %q vs %q", i, chunked[i], whole[i])
			}
			// command names are not case sensitive: ^xa … ^Xz is a format
			if w := whole[i]; len(w) < 6 || !bytes.EqualFold(w[:3], []byte("^XA")) || !bytes.EqualFold(w[len(w)-3:], []byte("^XZ")) {
				t.Fatalf("format %q is not ^XA…^XZ", whole[i])
			}
		}
	})
}
