package serials

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/epc"
)

// Counter hands out numbers from named durable counters: n consecutive
// numbers starting at the returned one, a fresh counter starting at start,
// never past max. *store.Store is the gateway's Counter.
type Counter interface {
	Next(name string, n, start, max uint64) (first uint64, err error)
}

var _ Counter = (*store.Store)(nil)

// ErrExhausted: the GTIN has no serials left in the allocator's range.
var ErrExhausted = store.ErrExhausted

// MaxSGTIN96Serial is the largest serial an SGTIN-96 holds, 2^38−1.
const MaxSGTIN96Serial = 1<<38 - 1

// Options set the range of serials. The zero value issues 1 … 2^38−1.
type Options struct {
	// First is the first serial of a GTIN never seen before (default 1).
	// Gateways that share GTINs take disjoint ranges.
	First uint64 `yaml:"first"`
	// Last is the last serial (default and maximum 2^38−1).
	Last uint64 `yaml:"last"`
}

// Allocator issues serials per GTIN. It is safe for concurrent use; the
// Counter serialises the allocations.
type Allocator struct {
	c           Counter
	first, last uint64
}

// New returns an allocator drawing from c.
func New(c Counter, o Options) (*Allocator, error) {
	if o.First == 0 {
		o.First = 1
	}
	if o.Last == 0 {
		o.Last = MaxSGTIN96Serial
	}
	switch {
	case o.Last > MaxSGTIN96Serial:
		return nil, fmt.Errorf("serials: last %d is past %d, the largest SGTIN-96 serial; lower it", o.Last, uint64(MaxSGTIN96Serial))
	case o.First > o.Last:
		return nil, fmt.Errorf("serials: first %d is past last %d; give a range with first ≤ last", o.First, o.Last)
	}
	return &Allocator{c: c, first: o.First, last: o.Last}, nil
}

// counterName is the store counter of a GTIN: the GTIN-14, so the GTIN-13
// 4006381333931 and the GTIN-14 04006381333931 share their serials.
func counterName(gtin string) (string, error) {
	e, err := epc.NewSGTINPlus(0, gtin, "1") // validates digits and check digit
	if err != nil {
		return "", err
	}
	return "sgtin/" + e.GTIN(), nil
}

// Next issues n consecutive serials of gtin (8, 12, 13 or 14 digits with its
// check digit) and returns the first. The allocation is durable before Next
// returns.
func (a *Allocator) Next(gtin string, n uint64) (uint64, error) {
	if n == 0 {
		return 0, errors.New("serials: asked for 0 serials")
	}
	name, err := counterName(gtin)
	if err != nil {
		return 0, fmt.Errorf("serials: %w", err)
	}
	first, err := a.c.Next(name, n, a.first, a.last)
	if err != nil {
		if errors.Is(err, ErrExhausted) {
			return 0, fmt.Errorf("serials: GTIN %s: %d more serials would pass the last one, %d: %w", gtin, n, a.last, ErrExhausted)
		}
		return 0, fmt.Errorf("serials: GTIN %s: %w", gtin, err)
	}
	return first, nil
}

// NextSGTIN96 issues the next serial of gtin and returns it as an SGTIN-96
// EPC with the given filter and company prefix length.
func (a *Allocator) NextSGTIN96(filter, companyPrefixLen int, gtin string) (epc.EPC, error) {
	es, err := a.NextEPCs(epc.SGTIN96, filter, companyPrefixLen, gtin, 1)
	if err != nil {
		return epc.EPC{}, err
	}
	return es[0], nil
}

// NextSGTIN96s issues n serials of gtin and returns their SGTIN-96 EPCs in
// order, for a batch of RFID labels.
func (a *Allocator) NextSGTIN96s(filter, companyPrefixLen int, gtin string, n int) ([]epc.EPC, error) {
	return a.NextEPCs(epc.SGTIN96, filter, companyPrefixLen, gtin, n)
}

// NextEPCs issues n serials of gtin and returns them as EPCs of scheme s:
// sgtin-96, sgtin-198 or sgtin+ (which ignores companyPrefixLen). The
// serials are decimal numbers without leading zeros, so the same serial
// reads the same in every scheme. Nothing is issued when the EPC cannot be
// encoded.
func (a *Allocator) NextEPCs(s epc.Scheme, filter, companyPrefixLen int, gtin string, n int) ([]epc.EPC, error) {
	if n <= 0 {
		return nil, errors.New("serials: asked for no EPCs")
	}
	encode := func(serial uint64) (epc.EPC, error) {
		switch s {
		case epc.SGTIN96:
			return epc.NewSGTIN96(filter, companyPrefixLen, gtin, serial)
		case epc.SGTIN198:
			return epc.NewSGTIN198(filter, companyPrefixLen, gtin, strconv.FormatUint(serial, 10))
		case epc.SGTINPlus:
			return epc.NewSGTINPlus(filter, gtin, strconv.FormatUint(serial, 10))
		}
		return epc.EPC{}, fmt.Errorf("serials: scheme %s: choose sgtin-96, sgtin-198 or sgtin+", s)
	}
	// Check the encoding before spending serials on it.
	if _, err := encode(a.first); err != nil {
		return nil, fmt.Errorf("serials: %w", err)
	}
	first, err := a.Next(gtin, uint64(n))
	if err != nil {
		return nil, err
	}
	out := make([]epc.EPC, n)
	for i := range out {
		if out[i], err = encode(first + uint64(i)); err != nil {
			return nil, fmt.Errorf("serials: %w", err)
		}
	}
	return out, nil
}
