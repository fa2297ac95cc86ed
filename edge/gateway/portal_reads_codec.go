package gateway

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

// The saved portal reads' keys and values (portal_reads.go).

// Keys: the prefix, a time and a sequence number, so that keys sort by
// time and two of one nanosecond stay apart. The time's sign bit is flipped
// so that times before 1970 sort first too. A batch's time is its newest
// read's (a prune deletes it once that is behind the horizon), a pass
// record's the pass's last read.
func savedKey(prefix string, at int64, seq uint64) []byte {
	k := make([]byte, len(prefix)+16)
	n := copy(k, prefix)
	binary.BigEndian.PutUint64(k[n:], uint64(at)^1<<63)
	binary.BigEndian.PutUint64(k[n+8:], seq)
	return k
}

func batchKey(at int64, seq uint64) []byte { return savedKey(store.PrefixPortalRead, at, seq) }
func passKey(at int64, seq uint64) []byte  { return savedKey(store.PrefixPortalPass, at, seq) }

// savedKeyParts is the time and sequence number of a key of either prefix
// (both are 4 bytes long).
func savedKeyParts(k []byte) (at int64, seq uint64, ok bool) {
	const n = len(store.PrefixPortalRead)
	if len(k) != n+16 {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(k[n:]) ^ 1<<63), binary.BigEndian.Uint64(k[n+8:]), true
}

// A batch's value (version 2): the version, the number of reads (2 bytes),
// a base time (unix ns, 8 bytes, no later than its oldest read), the reader
// ids (a count, then each as length and bytes), then the reads grouped by
// EPC: the EPC (bit length, bytes), the number of its reads, and for each
// read, oldest first, the ns since the previous read of the EPC (the
// first: since the base), the reader's index << 1 | has RSSI, the antenna
// and, when it has one, the RSSI (1 byte); every number but the fixed ones
// is a uvarint. A 96-bit EPC read 4 times takes about 40 bytes.
//
// Version 1 values, one read each, were written by dockgate before it saved
// reads in batches; they are still read.
const (
	savedReadV1    = 1
	savedBatchV2   = 2
	batchHeaderLen = 11
)

// maxReadLen is the most a read takes in a batch, maxEPCLen an EPC's head.
const (
	maxReadLen = binary.MaxVarintLen64 + 2*binary.MaxVarintLen32 + 1
	maxEPCLen  = binary.MaxVarintLen16 + rfid.MaxEPCBits/8 + binary.MaxVarintLen16
)

type encodedBatch struct {
	value []byte
	meta  batchMeta // max, min, n
}

// encodeBatches encodes reads in batches of at most maxSavedValue bytes
// (larger only when a single read does not fit, with very long reader
// ids). It reorders reads.
func (s *savedReads) encodeBatches(reads []unsavedRead) []encodedBatch {
	if len(reads) == 0 {
		return nil
	}
	clear(s.groups)
	base := reads[0].at
	var readers []string
	for i := range reads {
		r := &reads[i]
		g, ok := s.groups[r.epc]
		if !ok {
			g = int32(len(s.groups))
			s.groups[r.epc] = g
		}
		r.group = g
		base = min(base, r.at)
		if !slices.Contains(readers, r.reader) {
			readers = append(readers, r.reader)
		}
	}
	slices.SortFunc(reads, func(a, b unsavedRead) int { return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(a.at, b.at)) })
	e := batchEncoder{base: base, readers: readers}
	for i := 0; i < len(reads); {
		j := i + 1
		for j < len(reads) && reads[j].group == reads[i].group {
			j++
		}
		e.group(reads[i:j])
		i = j
	}
	return e.finish()
}

// encodeReads encodes reads of few readers as one value (a compaction's:
// fewer reads than a batch had, so no larger).
func encodeReads(reads []rfid.Read) ([]byte, batchMeta) {
	un := make([]unsavedRead, len(reads))
	var readers []string
	base := reads[0].Time.UnixNano()
	for i := range reads {
		r := &reads[i]
		un[i] = unsavedRead{epc: r.EPC, reader: r.Reader, at: r.Time.UnixNano(), antenna: r.Antenna, rssi: r.RSSI, hasRSSI: r.HasRSSI}
		base = min(base, un[i].at)
		if !slices.Contains(readers, r.Reader) {
			readers = append(readers, r.Reader)
		}
	}
	// Decoded batches come grouped by EPC, oldest first within an EPC.
	slices.SortStableFunc(un, func(a, b unsavedRead) int {
		return cmp.Or(bytes.Compare(a.epc.Bytes(), b.epc.Bytes()), cmp.Compare(a.epc.BitLen(), b.epc.BitLen()), cmp.Compare(a.at, b.at))
	})
	e := batchEncoder{base: base, readers: readers, unbounded: true}
	for i := 0; i < len(un); {
		j := i + 1
		for j < len(un) && un[j].epc == un[i].epc {
			j++
		}
		e.group(un[i:j])
		i = j
	}
	out := e.finish()
	return out[0].value, out[0].meta
}

