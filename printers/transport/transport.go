package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"go.bug.st/serial"

	"github.com/dockgate/dockgate/printers"
)

// Dial opens a connection to the printer cfg describes (cfg must have been
// through WithDefaults and Validate). It waits while another connection to
// the same target is open in this process, until ctx ends.
func Dial(ctx context.Context, cfg printers.Config) (printers.Conn, error) {
	target := cfg.Target()
	release, err := acquire(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("printer %s: wait for %s: %w", cfg.ID, target, err)
	}
	c, err := open(ctx, cfg)
	if err != nil {
		release()
		return nil, fmt.Errorf("printer %s: open %s: %w", cfg.ID, target, err)
	}
	return &locked{Conn: c, release: release}, nil
}

func open(ctx context.Context, cfg printers.Config) (printers.Conn, error) {
	timeout := cfg.Timeouts.Dial
	if timeout <= 0 {
		timeout = printers.DefaultTimeouts.Dial
	}
	switch cfg.Transport {
	case printers.TransportTCP:
		return DialTCP(ctx, cfg.Address, timeout)
	case printers.TransportSerial:
		return OpenSerial(cfg.Serial)
	case printers.TransportUSB:
		return OpenUSB(cfg.Device)
	case printers.TransportFile:
		return OpenFile(cfg.Path)
	}
	return nil, &printers.ConfigError{Printer: cfg.ID, Field: "transport", Problem: fmt.Sprintf("%q is not tcp, serial, usb or file", cfg.Transport)}
}

// DialTCP opens a raw TCP connection (no delay, keepalive on).
func DialTCP(ctx context.Context, addr string, timeout time.Duration) (printers.Conn, error) {
	d := net.Dialer{Timeout: timeout, KeepAlive: 15 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// OpenSerial opens a serial line. Handshake "xonxoff" is handled on the
// byte stream; "dtr" is refused (the library cannot do it).
func OpenSerial(s printers.Serial) (printers.Conn, error) {
	mode := &serial.Mode{BaudRate: s.Baud, DataBits: s.DataBits}
	switch s.Parity {
	case "", "none":
		mode.Parity = serial.NoParity
	case "odd":
		mode.Parity = serial.OddParity
	case "even":
		mode.Parity = serial.EvenParity
	case "mark":
		mode.Parity = serial.MarkParity
	case "space":
		mode.Parity = serial.SpaceParity
	default:
		return nil, &printers.ConfigError{Printer: s.Device, Field: "serial.parity", Problem: fmt.Sprintf("%q is not none, even, odd, mark or space", s.Parity)}
	}
	switch s.StopBits {
	case 0, 1:
		mode.StopBits = serial.OneStopBit
	case 2:
		mode.StopBits = serial.TwoStopBits
	default:
		return nil, &printers.ConfigError{Printer: s.Device, Field: "serial.stop_bits", Problem: fmt.Sprintf("%d is not 1 or 2", s.StopBits)}
	}
	xon := false
	switch s.Handshake {
	case "", "none":
	case "xonxoff":
		xon = true
	default:
		return nil, &printers.ConfigError{Printer: s.Device, Field: "serial.handshake", Problem: fmt.Sprintf("%q is not supported; set the printer to XON/XOFF (xonxoff) or no handshake (none)", s.Handshake)}
	}
	p, err := serial.Open(s.Device, mode)
	if err != nil {
		return nil, err
	}
	return NewStream(p, xon), nil
}

// OpenUSB opens a USB printer device file for reading and writing. When the
// device cannot take read deadlines, status reads fail with ErrNoStatus.
func OpenUSB(path string) (printers.Conn, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return &fileConn{f: f, deadlines: f.SetReadDeadline(time.Time{}) == nil}, nil
}

// OpenFile opens the file sink: every byte written is appended to path
// (created 0644), and Flush syncs it to disk.
func OpenFile(path string) (printers.Conn, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	return &fileConn{f: f, sink: true}, nil
}

// fileConn is a device file or the file sink.
type fileConn struct {
	f         *os.File
	sink      bool
	deadlines bool
}

func (c *fileConn) Read(p []byte) (int, error) {
	if c.sink || !c.deadlines {
		return 0, printers.ErrNoStatus
	}
	return c.f.Read(p)
}

func (c *fileConn) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	if errors.Is(err, os.ErrClosed) {
		err = printers.ErrClosed
	}
	return n, err
}

func (c *fileConn) Close() error { return c.f.Close() }

func (c *fileConn) SetReadDeadline(t time.Time) error {
	if c.sink || !c.deadlines {
		return printers.ErrNoStatus
	}
	return c.f.SetReadDeadline(t)
}

// Flush syncs the file sink to disk; a device file has nothing to flush.
func (c *fileConn) Flush() error {
	if c.sink {
		return c.f.Sync()
	}
	return nil
}

// The per-target locks: one connection per printer at a time.
var (
	targetsMu sync.Mutex
	targets   = map[string]chan struct{}{}
)

func acquire(ctx context.Context, target string) (func(), error) {
	targetsMu.Lock()
	ch, ok := targets[target]
	if !ok {
		ch = make(chan struct{}, 1)
		targets[target] = ch
	}
	targetsMu.Unlock()
	select {
	case ch <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-ch }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// locked releases the target when closed.
type locked struct {
	printers.Conn
	release func()
	once    sync.Once
	err     error
}

func (l *locked) Close() error {
	l.once.Do(func() {
		l.err = l.Conn.Close()
		l.release()
	})
	return l.err
}

// Flush passes through to the connection when it buffers.
func (l *locked) Flush() error {
	if f, ok := l.Conn.(printers.Flusher); ok {
		return f.Flush()
	}
	return nil
}
