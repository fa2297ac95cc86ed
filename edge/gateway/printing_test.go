package gateway

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/rfid/portal"
)

// A template named from outside (HTTP, MQTT) is a built-in or configured
// one, never a file of the gateway's disk.
func TestRequestTemplateIsNeverAnArbitraryFile(t *testing.T) {
	cfg, err := config.Complete(&config.Config{Site: "t", Gateway: "gw", DataDir: t.TempDir(),
		Broker: config.Broker{Listen: "127.0.0.1:0"},
		Doors:  []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Listen = ""
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.printing.requestTemplate(cfg.Labels.Carton); err != nil {
		t.Fatalf("the carton template: %v", err)
	}
	for _, name := range []string{"/etc/passwd", "../../etc/hostname", "testdata/x.yaml"} {
		_, err := g.printing.requestTemplate(name)
		if err == nil || !strings.Contains(err.Error(), "not a template of this gateway") || strings.Contains(err.Error(), "root:") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
