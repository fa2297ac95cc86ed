package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// reader rf posts the flags given, as the configuration's keys, to the
// gateway's POST /readers/{id}/rf and prints its answer; the gateway's
// refusal is the command's error.
func TestReaderRFPostsToGateway(t *testing.T) {
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "" {
			t.Errorf("%s %s, Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("body %s: %v", b, err)
		}
		got = append(got, body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/readers/R1/rf" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error": "reader \"R9\" is not configured (see GET /readers)"}`)
			return
		}
		io.WriteString(w, `{"reader": "R1", "applied": {"rf": {"tx_power_dbm": 27}}, "warnings": []}`)
	}))
	defer srv.Close()

	out, errs, code := rdrRun(t, "reader", "rf", "R1", "--url", srv.URL, "--tx-power-dbm", "27", "--session", "0", "--target", "AB",
		"--antenna", "2", "--impinj-search-mode", "dual_target")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, `"tx_power_dbm": 27`) {
		t.Fatalf("output %s", out)
	}
	want := `{"antenna":2,"session":0,"target":"AB","tx_power_dbm":27,"vendor":{"impinj":{"search_mode":"dual_target"}}}`
	if b, _ := json.Marshal(got[0]); string(b) != want {
		t.Fatalf("body %s, want %s", b, want)
	}

	if _, errs, code = rdrRun(t, "reader", "rf", "R9", "--url", srv.URL, "--session", "1"); code != 1 || !strings.Contains(errs, `reader "R9" is not configured`) {
		t.Fatalf("unknown reader: exit %d %s", code, errs)
	}
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"reader", "rf", "R1", "--url", srv.URL}, "give at least one setting"},
		{[]string{"reader", "rf", "--url", srv.URL, "--session", "1"}, "give one reader ID"},
		{[]string{"reader", "rf", "R1", "--url", srv.URL, "--session", "one"}, `--session "one": give a number`},
		{[]string{"reader", "rf", "R1", "--url", "10.0.0.5:8080", "--session", "1"}, "give the API's URL"},
	} {
		if _, errs, code := rdrRun(t, c.args...); code == 0 || !strings.Contains(errs, c.says) {
			t.Errorf("%v: exit %d %s, want %q", c.args, code, errs, c.says)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2: a refused command posts nothing", len(got))
	}
}

// reader rf -c FILE retunes the sim reader of a running gateway, found at
// the configuration's http.listen.
func TestReaderRFThroughRunningGateway(t *testing.T) {
	_, cfg, _ := startGatewayWith(t, t.TempDir(), `readers:
  - {id: R1, type: sim, scenario: dock-in, time_scale: 4}
doors:
  - {id: DOOR1, role: receiving, reader: R1, antennas_outside: [1, 2], antennas_inside: [3, 4]}
`)
	var out, errs string
	code := -1
	for range 100 { // bounded wait for the reader to connect
		if out, errs, code = rdrRun(t, "reader", "rf", "R1", "-c", cfg, "--tx-power-dbm", "27", "--session", "1"); code == 0 || !strings.Contains(errs, "not connected") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var ans struct {
		Reader  string `json:"reader"`
		Applied struct {
			RF map[string]any `json:"rf"`
		} `json:"applied"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &ans) != nil || ans.Reader != "R1" || ans.Applied.RF["tx_power_dbm"] != 27.0 || ans.Applied.RF["session"] != 1.0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	if _, errs, code = rdrRun(t, "reader", "rf", "R1", "-c", cfg, "--session", "4"); code != 1 || !strings.Contains(errs, "session 4 is not a Gen2 session") {
		t.Fatalf("session 4: exit %d %s", code, errs)
	}
}
