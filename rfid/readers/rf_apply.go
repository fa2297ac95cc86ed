package readers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/dockgate/dockgate/rfid/llrp"
)

// RFApplier is a reader whose RF settings change while it runs, with one
// ROSpec restart and no reconnect: the LLRP and simulated readers. A
// serial reader is not one (it takes tx_power_dbm from the configuration).
type RFApplier interface {
	// ApplyRF puts change in force over the settings in force, for all the
	// reader's antennas when antenna is 0, else for that antenna: the keys
	// change sets replace theirs, the others stay. The settings are checked
	// as the configuration's are; settings it would refuse are an error
	// wrapping ErrInvalidRF and nothing is sent. A reader that is not
	// connected is an error wrapping llrp.ErrNotConnected; a reader that
	// refuses the new ROSpec, an *llrp.StatusError (rfid.ErrReaderStatus),
	// and its previous settings stay in force. warnings name the settings
	// the reader cannot take (left to the reader, as at startup). The
	// settings are not written to the configuration: a restart of the
	// gateway starts from the configuration's again.
	ApplyRF(ctx context.Context, antenna uint16, change RF) (inForce RFInForce, warnings []error, err error)
	// RFInForce is the settings in force: the configuration's, with those
	// applied since the start over them.
	RFInForce() RFInForce
}

// ErrInvalidRF is wrapped by ApplyRF's error for settings the
// configuration would refuse; the error names the key and the fix.
var ErrInvalidRF = errors.New("RF settings refused")

// RFInForce is a reader's RF settings in force, in the configuration's
// keys: RF for all antennas (readers[] keys) and AntennaRF per antenna
// over it (antenna_rf).
type RFInForce struct {
	RF        RF            `json:"rf"`
	AntennaRF map[uint16]RF `json:"antenna_rf,omitempty"`
}

// Over returns r with the keys o sets replaced by o's.
func (r RF) Over(o RF) RF {
	if o.TxPowerDBm != nil {
		r.TxPowerDBm = o.TxPowerDBm
	}
	if o.RxSensitivityDBm != nil {
		r.RxSensitivityDBm = o.RxSensitivityDBm
	}
	if o.Session != nil {
		r.Session = o.Session
	}
	if o.Target != "" {
		r.Target = o.Target
	}
	if o.RFMode != "" {
		r.RFMode = o.RFMode
	}
	if o.TagPopulation != nil {
		r.TagPopulation = o.TagPopulation
	}
	if o.Vendor != nil && o.Vendor.Impinj != nil {
		r.Vendor = o.Vendor
	}
	if o.HopTableID != nil {
		r.HopTableID = o.HopTableID
	}
	if o.ChannelIndex != nil {
		r.ChannelIndex = o.ChannelIndex
	}
	return r
}

// liveRF keeps a reader's RF settings in force and applies changes to
// them through the reader's LLRP session.
type liveRF struct {
	id       string
	antennas []uint16
	applyMu  sync.Mutex // serializes apply
	mu       sync.Mutex // guards inForce
	inForce  RFInForce
}

func newLiveRF(cfg Config) *liveRF {
	l := &liveRF{id: cfg.ID, antennas: cfg.Antennas, inForce: RFInForce{RF: cfg.RF}}
	if len(cfg.AntennaRF) > 0 {
		l.inForce.AntennaRF = maps.Clone(cfg.AntennaRF)
	}
	return l
}

// get returns the settings in force.
func (l *liveRF) get() RFInForce {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.inForce
	f.AntennaRF = maps.Clone(f.AntennaRF)
	return f
}

// apply checks change over the settings in force and puts them in force
// with session's ApplyRF (nil: not running).
func (l *liveRF) apply(ctx context.Context, session *llrp.Session, antenna uint16, change RF) (RFInForce, []error, error) {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()
	next := l.get()
	if next.AntennaRF == nil {
		next.AntennaRF = map[uint16]RF{}
	}
	switch {
	case change.isZero():
		return next, nil, fmt.Errorf("%w: reader %q: no setting given; give at least one of %s", ErrInvalidRF, l.id, strings.Join(rfKeys, ", "))
	case antenna == 0:
		next.RF = next.RF.Over(change)
	case len(l.antennas) > 0 && !slices.Contains(l.antennas, antenna):
		return next, nil, fmt.Errorf("%w: reader %q: antenna %d is not one of its antennas %v; give one of them, or no antenna for all", ErrInvalidRF, l.id, antenna, l.antennas)
	default:
		next.AntennaRF[antenna] = next.AntennaRF[antenna].Over(change)
	}
	probs := next.RF.validate("", false)
	ids := slices.Sorted(maps.Keys(next.AntennaRF))
	for _, id := range ids {
		probs = append(probs, next.AntennaRF[id].validate(fmt.Sprintf("antenna %d: ", id), next.RF.TxPowerDBm != nil)...)
	}
	if len(probs) > 0 {
		return l.get(), nil, fmt.Errorf("%w: reader %q: %s", ErrInvalidRF, l.id, strings.Join(probs, "; "))
	}
	if session == nil {
		return l.get(), nil, fmt.Errorf("%w: reader %q is not running; RF settings not applied", llrp.ErrNotConnected, l.id)
	}
	rf, per := next.RF.settings(), map[uint16]llrp.RFSettings{}
	for id, r := range next.AntennaRF {
		per[id] = r.settings()
	}
	warnings, err := session.ApplyRF(ctx, rf, per)
	if err != nil {
		return l.get(), warnings, err
	}
	if len(next.AntennaRF) == 0 {
		next.AntennaRF = nil
	}
	l.mu.Lock()
	l.inForce = next
	l.mu.Unlock()
	return l.get(), warnings, nil
}

// rfKeys are the keys ApplyRF takes.
var rfKeys = []string{"tx_power_dbm", "rx_sensitivity_dbm", "session", "target", "rf_mode", "tag_population",
	"hop_table_id", "channel_index", "vendor.impinj.search_mode"}

// llrpReader is an LLRP reader: its session, and its RF settings in force.
type llrpReader struct {
	*llrp.Session
	rf *liveRF
}

// ApplyRF applies RF settings over those in force (RFApplier). It
// replaces the session's own ApplyRF, which takes whole settings.
func (r *llrpReader) ApplyRF(ctx context.Context, antenna uint16, change RF) (RFInForce, []error, error) {
	return r.rf.apply(ctx, r.Session, antenna, change)
}

// RFInForce is the settings in force (RFApplier).
func (r *llrpReader) RFInForce() RFInForce { return r.rf.get() }

// ApplyRF applies RF settings over those in force through the simulated
// reader's LLRP session, as for a real reader (RFApplier); a restart of
// Run keeps them.
func (r *simReader) ApplyRF(ctx context.Context, antenna uint16, change RF) (RFInForce, []error, error) {
	return r.rf.apply(ctx, r.sess.Load(), antenna, change)
}

// RFInForce is the settings in force (RFApplier).
func (r *simReader) RFInForce() RFInForce { return r.rf.get() }

var (
	_ RFApplier = (*llrpReader)(nil)
	_ RFApplier = (*simReader)(nil)
)
