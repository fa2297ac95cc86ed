package scanner

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLines(t *testing.T) {
	long := strings.Repeat("9", MaxLine+10)
	in := "]C1010952012345678810ABC\x1d17251231\r\n\n\r(01)09520123456788\r" + long + "\nlast"
	var got []string
	dropped, err := Lines(strings.NewReader(in), func(l string) { got = append(got, l) })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"]C1010952012345678810ABC\x1d17251231", "(01)09520123456788", "last"}
	if strings.Join(got, "|") != strings.Join(want, "|") || dropped != 1 {
		t.Fatalf("got %q (dropped %d)", got, dropped)
	}
}

// A scanner on a pipe: lines arrive in pieces; Run hands each to onScan and
// reopens the device after it goes away.
func TestRunReopens(t *testing.T) {
	var mu sync.Mutex
	var got []string
	opens := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func(Config) (io.ReadCloser, error) {
		mu.Lock()
		opens++
		n := opens
		mu.Unlock()
		r, w := io.Pipe()
		go func() {
			w.Write([]byte("(01)0952012345678"))
			w.Write([]byte("8(10)L" + string(rune('0'+n)) + "\r\n"))
			w.Close() // unplugged
		}()
		return r, nil
	}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{ID: "s1", Device: "pipe", Door: "D1"}, open, func(l string) {
			mu.Lock()
			got = append(got, l)
			mu.Unlock()
		}, slog.New(slog.DiscardHandler))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("scans not read")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got[0] != "(01)09520123456788(10)L1" || got[1] != "(01)09520123456788(10)L2" {
		t.Fatalf("got %q", got)
	}
}

func FuzzLines(f *testing.F) {
	f.Add([]byte("a\r\nb\n\rc"))
	f.Add([]byte(strings.Repeat("x", MaxLine+1) + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := Lines(strings.NewReader(string(b)), func(l string) {
			if len(l) == 0 || len(l) > MaxLine || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bad line %q", l)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
