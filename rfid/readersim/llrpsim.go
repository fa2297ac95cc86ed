package readersim

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
)

// LLRP status codes the simulator answers with.
const (
	statusFieldError         = 101
	statusUnsupportedMessage = 109
	statusParameterError     = 100
)

// Sim is a simulated LLRP reader.
type Sim struct {
	// TimeScale runs the scenario faster (>1) than real time; default 1.
	// Keepalive periods asked by the client are not scaled.
	TimeScale float64
	Logger    *slog.Logger
	// OnGPO, if set, is called with each output change a client makes.
	OnGPO func(GPOWrite)
	// Model is the reader the capabilities reply presents: ModelSim
	// (default), ModelR700 or ModelFX9600. Its power table is the one the
	// RF model reads transmit power against (rfmodel.go).
	Model string
	// OnRequest, if set, is called with the type of each message a client
	// sends, before it is answered (from the connection's goroutine).
	OnRequest func(msgType uint16)
	// NoCustom leaves the Impinj- and Zebra-style custom parameters out
	// of tag reports.
	NoCustom bool

	sc      *Scenario
	caps    llrp.Capabilities // the Model's, set by Serve
	clients atomic.Int32
	stats   struct{ conns, refused, requests, reports, reads, acks atomic.Uint64 }

	mu      sync.Mutex
	start   time.Time
	gen     *Generator
	drops   map[int]bool          // faults already fired
	rewrite map[rfid.EPC]rfid.EPC // EPCs written by clients
	lastRO  *llrp.ROSpec          // the last ROSpec added
	// lastROBody is the body of the ADD_ROSPEC that added it.
	lastROBody []byte
	gpio       simGPIO
}

// LastAddROSpec returns the body of the last ADD_ROSPEC a client sent and
// the simulator accepted, byte for byte.
func (s *Sim) LastAddROSpec() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastROBody
}

// LastROSpec returns the last ROSpec a client added, with the
// AntennaConfiguration (RF settings) it carried.
func (s *Sim) LastROSpec() (llrp.ROSpec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastRO == nil {
		return llrp.ROSpec{}, false
	}
	return *s.lastRO, true
}

// SimStats counts what the simulator did.
type SimStats struct {
	Connections, Refused, Requests, Reports, Reads, KeepaliveAcks uint64
}

// New returns a simulator for sc (already prepared by Parse or Prepare).
func New(sc *Scenario) *Sim {
	return &Sim{sc: sc, TimeScale: 1, drops: map[int]bool{}, rewrite: map[rfid.EPC]rfid.EPC{}}
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() SimStats {
	return SimStats{s.stats.conns.Load(), s.stats.refused.Load(), s.stats.requests.Load(),
		s.stats.reports.Load(), s.stats.reads.Load(), s.stats.acks.Load()}
}

func (s *Sim) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// elapsed is the scenario time now.
func (s *Sim) elapsed() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(float64(time.Since(s.start)) * s.TimeScale)
}

// Serve accepts LLRP clients on ln until ctx ends, then closes ln and every
// connection and returns nil. The scenario clock starts when Serve does.
func (s *Sim) Serve(ctx context.Context, ln net.Listener) error {
	if s.sc == nil {
		return errNoScenario
	}
	if s.TimeScale <= 0 {
		return fmt.Errorf("readersim: time scale %v must be positive", s.TimeScale)
	}
	caps, err := ModelCapabilities(s.Model, s.sc.Antennas)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.caps = caps
	s.start = time.Now()
	s.gen = s.sc.NewGenerator()
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("readersim: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, nc)
		}()
	}
}

type simConn struct {
	s   *Sim
	nc  net.Conn
	wmu sync.Mutex

	mu         sync.Mutex
	keepalive  time.Duration
	rospecs    map[uint32]*llrp.ROSpec
	running    map[uint32]bool
	enabled    map[uint32]bool
	reportsOn  bool
	hold       bool
	access     map[uint32]llrp.AccessSpec
	accessOn   map[uint32]bool
	mutedUntil time.Duration
	nextID     uint32
	lastKA     time.Time
	gpio       connGPIO
	rf         *rfModel // used by pump only
}

