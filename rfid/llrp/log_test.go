package llrp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The session logs with the caller's logger, which names the reader: it
// does not name it a second time.
func TestSessionLogNamesTheReaderOnce(t *testing.T) {
	var buf logBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil)).With("reader", "R1")
	s, err := NewSession(Config{ReaderID: "R1", Address: "127.0.0.1:5084", Logger: log,
		Dial: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("refused")
		},
		Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(buf.String(), "llrp session ended"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no log line")
		}
	}
	cancel()
	<-done
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Count(l, "reader=") != 1 || !strings.Contains(l, "address=127.0.0.1:5084") || !strings.Contains(l, "err=") {
			t.Errorf("log line %q: want reader= once, the address and the error", l)
		}
	}
}
