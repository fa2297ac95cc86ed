package readersim

import (
	"encoding/binary"

	"github.com/dockgate/dockgate/rfid/llrp"
)

// Vendor extensions the simulator puts in its tag reports, so that clients'
// skip path for custom parameters runs on every report: an Impinj-style
// parameter (vendor 25882, subtype 56, RF phase angle u16) and a
// Zebra-style one (vendor 161, subtype 5, one byte) at the end of every
// TagReportData, and an Impinj-style one (subtype 57, peak RSSI s16
// dBm×100) after the last TagReportData.
var (
	tagCustom = customParam(customParam(nil, llrp.VendorImpinj, 56, []byte{0x04, 0x00}),
		VendorZebra, 5, []byte{0x01})
	reportCustom = customParam(nil, llrp.VendorImpinj, 57, []byte{0xF0, 0x60})
)

// withCustomParams returns the RO_ACCESS_REPORT msg (header and body, as
// llrp.AppendROAccessReport builds it) with the custom parameters added.
func withCustomParams(msg []byte) []byte {
	if len(msg) < llrp.HeaderLen {
		return msg
	}
	out := make([]byte, 0, len(msg)+64+len(tagCustom)*len(msg)/20)
	out = append(out, msg[:llrp.HeaderLen]...)
	b := msg[llrp.HeaderLen:]
	for len(b) >= 4 {
		typ := binary.BigEndian.Uint16(b) & 0x3FF
		n := int(binary.BigEndian.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			break
		}
		if typ != llrp.ParamTagReportData {
			out = append(out, b[:n]...)
		} else {
			out = binary.BigEndian.AppendUint16(out, typ)
			out = binary.BigEndian.AppendUint16(out, uint16(n+len(tagCustom)))
			out = append(out, b[4:n]...)
			out = append(out, tagCustom...)
		}
		b = b[n:]
	}
	out = append(out, b...)
	out = append(out, reportCustom...)
	binary.BigEndian.PutUint32(out[2:], uint32(len(out)))
	return out
}
