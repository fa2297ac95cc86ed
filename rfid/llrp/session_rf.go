package llrp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// rfSettings returns the RF settings the session sets up with.
func (s *Session) rfSettings() (RFSettings, map[uint16]RFSettings) {
	s.rfMu.Lock()
	defer s.rfMu.Unlock()
	return s.cfg.RF, s.cfg.AntennaRF
}

// rospec returns the session's ROSpec for a reader with caps, with trigger
// t and the RF settings mapped on the reader's tables; the settings the
// reader cannot take are left out, logged and returned.
func (s *Session) rospec(caps Capabilities, t Trigger, rf RFSettings, perAntenna map[uint16]RFSettings) (ROSpec, []error) {
	ro := ROSpec{
		ID: s.cfg.ROSpecID, StartTrigger: StartTriggerNull, StopTrigger: StopTriggerNull,
		Antennas: s.cfg.Antennas, InventorySpec: 1,
		ReportTrigger: ReportEveryNOrAISpecEnd, ReportN: s.cfg.ReportEveryN,
		ReportSelector: SelectAntennaID | SelectPeakRSSI | SelectFirstSeen | SelectLastSeen | SelectTagSeenCount | SelectAccessSpecID,
	}
	t.apply(&ro)
	acs, warnings := AntennaConfigs(caps, s.cfg.Antennas, rf, perAntenna)
	ro.AntennaConfigs = acs
	if len(warnings) > 0 {
		s.log.Warn("RF settings the reader cannot take are left to the reader", "err", errors.Join(warnings...))
	}
	return ro, warnings
}

// warningText joins warnings on one line.
func warningText(warnings []error) string {
	return strings.ReplaceAll(errors.Join(warnings...).Error(), "\n", "; ")
}

// enableSteps are the requests that follow ADD_ROSPEC: ENABLE_ROSPEC, and
// START_ROSPEC unless the reader starts the ROSpec on its own trigger.
func enableSteps(ro ROSpec) []uint16 {
	if ro.StartTrigger != StartTriggerNull {
		return []uint16{MsgEnableROSpec}
	}
	return []uint16{MsgEnableROSpec, MsgStartROSpec}
}

