package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
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
}

func newTuner(now time.Time) *tuner {
	return &tuner{ants: map[uint16]*antennaTally{}, tags: map[rfid.EPC]struct{}{}, since: now}
}

func (t *tuner) observe(b []rfid.Read) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range b {
		r := &b[i]
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
