package store

import (
	"encoding/json"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// PutJSON sets k to v as JSON.
func PutJSON(txn *badger.Txn, k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return txn.Set(k, b)
}

// GetJSON reads the JSON value of k into v; a missing key is the error
// missing (the caller's package's not-found error).
func GetJSON(txn *badger.Txn, k []byte, v any, missing error) error {
	item, err := txn.Get(k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return missing
	}
	if err != nil {
		return err
	}
	return item.Value(func(b []byte) error { return json.Unmarshal(b, v) })
}

// Scan calls f with the key suffix and value (nil unless values) of every
// key under prefix, in key order, and stops at f's first error. Both are
// valid only while f runs (no copy): f decodes them or copies what it
// keeps.
func Scan(txn *badger.Txn, prefix []byte, values bool, f func(suffix, val []byte) error) error {
	opt := badger.IteratorOptions{Prefix: prefix, PrefetchValues: values, PrefetchSize: 256}
	it := txn.NewIterator(opt)
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		item := it.Item()
		k := item.Key()[len(prefix):]
		var err error
		if values {
			err = item.Value(func(v []byte) error { return f(k, v) })
		} else {
			err = f(k, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
