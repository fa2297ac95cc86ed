package serials

import (
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/epc"
)

const (
	gtinA = "80614141123458"
	gtinB = "09506000134352"
)

func openStore(t *testing.T, dir string, o store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// allocateConcurrently issues serials from several goroutines and returns
// them per GTIN.
func allocateConcurrently(t *testing.T, a *Allocator, workers, each int) map[string][]uint64 {
	t.Helper()
	var mu sync.Mutex
	got := map[string][]uint64{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				gtin := gtinA
				if (w+i)%2 == 1 {
					gtin = gtinB
				}
				n := uint64(1 + i%3)
				first, err := a.Next(gtin, n)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for k := uint64(0); k < n; k++ {
					got[gtin] = append(got[gtin], first+k)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return got
}

func checkUnique(t *testing.T, seen map[string]map[uint64]bool, got map[string][]uint64) {
	t.Helper()
	for gtin, serials := range got {
		if seen[gtin] == nil {
			seen[gtin] = map[uint64]bool{}
		}
		for _, s := range serials {
			if seen[gtin][s] {
				t.Fatalf("GTIN %s: serial %d issued twice", gtin, s)
			}
			if s == 0 || s > MaxSGTIN96Serial {
				t.Fatalf("GTIN %s: serial %d out of range", gtin, s)
			}
			seen[gtin][s] = true
		}
	}
}

func TestConcurrentAndReopenNeverRepeat(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]map[uint64]bool{}
	for round := 0; round < 2; round++ {
		st := openStore(t, dir, store.Options{})
		a, err := New(st, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkUnique(t, seen, allocateConcurrently(t, a, 4, 12))
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen[gtinA]) == 0 || len(seen[gtinB]) == 0 {
		t.Fatal("nothing allocated")
	}
}

func TestManyConcurrentInMemory(t *testing.T) {
	st := openStore(t, "", store.Options{InMemory: true})
	defer st.Close()
	a, err := New(st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := allocateConcurrently(t, a, 8, 100)
	checkUnique(t, map[string]map[uint64]bool{}, got)
	// The serials are consecutive from 1: nothing is lost either.
	for gtin, serials := range got {
		for _, s := range serials {
			if s > uint64(len(serials)) {
				t.Fatalf("GTIN %s: serial %d with only %d issued", gtin, s, len(serials))
			}
		}
	}
}

func TestGTIN13And14ShareCounter(t *testing.T) {
	st := openStore(t, "", store.Options{InMemory: true})
	defer st.Close()
	a, _ := New(st, Options{First: 100})
	s1, err := a.Next("9506000134352", 1)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := a.Next("09506000134352", 1)
	if err != nil {
		t.Fatal(err)
	}
	if s1 != 100 || s2 != 101 {
		t.Errorf("serials %d %d, want 100 101", s1, s2)
	}
}

func TestExhausted(t *testing.T) {
	st := openStore(t, "", store.Options{InMemory: true})
	defer st.Close()
	a, _ := New(st, Options{First: 5, Last: 7})
	if _, err := a.Next(gtinA, 3); err != nil {
		t.Fatal(err)
	}
	_, err := a.Next(gtinA, 1)
	if !errors.Is(err, ErrExhausted) {
		t.Fatalf("err = %v, want ErrExhausted", err)
	}
	// Another GTIN has its own range.
	if s, err := a.Next(gtinB, 1); err != nil || s != 5 {
		t.Errorf("GTIN B: %d %v", s, err)
	}
}

func TestNextSGTIN96(t *testing.T) {
	st := openStore(t, "", store.Options{InMemory: true})
	defer st.Close()
	a, _ := New(st, Options{First: 6789})
	e, err := a.NextSGTIN96(3, 7, gtinA)
	if err != nil {
		t.Fatal(err)
	}
	if e.Hex() != "3074257BF7194E4000001A85" {
		t.Errorf("EPC %s", e.Hex())
	}
	es, err := a.NextSGTIN96s(1, 7, gtinA, 3)
	if err != nil || len(es) != 3 || es[0].Serial() != "6790" || es[2].Serial() != "6792" {
		t.Fatalf("%v %v", es, err)
	}
	// A bad encoding spends no serial.
	if _, err := a.NextSGTIN96(9, 7, gtinA); !errors.Is(err, epc.ErrFilter) {
		t.Errorf("filter 9: %v", err)
	}
	if e, _ := a.NextSGTIN96(1, 7, gtinA); e.Serial() != "6793" {
		t.Errorf("a serial was spent on a failed encoding: next is %s", e.Serial())
	}
	if _, err := a.Next("80614141123457", 1); !errors.Is(err, epc.ErrCheckDigit) {
		t.Errorf("bad GTIN: %v", err)
	}
}

func TestNextEPCsSchemes(t *testing.T) {
	st := openStore(t, "", store.Options{InMemory: true})
	defer st.Close()
	a, _ := New(st, Options{First: 41})
	for i, s := range []epc.Scheme{epc.SGTIN96, epc.SGTIN198, epc.SGTINPlus} {
		es, err := a.NextEPCs(s, 1, 7, gtinA, 2)
		if err != nil {
			t.Fatalf("%v: %v", s, err)
		}
		want := itoa(uint64(41 + 2*i))
		if es[0].Scheme() != s || es[0].Serial() != want || es[0].GTIN() != gtinA {
			t.Errorf("%v: %v %s %s, want serial %s", s, es[0].Scheme(), es[0].Serial(), es[0].GTIN(), want)
		}
	}
	if _, err := a.NextEPCs(epc.SSCC96, 1, 7, gtinA, 1); err == nil {
		t.Error("sscc-96 accepted")
	}
	if _, err := a.NextEPCs(epc.SGTIN96, 1, 7, gtinA, 0); err == nil {
		t.Error("0 EPCs accepted")
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }

func TestOptions(t *testing.T) {
	st := openStore(t, "", store.Options{InMemory: true})
	defer st.Close()
	if _, err := New(st, Options{Last: MaxSGTIN96Serial + 1}); err == nil {
		t.Error("last past 2^38-1 accepted")
	}
	if _, err := New(st, Options{First: 10, Last: 9}); err == nil {
		t.Error("first past last accepted")
	}
	a, _ := New(st, Options{})
	if _, err := a.Next(gtinA, 0); err == nil {
		t.Error("0 serials accepted")
	}
}
