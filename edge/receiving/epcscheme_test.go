package receiving

import (
	"context"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/encoder/epc"
)

// With labels.epc_scheme sscc+ or sgtin+ a carton's tag carries its lot
// (10) and expiry (17); the carton is found by the EPC as a reader reports
// it (whole words), and traced by it.
func TestPlusEPCSchemes(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		scheme string
		want   epc.Scheme
	}{{"sscc+", epc.SSCCPlus}, {"sgtin+", epc.SGTINPlus}} {
		r := newRig(t)
		r.svc.cfg.EPCScheme = c.scheme
		rc, err := r.svc.Receive(ctx, Request{ID: "p-" + strings.TrimSuffix(c.scheme, "+"), Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01",
			Cartons: 2, QtyPerCarton: 12, Expiry: "2026-05-31"})
		if err != nil {
			t.Fatal(err)
		}
		cn, err := r.svc.Carton(rc.Cartons[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(cn.EPC)%4 != 0 || strings.ToUpper(cn.EPC) != cn.EPC {
			t.Fatalf("%s: EPC %s is not whole words in upper-case hex", c.scheme, cn.EPC)
		}
		e, err := epc.DecodeHex(cn.EPC)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, el := range e.AIDCElements() {
			got[el.AI] = el.Value
		}
		if e.Scheme() != c.want || got["10"] != rc.Lot || got["17"] != "260531" || !strings.HasPrefix(cn.EPCURI, "https://id.gs1.org/") {
			t.Fatalf("%s: %s %v %s", c.scheme, e.Scheme(), got, cn.EPCURI)
		}
		if c.scheme == "sscc+" && (e.SSCC() != cn.SSCC || got["02"] != "09520123456788" || got["37"] != "12") {
			t.Fatalf("sscc+: SSCC %s, %v", e.SSCC(), got)
		}
		if c.scheme == "sgtin+" && (e.GTIN() != "09520123456788" || e.Serial() != cn.SSCC) {
			t.Fatalf("sgtin+: GTIN %s serial %s", e.GTIN(), e.Serial())
		}
		if lot, _, ok := r.svc.LotForEPC(cn.EPC); !ok || lot != rc.Lot {
			t.Fatalf("%s: LotForEPC %q %v", c.scheme, lot, ok)
		}
		if tr, err := r.svc.TraceEPC(cn.EPC); err != nil || tr.Carton.SSCC != cn.SSCC {
			t.Fatalf("%s: trace %v", c.scheme, err)
		}
		if !strings.Contains(string(r.door.jobs[cn.Job]), cn.EPC) {
			t.Fatalf("%s: the label does not write the EPC", c.scheme)
		}

	}
}
