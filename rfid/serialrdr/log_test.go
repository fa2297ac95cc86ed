package serialrdr

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
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

// The reader logs with the caller's logger, which names the reader: it
// does not name it a second time.
func TestReaderLogNamesTheReaderOnce(t *testing.T) {
	var buf logBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil)).With("reader", "R2")
	r, err := New(Config{ReaderID: "R2", Protocol: ProtocolM100, Device: "/dev/null", Logger: log,
		Open:    func(context.Context) (io.ReadWriteCloser, error) { return nil, errors.New("no such device") },
		Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(buf.String(), "serial reader session ended"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no log line")
		}
	}
	cancel()
	<-done
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if strings.Count(l, "reader=") != 1 || !strings.Contains(l, "err=") {
			t.Errorf("log line %q: want reader= once and the error", l)
		}
	}
}
