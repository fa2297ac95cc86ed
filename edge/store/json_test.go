package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestJSONRecords(t *testing.T) {
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type rec struct {
		N int `json:"n"`
	}
	err = s.Update(func(txn *badger.Txn) error {
		for _, k := range []string{"a/2", "a/1", "b/1", "a"} {
			if err := PutJSON(txn, []byte(k), rec{N: len(k)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	errMissing := errors.New("no such record")
	err = s.DB().View(func(txn *badger.Txn) error {
		var r rec
		if err := GetJSON(txn, []byte("b/1"), &r, errMissing); err != nil || r.N != 3 {
			return fmt.Errorf("GetJSON(b/1) = %+v, %v; want n 3", r, err)
		}
		if err := GetJSON(txn, []byte("b/2"), &r, errMissing); err != errMissing {
			return fmt.Errorf("GetJSON of a missing key: %v, want the caller's error", err)
		}
		var got []string
		err := Scan(txn, []byte("a/"), true, func(suffix, val []byte) error {
			got = append(got, string(suffix)+"="+string(val))
			return nil
		})
		if want := `1={"n":3} 2={"n":3}`; err != nil || strings.Join(got, " ") != want {
			return fmt.Errorf("Scan(a/) = %q, %v; want %s", got, err, want)
		}
		got = nil
		err = Scan(txn, []byte("a/"), false, func(suffix, val []byte) error {
			if val != nil {
				return fmt.Errorf("a value without values: %q", val)
			}
			got = append(got, string(suffix))
			return errMissing // stops the scan
		})
		if err != errMissing || len(got) != 1 {
			return fmt.Errorf("Scan stopped by f: %q, %v; want one key and f's error", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
