package readersim

import (
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
)

// How long a tag's inventoried flag, once flipped by a read, stays flipped
// in the simulator. Gen2 gives S1 0.5–5 s whether the tag is energised or
// not, S2 and S3 indefinitely while energised and at least 2 s after.
const (
	PersistS1  = time.Second     // session 1: from the read
	PersistS23 = 2 * time.Second // sessions 2 and 3: from the last cycle the tag was in the field
)

// maxFlags bounds the flags remembered before expired ones are dropped.
const maxFlags = 4096

// antennaRF is the simulator's view of one antenna's RF settings.
type antennaRF struct {
	offset int   // dB the power is below the table's maximum (≤ 0)
	floor  int   // dBm: weaker reads are not received
	sess   uint8 // Gen2 session
	single bool  // single target: a read tag is silent until its flag persists back
}

// rfModel applies a connection's RF settings to the scenario's reads:
//
//   - Power: the scenario's RSSI is what the reader sees at the highest
//     entry of its power table. Transmitting X dB less lowers every read's
//     RSSI by X dB, and a read that then falls below the floor — the
//     scenario's sensitivity, or the configured receive sensitivity if
//     higher — is not delivered: lower power shrinks the read zone, the
//     weak edge of the field (and the next door's strays) go first.
//   - Sessions: with session 1, 2 or 3 and a single target (A or B, or
//     Impinj's single-target search modes) a tag read once is not
//     reported again until its flag persists back (PersistS1, PersistS23).
//     Session 0 and dual target (AB) re-read a tag every cycle.
type rfModel struct {
	ants  map[uint16]antennaRF      // antenna 0: every antenna without its own
	until map[flagKey]time.Duration // scenario time a tag's flag comes back
}

type flagKey struct {
	epc  rfid.EPC
	sess uint8
}

func newRFModel() *rfModel {
	return &rfModel{ants: map[uint16]antennaRF{}, until: map[flagKey]time.Duration{}}
}

// configure sets the model from the AntennaConfigurations of the running
// ROSpecs, read against the capabilities the simulator presents; floor is
// the scenario's sensitivity.
func (m *rfModel) configure(caps *llrp.Capabilities, specs []*llrp.ROSpec, floor int) {
	clear(m.ants)
	var maxP int16
	for _, e := range caps.PowerTable {
		maxP = max(maxP, e.DBm100)
	}
	for _, ro := range specs {
		for _, ac := range ro.AntennaConfigs {
			a, ok := m.ants[ac.AntennaID]
			if !ok {
				a = antennaRF{floor: floor}
				if all, ok := m.ants[0]; ok && ac.AntennaID != 0 {
					a = all // a per-antenna configuration starts from the all-antenna one
				}
			}
			if t := ac.Transmitter; t != nil {
				for _, e := range caps.PowerTable {
					if e.Index == t.Power {
						a.offset = int(e.DBm100-maxP) / 100
					}
				}
			}
			if ac.Receiver != nil {
				for _, e := range caps.Sensitivities {
					if e.Index == *ac.Receiver {
						a.floor = max(floor, int(e.DB))
					}
				}
			}
			if ic := ac.Inventory; ic != nil {
				if sc := ic.Singulation; sc != nil {
					a.sess = sc.Session
					a.single = sc.StateAction != nil
				}
				if sm := ic.ImpinjSearchMode; sm != nil {
					switch *sm {
					case llrp.ImpinjSearchSingleTarget, llrp.ImpinjSearchSingleTargetSuppr, llrp.ImpinjSearchSingleTargetBtoA:
						a.single = true
					default:
						a.single = false
					}
				}
			}
			m.ants[ac.AntennaID] = a
		}
	}
}

// admit reports whether r, read at scenario time at, is delivered, and
// lowers its RSSI by the power offset.
func (m *rfModel) admit(r *rfid.Read, at time.Duration) bool {
	a, ok := m.ants[r.Antenna]
	if !ok {
		if a, ok = m.ants[0]; !ok {
			return true // no RF settings: the reader's own, the scenario as written
		}
	}
	if !admitPower(r, a.offset, a.floor) {
		return false
	}
	if !a.single || a.sess == 0 {
		return true
	}
	if len(m.until) > maxFlags {
		for k, back := range m.until {
			if back <= at {
				delete(m.until, k)
			}
		}
	}
	k := flagKey{r.EPC, a.sess}
	back, seen := m.until[k]
	if seen && at < back {
		if a.sess >= 2 { // energised: the flag holds on
			m.until[k] = max(back, at+PersistS23)
		}
		return false
	}
	if a.sess == 1 {
		m.until[k] = at + PersistS1
	} else {
		m.until[k] = at + PersistS23
	}
	return true
}

// admitPower lowers r's RSSI by offset dB (≤ 0) and reports whether it is
// still at or above floor dBm.
func admitPower(r *rfid.Read, offset, floor int) bool {
	if !r.HasRSSI {
		return true
	}
	rssi := int(r.RSSI) + offset
	if rssi < floor {
		return false
	}
	r.RSSI = int8(rssi)
	return true
}
