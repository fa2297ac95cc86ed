package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/zebra"
)

// peer is the printer's end of a connection under test.
type peer struct {
	// recv returns the next n bytes the printer received.
	recv func(t *testing.T, n int) []byte
	// send writes bytes to the host; nil when the transport is one-way.
	send func(t *testing.T, b []byte)
	// concurrent: recv must run while the host writes (small buffers).
	concurrent bool
}

// conformance is the suite every transport passes.
func conformance(t *testing.T, open func(t *testing.T) (printers.Conn, peer)) {
	t.Run("WriteInOrder", func(t *testing.T) {
		c, p := open(t)
		defer c.Close()
		big := bytes.Repeat([]byte("^XA^FO10,10^FDlabel^FS^XZ"), 2000)
		chunks := [][]byte{[]byte("^XA^XZ"), big, []byte("~HS")}
		var want []byte
		for _, c := range chunks {
			want = append(want, c...)
		}
		got := make(chan []byte, 1)
		if p.concurrent {
			go func() { got <- p.recv(t, len(want)) }()
		}
		for _, chunk := range chunks {
			if n, err := c.Write(chunk); err != nil || n != len(chunk) {
				t.Fatalf("write %d bytes: %d, %v", len(chunk), n, err)
			}
		}
		if f, ok := c.(printers.Flusher); ok {
			if err := f.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if !p.concurrent {
			got <- p.recv(t, len(want))
		}
		if b := <-got; !bytes.Equal(b, want) {
			t.Fatalf("printer got %d bytes, want %d in order", len(b), len(want))
		}
	})
	t.Run("StatusReplyOrNoStatus", func(t *testing.T) {
		c, p := open(t)
		defer c.Close()
		if p.send == nil {
			if err := c.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); !errors.Is(err, printers.ErrNoStatus) {
				t.Fatalf("one-way SetReadDeadline: %v, want ErrNoStatus", err)
			}
			if _, err := c.Read(make([]byte, 8)); !errors.Is(err, printers.ErrNoStatus) {
				t.Fatalf("one-way Read: %v, want ErrNoStatus", err)
			}
			q := zebra.NewQuerier(c, printers.StatusBoth, nil)
			if st, err := q.Status(context.Background(), 10*time.Millisecond); err == nil || st.Known {
				t.Fatalf("status over a one-way transport: %+v %v", st, err)
			}
			return
		}
		reply := zebra.AppendHS(nil, zebra.HostStatus{FormatsInBuffer: 3, LabelsRemaining: 7, PrintMode: "2"})
		go p.send(t, reply)
		if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		rep, err := zebra.NewReader(c).Next()
		if err != nil || rep.HS == nil || rep.HS.FormatsInBuffer != 3 || rep.HS.LabelsRemaining != 7 {
			t.Fatalf("reply: %+v %v", rep, err)
		}
	})
	t.Run("ReadDeadline", func(t *testing.T) {
		c, p := open(t)
		defer c.Close()
		if p.send == nil {
			return
		}
		if err := c.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		_, err := c.Read(make([]byte, 8))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read past deadline: %v", err)
		}
		// a later reply is still read after the deadline is moved
		go p.send(t, []byte("x"))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 1)
		if n, err := c.Read(b); n != 1 || err != nil || b[0] != 'x' {
			t.Fatalf("read after deadline: %d %v", n, err)
		}
	})
	t.Run("CloseThenWrite", func(t *testing.T) {
		c, _ := open(t)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("^XA^XZ")); err == nil {
			t.Fatal("write after close succeeded")
		}
		_ = c.Close() // twice is harmless
	})
}

func TestTCPConformance(t *testing.T) {
	conformance(t, func(t *testing.T) (printers.Conn, peer) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cfg := printers.Config{ID: "p", Address: ln.Addr().String()}.WithDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c, err := Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sc.Close() })
		return c, peer{
			recv: func(t *testing.T, n int) []byte {
				_ = sc.SetReadDeadline(time.Now().Add(10 * time.Second))
				b := make([]byte, n)
				if _, err := io.ReadFull(sc, b); err != nil {
					t.Fatal(err)
				}
				return b
			},
			send: func(t *testing.T, b []byte) { _, _ = sc.Write(b) },
		}
	})
}

func TestFileConformance(t *testing.T) {
	conformance(t, func(t *testing.T) (printers.Conn, peer) {
		path := filepath.Join(t.TempDir(), "labels.zpl")
		cfg := printers.Config{ID: "archive", Transport: "file", Path: path}.WithDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c, err := Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		off := 0
		return c, peer{recv: func(t *testing.T, n int) []byte {
			b, err := os.ReadFile(path)
			if err != nil || len(b) < off+n {
				t.Fatalf("file has %d bytes, want %d: %v", len(b), off+n, err)
			}
			off += n
			return b[off-n : off]
		}}
	})
}

