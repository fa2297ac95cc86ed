package lots

import "github.com/dgraph-io/badger/v4"

// Lookup returns a lot's record without its history and links: what a
// check per carton or per line needs (Get reads every link, and a lot's
// links are two per carton received).
func (r *Registry) Lookup(code string) (Lot, error) {
	var l Lot
	err := r.db.View(func(txn *badger.Txn) error {
		st, err := getRecord(txn, code)
		if err == nil {
			l = st.Lot
		}
		return err
	})
	return l, err
}
