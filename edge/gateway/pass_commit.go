package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/rfid/portal"
)

// passChunkTags is how many of a pass's tags one transaction records: a
// tag takes about a kilobyte of a transaction (its pass record, its carton,
// its share of the pass event and of the EPCIS document) and Badger limits
// a transaction to 15% of a memtable (store.MemTableSize).
const passChunkTags = store.MemTableSize * 15 / 100 / 1500

// passChunkTTL is how long the record of a committed chunk of a pass is
// kept: long enough for any restart that replays the pass.
const passChunkTTL = 7 * 24 * time.Hour

// stagePass records a pass: the receipts' cartons it confirms, its
// portal.pass event (in parts when it is larger than an event may be:
// outbox.max_event_bytes, so that a pallet of thousands of item tags is not
// lost; without the per-tag detail when even that fails), an EPCIS document
// per part and the trace references of its lots. It reports whether all of
// it committed; when not, the pass's saved reads replay it at the next
// start. A pass replayed after a crash has the same event ids as the first
// time.
//
// A pass of up to passChunkTags tags commits in one transaction. A larger
// one (a pallet of item tags) commits in chunks of tags, one transaction
// each, and each chunk records that it committed (under
// store.PrefixPassChunk, by the pass and a hash of the chunk's EPCs): a
// replay commits only the chunks that did not, so a kill between two
// chunks neither loses nor repeats one.
func (g *Gateway) stagePass(ctx context.Context, ev *portal.PassEvent) bool {
	start := ev.Start.UTC().Format(time.RFC3339Nano)
	id := "urn:uuid:" + stableEventID("pass", ev.Door, start)
	size := passChunkTags
	for {
		err := g.stagePassChunks(ctx, ev, id, size)
		if err == nil {
			return true
		}
		if errors.Is(err, badger.ErrTxnTooBig) && size > 1 {
			size = max(1, size/2)
			g.log.Warn("pass chunk too large for one transaction: smaller chunks", "door", ev.Door, "tags", len(ev.Tags), "chunk_tags", size)
			continue
		}
		g.log.Error("pass not recorded: its reads are replayed at the next start", "door", ev.Door, "tags", len(ev.Tags), "err", err)
		return false
	}
}

// passChunk is the part of a pass one transaction records.
type passChunk struct {
	key   []byte // its store.PrefixPassChunk key, nil for a pass in one chunk
	tags  []portal.PassTag
	parts []*portal.PassEvent
	ids   []string // the parts' event ids
	docs  []passDoc
}

// passDoc is the EPCIS document of one part of a pass.
type passDoc struct {
	id  string
	doc []byte
}