func (c *simConn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write(b)
	return err
}

func (c *simConn) muted() bool {
	el := c.s.elapsed()
	c.mu.Lock()
	defer c.mu.Unlock()
	return el < c.mutedUntil
}

func (s *Sim) serveConn(ctx context.Context, nc net.Conn) {
	defer nc.Close()
	c := &simConn{s: s, nc: nc, rospecs: map[uint32]*llrp.ROSpec{}, running: map[uint32]bool{},
		enabled: map[uint32]bool{}, access: map[uint32]llrp.AccessSpec{}, accessOn: map[uint32]bool{}, nextID: 1 << 20,
		rf: newRFModel()}
	c.gpio.last = s.elapsed() // GPI steps from now on are events to this client
	now := uint64(time.Now().UnixMicro())
	if n := s.clients.Add(1); n > 1 && !s.sc.AllowSecondClient {
		s.clients.Add(-1)
		s.stats.refused.Add(1)
		_ = c.write(llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: now,
			HasConnectionAttempt: true, ConnectionAttempt: llrp.ConnClientInitiatedExists}))
		return
	}
	defer s.clients.Add(-1)
	s.stats.conns.Add(1)
	if err := c.write(llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: now,
		HasConnectionAttempt: true, ConnectionAttempt: llrp.ConnSuccess})); err != nil {
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(cctx, func() { nc.Close() })
	defer stop()
	go c.pump(cctx, cancel)
	dec := llrp.NewDecoder(nc, 0)
	for {
		m, err := dec.Next()
		if err != nil {
			return
		}
		if c.muted() {
			continue
		}
		if done := c.handle(m); done {
			return
		}
	}
}

