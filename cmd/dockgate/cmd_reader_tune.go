package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readers"
)

// watchRF holds "reader watch"'s RF flags, to try settings at the door
// before writing them into the configuration.
type watchRF struct {
	txPower, rxSens *float64
	session         *uint8
	target          string
}

func addRFFlags(fs *cmdFlags) *watchRF {
	w := &watchRF{}
	fs.Func("tx-power-dbm", "transmit power to use, `DBM` (mapped on the reader's table; serial m100/ru5102 too)", func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) {
			return fmt.Errorf("%q is not a power in dBm, e.g. 24.5", s)
		}
		w.txPower = &v
		return nil
	})
	fs.Func("rx-sensitivity-dbm", "receive sensitivity, `DBM` (LLRP)", func(s string) error {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) {
			return fmt.Errorf("%q is not a sensitivity in dBm, e.g. -70", s)
		}
		w.rxSens = &v
		return nil
	})
	fs.Func("session", "Gen2 session `N`, 0 to 3 (LLRP)", func(s string) error {
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 || v > 3 {
			return fmt.Errorf("%q is not a Gen2 session: use 0, 1, 2 or 3", s)
		}
		u := uint8(v)
		w.session = &u
		return nil
	})
	fs.Func("target", "Gen2 target `A|B|AB` (LLRP)", func(s string) error {
		if s != llrp.TargetA && s != llrp.TargetB && s != llrp.TargetAB {
			return fmt.Errorf("%q is not A, B or AB", s)
		}
		w.target = s
		return nil
	})
	return w
}

// settings are the flags as LLRP RF settings.
func (w *watchRF) settings() llrp.RFSettings {
	return llrp.RFSettings{TxPowerDBm: w.txPower, RxSensitivityDBm: w.rxSens, Session: w.session, Target: w.target}
}

// serialOnly reports the flags a serial reader cannot take.
func (w *watchRF) serialErr() error {
	if w.rxSens != nil || w.session != nil || w.target != "" {
		return fmt.Errorf("--rx-sensitivity-dbm, --session and --target are for LLRP readers; a serial reader takes --tx-power-dbm only")
	}
	return nil
}

// tuneLine is one line of "reader watch --tune": the reads of the last
// interval, per antenna.
type tuneLine struct {
	Time      string        `json:"time"`
	IntervalS float64       `json:"interval_s"`
	ReadsPerS float64       `json:"reads_per_s"`
	Tags      int           `json:"tags"`
	Antennas  []tuneAntenna `json:"antennas"`
	// HeldReads are reads dated before the watch started or the reader
	// last connected, delivered in this interval: reports the reader held
	// while no client read them. They are not in the counts, which are the
	// door as it is now.
	HeldReads int `json:"held_reads,omitempty"`
}

type tuneAntenna struct {
	Antenna   uint16   `json:"antenna"`
	ReadsPerS float64  `json:"reads_per_s"`
	Tags      int      `json:"tags"`                // distinct EPCs
	MeanRSSI  *float64 `json:"mean_rssi,omitempty"` // dBm, of the reads that carry RSSI
	MinRSSI   *int     `json:"min_rssi,omitempty"`
	MaxRSSI   *int     `json:"max_rssi,omitempty"`
}

type antennaTally struct {
	reads, rssiN, rssiSum int
	min, max              int8
	tags                  map[rfid.EPC]struct{}
}

// tuner counts reads per antenna between two lines.
type tuner struct {
	mu    sync.Mutex
	ants  map[uint16]*antennaTally
	tags  map[rfid.EPC]struct{}
	since time.Time
	// held counts the reads dated before heldBefore (see tuneLine).
	held       int
	heldBefore time.Time
}

// tuneHeldSlack is how long before the watch started, or the reader
// connected, a read may be dated and still count as the door's: a read is
// dated by the reader's clock rebased on the gateway's, never earlier than
// it happened, and this covers the clocks' resolution.
const tuneHeldSlack = 250 * time.Millisecond

func newTuner(now time.Time) *tuner {
	return &tuner{ants: map[uint16]*antennaTally{}, tags: map[rfid.EPC]struct{}{}, since: now, heldBefore: now.Add(-tuneHeldSlack)}
}

