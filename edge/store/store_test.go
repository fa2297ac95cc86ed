package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

func TestLockNamesHolder(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir, Options{})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want LockedError", err)
	}
	if le.PID != os.Getpid() || !strings.Contains(err.Error(), "is in use by pid") {
		t.Fatalf("error %q does not name pid %d", err, os.Getpid())
	}
}

// Root on a data directory another user owns (the service's dynamic user,
// with the service stopped) writes nothing there, not even the lock file:
// a file of root's would keep the gateway from opening its store. While
// the owner's gateway holds the directory, the answer is LockedError, so
// that the CLI goes through the gateway's API.
func TestRootRefusesAnotherUsersDataDir(t *testing.T) {
	dir := t.TempDir()
	owner := os.Geteuid()
	if owner == 0 {
		// Root here: the directory goes to another user.
		owner = 4242
		if err := os.Chown(dir, owner, owner); err != nil {
			t.Fatal(err)
		}
	}
	defer func(f func() int) { geteuid = f }(geteuid)
	geteuid = func() int { return 0 }

	_, err := Open(dir, Options{})
	var oe *OwnerError
	if !errors.As(err, &oe) || !errors.Is(err, ErrNotOwner) || oe.UID != owner || oe.Dir != dir {
		t.Fatalf("root opening a data dir of uid %d: %v, want OwnerError naming the uid", owner, err)
	}
	for _, want := range []string{fmt.Sprintf("belongs to uid %d", owner), "while the gateway runs", "systemd-run"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the refused open wrote %v", entries)
	}

	// The owner's gateway holds the directory: root is told so.
	geteuid = func() int { return owner }
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	geteuid = func() int { return 0 }
	_, err = Open(dir, Options{})
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("root opening a data dir its owner's gateway holds: %v, want LockedError naming pid %d", err, os.Getpid())
	}
}

func TestNextDistinctAcrossGoroutinesAndReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[uint64]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				first, err := s.Next("c", 3, 1, 1<<40)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for k := first; k < first+3; k++ {
					if seen[k] {
						t.Errorf("number %d handed out twice", k)
					}
					seen[k] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 16*20*3 {
		t.Fatalf("got %d numbers", len(seen))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err := s.Next("c", 1, 1, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	if first != 16*20*3+1 {
		t.Fatalf("after reopen got %d, want %d", first, 16*20*3+1)
	}
}

func TestNextExhaustedNeverWraps(t *testing.T) {
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for want := uint64(1); want <= 999; want++ {
		got, err := s.Next("seq", 1, 1, 999)
		if err != nil || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, err, want)
		}
	}
	if _, err := s.Next("seq", 1, 1, 999); !errors.Is(err, ErrExhausted) {
		t.Fatalf("past max: %v, want ErrExhausted", err)
	}
	if _, err := s.Next("other", 5, 998, 1000); !errors.Is(err, ErrExhausted) {
		t.Fatalf("range past max: %v, want ErrExhausted", err)
	}
}

func TestCorruptStoreSetAside(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "badger")
	if err := os.MkdirAll(bad, 0o750); err != nil {
		t.Fatal(err)
	}
	// A MANIFEST that is not one.
	if err := os.WriteFile(filepath.Join(bad, "MANIFEST"), []byte("not a manifest at all"), 0o640); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Recovered == "" || s.RecoverErr == nil {
		t.Fatal("corrupt store was not reported as set aside")
	}
	if _, err := os.Stat(filepath.Join(s.Recovered, "MANIFEST")); err != nil {
		t.Fatalf("old store not kept: %v", err)
	}
	if _, err := s.Next("x", 1, 1, 10); err != nil {
		t.Fatalf("fresh store unusable: %v", err)
	}
}

func BenchmarkNextSynced(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Next("bench", 1, 1, 1<<60); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUnreadableStoreIsNotSetAside(t *testing.T) {
	if os.Geteuid() == 0 {
		// root reads anything: use NoRecover for the same path instead.
		dir := t.TempDir()
		bad := filepath.Join(dir, "badger")
		os.MkdirAll(bad, 0o750)
		os.WriteFile(filepath.Join(bad, "MANIFEST"), []byte("garbage"), 0o640)
		if _, err := Open(dir, Options{NoRecover: true}); err == nil {
			t.Fatal("NoRecover opened a corrupt store")
		}
		if _, err := os.Stat(filepath.Join(bad, "MANIFEST")); err != nil {
			t.Fatal("NoRecover moved the store")
		}
		return
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "badger")
	os.MkdirAll(bad, 0o000)
	defer os.Chmod(bad, 0o750)
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("opened an unreadable store")
	}
	if _, err := os.Stat(bad); err != nil {
		t.Fatal("an unreadable store was moved")
	}
}

