package printersim

import (
	"bytes"
	"image/png"
	"testing"
)

func TestPreviewDrawsFields(t *testing.T) {
	z := []byte("^XA^PW400^LL300^FO20,20^A0N,40,40^FDLOT 24A017^FS" +
		"^FO20,80^BY2^BCN,80,N,N^FD>:ABC123^FS^FO250,150^BQN,2,3^FDQA,https://id.gs1.org/01/09520123456788^FS^XZ")
	b, err := Preview(z)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 400 || r.Dy() != 300 {
		t.Fatalf("size %v", r)
	}
	black := func(x0, y0, x1, y1 int) int {
		n := 0
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
					n++
				}
			}
		}
		return n
	}
	if black(20, 20, 380, 60) == 0 {
		t.Error("no text drawn")
	}
	if black(20, 80, 240, 160) == 0 {
		t.Error("no barcode drawn")
	}
	if black(250, 150, 400, 300) == 0 {
		t.Error("no QR drawn")
	}
	if _, err := Preview([]byte("no format here")); err == nil {
		t.Error("preview of nothing")
	}
}