// batchEncoder cuts reads grouped by EPC into batches.
type batchEncoder struct {
	base    int64
	readers []string
	// unbounded: one value whatever its size (a compaction's, whose
	// reads came from one value)
	unbounded bool
	out       []encodedBatch
	cur       []byte
	meta      batchMeta
	body      []byte // the reads of the group being added
}

func (e *batchEncoder) start() {
	e.cur = make([]byte, batchHeaderLen, maxSavedValue+maxEPCLen)
	e.cur[0] = savedBatchV2
	binary.BigEndian.PutUint64(e.cur[3:], uint64(e.base))
	e.cur = binary.AppendUvarint(e.cur, uint64(len(e.readers)))
	for _, r := range e.readers {
		e.cur = binary.AppendUvarint(e.cur, uint64(len(r)))
		e.cur = append(e.cur, r...)
	}
	e.meta = batchMeta{min: e.base, max: e.base}
}

func (e *batchEncoder) fits(n int) bool {
	return e.unbounded || len(e.cur)+n <= maxSavedValue
}

// group adds the reads of one EPC, oldest first, over as many batches as
// they need.
func (e *batchEncoder) group(reads []unsavedRead) {
	epc := &reads[0].epc
	for len(reads) > 0 {
		if e.cur == nil || e.meta.n > 0 && (!e.fits(maxEPCLen+maxReadLen) || e.meta.n >= math.MaxUint16-1) {
			e.end()
			e.start()
		}
		head := 0
		e.body = e.body[:0]
		prev := e.base
		k := 0
		for ; k < len(reads); k++ {
			r := &reads[k]
			n := len(e.body)
			e.body = binary.AppendUvarint(e.body, uint64(r.at-prev))
			ri := slices.Index(e.readers, r.reader)
			flag := uint64(0)
			if r.hasRSSI {
				flag = 1
			}
			e.body = binary.AppendUvarint(e.body, uint64(ri)<<1|flag)
			e.body = binary.AppendUvarint(e.body, uint64(r.antenna))
			if r.hasRSSI {
				e.body = append(e.body, byte(r.rssi))
			}
			head = uvarintLen(uint64(epc.BitLen())) + len(epc.Bytes()) + uvarintLen(uint64(k+1))
			if k > 0 && (!e.fits(head+len(e.body)) || e.meta.n+k >= math.MaxUint16) {
				e.body = e.body[:n]
				break
			}
			prev = r.at
			e.meta.max = max(e.meta.max, r.at)
		}
		e.cur = binary.AppendUvarint(e.cur, uint64(epc.BitLen()))
		e.cur = append(e.cur, epc.Bytes()...)
		e.cur = binary.AppendUvarint(e.cur, uint64(k))
		e.cur = append(e.cur, e.body...)
		e.meta.n += k
		reads = reads[k:]
	}
}

func (e *batchEncoder) end() {
	if e.cur == nil || e.meta.n == 0 {
		return
	}
	binary.BigEndian.PutUint16(e.cur[1:], uint16(e.meta.n))
	e.out = append(e.out, encodedBatch{value: e.cur, meta: e.meta})
	e.cur = nil
}

func (e *batchEncoder) finish() []encodedBatch {
	e.end()
	return e.out
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

var errSavedRead = errors.New("saved portal reads are malformed")

// batchHeader is the number of reads of a batch and a time no later than
// its oldest.
func batchHeader(v []byte) (n int, oldest int64, err error) {
	switch {
	case len(v) >= 15 && v[0] == savedReadV1:
		return 1, int64(binary.BigEndian.Uint64(v[5:])), nil
	case len(v) >= batchHeaderLen && v[0] == savedBatchV2:
		return int(binary.BigEndian.Uint16(v[1:])), int64(binary.BigEndian.Uint64(v[3:])), nil
	}
	return 0, 0, errSavedRead
}

// decodeBatch appends the reads of a batch (or of a version 1 read) to dst.
func decodeBatch(v []byte, dst []rfid.Read) ([]rfid.Read, error) {
	if len(v) > 0 && v[0] == savedReadV1 {
		var r rfid.Read
		if err := decodeRead(v, &r); err != nil {
			return dst, err
		}
		return append(dst, r), nil
	}
	n, base, err := batchHeader(v)
	if err != nil {
		return dst, err
	}
	d := decoder{b: v[batchHeaderLen:]}
	nr := d.uvarint()
	if nr > uint64(len(d.b)) {
		return dst, errSavedRead
	}
	readers := make([]string, nr)
	for i := range readers {
		readers[i] = string(d.bytes(int(d.uvarint())))
	}
	got := 0
	for len(d.b) > 0 && d.err == nil {
		var epc rfid.EPC
		bits := int(d.uvarint())
		if err := epc.Set(d.bytes((bits+7)/8), bits); err != nil || d.err != nil {
			return dst, errSavedRead
		}
		k := int(d.uvarint())
		at := base
		for range k {
			at += int64(d.uvarint())
			rf := d.uvarint()
			r := rfid.Read{EPC: epc, Antenna: uint16(d.uvarint()), Time: time.Unix(0, at)}
			if rf>>1 >= uint64(len(readers)) {
				return dst, errSavedRead
			}
			r.Reader = readers[rf>>1]
			if rf&1 != 0 {
				r.RSSI, r.HasRSSI = int8(d.byte()), true
			}
			if d.err != nil {
				return dst, errSavedRead
			}
			dst = append(dst, r)
		}
		got += k
	}
	if d.err != nil || got != n {
		return dst, errSavedRead
	}
	return dst, nil
}

// decoder reads a value; the first overrun sets err.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errSavedRead, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.err, d.b = errSavedRead, nil
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	v := d.bytes(1)
	if v == nil {
		return 0
	}
	return v[0]
}

