package llrp_test

import (
	"bytes"
	"testing"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
)

// Custom parameters (type 1023) of any vendor, in any reply a session
// reads, are skipped: never an error, never a changed value.
func TestCustomParametersSkipped(t *testing.T) {
	impinj := unhex(t, "03 FF 00 10 00 00 65 1A 00 00 00 39 FF C4 00 00") // e.g. ImpinjPeakRSSI
	zebra := unhex(t, "03 FF 00 0D 00 00 00 A1 00 00 00 05 01")
	status := tlv(287, unhex(t, "00 00 00 00"), impinj)

	t.Run("response status", func(t *testing.T) {
		for _, typ := range []uint16{llrp.MsgAddROSpec, llrp.MsgSetReaderConfig, llrp.MsgStartROSpec} {
			if err := llrp.CheckResponse(typ, bytes.Join([][]byte{zebra, status, impinj}, nil)); err != nil {
				t.Errorf("type %d: %v", typ, err)
			}
		}
	})
	t.Run("reader event", func(t *testing.T) {
		body := bytes.Join([][]byte{impinj, tlv(246,
			tlv(128, unhex(t, "00 05 F0 00 00 00 00 00")), zebra,
			tlv(256, unhex(t, "00 00")), impinj), zebra}, nil)
		e, err := llrp.ParseReaderEvent(body)
		if err != nil || !e.HasConnectionAttempt || e.ConnectionAttempt != llrp.ConnSuccess {
			t.Fatalf("%+v, %v", e, err)
		}
	})
	t.Run("tag report", func(t *testing.T) {
		epc := unhex(t, "30 74 25 7B F7 19 4E 40 00 00 1A 85")
		tag := tlv(240, append([]byte{0x8D}, epc...), zebra, unhex(t, "81 00 02"), impinj, unhex(t, "86 C4"))
		body := bytes.Join([][]byte{impinj, tag, zebra}, nil)
		var d llrp.ReportDecoder
		if err := d.Decode(body); err != nil {
			t.Fatal(err)
		}
		want := rfid.MustParseEPC("3074257BF7194E4000001A85")
		if len(d.Reads) != 1 || d.Reads[0].EPC != want || d.Reads[0].Antenna != 2 || d.Reads[0].RSSI != -60 {
			t.Fatalf("reads %+v", d.Reads)
		}
	})
	t.Run("capabilities", func(t *testing.T) {
		if _, err := llrp.ParseCapabilities(capsBody(t, "00 51 0B B8")); err != nil {
			t.Fatal(err)
		}
	})
}
