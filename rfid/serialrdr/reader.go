package serialrdr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.bug.st/serial"

	"github.com/dockgate/dockgate/rfid"
)

// Protocols.
const (
	ProtocolM100   = "m100"
	ProtocolRU5102 = "ru5102"
	ProtocolASCII  = "ascii"
)

// Config configures a Reader. Zero fields take the documented defaults.
type Config struct {
	ReaderID string
	Protocol string // m100, ru5102 or ascii
	// Device and Baud are used by the default Open (OpenSerial); Baud
	// defaults to 115200.
	Device string
	Baud   int
	// Open opens the port; default OpenSerial(Device, Baud).
	Open func(ctx context.Context) (io.ReadWriteCloser, error)
	// Address is the RU5102 reader address (default 0x00).
	Address byte
	// TxPowerDBm, when set, is sent at every connect (M100 B6, RU5102
	// 2F) and its reply checked; ascii readers have no power command.
	TxPowerDBm *float64
	// PowerTimeout bounds the wait for the set-power reply (default 2s).
	PowerTimeout time.Duration
	// Antenna is reported for readers that do not say (default 1).
	Antenna uint16
	// PollInterval between inventory commands (m100, ru5102; default 100ms).
	PollInterval time.Duration
	// Silence without any frame after which the port is reopened (m100,
	// ru5102; default 5s; ascii readers are silent without tags, so 0 there).
	Silence time.Duration
	// Pattern parses ASCII lines (default DefaultASCIIPattern).
	Pattern string
	// Backoff before reopening attempt n; reset after a healthy session
	// (default 500ms doubling to 30s, jittered).
	Backoff func(attempt int) time.Duration
	Now     func() time.Time
	OnReads func([]rfid.Read)
	OnEvent func(rfid.ReaderEvent)
	// Logger receives the reader's warnings; it should name the reader
	// (the reader does not add ReaderID).
	Logger *slog.Logger
}

