package readersim

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

// SerialSim is a simulated UART reader: M100/JRD or CF-RU5102 answering
// inventory commands, or an ASCII reader printing one line per read.
type SerialSim struct {
	Protocol  string  // serialrdr.ProtocolM100, ProtocolRU5102 or ProtocolASCII
	TimeScale float64 // default 1
	Address   byte    // RU5102 address
	// MaxDBm, when set, is the module's highest transmit power: a set-power
	// command above it is refused, as a module weaker than the protocol's
	// maximum does.
	MaxDBm float64
	sc     *Scenario
	// offset is the transmit power set by the client, in dB below the
	// protocol's maximum (0 until set; see rfmodel.go for the model).
	offset int
}

// NewSerial returns a serial simulator of sc speaking protocol.
func NewSerial(sc *Scenario, protocol string) *SerialSim {
	return &SerialSim{sc: sc, Protocol: protocol, TimeScale: 1}
}

// Serve answers on rw until ctx ends or rw fails; it returns nil when ctx
// ends. Reads of all antennas are reported (serial readers have one or
// report their own antenna in ASCII lines). If rw is an io.Closer it is
// closed when ctx ends.
func (s *SerialSim) Serve(ctx context.Context, rw io.ReadWriter) error {
	if s.sc == nil {
		return errNoScenario
	}
	if s.TimeScale <= 0 {
		return fmt.Errorf("readersim: time scale %v must be positive", s.TimeScale)
	}
	if c, ok := rw.(io.Closer); ok {
		stop := context.AfterFunc(ctx, func() { _ = c.Close() })
		defer stop()
	}
	start := time.Now()
	gen := s.sc.NewGenerator()
	var reads []rfid.Read
	// due generates every cycle up to now.
	due := func() []rfid.Read {
		el := time.Duration(float64(time.Since(start)) * s.TimeScale)
		reads = reads[:0]
		for gen.Elapsed() <= el {
			reads = gen.Next(reads, time.Time{})
		}
		kept := reads[:0]
		for _, r := range reads {
			if admitPower(&r, s.offset, s.sc.Sensitivity) {
				kept = append(kept, r)
			}
		}
		reads = kept
		return reads
	}
	var err error
	switch s.Protocol {
	case serialrdr.ProtocolM100:
		err = s.serveM100(rw, due)
	case serialrdr.ProtocolRU5102:
		err = s.serveRU5102(rw, due)
	case serialrdr.ProtocolASCII:
		err = s.serveASCII(ctx, rw, due)
	default:
		return fmt.Errorf("readersim: serial protocol %q is not one of m100, ru5102, ascii", s.Protocol)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *SerialSim) serveM100(rw io.ReadWriter, due func() []rfid.Read) error {
	d := serialrdr.NewM100Decoder(rw)
	var out []byte
	for {
		f, err := d.Next()
		if err != nil {
			return err
		}
		if f.Type != serialrdr.M100TypeCommand {
			continue
		}
		out = out[:0]
		switch f.Cmd {
		case serialrdr.M100CmdInventory:
			rs := due()
			for i := range rs {
				out = serialrdr.AppendM100Tag(out, &rs[i])
			}
			if len(rs) == 0 {
				out = serialrdr.AppendM100(out, serialrdr.M100TypeResponse, serialrdr.M100CmdError, []byte{serialrdr.M100ErrNoTag})
			}
		case serialrdr.M100CmdStop:
			out = serialrdr.AppendM100(out, serialrdr.M100TypeResponse, serialrdr.M100CmdStop, []byte{0})
		case serialrdr.M100CmdSetPower:
			p, err := serialrdr.M100Power(f)
			if err != nil || serialrdr.CheckTxPower(serialrdr.ProtocolM100, p) != nil || s.MaxDBm != 0 && p > s.MaxDBm {
				out = serialrdr.AppendM100(out, serialrdr.M100TypeResponse, serialrdr.M100CmdError, []byte{0x0E}) // parameter error
				break
			}
			s.offset = int(math.Floor(p - serialrdr.M100MaxDBm))
			out = serialrdr.AppendM100(out, serialrdr.M100TypeResponse, serialrdr.M100CmdSetPower, []byte{0})
		default:
			out = serialrdr.AppendM100(out, serialrdr.M100TypeResponse, serialrdr.M100CmdError, []byte{0x17})
		}
		if _, err := rw.Write(out); err != nil {
			return err
		}
	}
}

func (s *SerialSim) serveRU5102(rw io.ReadWriter, due func() []rfid.Read) error {
	d := serialrdr.NewRU5102Decoder(rw)
	var out []byte
	for {
		f, err := d.Next()
		if err != nil {
			return err
		}
		switch f.Cmd {
		case serialrdr.RU5102CmdSetPower:
			p, err := serialrdr.RU5102Power(f)
			if err != nil || serialrdr.CheckTxPower(serialrdr.ProtocolRU5102, p) != nil || s.MaxDBm != 0 && p > s.MaxDBm {
				out = serialrdr.AppendRU5102(out[:0], s.Address, f.Cmd, []byte{0xFF}) // parameter error
				break
			}
			s.offset = int(p - serialrdr.RU5102MaxDBm)
			out = serialrdr.AppendRU5102(out[:0], s.Address, f.Cmd, []byte{0})
		case serialrdr.RU5102CmdInventory:
			var epcs []rfid.EPC
			seen := map[rfid.EPC]bool{}
			for _, r := range due() {
				if !seen[r.EPC] {
					seen[r.EPC] = true
					epcs = append(epcs, r.EPC)
				}
			}
			out = serialrdr.AppendRU5102Inventory(out[:0], s.Address, epcs)
		default:
			out = serialrdr.AppendRU5102(out[:0], s.Address, f.Cmd, []byte{0xFE}) // unsupported command
		}
		if _, err := rw.Write(out); err != nil {
			return err
		}
	}
}

func (s *SerialSim) serveASCII(ctx context.Context, w io.Writer, due func() []rfid.Read) error {
	t := time.NewTicker(max(time.Duration(float64(s.sc.Cycle)/s.TimeScale), time.Millisecond))
	defer t.Stop()
	var out []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		out = out[:0]
		rs := due()
		for i := range rs {
			out = serialrdr.AppendASCII(out, &rs[i])
		}
		if len(out) > 0 {
			if _, err := w.Write(out); err != nil {
				return err
			}
		}
	}
}