// A data dir written before tables were compressed opens and reads as it
// is: every table records its own compression in the manifest.
func TestOpensUncompressedTables(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(BadgerOptions(filepath.Join(dir, "badger"), Options{NoSync: true}).WithCompression(options.None))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000 // several memtables: tables flushed uncompressed
	val := []byte(strings.Repeat(`{"epc":"urn:epc:id:sgtin:4012345.012345.1001"}`, 4))
	wb := db.NewWriteBatch()
	for i := 0; i < n; i++ {
		if err := wb.Set(binary.BigEndian.AppendUint64([]byte("k"), uint64(i)), val); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Recovered != "" {
		t.Fatalf("store set aside: %v", s.RecoverErr)
	}
	got := 0
	err = s.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if !bytes.Equal(v, val) {
				return fmt.Errorf("key %x: value %q", it.Item().Key(), v)
			}
			got++
		}
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("read %d of %d: %v", got, n, err)
	}
}

// Badger reports some causes as text only (seen for a badger directory the
// gateway's user may not read): they are still the machine's condition,
// and the store is not set aside for them.
func TestCausesBadgerKeepsAsTextAreNotDamage(t *testing.T) {
	for _, msg := range []string{
		`cannot open directory "/var/lib/dockgate/badger" err: open /var/lib/dockgate/badger: permission denied`,
		`Error while creating file: open /var/lib/dockgate/badger/000001.vlog: read-only file system`,
		`while opening memtable: sync /var/lib/dockgate/badger/00002.mem: no space left on device`,
	} {
		if corrupt(errors.New(msg)) {
			t.Errorf("taken for damage: %s", msg)
		}
	}
	if !corrupt(errors.New("manifest has unsupported version: 7 (we support 8)")) {
		t.Error("a damaged manifest was not taken for damage")
	}
}

// A store the gateway may write to opens the access check clean; one of its
// files that cannot be opened for writing fails it.
func TestAccessCheck(t *testing.T) {
	dir := t.TempDir()
	if err := access(filepath.Join(dir, "none")); err != nil {
		t.Fatalf("a missing store failed the access check: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "MANIFEST"), []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := access(dir); err != nil {
		t.Fatalf("a writable store failed the access check: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the access check left files behind: %v", entries)
	}
	if os.Geteuid() != 0 {
		os.Chmod(filepath.Join(dir, "MANIFEST"), 0o440)
		if err := access(dir); !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("a read-only file passed the access check: %v", err)
		}
	}
}

// A memtable log left by a kill under an earlier version with 8 MiB
// memtables replays into this version's smaller ones: Open sizes the
// memtables for it (Badger would exit the process, "Arena too small",
// every time the gateway started).
func TestOpenReplaysALogOfLargerMemtables(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old")
	db, err := badger.Open(BadgerOptions(old, Options{NoSync: true}).WithMemTableSize(8 << 20))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 20000 // 5 MB: more than a memtable of this version holds
	val := bytes.Repeat([]byte("e"), 200)
	wb := db.NewWriteBatch()
	for i := 0; i < n; i++ {
		if err := wb.Set(binary.BigEndian.AppendUint64([]byte("k"), uint64(i)), val); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	// The kill: the files as they are while the store is open (the
	// memtable log is a shared mapping, so its writes are in the copy).
	killed := filepath.Join(dir, "killed")
	copyDir(t, old, filepath.Join(killed, "badger"))
	logs, _ := filepath.Glob(filepath.Join(killed, "badger", "*.mem"))
	if len(logs) == 0 {
		t.Fatal("no memtable log to replay")
	}
	s, err := Open(killed, Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.DB().Opts().MemTableSize; got != 8<<20 {
		t.Fatalf("opened with %d-byte memtables, want 8 MiB for the log", got)
	}
	got := 0
	err = s.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			got++
		}
		return nil
	})
	if err != nil || got != n {
		t.Fatalf("%d of %d keys after the replay (%v)", got, n, err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o750); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMemTableFor(t *testing.T) {
	for _, tc := range []struct {
		desc string
		logs []int64 // sizes of the *.mem files
		want int64
	}{
		{"no log", nil, MemTableSize},
		{"logs of this version", []int64{2 * MemTableSize, 2 * MemTableSize}, MemTableSize},
		{"empty log", []int64{0}, MemTableSize},
		{"log of a 4 MiB memtable", []int64{8 << 20}, max(MemTableSize, 4<<20)},
		{"log of an 8 MiB memtable", []int64{2 * MemTableSize, 16 << 20}, 8 << 20},
		{"log truncated to 7 MB by a replay", []int64{7_000_000}, 16 << 20},
		{"log truncated to 1.5 MB by a replay", []int64{1_500_000}, 4 << 20},
		{"log truncated to 1 MB by a replay", []int64{1_000_000}, MemTableSize},
	} {
		dir := t.TempDir()
		for i, size := range tc.logs {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%05d.mem", i+1)))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(size); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
		if got := memTableFor(dir, MemTableSize); got != tc.want {
			t.Errorf("%s: memtable of %d bytes, want %d", tc.desc, got, tc.want)
		}
	}
}