// A version 1 read's value: version 1, flags (bit 0: has RSSI), RSSI,
// antenna, time (unix ns), EPC bit length, EPC bytes, reader id.
func decodeRead(v []byte, r *rfid.Read) error {
	if len(v) < 15 || v[0] != savedReadV1 {
		return errSavedRead
	}
	r.HasRSSI = v[1]&1 != 0
	r.RSSI = int8(v[2])
	r.Antenna = binary.BigEndian.Uint16(v[3:])
	r.Time = time.Unix(0, int64(binary.BigEndian.Uint64(v[5:])))
	bits := int(binary.BigEndian.Uint16(v[13:]))
	n := (bits + 7) / 8
	if len(v) < 15+n {
		return errSavedRead
	}
	if err := r.EPC.Set(v[15:15+n], bits); err != nil {
		return errSavedRead
	}
	r.Reader = string(v[15+n:])
	return nil
}

// A pass record's value (version 1): the version, the pass's start (unix
// ns, 8 bytes), then its tags: the EPC (bit length, bytes), the ns from the
// start to the tag's first read and from that to its last (uvarints). A
// pass of many tags takes several records of at most maxSavedValue bytes.
const passRecordV1 = 1

type encodedPass struct {
	value []byte
	meta  passRecord
}

func encodePassRecords(p *portal.PassEvent) []encodedPass {
	start, end := p.Start.UnixNano(), p.End.UnixNano()
	var out []encodedPass
	var cur []byte
	var spans []tagSpan
	emit := func() {
		if len(spans) > 0 {
			out = append(out, encodedPass{value: cur, meta: passRecord{end: end, spans: spans}})
		}
		cur, spans = nil, nil
	}
	for _, t := range p.Tags {
		epc, err := rfid.ParseEPC(t.EPC)
		if err != nil {
			continue // not a read's EPC: nothing saved is covered by it
		}
		sp := tagSpan{epc: epc, first: t.First.UnixNano(), last: t.Last.UnixNano()}
		var e []byte
		e = binary.AppendUvarint(e, uint64(epc.BitLen()))
		e = append(e, epc.Bytes()...)
		e = binary.AppendUvarint(e, uint64(sp.first-start))
		e = binary.AppendUvarint(e, uint64(sp.last-sp.first))
		if cur != nil && len(cur)+len(e) > maxSavedValue {
			emit()
		}
		if cur == nil {
			cur = make([]byte, 9, maxSavedValue)
			cur[0] = passRecordV1
			binary.BigEndian.PutUint64(cur[1:], uint64(start))
		}
		cur = append(cur, e...)
		spans = append(spans, sp)
	}
	emit()
	return out
}

func decodePassRecord(v []byte) ([]tagSpan, error) {
	if len(v) < 9 || v[0] != passRecordV1 {
		return nil, errSavedRead
	}
	start := int64(binary.BigEndian.Uint64(v[1:]))
	d := decoder{b: v[9:]}
	var spans []tagSpan
	for len(d.b) > 0 && d.err == nil {
		var sp tagSpan
		bits := int(d.uvarint())
		if err := sp.epc.Set(d.bytes((bits+7)/8), bits); err != nil || d.err != nil {
			return nil, errSavedRead
		}
		sp.first = start + int64(d.uvarint())
		sp.last = sp.first + int64(d.uvarint())
		spans = append(spans, sp)
	}
	if d.err != nil {
		return nil, errSavedRead
	}
	return spans, nil
}
