package lots

import (
	"context"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// LinkAll records many links of one lot in one synced transaction (a
// receipt's cartons: their SSCCs and EPCs). Links already recorded are kept;
// each new one is handed to OnChange like Link's, in the same transaction.
func (r *Registry) LinkAll(ctx context.Context, code string, ls []Link) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, l := range ls {
		if err := checkLink(l.Kind, l.ID); err != nil {
			return err
		}
	}
	if err := r.checkSpace(); err != nil {
		return err
	}
	now := r.o.Now().UTC()
	return r.s.Update(func(txn *badger.Txn) error {
		st, err := getRecord(txn, code)
		if err != nil {
			return err
		}
		for _, l := range ls {
			fwd := key(iLink+code, l.Kind, l.ID)
			if _, err := txn.Get(fwd); err == nil {
				continue
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			if err := txn.Set(fwd, nil); err != nil {
				return err
			}
			if err := txn.Set(key(iRev+l.Kind, l.ID, code), nil); err != nil {
				return err
			}
			if err := r.notify(txn, Change{Code: code, Event: Event{At: now, Action: "link", From: st.Status, To: st.Status},
				Link: &Link{Kind: l.Kind, ID: l.ID}, Lot: st.Lot}); err != nil {
				return err
			}
		}
		return nil
	})
}