// openPTY returns the master and the slave's path.
func openPTY(t *testing.T) (*os.File, string) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pty on this system: %v", err)
	}
	var unlock int32
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, m.Fd(), unix.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	// raw mode on the master side too, so bytes pass unchanged
	makeRaw(t, int(m.Fd()))
	return m, "/dev/pts/" + strconv.Itoa(n)
}

// makeRaw puts a tty in raw mode (no echo, no line editing, no output
// processing).
func makeRaw(t *testing.T, fd int) {
	tio, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	tio.Cc[unix.VMIN], tio.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
}

// TestUSBConformanceOverPTY runs the suite against the USB transport on a
// character device that polls like /dev/usb/lp* (a pty slave in raw mode).
func TestUSBConformanceOverPTY(t *testing.T) {
	conformance(t, func(t *testing.T) (printers.Conn, peer) {
		m, slave := openPTY(t)
		t.Cleanup(func() { m.Close() })
		s, err := os.OpenFile(slave, os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			t.Fatal(err)
		}
		makeRaw(t, int(s.Fd()))
		t.Cleanup(func() { s.Close() })
		cfg := printers.Config{ID: "usb", Device: slave}.WithDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c, err := Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c, peer{
			recv: func(t *testing.T, n int) []byte {
				_ = m.SetReadDeadline(time.Now().Add(10 * time.Second))
				b := make([]byte, n)
				if _, err := io.ReadFull(m, b); err != nil {
					t.Error(err)
				}
				return b
			},
			send:       func(t *testing.T, b []byte) { _, _ = m.Write(b) },
			concurrent: true,
		}
	})
}

func TestSerialConformanceOverPTY(t *testing.T) {
	conformance(t, func(t *testing.T) (printers.Conn, peer) {
		m, slave := openPTY(t)
		t.Cleanup(func() { m.Close() })
		cfg := printers.Config{ID: "ser", Serial: printers.Serial{Device: slave, Handshake: "xonxoff"}}.WithDefaults()
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		c, err := Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return c, peer{
			recv: func(t *testing.T, n int) []byte {
				_ = m.SetReadDeadline(time.Now().Add(10 * time.Second))
				b := make([]byte, n)
				if _, err := io.ReadFull(m, b); err != nil {
					t.Error(err)
				}
				return b
			},
			send:       func(t *testing.T, b []byte) { _, _ = m.Write(b) },
			concurrent: true,
		}
	})
}

func TestXONXOFF(t *testing.T) {
	host, printer := net.Pipe()
	c := NewStream(host, true)
	defer c.Close()
	go func() { _, _ = printer.Write([]byte{XOFF}) }()
	// wait until the XOFF was read
	for i := 0; i < 1000; i++ {
		s := c.(*stream)
		s.mu.Lock()
		p := s.paused
		s.mu.Unlock()
		if p {
			break
		}
		time.Sleep(time.Millisecond)
	}
	wrote := make(chan error, 1)
	go func() { _, err := c.Write([]byte("^XA^XZ")); wrote <- err }()
	select {
	case err := <-wrote:
		t.Fatalf("write went through while XOFF: %v", err)
	case <-time.After(30 * time.Millisecond):
	}
	go func() { _, _ = printer.Write([]byte{XON, 0x02, 'o', 'k', 0x03}) }()
	b := make([]byte, 6)
	_ = printer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(printer, b); err != nil || string(b) != "^XA^XZ" {
		t.Fatalf("printer got %q %v", b, err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := make([]byte, 4)
	if _, err := io.ReadFull(c, r); err != nil || string(r) != "\x02ok\x03" {
		t.Fatalf("host read %q %v (XON must be stripped)", r, err)
	}
}

func TestOneConnectionPerTarget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.zpl")
	cfg := printers.Config{ID: "f", Path: path}.WithDefaults()
	c1, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := Dial(ctx, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second dial while the first is open: %v", err)
	}
	c1.Close()
	c2, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
}

func TestUSBWithoutPollIsOneWay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lp0")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := OpenUSB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("^XA^XZ")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, printers.ErrNoStatus) {
		t.Fatalf("read from a device without poll: %v", err)
	}
}

func TestSerialConfigErrors(t *testing.T) {
	for _, s := range []printers.Serial{
		{Device: "/dev/null", Baud: 9600, DataBits: 8, Parity: "weird", StopBits: 1},
		{Device: "/dev/null", Baud: 9600, DataBits: 8, Parity: "none", StopBits: 3},
		{Device: "/dev/null", Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1, Handshake: "dtr"},
	} {
		if _, err := OpenSerial(s); !errors.Is(err, printers.ErrConfig) {
			t.Errorf("%+v: %v", s, err)
		}
	}
}
