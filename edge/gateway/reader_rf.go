package gateway

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readers"
)

// readerRFRequest is the body of POST /readers/{id}/rf: the
// configuration's RF keys, for all antennas or the one antenna names.
type readerRFRequest struct {
	readers.RF
	Antenna uint16 `json:"antenna,omitempty"`
}

// readerRFAnswer is its answer: the settings in force once applied.
type readerRFAnswer struct {
	Reader   string            `json:"reader"`
	Applied  readers.RFInForce `json:"applied"`
	Warnings []string          `json:"warnings"`
	Note     string            `json:"note"`
}

// rfNotSaved tells what POST /readers/{id}/rf does not do.
const rfNotSaved = "applied to the running reader only, not written to the configuration: " +
	"to keep them after a restart, copy applied.rf into the reader's entry under readers[] and applied.antenna_rf into its antenna_rf"

// reader returns the configured reader id and, when the gateway runs it,
// the reader itself.
func (g *Gateway) reader(id string) (readers.Config, rfid.Reader, bool) {
	for i, rc := range g.cfg.Readers {
		if rc.ID == id {
			if i < len(g.readers) {
				return rc, g.readers[i], true
			}
			return rc, nil, true
		}
	}
	return readers.Config{}, nil, false
}

// rfSettings is what GET /readers shows of reader r's RF settings in
// force; nil for a reader that does not take them while it runs.
func rfSettings(r rfid.Reader) any {
	if a, ok := r.(readers.RFApplier); ok {
		return a.RFInForce()
	}
	return nil
}

// httpReaderRF is POST /readers/{id}/rf: RF settings over those in force
// on a running reader, with one ROSpec restart (readers.RFApplier).
func (g *Gateway) httpReaderRF(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rc, rd, ok := g.reader(id)
	if !ok {
		api.Error(w, http.StatusNotFound, fmt.Errorf("reader %q is not configured (see GET /readers)", id))
		return
	}
	var req readerRFRequest
	if !api.DecodeBody(w, r, &req) {
		return
	}
	a, ok := rd.(readers.RFApplier)
	switch {
	case rc.Type == readers.TypeSerial:
		api.Error(w, http.StatusConflict, fmt.Errorf("reader %q is a serial reader: it takes no RF settings while it runs; set tx_power_dbm under readers[] and restart the gateway", id))
		return
	case rd == nil:
		api.Error(w, http.StatusConflict, fmt.Errorf("reader %q is not running: the gateway runs its readers only when doors are configured; RF settings not applied", id))
		return
	case !ok:
		api.Error(w, http.StatusConflict, fmt.Errorf("reader %q takes no RF settings while it runs", id))
		return
	}
	f, warnings, err := a.ApplyRF(r.Context(), req.Antenna, req.RF)
	switch {
	case errors.Is(err, readers.ErrInvalidRF):
		api.Error(w, http.StatusBadRequest, err)
	case errors.Is(err, rfid.ErrReaderStatus):
		api.Error(w, http.StatusBadGateway, fmt.Errorf("the reader refused the settings; those in force before stay: %w", err))
	case errors.Is(err, llrp.ErrNotConnected):
		api.Error(w, http.StatusConflict, fmt.Errorf("reader %q is not connected; try again once it is (GET /readers shows its status): %w", id, err))
	case err != nil:
		api.Error(w, http.StatusBadGateway, err)
	default:
		ans := readerRFAnswer{Reader: id, Applied: f, Warnings: []string{}, Note: rfNotSaved}
		for _, warning := range warnings {
			ans.Warnings = append(ans.Warnings, warning.Error())
		}
		g.log.Info("reader RF settings applied", "reader", id, "antenna", req.Antenna, "warnings", len(warnings))
		api.JSON(w, http.StatusOK, ans)
	}
}