// Reader drives one serial reader.
type Reader struct {
	cfg   Config
	log   *slog.Logger
	reads atomic.Uint64
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Reader, error) {
	switch cfg.Protocol {
	case ProtocolM100, ProtocolRU5102, ProtocolASCII:
	default:
		return nil, fmt.Errorf("serialrdr: protocol %q is not one of m100, ru5102, ascii", cfg.Protocol)
	}
	if cfg.Baud == 0 {
		cfg.Baud = 115200
	}
	if cfg.Open == nil {
		if cfg.Device == "" {
			return nil, errors.New("serialrdr: no device; set it to the serial port, e.g. /dev/ttyUSB0")
		}
		dev, baud := cfg.Device, cfg.Baud
		cfg.Open = func(context.Context) (io.ReadWriteCloser, error) { return OpenSerial(dev, baud) }
	}
	if cfg.Antenna == 0 {
		cfg.Antenna = 1
	}
	if cfg.TxPowerDBm != nil {
		if err := CheckTxPower(cfg.Protocol, *cfg.TxPowerDBm); err != nil {
			return nil, fmt.Errorf("serialrdr: %w", err)
		}
	}
	if cfg.PowerTimeout == 0 {
		cfg.PowerTimeout = 2 * time.Second
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Silence == 0 && cfg.Protocol != ProtocolASCII {
		cfg.Silence = 5 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = backoff(500*time.Millisecond, 30*time.Second)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if _, err := NewASCIIDecoder(nil, cfg.Pattern); cfg.Protocol == ProtocolASCII && err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The reader's name is the caller's to put on the logger (the
	// gateway's carries reader=ID): adding it here too would log it twice.
	return &Reader{cfg: cfg, log: log}, nil
}

func backoff(lo, hi time.Duration) func(int) time.Duration {
	return func(n int) time.Duration {
		d := lo
		for i := 0; i < n && d < hi; i++ {
			d *= 2
		}
		d = min(d, hi)
		return d/2 + time.Duration(time.Now().UnixNano()%int64(d/2+1))
	}
}

// OpenSerial opens a serial port at baud 8N1.
func OpenSerial(dev string, baud int) (io.ReadWriteCloser, error) {
	p, err := serial.Open(dev, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("serialrdr: open %s at %d baud: %w", dev, baud, err)
	}
	return p, nil
}

// Reads is the number of tag reads delivered so far.
func (r *Reader) Reads() uint64 { return r.reads.Load() }

func (r *Reader) event(e rfid.ReaderEvent) {
	e.Reader = r.cfg.ReaderID
	e.Time = r.cfg.Now()
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(e)
	}
}

// Run opens the port, reads and reopens after errors until ctx ends.
func (r *Reader) Run(ctx context.Context) error {
	attempt := 0
	for {
		port, err := r.cfg.Open(ctx)
		healthy := false
		if err == nil {
			r.event(rfid.ReaderEvent{Kind: rfid.EventConnected})
			start := r.cfg.Now()
			err = r.Serve(ctx, port)
			_ = port.Close()
			healthy = r.cfg.Now().Sub(start) >= max(r.cfg.Silence, time.Second)
			if ctx.Err() == nil {
				r.event(rfid.ReaderEvent{Kind: rfid.EventDisconnected, Err: err})
			}
		} else {
			r.event(rfid.ReaderEvent{Kind: rfid.EventConnectFailed, Err: err})
		}
		if ctx.Err() != nil {
			return nil
		}
		if healthy {
			attempt = 0
		}
		wait := r.cfg.Backoff(attempt)
		attempt++
		if err != nil {
			r.log.Warn("serial reader session ended", "err", err, "retry_in", wait)
		} else {
			r.log.Warn("serial reader session ended", "retry_in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Serve drives an open port until ctx ends (then it returns nil) or the
// port fails. If port is an io.Closer it is closed when ctx ends, to
// unblock reads.
func (r *Reader) Serve(parent context.Context, port io.ReadWriter) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	if c, ok := port.(io.Closer); ok {
		stop := context.AfterFunc(ctx, func() { _ = c.Close() })
		defer stop()
	}
	if p := r.cfg.TxPowerDBm; p != nil {
		err := r.applyPower(ctx, cancel, port, *p)
		var no powerRefused
		switch {
		case err == nil:
		case parent.Err() != nil:
			return nil
		case errors.As(err, &no):
			// As an LLRP reader does with a power outside its table: warn
			// and read at the reader's own power, rather than reopen the
			// port for ever on a value it will never take.
			msg := fmt.Sprintf("transmit power not set, reading at the reader's own power: %v; set tx_power_dbm within the module's range or leave it out", err)
			r.log.Warn(msg)
			r.event(rfid.ReaderEvent{Kind: rfid.EventReaderException, Message: msg})
		default:
			return err
		}
	}
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	if r.cfg.Protocol != ProtocolASCII {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.poll(ctx, port, &last); err != nil {
				cancel(err)
			}
		}()
	}
	cancel(r.decode(port, &last))
	wg.Wait()
	if parent.Err() != nil {
		return nil
	}
	return context.Cause(ctx)
}

// applyPower sets the transmit power on an open port, within
// PowerTimeout; a port that does not answer is closed (through cancel).
func (r *Reader) applyPower(ctx context.Context, cancel context.CancelCauseFunc, port io.ReadWriter, dBm float64) error {
	done := make(chan error, 1)
	go func() { done <- setPower(port, r.cfg.Protocol, r.cfg.Address, dBm) }()
	t := time.NewTimer(r.cfg.PowerTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil {
			r.log.Info("transmit power set", "tx_power_dbm", dBm)
		}
		return err
	case <-t.C:
		err := fmt.Errorf("%w: no reply to the set-power command (%v dBm) within %v", ErrTxPower, dBm, r.cfg.PowerTimeout)
		cancel(err) // closes the port, which ends the wait
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// errSilent reports a reader that stopped answering.
var errSilent = errors.New("serialrdr: reader stopped answering")

func (r *Reader) poll(ctx context.Context, w io.Writer, last *atomic.Int64) error {
	var cmd []byte
	if r.cfg.Protocol == ProtocolM100 {
		cmd = AppendM100(nil, M100TypeCommand, M100CmdInventory, nil)
	} else {
		cmd = AppendRU5102(nil, r.cfg.Address, RU5102CmdInventory, nil)
	}
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		if _, err := w.Write(cmd); err != nil {
			return fmt.Errorf("serialrdr: write inventory command: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if r.cfg.Silence > 0 && time.Since(time.Unix(0, last.Load())) > r.cfg.Silence {
			return fmt.Errorf("%w for %v", errSilent, r.cfg.Silence)
		}
	}
}

func (r *Reader) deliver(batch []rfid.Read) {
	now := r.cfg.Now()
	for i := range batch {
		b := &batch[i]
		b.Reader, b.Time, b.SeenCount = r.cfg.ReaderID, now, 1
		if b.Antenna == 0 {
			b.Antenna = r.cfg.Antenna
		}
	}
	r.reads.Add(uint64(len(batch)))
	if r.cfg.OnReads != nil && len(batch) > 0 {
		r.cfg.OnReads(batch)
	}
}

func (r *Reader) decode(port io.Reader, last *atomic.Int64) error {
	batch := make([]rfid.Read, 0, 64)
	switch r.cfg.Protocol {
	case ProtocolM100:
		d := NewM100Decoder(port)
		for {
			f, err := d.Next()
			if err != nil {
				return err
			}
			last.Store(time.Now().UnixNano())
			if f.Type != M100TypeNotice || f.Cmd != M100CmdInventory {
				continue // no-tag errors, command responses
			}
			batch = append(batch[:0], rfid.Read{})
			if err := M100Tag(f, &batch[0]); err != nil {
				r.log.Debug("tag notice rejected", "err", err)
				continue
			}
			r.deliver(batch)
		}
	case ProtocolRU5102:
		d := NewRU5102Decoder(port)
		for {
			f, err := d.Next()
			if err != nil {
				return err
			}
			last.Store(time.Now().UnixNano())
			batch, err = RU5102Inventory(f, batch[:0])
			if err != nil {
				r.log.Debug("inventory reply rejected", "err", err)
				continue
			}
			r.deliver(batch)
		}
	default:
		d, err := NewASCIIDecoder(port, r.cfg.Pattern)
		if err != nil {
			return err
		}
		for {
			batch = append(batch[:0], rfid.Read{})
			if err := d.Next(&batch[0]); err != nil {
				return err
			}
			last.Store(time.Now().UnixNano())
			r.deliver(batch)
		}
	}
}
