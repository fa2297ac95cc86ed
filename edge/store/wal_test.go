package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// A kill between Badger creating a memtable's log and sizing it leaves an
// empty *.mem file; the store opens over it with its data, instead of
// being set aside as damaged.
func TestOpenAfterAnEmptyMemtableLog(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Update(func(txn *badger.Txn) error { return txn.Set([]byte("ctr/lot"), []byte("42")) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "badger", "00007.mem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Recovered != "" {
		t.Fatalf("the store was set aside: %v", s.RecoverErr)
	}
	err = s.DB().View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte("ctr/lot"))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err == nil && string(v) != "42" {
			t.Errorf("value %q after reopening", v)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
