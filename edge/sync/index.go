package sync

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	gosync "sync"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// Keys of the carton index (under store.PrefixSync):
//
//	sy/c/<EPC bytes>                              uvarint ref of the receipt part listing the carton
//	sy/f/<ref, 4 bytes>                           the receipt part (JSON Source)
//	sy/r/<gateway>\x00<receipt>\x00<part, 4 bytes> uvarint ref: the part is indexed
//	sy/m/ref                                      the next ref (4 bytes)
//
// A carton costs one key of 5 + 12 bytes (an SSCC-96 or SGTIN-96 EPC) and
// a value of 1 to 5 bytes; what is common to a receipt's cartons is stored
// once, under its ref.
const (
	kCarton = store.PrefixSync + "c/"
	kSource = store.PrefixSync + "f/"
	kPart   = store.PrefixSync + "r/"
	kRef    = store.PrefixSync + "m/ref"
)

// Source is what the site knows of a carton: the receipt part that listed
// it.
type Source struct {
	Gateway string    `json:"gateway"`
	Receipt string    `json:"receipt"`
	Part    int       `json:"part"`
	Lot     string    `json:"lot"`
	GTIN    string    `json:"gtin,omitempty"`
	Expiry  string    `json:"expiry,omitempty"`
	Time    time.Time `json:"time"`
}

// Index is the site's cartons as this gateway knows them: every carton of
// every receipt message indexed, by its EPC. Lot answers from memory: a
// table of 12 bytes a slot (a 64-bit hash of the EPC and the ref of its
// receipt part), at most 80% full, so a lookup is a few comparisons and no
// store read. A hash is random per process (hash/maphash): two EPCs share
// one with a probability of about n²/2⁶⁵ (3·10⁻⁸ for a million cartons).
// Safe for concurrent use.
type Index struct {
	db   *badger.DB
	seed maphash.Seed

	ingestMu gosync.Mutex // one Ingest at a time

	mu      gosync.RWMutex
	tab     table
	refLot  []uint32 // ref → lot id
	lots    []lotInfo
	lotIDs  map[string]uint32
	nextRef uint32
}

type lotInfo struct{ code, gtin string }

// OpenIndex loads the index kept in db into memory.
func OpenIndex(db *badger.DB) (*Index, error) {
	x := &Index{db: db, seed: maphash.MakeSeed(), lotIDs: map[string]uint32{}}
	err := db.View(func(txn *badger.Txn) error {
		if item, err := txn.Get([]byte(kRef)); err == nil {
			if err := item.Value(func(v []byte) error {
				if len(v) == 4 {
					x.nextRef = binary.BigEndian.Uint32(v)
				}
				return nil
			}); err != nil {
				return err
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		x.refLot = make([]uint32, x.nextRef)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(kSource), PrefetchValues: true, PrefetchSize: 100})
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()[len(kSource):]
			if len(k) != 4 {
				continue
			}
			ref := binary.BigEndian.Uint32(k)
			var src Source
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &src) }); err != nil {
				it.Close()
				return fmt.Errorf("receipt part %d: %w", ref, err)
			}
			if ref >= uint32(len(x.refLot)) {
				continue // written by an ingest that did not commit its ref
			}
			x.refLot[ref] = x.lotID(src.Lot, src.GTIN)
		}
		it.Close()
		it = txn.NewIterator(badger.IteratorOptions{Prefix: []byte(kCarton), PrefetchValues: true, PrefetchSize: 1000})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			var ref uint64
			if err := item.Value(func(v []byte) error {
				var n int
				ref, n = binary.Uvarint(v)
				if n <= 0 {
					return fmt.Errorf("carton %x: bad ref", item.Key())
				}
				return nil
			}); err != nil {
				return err
			}
			if ref >= uint64(len(x.refLot)) {
				continue
			}
			x.tab.put(x.hash(item.Key()[len(kCarton):]), uint32(ref))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sync: load the carton index: %w", err)
	}
	return x, nil
}

func (x *Index) hash(epc []byte) uint64 {
	h := maphash.Bytes(x.seed, epc)
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	return h
}

// lotID interns a lot (x.mu held, or no other user yet).
func (x *Index) lotID(code, gtin string) uint32 {
	if id, ok := x.lotIDs[code]; ok {
		if x.lots[id].gtin == "" {
			x.lots[id].gtin = gtin
		}
		return id
	}
	id := uint32(len(x.lots))
	x.lots = append(x.lots, lotInfo{code: code, gtin: gtin})
	x.lotIDs[code] = id
	return id
}

// Lot returns the lot of the carton whose tag carries the EPC (hex, as a
// reader reports it); ok is false for a carton the site has not told of.
// It reads no store and does not allocate.
func (x *Index) Lot(epcHex string) (lot string, ok bool) {
	var buf [maxEPCBytes]byte
	n, ok := decodeHex(buf[:], epcHex)
	if !ok || n == 0 {
		return "", false
	}
	h := x.hash(buf[:n])
	x.mu.RLock()
	defer x.mu.RUnlock()
	ref, ok := x.tab.find(h)
	if !ok {
		return "", false
	}
	return x.lots[x.refLot[ref]].code, true
}

// KnowsLot reports whether some carton of the site belongs to lot, and
// the lot's GTIN when a receipt gave one.
func (x *Index) KnowsLot(lot string) (gtin string, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	id, ok := x.lotIDs[lot]
	if !ok {
		return "", false
	}
	return x.lots[id].gtin, true
}