// handle answers one client message; true ends the connection.
func (c *simConn) handle(m llrp.Message) bool {
	s := c.s
	ok := llrp.Status{}
	respond := func(typ uint16, st llrp.Status) bool {
		return c.write(llrp.AppendResponse(nil, typ, m.ID, st)) != nil
	}
	bad := func(code uint16, desc string) llrp.Status { return llrp.Status{Code: code, Description: desc} }
	if m.Type != llrp.MsgKeepaliveAck {
		s.stats.requests.Add(1)
	}
	if s.OnRequest != nil {
		s.OnRequest(m.Type)
	}
	el := s.elapsed() // before c.mu: fault takes s.mu, then c.mu
	c.mu.Lock()
	defer c.mu.Unlock()
	switch m.Type {
	case llrp.MsgKeepaliveAck:
		s.stats.acks.Add(1)
		return false
	case llrp.MsgGetReaderCapabilities:
		caps := generalOnly(s.caps)
		if len(m.Body) > 0 && m.Body[0] == llrp.CapabilitiesAll {
			caps = s.caps
		}
		return c.write(llrp.AppendCapabilitiesResponse(nil, m.ID, ok, caps)) != nil
	case llrp.MsgSetReaderConfig:
		rc, err := llrp.ParseReaderConfig(m.Body)
		if err != nil {
			return respond(llrp.MsgSetReaderConfigResponse, bad(statusParameterError, err.Error()))
		}
		if st, ok := c.setReaderGPIO(rc); !ok {
			return respond(llrp.MsgSetReaderConfigResponse, st)
		}
		if rc.KeepaliveMS > 0 {
			c.keepalive = time.Duration(rc.KeepaliveMS) * time.Millisecond
		}
		if rc.SetHold {
			c.hold = rc.HoldEvents
		}
		return respond(llrp.MsgSetReaderConfigResponse, ok)
	case llrp.MsgGetReaderConfig:
		q, err := llrp.ParseGetReaderConfig(m.Body)
		if err != nil {
			return respond(llrp.MsgGetReaderConfigResponse, bad(statusParameterError, err.Error()))
		}
		rc, st := c.getReaderGPIO(q, el)
		return c.write(llrp.AppendGetReaderConfigResponse(nil, m.ID, st, rc)) != nil
	case llrp.MsgAddROSpec:
		ro, err := llrp.ParseAddROSpec(m.Body)
		if err != nil {
			return respond(llrp.MsgAddROSpecResponse, bad(statusParameterError, err.Error()))
		}
		if _, dup := c.rospecs[ro.ID]; dup || ro.ID == 0 {
			return respond(llrp.MsgAddROSpecResponse, bad(statusFieldError, fmt.Sprintf("ROSpec %d already exists or is 0", ro.ID)))
		}
		why := checkTriggers(&ro)
		if why == "" {
			why = checkRF(&s.caps, &ro)
		}
		if why != "" {
			return respond(llrp.MsgAddROSpecResponse, bad(statusFieldError, why))
		}
		for _, a := range ro.Antennas {
			if a > s.sc.Antennas {
				return respond(llrp.MsgAddROSpecResponse, bad(statusFieldError, fmt.Sprintf("antenna %d does not exist", a)))
			}
		}
		c.rospecs[ro.ID] = &ro
		s.mu.Lock()
		s.lastRO, s.lastROBody = &ro, append([]byte(nil), m.Body...)
		s.mu.Unlock()
		return respond(llrp.MsgAddROSpecResponse, ok)
	case llrp.MsgEnableROSpec, llrp.MsgStartROSpec, llrp.MsgStopROSpec, llrp.MsgDisableROSpec, llrp.MsgDeleteROSpec:
		id, err := llrp.ParseU32(m.Body)
		resp, _ := llrp.ResponseType(m.Type)
		if err != nil {
			return respond(resp, bad(statusParameterError, err.Error()))
		}
		ro, exists := c.rospecs[id]
		if !exists && !(id == 0 && m.Type == llrp.MsgDeleteROSpec) {
			return respond(resp, bad(statusFieldError, fmt.Sprintf("no ROSpec %d", id)))
		}
		switch m.Type {
		case llrp.MsgEnableROSpec:
			c.enabled[id] = true
			if ro.StartTrigger == llrp.StartTriggerImmediate {
				c.running[id] = true
			}
			c.enableTriggers(id, ro, el)
		case llrp.MsgStartROSpec:
			if !c.enabled[id] {
				return respond(resp, bad(statusFieldError, fmt.Sprintf("ROSpec %d is not enabled", id)))
			}
			c.running[id] = true
		case llrp.MsgStopROSpec:
			delete(c.running, id)
		case llrp.MsgDisableROSpec:
			delete(c.running, id)
			delete(c.enabled, id)
		case llrp.MsgDeleteROSpec:
			if id == 0 {
				clear(c.rospecs)
				clear(c.running)
				clear(c.enabled)
			} else {
				delete(c.rospecs, id)
				delete(c.running, id)
				delete(c.enabled, id)
			}
		}
		return respond(resp, ok)
	case llrp.MsgAddAccessSpec:
		as, err := llrp.ParseAddAccessSpec(m.Body)
		if err != nil {
			return respond(llrp.MsgAddAccessSpecResponse, bad(statusParameterError, err.Error()))
		}
		c.access[as.ID] = as
		c.accessOn[as.ID] = as.Enabled
		return respond(llrp.MsgAddAccessSpecResponse, ok)
	case llrp.MsgEnableAccessSpec, llrp.MsgDeleteAccessSpec:
		id, err := llrp.ParseU32(m.Body)
		resp, _ := llrp.ResponseType(m.Type)
		if err != nil {
			return respond(resp, bad(statusParameterError, err.Error()))
		}
		if m.Type == llrp.MsgDeleteAccessSpec {
			if id == 0 {
				clear(c.access)
				clear(c.accessOn)
			} else {
				delete(c.access, id)
				delete(c.accessOn, id)
			}
		} else {
			if _, ok := c.access[id]; !ok {
				return respond(resp, bad(statusFieldError, fmt.Sprintf("no AccessSpec %d", id)))
			}
			c.accessOn[id] = true
		}
		return respond(resp, ok)
	case llrp.MsgEnableEventsAndReports:
		c.reportsOn = true
		return false
	case llrp.MsgCloseConnection:
		respond(llrp.MsgCloseConnectionResponse, ok)
		return true
	}
	// Like LLRP 1.0.1 readers: GET_SUPPORTED_VERSION, custom and unknown
	// messages get ERROR_MESSAGE.
	return c.write(llrp.AppendResponse(nil, llrp.MsgErrorMessage, m.ID,
		bad(statusUnsupportedMessage, fmt.Sprintf("message type %d is not supported", m.Type)))) != nil
}

