package gateway

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
)

// Every dockgate metric the Grafana dashboard in docs/ queries is one the
// gateway exports, so the dashboard never shows "no data" for a renamed
// metric.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana/dockgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	cfg := minimalConfig(t)
	cfg.Printers = []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}}
	cfg.Readers = []readers.Config{{ID: "R1", Type: "llrp", Address: "127.0.0.1:1"}}
	cfg.Doors = []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1", Reader: "R1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}, Printer: "P1"}}
	g := openGateway(t, cfg, Options{}) // not offline: the portal's metrics need its engine
	reg := prometheus.NewRegistry()
	g.registerMetrics(reg)
	// Vectors show in Gather only once they have a series.
	g.m.passes.WithLabelValues("DOOR1", "in")
	g.m.alerts.WithLabelValues("DOOR1")
	g.m.receipts.WithLabelValues("ok")
	g.m.jobTrouble.WithLabelValues("P1", "held", "paper_out")
	g.m.tagEncodes.WithLabelValues("P1", "encoded")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, mf := range mfs {
		have[mf.GetName()] = true
	}
	name := regexp.MustCompile(`dockgate_[a-z_]+`)
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				n++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
				if !have[base] {
					t.Errorf("panel %q queries %s, which the gateway does not export", p.Title, m)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d dockgate metrics queried: the dashboard was not read", n)
	}
}
