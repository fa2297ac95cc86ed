package receiving

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
)

// ReceiptsOfLot returns the receipts of a lot in id order (none: an empty
// slice and no error).
func (s *Service) ReceiptsOfLot(lot string) ([]Receipt, error) {
	out := []Receipt{}
	err := s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, keyLotReceipt(lot, ""), false, func(id, _ []byte) error {
			var rc Receipt
			if err := getJSON(txn, keyReceipt(string(id)), &rc); err != nil {
				return fmt.Errorf("receipt %s of lot %s: %w", id, lot, err)
			}
			out = append(out, rc)
			return nil
		})
	})
	return out, err
}

// ReceiptIDsOfLot returns the ids of a lot's receipts in id order: one
// short key scan.
func (s *Service) ReceiptIDsOfLot(lot string) ([]string, error) {
	var out []string
	err := s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, keyLotReceipt(lot, ""), false, func(id, _ []byte) error {
			out = append(out, string(id))
			return nil
		})
	})
	return out, err
}

// EachReceipt calls f with every receipt made from from up to to (both
// inclusive; a zero bound does not bound), in id order. It reads every
// receipt recorded: it is for reports, not for a request path.
func (s *Service) EachReceipt(from, to time.Time, f func(*Receipt) error) error {
	return s.st.DB().View(func(txn *badger.Txn) error {
		return store.Scan(txn, []byte(store.PrefixReceipt+"r/"), true, func(_, v []byte) error {
			var rc Receipt
			if err := json.Unmarshal(v, &rc); err != nil {
				return err
			}
			if !from.IsZero() && rc.Time.Before(from) || !to.IsZero() && rc.Time.After(to) {
				return nil
			}
			return f(&rc)
		})
	})
}