// pump sends keepalives and reports, and applies faults.
func (c *simConn) pump(ctx context.Context, cancel context.CancelFunc) {
	s := c.s
	tick := time.Duration(float64(s.sc.Cycle) / s.TimeScale)
	tick = max(tick, time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	var reads []rfid.Read
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		el := s.elapsed()
		if c.fault(el) {
			cancel()
			return
		}
		if c.stepGPIO(el) != nil {
			cancel()
			return
		}
		muted := c.muted()
		c.mu.Lock()
		ka := c.keepalive
		due := ka > 0 && time.Since(c.lastKA) >= ka
		if due {
			c.lastKA = time.Now()
			c.nextID++
		}
		id := c.nextID
		send := c.reportsOn || !c.hold
		active := map[uint16]bool{}
		anyRunning := false
		for rid := range c.running {
			anyRunning = true
			for _, a := range c.rospecs[rid].Antennas {
				active[a] = true
			}
			if len(c.rospecs[rid].Antennas) == 0 {
				active[0] = true
			}
		}
		n := uint16(1)
		specs := make([]*llrp.ROSpec, 0, len(c.running))
		for rid := range c.running {
			n = max(n, c.rospecs[rid].ReportN)
			specs = append(specs, c.rospecs[rid])
		}
		from := c.gpio.from // reads before a trigger started the ROSpec are not reported
		c.mu.Unlock()
		slices.SortFunc(specs, func(a, b *llrp.ROSpec) int { return cmp.Compare(a.ID, b.ID) })
		c.rf.configure(&s.caps, specs, s.sc.Sensitivity)
		if due && !muted {
			if c.write(llrp.AppendEmpty(nil, llrp.MsgKeepalive, id)) != nil {
				cancel()
				return
			}
		}
		// Generate every cycle up to now, so the scenario advances even
		// when no ROSpec runs.
		reads = reads[:0]
		s.mu.Lock()
		for s.gen.Elapsed() <= el {
			reads = s.gen.Next(reads, time.Time{})
		}
		for i := range reads {
			if n, ok := s.rewrite[reads[i].EPC]; ok {
				reads[i].EPC = n
			}
		}
		start := s.start
		s.mu.Unlock()
		if muted || !anyRunning || !send {
			continue
		}
		kept := reads[:0]
		for _, r := range reads {
			if (active[0] || active[r.Antenna]) && r.Time.Sub(time.Time{}) >= from && c.rf.admit(&r, r.Time.Sub(time.Time{})) {
				// Reader clock: the wall time this cycle ran at.
				at := start.Add(time.Duration(float64(r.Time.Sub(time.Time{})) / s.TimeScale))
				r.ReaderTime, r.Time = at, at
				kept = append(kept, r)
			}
		}
		if err := c.access1(kept); err != nil {
			cancel()
			return
		}
		for len(kept) > 0 {
			k := min(int(n), len(kept))
			c.mu.Lock()
			c.nextID++
			id := c.nextID
			c.mu.Unlock()
			msg := llrp.AppendROAccessReport(nil, id, kept[:k])
			if !s.NoCustom {
				msg = withCustomParams(msg)
			}
			if c.write(msg) != nil {
				cancel()
				return
			}
			s.stats.reports.Add(1)
			s.stats.reads.Add(uint64(k))
			kept = kept[k:]
		}
	}
}