// connected tells the tuner the reader (re)connected at now: the reads
// made before, delivered from then on, were held by the reader.
func (t *tuner) connected(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := now.Add(-tuneHeldSlack); h.After(t.heldBefore) {
		t.heldBefore = h
	}
}

func (t *tuner) observe(b []rfid.Read) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range b {
		r := &b[i]
		if !r.Time.IsZero() && r.Time.Before(t.heldBefore) {
			t.held++
			continue
		}
		a := t.ants[r.Antenna]
		if a == nil {
			a = &antennaTally{tags: map[rfid.EPC]struct{}{}}
			t.ants[r.Antenna] = a
		}
		a.reads++
		a.tags[r.EPC] = struct{}{}
		t.tags[r.EPC] = struct{}{}
		if r.HasRSSI {
			if a.rssiN == 0 || r.RSSI < a.min {
				a.min = r.RSSI
			}
			if a.rssiN == 0 || r.RSSI > a.max {
				a.max = r.RSSI
			}
			a.rssiN++
			a.rssiSum += int(r.RSSI)
		}
	}
}

// line returns the tallies since the last line and starts new ones.
// Antennas seen once stay in every line, with zero reads when silent.
func (t *tuner) line(now time.Time) tuneLine {
	t.mu.Lock()
	defer t.mu.Unlock()
	secs := now.Sub(t.since).Seconds()
	if secs <= 0 {
		secs = 1
	}
	l := tuneLine{Time: now.UTC().Format(rfc3339Milli), IntervalS: round2(secs), Tags: len(t.tags), Antennas: []tuneAntenna{}}
	ids := make([]uint16, 0, len(t.ants))
	for id := range t.ants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	total := 0
	for _, id := range ids {
		a := t.ants[id]
		total += a.reads
		ta := tuneAntenna{Antenna: id, ReadsPerS: round2(float64(a.reads) / secs), Tags: len(a.tags)}
		if a.rssiN > 0 {
			mean := round2(float64(a.rssiSum) / float64(a.rssiN))
			lo, hi := int(a.min), int(a.max)
			ta.MeanRSSI, ta.MinRSSI, ta.MaxRSSI = &mean, &lo, &hi
		}
		l.Antennas = append(l.Antennas, ta)
		*a = antennaTally{tags: map[rfid.EPC]struct{}{}}
	}
	l.ReadsPerS = round2(float64(total) / secs)
	l.HeldReads, t.held = t.held, 0
	clear(t.tags)
	t.since = now
	return l
}

// run prints a line every interval until ctx ends.
func (t *tuner) run(ctx context.Context, every time.Duration, out *lineWriter) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tk.C:
			out.write(t.line(now))
		}
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// tuneKeys are the RF keys "reader watch --tune" takes on its input while
// it runs, named as in the configuration.
var tuneKeys = []string{"tx_power_dbm", "rx_sensitivity_dbm", "session", "target", "rf_mode", "tag_population",
	"hop_table_id", "channel_index", "vendor.impinj.search_mode"}

// tuneResult is the line printed for each input line: what is in force
// after it, or why it was not applied.
type tuneResult struct {
	Time      string                    `json:"time"`
	Input     string                    `json:"input"`
	Applied   bool                      `json:"applied"`
	RF        map[string]any            `json:"rf,omitempty"`
	AntennaRF map[uint16]map[string]any `json:"antenna_rf,omitempty"`
	Warnings  []string                  `json:"warnings,omitempty"`
	Error     string                    `json:"error,omitempty"`
}

// liveTune applies input lines such as "tx_power_dbm 27" or "antenna 2
// session 1" to a running LLRP session with ApplyRF: an installer tunes
// the door without reconnecting. It keeps the keys in force, reader-wide
// (antenna 0) and per antenna.
type liveTune struct {
	s    *llrp.Session
	keys map[uint16]map[string]any
}

