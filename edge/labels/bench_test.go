package labels

import (
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/printers"
)

func benchRecord(i int) Record {
	return Record{ID: "urn:uuid:8e0b6d3e-4f0c-4a57-9a44-1f3a2b6c7d8e", Action: Printed, Time: t0.Add(time.Duration(i) * time.Second),
		Job: fmt.Sprintf("ASN-4711:0952012345%08d", i), Printer: "P1", Door: "DOOR1", Lot: "LOT-2026-0042",
		Carton: fmt.Sprintf("0952012345%08d", i), EPC: "3114257BF7194E4000001A85", Template: "carton", Copies: 1,
		By: printers.Actor{Via: printers.ViaAPI, Name: "wms-central"}, JobState: "confirmed"}
}

// BenchmarkAppend appends one record per synced transaction, as a job's
// confirmation does, on a store on disk: records/s.
func BenchmarkAppend(b *testing.B) {
	st := openStore(b, b.TempDir())
	defer st.Close()
	tr, err := Open(st.DB())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := benchRecord(i)
		if err := st.Update(func(txn *badger.Txn) error { return tr.Append(txn, &r) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppendBatch appends 100 records per synced transaction (a
// printer's batch confirmed at once): the cost of the records themselves
// shows more than the sync's.
func BenchmarkAppendBatch(b *testing.B) {
	st := openStore(b, b.TempDir())
	defer st.Close()
	tr, err := Open(st.DB())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += 100 {
		err := st.Update(func(txn *badger.Txn) error {
			for k := i; k < min(i+100, b.N); k++ {
				r := benchRecord(k)
				if err := tr.Append(txn, &r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkLotHistory10000 reads the whole history of a lot with 10,000
// labels (among the records of another lot).
func BenchmarkLotHistory10000(b *testing.B) {
	st := openStore(b, b.TempDir())
	defer st.Close()
	tr, err := Open(st.DB())
	if err != nil {
		b.Fatal(err)
	}
	for _, lot := range []string{"LOT-2026-0041", "LOT-2026-0042", "LOT-2026-0043"} {
		for start := 0; start < 10000; start += 1000 {
			err := st.Update(func(txn *badger.Txn) error {
				for i := start; i < start+1000; i++ {
					r := benchRecord(i)
					r.Lot = lot
					if err := tr.Append(txn, &r); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		recs, err := tr.Lot("LOT-2026-0042", 0, 0)
		if err != nil || len(recs) != 10000 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
	b.ReportMetric(float64(b.N)*10000/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/query")
}