// access1 runs enabled access specs (EPC writes) on the tags in reads:
// the write is reported, the tag answers with its new EPC from then on, and
// the spec, run once, is removed.
func (c *simConn) access1(reads []rfid.Read) error {
	type done struct {
		read rfid.Read
		res  llrp.WriteResult
		to   rfid.EPC
	}
	var writes []done
	c.mu.Lock()
	for i := range reads {
		r := &reads[i]
		for id, on := range c.accessOn {
			sp := c.access[id]
			if !on || sp.TargetBank != llrp.BankEPC || sp.TargetPointer != 32 || !bytes.Equal(sp.TargetData, r.EPC.Bytes()) ||
				(sp.AntennaID != 0 && sp.AntennaID != r.Antenna) || sp.WriteBank != llrp.BankEPC {
				continue
			}
			words := sp.Words
			if sp.WordPointer == 1 && len(words) > 0 {
				words = words[1:] // PC word: the length comes from the words written
			}
			b := make([]byte, 0, 2*len(words))
			for _, w := range words {
				b = append(b, byte(w>>8), byte(w))
			}
			res := llrp.WriteResult{AccessSpecID: id, OpSpecID: sp.OpSpecID, WordsWritten: uint16(len(sp.Words))}
			to, err := rfid.NewEPC(b, len(b)*8)
			if err != nil || (sp.WordPointer != 1 && sp.WordPointer != 2) || len(words) == 0 {
				res.Result, res.WordsWritten = 1, 0 // tag memory overrun
			}
			writes = append(writes, done{read: *r, res: res, to: to})
			delete(c.access, id)
			delete(c.accessOn, id)
		}
	}
	c.mu.Unlock()
	if len(writes) == 0 {
		return nil
	}
	c.s.mu.Lock()
	for _, w := range writes {
		if w.res.Result == 0 {
			for k, v := range c.s.rewrite {
				if v == w.read.EPC { // written before: the tag's first EPC maps to the latest
					c.s.rewrite[k] = w.to
				}
			}
			c.s.rewrite[w.read.EPC] = w.to
		}
	}
	c.s.mu.Unlock()
	for _, w := range writes {
		c.mu.Lock()
		c.nextID++
		id := c.nextID
		c.mu.Unlock()
		if err := c.write(llrp.AppendWriteReport(nil, id, &w.read, w.res)); err != nil {
			return err
		}
	}
	return nil
}

// fault applies due faults; true means drop the connection now.
func (c *simConn) fault(el time.Duration) bool {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.sc.Faults {
		if s.drops[i] || el < f.At {
			continue
		}
		s.drops[i] = true
		switch f.Kind {
		case FaultDrop:
			s.log().Info("fault: dropping connection", "at", f.At)
			return true
		case FaultMute:
			s.log().Info("fault: going silent", "at", f.At, "for", f.For)
			c.mu.Lock()
			c.mutedUntil = f.At + f.For
			c.mu.Unlock()
		case FaultAntennaDown:
			_ = c.write(llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: uint64(time.Now().UnixMicro()),
				Antennas: []llrp.AntennaEvent{{Antenna: f.Antenna}}}))
		case FaultBufferWarning:
			_ = c.write(llrp.AppendReaderEvent(nil, 0, llrp.EventData{Timestamp: uint64(time.Now().UnixMicro()),
				BufferWarning: true, BufferLevel: f.Level}))
		}
	}
	return false
}
