package gateway

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// POST /readers/{id}/rf retunes the running sim reader: the simulator gets
// the new AntennaConfiguration on the connection it has, the answer and
// GET /readers show the settings in force; a bad key or value is a 400
// naming it, an unknown reader a 404.
func TestReaderRFRoute(t *testing.T) {
	cfg := signalsConfig(t, t.TempDir(), map[string]string{"DOOR1": writeScenario(t, "DOOR1")}, nil)
	cfg.HTTP.Listen = "127.0.0.1:0" // the API's own auth: loopback, no token
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := g.api.Handler()
	sim := simOf(t, g, "R1")
	runGateway(t, g)

	var code int
	var body []byte
	eventually(t, 20*time.Second, "the reader connected", func() bool {
		code, body = call(t, h, "POST", "/readers/R1/rf", "", `{"tx_power_dbm": 27, "session": 1}`)
		return code != http.StatusConflict
	})
	if code != http.StatusOK {
		t.Fatalf("POST: %d %s", code, body)
	}
	var ans struct {
		Reader  string `json:"reader"`
		Applied struct {
			RF struct {
				TxPowerDBm float64 `json:"tx_power_dbm"`
				Session    *int    `json:"session"`
			} `json:"rf"`
			AntennaRF map[string]map[string]any `json:"antenna_rf"`
		} `json:"applied"`
		Warnings []string `json:"warnings"`
		Note     string   `json:"note"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Reader != "R1" || ans.Applied.RF.TxPowerDBm != 27 || ans.Applied.RF.Session == nil || *ans.Applied.RF.Session != 1 ||
		ans.Warnings == nil || !strings.Contains(ans.Note, "readers[]") {
		t.Fatalf("answer %s", body)
	}
	caps, err := readersim.ModelCapabilities(readersim.ModelSim, 4)
	if err != nil {
		t.Fatal(err)
	}
	want, err := llrp.PowerIndex(caps.PowerTable, 27)
	if err != nil {
		t.Fatal(err)
	}
	checkPower := func(antenna, index uint16) {
		t.Helper()
		ro, ok := sim.LastROSpec()
		if !ok || len(ro.AntennaConfigs) == 0 {
			t.Fatalf("ROSpec %+v: no AntennaConfiguration", ro)
		}
		for _, ac := range ro.AntennaConfigs {
			w := want
			if ac.AntennaID == antenna {
				w = index
			}
			if ac.Transmitter == nil || ac.Transmitter.Power != w {
				t.Fatalf("antenna %d transmitter %+v: want power index %d", ac.AntennaID, ac.Transmitter, w)
			}
		}
	}
	checkPower(0, want) // every antenna

	// One antenna, over the reader's settings: the session stays.
	code, body = call(t, h, "POST", "/readers/R1/rf", "", `{"antenna": 3, "tx_power_dbm": 20}`)
	if code != http.StatusOK || !strings.Contains(string(body), `"3": {`) || !strings.Contains(string(body), `"session": 1`) {
		t.Fatalf("POST antenna 3: %d %s", code, body)
	}
	low, err := llrp.PowerIndex(caps.PowerTable, 20)
	if err != nil {
		t.Fatal(err)
	}
	checkPower(3, low)
	if n := sim.Stats().Connections; n != 1 {
		t.Fatalf("%d connections: the settings must apply on the same connection", n)
	}
	code, body = call(t, h, "GET", "/readers", "", "")
	if code != http.StatusOK || !strings.Contains(string(body), `"rf_settings"`) || !strings.Contains(string(body), `"tx_power_dbm": 20`) {
		t.Fatalf("GET /readers: %d %s", code, body)
	}

	for _, c := range []struct {
		target, body string
		code         int
		says         string
	}{
		{"/readers/R1/rf", `{"tx_power": 27}`, http.StatusBadRequest, "tx_power"},
		{"/readers/R1/rf", `{"session": 5}`, http.StatusBadRequest, "session 5 is not a Gen2 session"},
		{"/readers/R1/rf", `{"target": "C"}`, http.StatusBadRequest, "is not A, B or AB"},
		{"/readers/R1/rf", `{"vendor": {"impinj": {"search_mode": "fast"}}}`, http.StatusBadRequest, "vendor.impinj.search_mode"},
		{"/readers/R1/rf", `{}`, http.StatusBadRequest, "no setting given"},
		{"/readers/R9/rf", `{"tx_power_dbm": 27}`, http.StatusNotFound, "R9"},
	} {
		code, body := call(t, h, "POST", c.target, "", c.body)
		if code != c.code || !strings.Contains(string(body), c.says) {
			t.Errorf("POST %s %s: %d %s, want %d naming %s", c.target, c.body, code, body, c.code, c.says)
		}
	}
	checkPower(3, low) // nothing refused was sent

	// An antenna the reader does not read: a warning, nothing sent for it.
	code, body = call(t, h, "POST", "/readers/R1/rf", "", `{"antenna": 9, "session": 2}`)
	if code != http.StatusOK || !strings.Contains(string(body), "antenna 9: not one of the antennas read") {
		t.Fatalf("POST antenna 9: %d %s", code, body)
	}
	checkPower(3, low)
}

// A reader that cannot take RF settings now is a 409 saying why: a serial
// reader, an LLRP reader not connected.
func TestReaderRFConflicts(t *testing.T) {
	door := func(id, reader string) config.Door {
		return config.Door{DoorConfig: portal.DoorConfig{ID: id, Role: portal.RoleReceiving, Reader: reader,
			AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}, PresenceTimeout: time.Second}}
	}
	g := openGateway(t, &config.Config{Site: "rf", Gateway: "gw", DataDir: t.TempDir(),
		Readers: []readers.Config{{ID: "R1", Type: readers.TypeLLRP, Address: "127.0.0.1:1"},
			{ID: "S1", Type: readers.TypeSerial, Device: "/dev/null", Protocol: "m100"}},
		Doors: []config.Door{door("DOOR1", "R1"), door("DOOR2", "S1")},
	}, Options{})
	g.api = api.New("", slog.New(slog.DiscardHandler), g.health)
	g.routes()
	h := g.api.Handler()
	for _, c := range []struct{ reader, says string }{
		{"S1", `is a serial reader`},
		{"R1", `is not connected`},
	} {
		code, body := call(t, h, "POST", "/readers/"+c.reader+"/rf", "", `{"tx_power_dbm": 20}`)
		if code != http.StatusConflict || !strings.Contains(string(body), c.says) {
			t.Errorf("%s: %d %s, want 409 %s", c.reader, code, body, c.says)
		}
	}
	// The settings are checked before the connection: a bad key is a 400.
	if code, body := call(t, h, "POST", "/readers/R1/rf", "", `{"session": 9}`); code != http.StatusBadRequest || !strings.Contains(string(body), "session 9") {
		t.Errorf("session 9: %d %s", code, body)
	}
}