// Source returns the receipt part that listed the carton with the EPC.
func (x *Index) Source(epcHex string) (Source, bool, error) {
	b, err := epcBytes(epcHex, nil)
	if err != nil {
		return Source{}, false, nil
	}
	var src Source
	found := false
	err = x.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(append([]byte(kCarton), b...))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var ref uint64
		if err := item.Value(func(v []byte) error { ref, _ = binary.Uvarint(v); return nil }); err != nil {
			return err
		}
		item, err = txn.Get(refKey(kSource, uint32(ref)))
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &src) })
	})
	return src, found, err
}

func refKey(prefix string, ref uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte(prefix), ref)
}

func partKey(gateway, receipt string, part int) []byte {
	k := append([]byte(kPart), gateway...)
	k = append(append(append(k, 0), receipt...), 0)
	return binary.BigEndian.AppendUint32(k, uint32(part))
}

// Ingest indexes the cartons of a receipt message and returns how many it
// added; a part indexed before adds none (a retained message delivered
// again). The part and its cartons commit in one transaction, before the
// memory table learns them. A carton listed again by a later receipt
// belongs to the later one.
func (x *Index) Ingest(m ReceiptMessage) (int, error) {
	if err := m.Check(); err != nil {
		return 0, err
	}
	x.ingestMu.Lock()
	defer x.ingestMu.Unlock()
	pk := partKey(m.Gateway, m.Receipt, m.Part)
	x.mu.RLock()
	ref := x.nextRef
	x.mu.RUnlock()
	if ref == ^uint32(0) {
		return 0, fmt.Errorf("sync: the carton index holds 2³² receipt parts: no room for more")
	}
	src, err := json.Marshal(Source{Gateway: m.Gateway, Receipt: m.Receipt, Part: m.Part, Lot: m.Lot, GTIN: m.GTIN, Expiry: m.Expiry, Time: m.Time.UTC()})
	if err != nil {
		return 0, err
	}
	keys := make([][]byte, len(m.Cartons))
	seen := false
	err = x.db.Update(func(txn *badger.Txn) error {
		if _, err := txn.Get(pk); err == nil {
			seen = true
			return nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		val := binary.AppendUvarint(nil, uint64(ref))
		for i, c := range m.Cartons {
			b, _ := epcBytes(c.EPC, nil) // checked
			keys[i] = append([]byte(kCarton), b...)
			if err := txn.Set(keys[i], val); err != nil {
				return err
			}
		}
		if err := txn.Set(refKey(kSource, ref), src); err != nil {
			return err
		}
		if err := txn.Set([]byte(kRef), binary.BigEndian.AppendUint32(nil, ref+1)); err != nil {
			return err
		}
		return txn.Set(pk, val)
	})
	if err != nil || seen {
		return 0, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.refLot = append(x.refLot, x.lotID(m.Lot, m.GTIN))
	x.nextRef = ref + 1
	for _, k := range keys {
		x.tab.put(x.hash(k[len(kCarton):]), ref)
	}
	return len(keys), nil
}

// IndexStats describe the index.
type IndexStats struct {
	Cartons int `json:"cartons"`
	Parts   int `json:"receipt_parts"`
	Lots    int `json:"lots"`
	// MemoryBytes is what the in-memory table and lot table take.
	MemoryBytes int `json:"memory_bytes"`
}

// Stats returns the index's size.
func (x *Index) Stats() IndexStats {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return IndexStats{Cartons: x.tab.n, Parts: int(x.nextRef), Lots: len(x.lots),
		MemoryBytes: 12*len(x.tab.hashes) + 4*cap(x.refLot) + 40*len(x.lots)}
}

// table is an open-addressing hash table with linear probing: hashes[i]
// is the 64-bit hash of an EPC (0: empty) and refs[i] its ref.
type table struct {
	hashes []uint64
	refs   []uint32
	n      int
}

// home is the first slot of hash h: the high 32 bits scaled to the size.
func (t *table) home(h uint64) int { return int((h >> 32) * uint64(len(t.hashes)) >> 32) }

func (t *table) find(h uint64) (uint32, bool) {
	if len(t.hashes) == 0 {
		return 0, false
	}
	for i := t.home(h); ; {
		switch t.hashes[i] {
		case h:
			return t.refs[i], true
		case 0:
			return 0, false
		}
		if i++; i == len(t.hashes) {
			i = 0
		}
	}
}

func (t *table) put(h uint64, ref uint32) {
	if 5*(t.n+1) > 4*len(t.hashes) {
		t.grow()
	}
	for i := t.home(h); ; {
		switch t.hashes[i] {
		case h:
			t.refs[i] = ref
			return
		case 0:
			t.hashes[i], t.refs[i] = h, ref
			t.n++
			return
		}
		if i++; i == len(t.hashes) {
			i = 0
		}
	}
}

// grow makes the table 1.5 times larger (at least 1024 slots) and puts
// every entry in again.
func (t *table) grow() {
	old, oldRefs := t.hashes, t.refs
	size := max(1024, len(old)*3/2)
	t.hashes, t.refs, t.n = make([]uint64, size), make([]uint32, size), 0
	for i, h := range old {
		if h != 0 {
			t.put(h, oldRefs[i])
		}
	}
}
