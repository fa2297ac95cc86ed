package zpl

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/dockgate/dockgate/encoder/label"
)

// CRC16XMODEM is CRC-16/XMODEM (poly 0x1021, init 0, no reflection), the
// check ZPL puts after Z64 graphic data.
func CRC16XMODEM(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for i := 0; i < 8; i++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// Z64 encodes data as ":Z64:<base64(zlib(data))>:<crc>".
func Z64(data []byte) string {
	var zb bytes.Buffer
	w, _ := zlib.NewWriterLevel(&zb, zlib.BestCompression)
	w.Write(data)
	w.Close()
	b64 := base64.StdEncoding.EncodeToString(zb.Bytes())
	return fmt.Sprintf(":Z64:%s:%04x", b64, CRC16XMODEM([]byte(b64)))
}

// PackBitmap packs a bitmap into rows of whole bytes, most significant bit
// first, 1 = black, as ^GF expects. It returns the bytes and bytes per row.
func PackBitmap(bm *label.Bitmap) ([]byte, int) {
	bpr := (bm.W + 7) / 8
	out := make([]byte, bpr*bm.H)
	for y := 0; y < bm.H; y++ {
		row := out[y*bpr:]
		for x := 0; x < bm.W; x++ {
			if bm.Pix[y*bm.W+x] {
				row[x>>3] |= 0x80 >> (x & 7)
			}
		}
	}
	return out, bpr
}

// GF returns a ^GFA command drawing the bitmap, Z64-compressed.
func GF(bm *label.Bitmap) string {
	data, bpr := PackBitmap(bm)
	n := strconv.Itoa(len(data))
	return "^GFA," + n + "," + n + "," + strconv.Itoa(bpr) + "," + Z64(data)
}