func (g *Gateway) stagePassChunks(ctx context.Context, ev *portal.PassEvent, id string, size int) error {
	chunks, err := g.planPass(ev, id, size)
	if err != nil {
		return err
	}
	for i := range chunks {
		c := &chunks[i]
		if c.key != nil {
			done, err := g.passChunkDone(c.key)
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}
		epcs := make([]string, len(c.tags))
		for j, t := range c.tags {
			epcs[j] = t.EPC
		}
		unlock := g.ship.LockPass() // the pass's shipments commit with it
		_, err := g.recv.OnPass(ctx, ev.Door, ev.Direction, ev.End, epcs, func(txn *badger.Txn) error {
			if err := g.shipPass(txn, ev, epcs); err != nil {
				return err
			}
			for j, p := range c.parts {
				if err := g.stage(txn, outbox.Event{ID: c.ids[j], Type: "portal.pass", Time: ev.End, Source: "portal/" + ev.Door,
					Priority: outbox.PriorityLot}, p); err != nil {
					return fmt.Errorf("part %d of %d: %w", p.Part, p.Parts, err)
				}
			}
			for _, d := range c.docs {
				if err := g.stage(txn, outbox.Event{ID: d.id, Type: "epcis.pass", Time: ev.End, Topic: "epcis", Priority: outbox.PriorityLot, Body: d.doc}, nil); err != nil {
					return fmt.Errorf("EPCIS document %s: %w", d.id, err)
				}
			}
			for _, lot := range sortedKeys(chunkLots(ev, c.tags)) {
				if err := receiving.RecordEventIn(txn, lot, receiving.EventRef{EventID: id, Type: "portal.pass", Time: ev.End, Subject: ev.Door + " " + ev.Direction}); err != nil {
					return err
				}
			}
			if c.key != nil {
				return txn.SetEntry(badger.NewEntry(c.key, nil).WithTTL(passChunkTTL))
			}
			return nil
		})
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// planPass cuts a pass into chunks of at most size tags, and each chunk
// into parts that fit an event. Parts are numbered across the whole pass.
func (g *Gateway) planPass(ev *portal.PassEvent, id string, size int) ([]passChunk, error) {
	start := ev.Start.UTC().Format(time.RFC3339Nano)
	var chunks []passChunk
	for lo := 0; lo < len(ev.Tags) || lo == 0; lo += size {
		hi := min(len(ev.Tags), lo+size)
		sub := *ev
		sub.Tags = ev.Tags[lo:hi]
		parts, err := sub.Split(id, g.maxEventBytes())
		if err != nil {
			g.log.Error("pass too large even in parts: published without its tags", "door", ev.Door, "tags", len(sub.Tags), "err", err)
			sum := sub
			sum.Tags, sum.TagsOmitted = []portal.PassTag{}, len(sub.Tags)
			parts = []*portal.PassEvent{&sum}
		}
		chunks = append(chunks, passChunk{tags: sub.Tags, parts: parts})
		if hi == len(ev.Tags) {
			break
		}
	}
	total := 0
	for _, c := range chunks {
		total += len(c.parts)
	}
	n := 0
	for i := range chunks {
		c := &chunks[i]
		if len(chunks) > 1 {
			c.key = passChunkKey(id, c.tags)
		}
		for _, p := range c.parts {
			n++
			if total > 1 {
				p.ID, p.Part, p.Parts = id, n, total
			}
			pid := id
			if n > 1 {
				pid = "urn:uuid:" + stableEventID("pass", ev.Door, start, strconv.Itoa(n-1))
			}
			c.ids = append(c.ids, pid)
		}
	}
	// One EPCIS document per part: each lists its part's EPCs (a document
	// of the whole pass would be refused as too large).
	if door, _ := g.cfg.Door(ev.Door); g.epcisPass != nil && door != nil {
		n := 0
		for i := range chunks {
			c := &chunks[i]
			for _, part := range c.parts {
				n++
				doc, err := g.epcisPass(part, door.Location)
				if err != nil {
					g.log.Error("EPCIS pass document", "door", ev.Door, "part", part.Part, "err", err)
					continue
				}
				c.docs = append(c.docs, passDoc{id: "urn:uuid:" + stableEventID("pass-epcis", ev.Door, start, strconv.Itoa(n-1)), doc: doc})
			}
		}
	}
	return chunks, nil
}

// chunkLots returns the lots of tags, as the pass's Lots does for all of
// them.
func chunkLots(ev *portal.PassEvent, tags []portal.PassTag) map[string]int {
	if len(tags) == len(ev.Tags) {
		return ev.Lots
	}
	lots := map[string]int{}
	for _, t := range tags {
		if t.Lot != "" {
			lots[t.Lot]++
		}
	}
	return lots
}

// passChunkKey names a chunk of pass id by its EPCs, so that a replay
// that cuts the pass the same way finds the chunks already recorded.
func passChunkKey(id string, tags []portal.PassTag) []byte {
	h := sha256.New()
	for _, t := range tags {
		h.Write([]byte(t.EPC))
		h.Write([]byte{0})
	}
	return fmt.Appendf(nil, "%s%s/%x", store.PrefixPassChunk, strings.TrimPrefix(id, "urn:uuid:"), h.Sum(nil)[:16])
}

// passChunkDone reports whether the chunk under key committed before.
func (g *Gateway) passChunkDone(key []byte) (bool, error) {
	err := g.store.DB().View(func(txn *badger.Txn) error {
		_, err := txn.Get(key)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, err
}
