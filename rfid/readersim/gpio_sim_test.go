package readersim_test

import (
	"context"
	"errors"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// rawClient speaks to a simulator message by message.
type rawClient struct {
	t   *testing.T
	nc  net.Conn
	dec *llrp.Decoder
	id  uint32
}

func dialSim(t *testing.T, sc *readersim.Scenario, scale float64) (*rawClient, *readersim.Sim) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sim := readersim.New(sc)
	sim.TimeScale = scale
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, ln) }()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nc.Close()
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	c := &rawClient{t: t, nc: nc, dec: llrp.NewDecoder(nc, 0)}
	if m := c.next(); m.Type != llrp.MsgReaderEventNotification {
		t.Fatalf("greeting type %d", m.Type)
	}
	return c, sim
}

func (c *rawClient) next() llrp.Message {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := c.dec.Next()
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

// request sends a message and returns the status of its response.
func (c *rawClient) request(typ uint16, build func([]byte, uint32) []byte) llrp.Status {
	c.t.Helper()
	c.id++
	if _, err := c.nc.Write(build(nil, c.id)); err != nil {
		c.t.Fatal(err)
	}
	want, _ := llrp.ResponseType(typ)
	for {
		m := c.next()
		if m.Type == want && m.ID == c.id {
			st, err := llrp.ParseStatus(m.Body)
			if err != nil {
				c.t.Fatal(err)
			}
			return st
		}
	}
}

func TestSimRefusesGPIOPortsItLacks(t *testing.T) {
	sc, _ := readersim.Load("dock-in")
	c, sim := dialSim(t, sc, 1)
	for _, rc := range []llrp.ReaderConfig{
		{GPOWrites: []llrp.GPOWrite{{Port: 5, High: true}}},
		{GPOWrites: []llrp.GPOWrite{{Port: 1, High: true}, {Port: 0}}},
		{GPIPorts: []llrp.GPIPort{{Port: 9, Enabled: true}}},
	} {
		st := c.request(llrp.MsgSetReaderConfig, func(b []byte, id uint32) []byte { return llrp.AppendSetReaderConfig(b, id, rc) })
		if st.Code == llrp.StatusSuccess {
			t.Errorf("%+v accepted", rc)
		}
	}
	if w := sim.GPOWrites(); len(w) != 0 || sim.GPO(1) {
		t.Fatalf("a refused config set outputs: %+v", w)
	}
	st := c.request(llrp.MsgSetReaderConfig, func(b []byte, id uint32) []byte {
		return llrp.AppendSetReaderConfig(b, id, llrp.ReaderConfig{GPOWrites: []llrp.GPOWrite{{Port: 4, High: true}, {Port: 3, High: true}}})
	})
	if st.Code != llrp.StatusSuccess || !sim.GPO(4) || !sim.GPO(3) || len(sim.GPOWrites()) != 2 {
		t.Fatalf("status %+v, outputs %s", st, sim.GPOStates())
	}
	ro := llrp.ROSpec{ID: 1, StartTrigger: llrp.StartTriggerGPI, StartGPI: &llrp.GPITrigger{Port: 7, High: true}, InventorySpec: 1}
	if st := c.request(llrp.MsgAddROSpec, func(b []byte, id uint32) []byte { return llrp.AppendAddROSpec(b, id, ro) }); st.Code == llrp.StatusSuccess {
		t.Fatal("an ROSpec triggered by GPI 7 was accepted by a reader with 4")
	}
}

// A periodic start with a duration stop runs the ROSpec for the duration
// in every period, reported as ROSpecEvents.
func TestSimPeriodicTrigger(t *testing.T) {
	sc, _ := readersim.Load("dock-in")
	c, _ := dialSim(t, sc, 10)
	ro := llrp.ROSpec{ID: 1, StartTrigger: llrp.StartTriggerPeriodic, StartPeriodic: &llrp.PeriodicTrigger{PeriodMS: 1000},
		StopTrigger: llrp.StopTriggerDuration, StopMS: 400, InventorySpec: 1, ReportTrigger: llrp.ReportEveryNOrAISpecEnd, ReportN: 1}
	if st := c.request(llrp.MsgAddROSpec, func(b []byte, id uint32) []byte { return llrp.AppendAddROSpec(b, id, ro) }); st.Code != 0 {
		t.Fatalf("ADD_ROSPEC: %+v", st)
	}
	if st := c.request(llrp.MsgEnableROSpec, func(b []byte, id uint32) []byte { return llrp.AppendU32(b, llrp.MsgEnableROSpec, id, 1) }); st.Code != 0 {
		t.Fatalf("ENABLE_ROSPEC: %+v", st)
	}
	var seq []uint8
	for len(seq) < 4 {
		m := c.next()
		if m.Type != llrp.MsgReaderEventNotification {
			continue
		}
		ev, err := llrp.ParseReaderEvent(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ev.ROSpecs {
			seq = append(seq, r.Type)
		}
	}
	if seq[0] != 0 || seq[1] != 1 || seq[2] != 0 || seq[3] != 1 {
		t.Fatalf("ROSpec events %v, want start, end, start, end", seq)
	}
}

// getConfig sends GET_READER_CONFIG for q and decodes the response.
func (c *rawClient) getConfig(q llrp.GetReaderConfig) (llrp.ReaderConfig, error) {
	c.t.Helper()
	c.id++
	if _, err := c.nc.Write(llrp.AppendGetReaderConfig(nil, c.id, q)); err != nil {
		c.t.Fatal(err)
	}
	for {
		if m := c.next(); m.Type == llrp.MsgGetReaderConfigResponse && m.ID == c.id {
			return llrp.ParseGetReaderConfigResponse(m.Body)
		}
	}
}

// GET_READER_CONFIG reports the inputs' state at the scenario's time (an
// input the client has not enabled as unknown), and the outputs.
func TestSimReportsGPIState(t *testing.T) {
	sc := &readersim.Scenario{Name: "eye-blocked", Cycle: 20 * time.Millisecond,
		GPI: []readersim.GPIStep{{At: 0, Port: 1, State: readersim.GPIHigh}, {At: time.Hour, Port: 1, State: readersim.GPILow}}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	c, _ := dialSim(t, sc, 1)
	all := llrp.GetReaderConfig{RequestedData: llrp.ConfigGPIPortCurrentState}
	rc, err := c.getConfig(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.GPIPorts) != readersim.SimGPIs {
		t.Fatalf("%d inputs reported, want %d", len(rc.GPIPorts), readersim.SimGPIs)
	}
	for _, p := range rc.GPIPorts {
		if p.Enabled || p.State != llrp.GPIStateUnknown {
			t.Fatalf("input %+v reported before the client enabled it, want disabled and unknown", p)
		}
	}
	enable := llrp.ReaderConfig{GPIPorts: []llrp.GPIPort{{Port: 1, Enabled: true}, {Port: 2, Enabled: true}},
		GPOWrites: []llrp.GPOWrite{{Port: 3, High: true}}}
	if st := c.request(llrp.MsgSetReaderConfig, func(b []byte, id uint32) []byte { return llrp.AppendSetReaderConfig(b, id, enable) }); st.Code != 0 {
		t.Fatalf("SET_READER_CONFIG: %+v", st)
	}
	rc, err = c.getConfig(all)
	if err != nil {
		t.Fatal(err)
	}
	want := []llrp.GPIPort{{Port: 1, Enabled: true, State: llrp.GPIStateHigh}, {Port: 2, Enabled: true, State: llrp.GPIStateLow},
		{Port: 3, State: llrp.GPIStateUnknown}, {Port: 4, State: llrp.GPIStateUnknown}}
	if !reflect.DeepEqual(rc.GPIPorts, want) || len(rc.GPOWrites) != 0 {
		t.Fatalf("reported %+v %+v, want %+v and no outputs", rc.GPIPorts, rc.GPOWrites, want)
	}
	rc, err = c.getConfig(llrp.GetReaderConfig{RequestedData: llrp.ConfigGPOWriteData, GPOPort: 3})
	if err != nil || len(rc.GPIPorts) != 0 || !reflect.DeepEqual(rc.GPOWrites, []llrp.GPOWrite{{Port: 3, High: true}}) {
		t.Fatalf("GPO 3: %+v, %v", rc, err)
	}
	rc, err = c.getConfig(llrp.GetReaderConfig{RequestedData: llrp.ConfigGPIPortCurrentState, GPIPort: 2})
	if err != nil || len(rc.GPIPorts) != 1 || rc.GPIPorts[0].Port != 2 {
		t.Fatalf("GPI 2 only: %+v, %v", rc, err)
	}
	for _, q := range []llrp.GetReaderConfig{
		{RequestedData: llrp.ConfigGPIPortCurrentState, GPIPort: 5},
		{RequestedData: llrp.ConfigGPOWriteData, GPOPort: 9},
		{RequestedData: 3},
	} {
		if _, err := c.getConfig(q); !errors.Is(err, rfid.ErrReaderStatus) {
			t.Errorf("%+v: %v, want the reader's refusal", q, err)
		}
	}
}
