package llrp

import (
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// The session reads the connection at most once per ReadInterval: a read
// soon after the last waits for the next multiple of the interval (so that
// the sessions of several readers wake up together), one after a longer
// spell does not wait, and none waits without an interval.
func TestPacedReader(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC).Add(3 * time.Millisecond)
	now := t0
	var slept []time.Duration
	p := &pacedReader{r: iotest.HalfReader(strings.NewReader(strings.Repeat("x", 100))), every: 10 * time.Millisecond,
		now: func() time.Time { return now }, sleep: func(d time.Duration) { slept = append(slept, d); now = now.Add(d) }}
	b := make([]byte, 10)
	read := func(after time.Duration) {
		t.Helper()
		now = now.Add(after) // the caller's work since the last read
		if _, err := p.Read(b); err != nil {
			t.Fatal(err)
		}
	}
	read(0)                     // at 3 ms, the first read: nothing to wait for
	read(time.Millisecond)      // at 4 ms: waits until 10
	read(12 * time.Millisecond) // at 22 ms, 12 after the last: no wait
	read(4 * time.Millisecond)  // at 26 ms: waits until 30
	read(time.Millisecond)      // at 31 ms: waits until 40
	if want := []time.Duration{6 * time.Millisecond, 4 * time.Millisecond, 9 * time.Millisecond}; !slices.Equal(slept, want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}
	if got := now.Sub(t0); got != 37*time.Millisecond {
		t.Fatalf("5 reads took until %v, want 37ms (at 40 ms on the clock)", got)
	}

	// A read that fills the buffer left more behind: the next does not
	// wait.
	p.r, slept = strings.NewReader(strings.Repeat("x", 100)), nil
	read(time.Millisecond)
	read(time.Millisecond)
	if len(slept) != 1 {
		t.Fatalf("slept %v after a read that filled the buffer, want one wait before it", slept)
	}

	p.every, slept = 0, nil
	read(0)
	read(0)
	if len(slept) != 0 {
		t.Fatalf("slept %v without an interval", slept)
	}
}

// On a socket, paced reads raise the receive low-water mark (so that the
// segments a busy reader sends do not wake the process between reads) and
// take what is buffered; once the reader goes quiet the mark is one byte
// again and a lone message is read as soon as it comes; a passed deadline
// still ends a paced read.
func TestPacedReaderSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()

	lowWater := func() int {
		t.Helper()
		raw, err := client.(syscall.Conn).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var v int
		var gerr error
		if err := raw.Control(func(fd uintptr) {
			v, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT)
		}); err != nil || gerr != nil {
			t.Fatal(err, gerr)
		}
		return v
	}

	p := &pacedReader{r: client, every: 5 * time.Millisecond}
	b := make([]byte, 1024)
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second)) // bounds the test
	// A busy reader: every read finds the next message already there.
	got := 0
	for i := range 20 {
		if _, err := server.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		n, err := p.Read(b)
		if err != nil {
			t.Fatal(err)
		}
		got += n
		for got < i+1 { // the byte may come in the next interval
			n, err := p.Read(b)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}
	if v := lowWater(); v != pacedLowWater {
		t.Fatalf("SO_RCVLOWAT %d while the reads are paced, want %d", v, pacedLowWater)
	}

	// Quiet: the next read finds nothing, lowers the mark, and waits for
	// the lone message, which must not be held back by the mark.
	go func() {
		time.Sleep(30 * time.Millisecond)
		_, _ = server.Write([]byte("keepalive"))
	}()
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := p.Read(b)
	if err != nil {
		t.Fatalf("a lone message after a quiet spell: %v", err)
	}
	if string(b[:n]) != "keepalive" {
		t.Fatalf("read %q, want the lone message", b[:n])
	}
	if v := lowWater(); v != 1 {
		t.Fatalf("SO_RCVLOWAT %d after a quiet spell, want 1", v)
	}

	// Paced again, then stopped: a deadline in the past ends the read.
	if _, err := server.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Read(b); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Unix(1, 0))
	if _, err := p.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("paced read after the deadline: %v, want a timeout", err)
	}

	// The peer closes: a paced read gives io.EOF.
	_ = client.SetReadDeadline(time.Time{})
	p.last = time.Now()
	server.Close()
	for {
		_, err := p.Read(b)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after the peer closed: %v, want io.EOF", err)
		}
	}
}
