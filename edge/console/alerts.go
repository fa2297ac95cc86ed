package console

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/store"
)

// Alert is something at a door that a person must see and acknowledge: a
// carton of a held lot at the door (lot.hold.alert), or a lot received at
// the door put on hold or recalled (lot.hold, lot.recall).
type Alert struct {
	// ID is the event's id (its eventID): the alert of an event recorded
	// twice is one alert.
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // the event's type
	Door      string    `json:"door"`
	Lot       string    `json:"lot"`
	EPC       string    `json:"epc,omitempty"`
	Direction string    `json:"direction,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Time      time.Time `json:"time"`
	// AckedBy and AckedAt: who acknowledged it, when.
	AckedBy string    `json:"acked_by,omitempty"`
	AckedAt time.Time `json:"acked_at,omitzero"`
}

// Message is the alert in a sentence, for the banner.
func (a Alert) Message() string {
	switch a.Kind {
	case "lot.hold.alert":
		dir := ""
		if a.Direction != "" {
			dir = " (" + a.Direction + ")"
		}
		return fmt.Sprintf("A carton of held lot %s passed this door%s: stop it and put it aside.", a.Lot, dir)
	case "lot.recall":
		return fmt.Sprintf("Lot %s, received at this door, was recalled: stop its cartons.", a.Lot)
	default:
		return fmt.Sprintf("Lot %s, received at this door, was put on hold: stop its cartons.", a.Lot)
	}
}

// errNoAlert: acknowledging an alert that is not open.
var errNoAlert = errors.New("no such open alert")

func keyOpenAlertPrefix(door string) []byte {
	return []byte(store.PrefixConsole + "ao/" + door + "\x00")
}
func keyOpenAlert(door, id string) []byte { return append(keyOpenAlertPrefix(door), id...) }
func keyAckedAlert(id string) []byte      { return []byte(store.PrefixConsole + "aa/" + id) }

// OpenAlertIn records an alert in txn, the transaction that stages its
// event, so that the alert and its event are one: it stays on the door's
// board until acknowledged. An alert already acknowledged (its event
// recorded again after a crash) is not opened again.
func OpenAlertIn(txn *badger.Txn, a Alert) error {
	if a.Door == "" || a.ID == "" {
		return nil
	}
	if _, err := txn.Get(keyAckedAlert(a.ID)); err == nil {
		return nil
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return txn.Set(keyOpenAlert(a.Door, a.ID), b)
}

// maxOpenAlerts bounds the alerts a board shows (the oldest first).
const maxOpenAlerts = 50

// openAlerts are the door's alerts not yet acknowledged, oldest first.
func (c *Console) openAlerts(door string) ([]Alert, error) {
	var out []Alert
	err := c.o.Store.DB().View(func(txn *badger.Txn) error {
		prefix := keyOpenAlertPrefix(door)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < maxOpenAlerts; it.Next() {
			var a Alert
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	// The keys sort by id; a board lists by time.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Time.Before(out[j-1].Time); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, err
}

// acknowledge records that by saw the alert: the alert leaves the board,
// and its lot.hold.alert.acknowledged event is staged in the same
// transaction, with its reference in the lot's trace.
func (c *Console) acknowledge(door, id, by string) (Alert, error) {
	var a Alert
	at := c.o.Now().UTC()
	err := c.o.Store.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keyOpenAlert(door, id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%w: alert %s at door %s (acknowledged already?)", errNoAlert, id, door)
		}
		if err != nil {
			return err
		}
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &a) }); err != nil {
			return err
		}
		a.AckedBy, a.AckedAt = by, at
		b, err := json.Marshal(a)
		if err != nil {
			return err
		}
		if err := txn.Delete(keyOpenAlert(door, id)); err != nil {
			return err
		}
		if err := txn.Set(keyAckedAlert(id), b); err != nil {
			return err
		}
		evID := "urn:uuid:" + ackID(id)
		if err := c.o.Stage(txn, outbox.Event{ID: evID, Type: "lot.hold.alert.acknowledged", Time: at,
			Source: "console/" + door, Priority: outbox.PriorityLot, Body: b}); err != nil {
			return err
		}
		if a.Lot == "" {
			return nil
		}
		return receiving.RecordEventIn(txn, a.Lot, receiving.EventRef{EventID: evID, Type: "lot.hold.alert.acknowledged", Time: at, Subject: by})
	})
	return a, err
}

// ackID is the acknowledgement's event id, derived from the alert's: an
// alert is acknowledged once, and a retry has the same id.
func ackID(alertID string) string {
	h := sha256.Sum256([]byte("ack\x00" + alertID))
	h[6] = h[6]&0x0f | 0x50 // version 5 shape
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