// ApplyRF puts new RF settings in force on the connected reader without
// reconnecting: it maps them on the reader's tables as the session's setup
// does (rf for all antennas, perAntenna over it; a setting the reader
// cannot take is left out, logged and returned in warnings) and replaces
// the running ROSpec with one restart: STOP_ROSPEC, DELETE_ROSPEC,
// ADD_ROSPEC with the new AntennaConfiguration and the same triggers,
// ENABLE_ROSPEC, and START_ROSPEC unless the ROSpec starts on its own
// trigger and that trigger has not fired (the reader's ROSpecEvents say
// whether it has: a ROSpec running on a GPI is started again, and its stop
// trigger ends it as before). Every answer is checked; the reads keep flowing through
// OnReads meanwhile, with a gap of about one restart. Once applied, the
// settings replace Config.RF and Config.AntennaRF: reconnects use them.
//
// ctx bounds the wait before the restart begins; the restart itself is
// never left half done: each step waits at most the response timeout. A
// step the reader refuses puts the previous ROSpec back; a step it does
// not answer ends the connection, and the session reconnects with the
// previous settings. Either way the error says so.
//
// It fails at once when the session is not connected or runs without
// inventory (Config.NoInventory). Like SetGPO, do not call it from the
// session's OnReads or OnEvent callbacks: their goroutine reads the
// answers. Calls are serialized.
func (s *Session) ApplyRF(ctx context.Context, rf RFSettings, perAntenna map[uint16]RFSettings) (warnings []error, err error) {
	if s.cfg.NoInventory {
		return nil, fmt.Errorf("llrp: reader %s: RF settings not applied: the session runs no inventory (NoInventory)", s.name())
	}
	for id := range perAntenna {
		if id == 0 {
			return nil, fmt.Errorf("llrp: reader %s: RF settings for antenna 0: antennas are numbered from 1 (give settings for all in rf)", s.name())
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	c := s.live.Load()
	if c == nil {
		return nil, fmt.Errorf("%w: reader %s: RF settings not applied; they can be applied once the session is up", ErrNotConnected, s.name())
	}
	if c.rfCaps == nil { // set up without RF settings: the tables were not asked for
		body, err := c.call(ctx, MsgGetReaderCapabilities, func(b []byte, id uint32) []byte {
			return AppendGetCapabilities(b, id, CapabilitiesAll)
		})
		if err != nil {
			return nil, fmt.Errorf("llrp: reader %s: RF settings not applied: capabilities: %w", s.name(), err)
		}
		caps, err := ParseCapabilities(body)
		if err != nil {
			return nil, fmt.Errorf("llrp: reader %s: RF settings not applied: capabilities: %w", s.name(), err)
		}
		c.rfCaps = &caps
	}
	perAntenna = maps.Clone(perAntenna)
	ro, warnings := s.rospec(*c.rfCaps, c.trig, rf, perAntenna)
	// A reconnect meanwhile waits for the outcome (its setup reads the
	// settings), so it sets up with the settings in force.
	s.rfMu.Lock()
	defer s.rfMu.Unlock()
	if err := c.restart(ro); err != nil {
		return warnings, fmt.Errorf("llrp: reader %s: RF settings not applied: %w", s.name(), err)
	}
	s.cfg.RF, s.cfg.AntennaRF = rf, perAntenna
	return warnings, nil
}

// restart replaces the running ROSpec c.ro with ro (see ApplyRF).
func (c *conn) restart(ro ROSpec) error {
	old := c.ro
	// A ROSpec its trigger had started (a GPI high: a load in the door)
	// is started again at once: its replacement would otherwise wait
	// for the next trigger, and the rest of the pass would go unread. Its
	// stop trigger ends it as before.
	active := ro.StartTrigger != StartTriggerNull && c.roActive.Load()
	err := c.replace(ro, true, active)
	if err == nil {
		c.ro = ro
		return nil
	}
	var se *StatusError
	if errors.As(err, &se) {
		if err2 := c.replace(old, false, active); err2 == nil {
			return fmt.Errorf("%w; the previous settings are back in force", err)
		} else if errors.As(err2, &se) {
			_ = c.nc.Close()
			return fmt.Errorf("%w; putting the previous ROSpec back failed too (%v): reconnecting with the previous settings", err, err2)
		}
	}
	// No answer: the reader's state is unknown. A new connection sets it
	// up from scratch.
	_ = c.nc.Close()
	return fmt.Errorf("%w; reconnecting with the previous settings", err)
}

// replace stops and deletes the session's ROSpec and adds, enables and
// starts ro in its place; start sends START_ROSPEC for a ROSpec with a
// start trigger too. stop false skips STOP_ROSPEC, and a refused
// DELETE_ROSPEC (the ROSpec is gone already) is no error: putting the
// previous ROSpec back after a failed replace.
func (c *conn) replace(ro ROSpec, stop, start bool) error {
	ctx := context.Background() // bounded by the response timeout of each step
	u32 := func(typ uint16) func([]byte, uint32) []byte {
		return func(b []byte, id uint32) []byte { return AppendU32(b, typ, id, ro.ID) }
	}
	var se *StatusError
	if stop {
		if _, err := c.call(ctx, MsgStopROSpec, u32(MsgStopROSpec)); err != nil {
			if !errors.As(err, &se) || c.trig.Start == StartTriggerNull {
				return fmt.Errorf("STOP_ROSPEC %d: %w", ro.ID, err)
			}
			// Waiting for its trigger, the ROSpec is not active: a
			// reader may refuse to stop it. Deleting it is enough.
			c.s.log.Debug("STOP_ROSPEC refused", "err", err)
		}
	}
	if _, err := c.call(ctx, MsgDeleteROSpec, u32(MsgDeleteROSpec)); err != nil && (stop || !errors.As(err, &se)) {
		return fmt.Errorf("DELETE_ROSPEC %d: %w", ro.ID, err)
	}
	if _, err := c.call(ctx, MsgAddROSpec, func(b []byte, id uint32) []byte { return AppendAddROSpec(b, id, ro) }); err != nil {
		return fmt.Errorf("ADD_ROSPEC %d: %w", ro.ID, err)
	}
	steps := enableSteps(ro)
	if start && len(steps) == 1 {
		steps = append(steps, MsgStartROSpec)
	}
	for _, typ := range steps {
		if _, err := c.call(ctx, typ, u32(typ)); err != nil {
			name := "ENABLE_ROSPEC"
			if typ == MsgStartROSpec {
				name = "START_ROSPEC"
			}
			return fmt.Errorf("%s %d: %w", name, ro.ID, err)
		}
	}
	return nil
}