func newLiveTune(s *llrp.Session, w *watchRF) *liveTune {
	rf := map[string]any{}
	if w.txPower != nil {
		rf["tx_power_dbm"] = *w.txPower
	}
	if w.rxSens != nil {
		rf["rx_sensitivity_dbm"] = *w.rxSens
	}
	if w.session != nil {
		rf["session"] = int(*w.session)
	}
	if w.target != "" {
		rf["target"] = w.target
	}
	return &liveTune{s: s, keys: map[uint16]map[string]any{0: rf}}
}

// run applies the lines of in until it ends or ctx does.
func (lt *liveTune) run(ctx context.Context, in io.Reader, out *lineWriter) {
	lines := make(chan string)
	go func() { // blocks in Read until in ends: not waited for
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case line, ok := <-lines:
			if !ok {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if r := lt.apply(ctx, line); ctx.Err() == nil {
				out.write(r)
			}
		}
	}
}

// apply applies one line; the keys in force change only when the reader
// took the new settings.
func (lt *liveTune) apply(ctx context.Context, line string) tuneResult {
	r := tuneResult{Time: time.Now().UTC().Format(rfc3339Milli), Input: line}
	ant, key, val, err := parseTuneLine(line)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	next := maps.Clone(lt.keys)
	next[ant] = maps.Clone(next[ant])
	if next[ant] == nil {
		next[ant] = map[string]any{}
	}
	next[ant][key] = val
	var rf llrp.RFSettings
	per := map[uint16]llrp.RFSettings{}
	for id, keys := range next {
		prefix := ""
		if id != 0 {
			prefix = fmt.Sprintf("antenna %d: ", id)
		}
		s, err := rfFromKeys(keys, prefix)
		if err != nil {
			r.Error = err.Error()
			return r
		}
		if id == 0 {
			rf = s
		} else {
			per[id] = s
		}
	}
	warnings, err := lt.s.ApplyRF(ctx, rf, per)
	for _, w := range warnings {
		r.Warnings = append(r.Warnings, w.Error())
	}
	if err != nil {
		r.Error = err.Error()
		return r
	}
	lt.keys = next
	r.Applied = true
	r.RF = next[0]
	for id, keys := range next {
		if id != 0 {
			if r.AntennaRF == nil {
				r.AntennaRF = map[uint16]map[string]any{}
			}
			r.AntennaRF[id] = keys
		}
	}
	return r
}

// parseTuneLine splits "[antenna N] KEY VALUE" (or KEY=VALUE, KEY: VALUE);
// the value is read as YAML reads it in the configuration.
func parseTuneLine(line string) (antenna uint16, key string, val any, err error) {
	f := strings.Fields(strings.NewReplacer("=", " ", ": ", " ").Replace(line))
	if len(f) >= 2 && f[0] == "antenna" {
		n, err := strconv.Atoi(f[1])
		if err != nil || n < 1 || n > math.MaxUint16 {
			return 0, "", nil, fmt.Errorf("antenna %q is not a port number (1, 2, …); write e.g. antenna 2 tx_power_dbm 27", f[1])
		}
		antenna, f = uint16(n), f[2:]
	}
	if len(f) != 2 {
		return 0, "", nil, fmt.Errorf("%q is not KEY VALUE (e.g. tx_power_dbm 27, or antenna 2 session 1); keys: %s", line, strings.Join(tuneKeys, ", "))
	}
	key = f[0]
	if !slices.Contains(tuneKeys, key) {
		return 0, "", nil, fmt.Errorf("unknown key %q; keys: %s", key, strings.Join(tuneKeys, ", "))
	}
	if err := yaml.Unmarshal([]byte(f[1]), &val); err != nil || val == nil {
		return 0, "", nil, fmt.Errorf("%s: %q is not a value", key, f[1])
	}
	return antenna, key, val, nil
}

// rfFromKeys reads keys ("vendor.impinj.search_mode" nested) as the
// configuration's RF block and checks them as the configuration does.
func rfFromKeys(keys map[string]any, prefix string) (llrp.RFSettings, error) {
	doc := map[string]any{}
	for k, v := range keys {
		m := doc
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			sub, ok := m[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[p] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = v
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return llrp.RFSettings{}, err
	}
	var rf readers.RF
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		return llrp.RFSettings{}, fmt.Errorf("%s%v", prefix, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return rf.LLRPSettings(prefix)
}
