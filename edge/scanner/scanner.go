// Package scanner reads a barcode scanner attached to a dock door: a serial
// (or USB CDC) scanner sends each label it reads as one line, CR and/or LF
// terminated, GS1 separators (GS, 0x1D) included. Each line becomes a
// receipt at the scanner's door.
//
// A keyboard-wedge scanner types into a terminal instead: use
// "dockgate receive --scan -" there.
package scanner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"go.bug.st/serial"
)

// MaxLine bounds one scanned label; longer input is dropped up to the next
// line end (a GS1 DataMatrix holds at most about 2,300 characters).
const MaxLine = 4096

// Config is one scanner under the gateway's scanners: key.
type Config struct {
	ID     string `yaml:"id"`
	Device string `yaml:"device"` // e.g. /dev/ttyACM0
	Baud   int    `yaml:"baud"`   // default 9600
	// Door is where scanned goods are received.
	Door string `yaml:"door"`
	// Supplier is recorded with lots kept from scanned labels (FSMA 204
	// asks who assigned the lot code).
	Supplier string `yaml:"supplier"`
	// Cartons is the number of cartons one scan receives (default 1).
	Cartons int `yaml:"cartons"`
}

// WithDefaults fills the defaults.
func (c Config) WithDefaults() Config {
	if c.Baud == 0 {
		c.Baud = 9600
	}
	if c.Cartons == 0 {
		c.Cartons = 1
	}
	return c
}

// Validate names the wrong field and the fix.
func (c Config) Validate() error {
	switch {
	case c.ID == "":
		return errors.New("id: required (a name for the scanner)")
	case c.Device == "":
		return fmt.Errorf("scanner %s: device: required (e.g. /dev/ttyACM0)", c.ID)
	case c.Door == "":
		return fmt.Errorf("scanner %s: door: required (the door whose receipts it starts)", c.ID)
	case c.Baud < 300:
		return fmt.Errorf("scanner %s: baud: %d is not a baud rate (scanners default to 9600)", c.ID, c.Baud)
	case c.Cartons < 1:
		return fmt.Errorf("scanner %s: cartons: %d must be at least 1", c.ID, c.Cartons)
	}
	return nil
}

// Lines calls f with every scanned line of r until r ends. Empty lines are
// skipped and over-long ones dropped (counted in the returned number).
func Lines(r io.Reader, f func(line string)) (dropped int, err error) {
	br := bufio.NewReaderSize(r, MaxLine)
	var buf []byte
	skipping := false
	for {
		chunk, err := br.ReadSlice('\n')
		for len(chunk) > 0 {
			i := bytes.IndexAny(chunk, "\r\n")
			if i < 0 {
				if !skipping {
					buf = append(buf, chunk...)
					if len(buf) > MaxLine {
						buf, skipping = buf[:0], true
						dropped++
					}
				}
				break
			}
			if !skipping {
				buf = append(buf, chunk[:i]...)
				if len(buf) > MaxLine {
					dropped++
				} else if len(buf) > 0 {
					f(string(buf))
				}
			}
			buf, skipping = buf[:0], false
			chunk = chunk[i+1:]
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			if len(buf) > 0 && !skipping {
				f(string(buf))
			}
			return dropped, nil
		default:
			return dropped, err
		}
	}
}

// Open opens a serial scanner (8N1 at the configured baud).
func Open(c Config) (io.ReadCloser, error) {
	p, err := serial.Open(c.Device, &serial.Mode{BaudRate: c.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("scanner %s: open %s: %w", c.ID, c.Device, err)
	}
	return p, nil
}

// Run reads the scanner until ctx ends, reopening it (after a pause) when it
// goes away — a USB scanner unplugged and plugged back.
func Run(ctx context.Context, c Config, open func(Config) (io.ReadCloser, error), onScan func(line string), log *slog.Logger) error {
	backoff := time.Second
	for ctx.Err() == nil {
		rc, err := open(c)
		if err != nil {
			log.Warn("scanner unavailable", "scanner", c.ID, "err", err, "retry_in", backoff)
		} else {
			stop := context.AfterFunc(ctx, func() { rc.Close() })
			dropped, err := Lines(rc, onScan)
			stop()
			rc.Close()
			if dropped > 0 {
				log.Warn("over-long scans dropped", "scanner", c.ID, "count", dropped)
			}
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("scanner closed", "scanner", c.ID, "err", err)
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
	return nil
}
