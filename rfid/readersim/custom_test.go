package readersim

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
)

// Every TagReportData of a simulated report ends with an Impinj- and a
// Zebra-style custom parameter, and the report with another; decoding
// skips them and finds the same reads.
func TestReportsCarryCustomParameters(t *testing.T) {
	at := time.UnixMicro(1_700_000_000_000_000)
	reads := []rfid.Read{
		{EPC: rfid.MustParseEPC("3074257BF7194E4000001A85"), Antenna: 2, RSSI: -61, HasRSSI: true, ReaderTime: at, SeenCount: 1},
		{EPC: rfid.MustParseEPC("3074257BF7194E4000001A86"), Antenna: 3, RSSI: -70, HasRSSI: true, ReaderTime: at, SeenCount: 2},
	}
	plain := llrp.AppendROAccessReport(nil, 7, reads)
	msg := withCustomParams(plain)
	if got, want := len(msg), len(plain)+2*len(tagCustom)+len(reportCustom); got != want {
		t.Fatalf("report of %d bytes, want %d", got, want)
	}
	if bytes.Count(msg, tagCustom) != 2 || !bytes.HasSuffix(msg, reportCustom) {
		t.Fatalf("custom parameters missing:\n% X", msg)
	}
	m, err := llrp.NewDecoder(bytes.NewReader(msg), 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	var d llrp.ReportDecoder
	if err := d.Decode(m.Body); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Reads, reads) {
		t.Fatalf("decoded %+v\nwant %+v", d.Reads, reads)
	}
}
