package epc

import (
	"encoding/binary"
	"math/bits"
)

// MaxBits is the largest EPC this package handles: an EPC bank whose PC
// word declares 31 words.
const MaxBits = 496

const maxBytes = MaxBits / 8

// get returns n bits (0 ≤ n ≤ 64) starting at bit off of the EPC's bits,
// most significant first. Bits past the stored ones read as zero.
func (e *EPC) get(off, n int) uint64 {
	i, sh := uint(off)>>3, uint(off)&7
	if i <= maxBytes-8 && uint(n)-1 < 64-sh {
		w := binary.BigEndian.Uint64(e.raw[i:])
		return w << sh >> (64 - uint(n))
	}
	return e.getSlow(off, n)
}

// getSlow is get for fields that straddle 9 bytes or the end of the array.
func (e *EPC) getSlow(off, n int) uint64 {
	if n == 0 {
		return 0
	}
	if n > 32 {
		return e.get(off, n-32)<<32 | e.get(off+n-32, 32)
	}
	var v uint64
	for k := 0; k < n; k++ {
		p := off + k
		var b byte
		if p>>3 < maxBytes {
			b = e.raw[p>>3] >> (7 - p&7) & 1
		}
		v = v<<1 | uint64(b)
	}
	return v
}

// bits96 returns n bits (1–64) at bit off of the 96-bit value whose first
// 64 bits are hi and last 32 the top of lo; off+n ≤ 96.
func bits96(hi, lo uint64, off, n uint) uint64 {
	w := hi<<off | lo>>(64-off)
	if off >= 64 {
		w = lo << (off - 64)
	}
	return w >> (64 - n)
}

// zero reports whether bits [from, to) are all zero.
func (e *EPC) zero(from, to int) bool {
	for from < to {
		n := min(to-from, 56)
		if e.get(from, n) != 0 {
			return false
		}
		from += n
	}
	return true
}

// clear zeroes every bit from bit from on.
func (e *EPC) clear(from int) {
	i := from >> 3
	if i >= maxBytes {
		return
	}
	if r := from & 7; r != 0 {
		e.raw[i] &= 0xFF << (8 - r)
		i++
	}
	clear(e.raw[i:])
}

// writer appends bits to an EPC being built.
type writer struct {
	raw [maxBytes]byte
	n   int
	err bool // more than MaxBits were written
}

// put appends the low n bits of v, most significant first.
func (w *writer) put(v uint64, n int) {
	if w.n+n > MaxBits {
		w.err = true
		return
	}
	for k := n - 1; k >= 0; k-- {
		if v>>k&1 != 0 {
			w.raw[w.n>>3] |= 0x80 >> (w.n & 7)
		}
		w.n++
	}
}

// put128 appends the low n bits of the 128-bit value hi:lo.
func (w *writer) put128(hi, lo uint64, n int) {
	if n > 64 {
		w.put(hi, n-64)
		w.put(lo, 64)
		return
	}
	w.put(lo, n)
}

func mul10(hi, lo uint64) (uint64, uint64) {
	h, l := bits.Mul64(lo, 10)
	return hi*10 + h, l
}

func add64(a, b uint64) (uint64, uint64) {
	s, c := bits.Add64(a, b, 0)
	return s, c
}
