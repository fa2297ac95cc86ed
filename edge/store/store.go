package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// Errors returned by the store.
var (
	// ErrLocked: another process holds the data directory.
	ErrLocked = errors.New("data dir is in use by another process")
	// ErrExhausted: a counter would pass its maximum.
	ErrExhausted = errors.New("counter exhausted")
	// ErrNotOwner: root would open a data directory another user owns.
	ErrNotOwner = errors.New("data dir belongs to another user")
)

// LockedError names the process holding the data directory.
type LockedError struct {
	Dir string
	PID int // 0 when unknown
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("data dir %s is in use by pid %d", e.Dir, e.PID)
	}
	return fmt.Sprintf("data dir %s is in use by another process", e.Dir)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// OwnerError: the process runs as root on a data directory that belongs to
// another user, the gateway's (the dockgate service's dynamic user). Every
// file root wrote there would be root's, and the gateway could no longer
// open its store: the service would fail at every start.
type OwnerError struct {
	Dir string
	UID int // the directory's owner
}

func (e *OwnerError) Error() string {
	return fmt.Sprintf("data dir %s belongs to uid %d and this runs as root: files written there would be root's, "+
		"and the gateway, running as uid %d, could no longer open them; run this as uid %d (for the dockgate service: "+
		"sudo systemd-run --quiet --pipe --wait -p DynamicUser=yes -p User=dockgate -p StateDirectory=dockgate dockgate …), "+
		"or while the gateway runs (the commands on its data then go through its HTTP API)",
		e.Dir, e.UID, e.UID, e.UID)
}

func (e *OwnerError) Unwrap() error { return ErrNotOwner }

// Options tune the store. The zero value is the edge profile.
type Options struct {
	// Logger receives Badger's warnings and errors; nil discards them.
	Logger *slog.Logger
	// InMemory opens a store without files (tests and benchmarks of code that
	// does not need durability); no lock is taken.
	InMemory bool
	// NoSync turns off the sync on commit. Only for tests that measure
	// something else; the gateway never sets it.
	NoSync bool
	// Now is the clock used to name a store set aside; nil is time.Now.
	Now func() time.Time
	// NoRecover fails instead of setting a store that cannot be opened
	// aside (the CLI: only the gateway decides to start afresh).
	NoRecover bool
}

// Store is the gateway's database.
type Store struct {
	db   *badger.DB
	dir  string
	lock *os.File

	// Recovered is the path a store that failed to open was moved to, or "".
	Recovered string
	// RecoverErr is the error that store failed with.
	RecoverErr error

	ctrMu sync.Mutex

	// commitMu guards onCommit, the listeners Update tells of a commit.
	commitMu sync.RWMutex
	onCommit []func()
}

// Update runs fn in a read-write transaction, as badger.DB.Update does, and
// once the transaction has committed (synced) tells the commit listeners
// (OnCommit): a change that stages events (outbox.Stage) commits through
// Update, so that the outbox moves them into its queue at once.
func (s *Store) Update(fn func(txn *badger.Txn) error) error {
	if err := s.db.Update(fn); err != nil {
		return err
	}
	s.commitMu.RLock()
	for _, f := range s.onCommit {
		f()
	}
	s.commitMu.RUnlock()
	return nil
}

// OnCommit adds a listener that Update calls after every commit. It must
// not block.
func (s *Store) OnCommit(f func()) {
	s.commitMu.Lock()
	s.onCommit = append(s.onCommit, f)
	s.commitMu.Unlock()
}

// BadgerOptions returns the Badger options the gateway uses for dir: the
// server defaults cut down for a box with little memory (see "Operating the
// outbox and memory" in docs/mqtt.md for the measured footprint).
//
// What a burst of appends holds in memory is set by the memtables and the
// table builders, not by the caches. A memtable is an arena of 1.3 times
// MemTableSize, and up to four are alive while flushes lag (the one written,
// NumMemtables queued, the one being flushed). A table builder holds a
// table's blocks uncompressed and, beside each, room for it compressed:
// about twice the uncompressed size, which for an L0 table is the memtable
// and for a compacted one the compressed BaseTableSize times the
// compression ratio (4 to 5 for events). Builders run in parallel (a flush,
// the compactors' subcompactions, up to 8 tables each being written out),
// and Badger pools up to 8 of their allocators, each as large as its
// largest use. With 8 MiB memtables and 2 MiB tables a burst of appends
// held up to 145 MiB of live Go heap, most of it builders' buffers, more
// than the gateway's memory limit; 4 MiB memtables and 256 KiB tables hold
// 40-55 MiB, for a few percent more CPU per event (more flushes). Store.Open
// raises MemTableSize for a memtable log left by a kill that a smaller
// memtable could not replay (memTableFor).
func BadgerOptions(dir string, o Options) badger.Options {
	bo := badger.DefaultOptions(dir).
		WithSyncWrites(!o.NoSync).
		WithMemTableSize(MemTableSize).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithBaseTableSize(256 << 10).
		WithBlockCacheSize(8 << 20).
		WithIndexCacheSize(8 << 20).
		WithNumCompactors(2).
		WithNumGoroutines(2).
		WithValueLogFileSize(valueLogFileSize()).
		WithValueThreshold(1 << 10).
		WithCompression(options.ZSTD).
		WithMetricsEnabled(false).
		WithLogger(badgerLogger{o.Logger})
	if o.InMemory {
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true)
	}
	return bo
}

// MemTableSize is the size of Badger's memtables. A transaction may write
// at most 15% of it (badger.ErrTxnTooBig): the outbox bounds its group
// commits below that, and the largest event (outbox.MaxEventBytesLimit,
// 256 KiB: an event is staged with the change it tells) is a sixteenth of
// it.
//
// It also sets the largest heap a steady gateway holds: while a full
// memtable is flushed, its arena, the next one's and the flush's table
// builder are alive together. The builder's allocator starts at twice
// BaseTableSize and adds buffers of twice the size of the last: 0.5, 1.5,
// 3.5, 7.5, 15.5 MiB in all; the table of a 4 MiB memtable takes 15.5 MiB,
// and a flush raises a dock's live heap from 15-20 MiB to 30-35 MiB. 3 MiB
// memtables (a table that fits in 7.5 MiB, 20-26 MiB at a flush) would
// lower the largest event to 192 KiB, and a configuration that passed
// before (max_event_bytes: 262144) would not; with the memory limit's floor
// at 36 MiB (cmd/dockgate/memlimit.go) the dock soak keeps under 64 MB RSS
// with 4 MiB ones.
const MemTableSize = 4 << 20

// memTableFor returns the memtable size to open the Badger directory dir
// with: size, or more when dir holds a memtable log (*.mem) that a memtable
// of size could not replay. Badger replays a log into an arena of the
// configured size and exits the process (log.Fatal) when it does not fit: a
// log left by a kill or a power loss under an earlier version with larger
// memtables would stop the gateway at every start. Badger creates a log of
// twice the size of its memtable, and truncates it to its content when it
// replays it: a log of twice size, or of a power of two (earlier versions'
// memtables and raised ones are powers of two), was written by a memtable
// of half its size; a truncated one, as large as its content, gets a
// memtable of at least twice that (an entry can take nearly twice as much
// room in the arena as in the log: a deletion). The logs of this session
// are then a power of two again, so that the size stays put until the
// memtables are flushed.
func memTableFor(dir string, size int64) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return size // Badger reports it
	}
	configured := size
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() <= 0 {
			continue
		}
		n := info.Size()
		need := n / 2
		if n != 2*configured && n&(n-1) != 0 {
			need = 1 << bits.Len64(uint64(2*n))
		}
		size = max(size, need)
	}
	return size
}

// valueLogFileSize is the size of Badger's value log files, which take the
// values over the value threshold (a pass's EPCs, EPCIS documents). A file
// is memory-mapped, and every page written stays resident until the file is
// deleted: by the value-log GC once the file is full and most of its values
// are gone (events are removed once published). A dock writes a few MB of
// such values a minute (1.6 in the dock soak); with 32 MiB files the
// gateway's RSS grew by that much for a quarter of an hour before a file
// could go, and with 8 MiB files its value log's resident pages still rose
// to 9 MB every five minutes before a file went. 4 MiB files hold them
// under 6 MB, whatever the word size.
func valueLogFileSize() int64 {
	return 4 << 20
}

// ErrOpen: the database could not be opened (its error says why).
var ErrOpen = errors.New("open store")

// Open locks dataDir and opens the database in dataDir/badger.
func Open(dataDir string, o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.InMemory {
		db, err := badger.Open(BadgerOptions("", o))
		if err != nil {
			return nil, err
		}
		return &Store{db: db}, nil
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir %s: %w (set data_dir to a writable directory)", dataDir, err)
	}
	if err := checkOwner(dataDir); err != nil {
		return nil, err
	}
	lock, err := lockDir(dataDir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dataDir, lock: lock}
	dbDir := filepath.Join(dataDir, "badger")
	if err := dropEmptyWALs(dbDir, o.Logger); err != nil {
		unlock(lock)
		return nil, fmt.Errorf("%w %s: %w", ErrOpen, dbDir, err)
	}
	bo := BadgerOptions(dbDir, o)
	bo = bo.WithMemTableSize(memTableFor(dbDir, bo.MemTableSize))
	db, err := badger.Open(bo)
	if err != nil && !o.NoRecover && corrupt(err) {
		// Badger does not keep the cause of every failure: the machine's
		// condition is looked for directly before the store is blamed.
		if aerr := access(dbDir); aerr != nil {
			unlock(lock)
			return nil, fmt.Errorf("%w %s: %w (fix the permissions or the disk and start again; the store was left as it is)", ErrOpen, dbDir, aerr)
		}
	}
	if err != nil && (o.NoRecover || !corrupt(err)) {
		unlock(lock)
		return nil, fmt.Errorf("%w %s: %w", ErrOpen, dbDir, err)
	}
	if err != nil {
		// A store that cannot be opened is set aside, kept for export, and
		// replaced by a fresh one; the caller raises the alarm.
		aside := fmt.Sprintf("%s.corrupt-%s", dbDir, o.Now().UTC().Format("20060102T150405Z"))
		if rerr := os.Rename(dbDir, aside); rerr != nil {
			unlock(lock)
			return nil, fmt.Errorf("%w %s: %w (and could not move it aside: %v)", ErrOpen, dbDir, err, rerr)
		}
		s.Recovered, s.RecoverErr = aside, err
		db, err = badger.Open(BadgerOptions(dbDir, o))
		if err != nil {
			unlock(lock)
			return nil, fmt.Errorf("open fresh store %s: %w", dbDir, err)
		}
	}
	s.db = db
	return s, nil
}

// DB is the underlying Badger database.
func (s *Store) DB() *badger.DB { return s.db }

// Dir is the data directory ("" in memory).
func (s *Store) Dir() string { return s.dir }

// Close closes the database and releases the lock.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.lock != nil {
		unlock(s.lock)
		s.lock = nil
	}
	return err
}

// FreeBytes is the free space, in bytes, of the file system holding the data
// directory (for unprivileged users); in memory it is a large number.
func (s *Store) FreeBytes() (uint64, error) {
	if s.dir == "" {
		return 1 << 62, nil
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// RunGC runs Badger's value-log garbage collection every interval until ctx
// ends. Queue workloads (outbox, spooler) leave dead values behind.
func (s *Store) RunGC(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for ctx.Err() == nil && s.db.RunValueLogGC(0.5) == nil {
			}
		}
	}
}

// Next allocates n consecutive numbers from the named counter and returns the
// first. A fresh counter starts at start. The allocation is synced before Next
// returns, so a number handed out is never handed out again, even after a
// crash. If the last number would exceed max, nothing is allocated and the
// error wraps ErrExhausted.
func (s *Store) Next(name string, n, start, max uint64) (uint64, error) {
	s.ctrMu.Lock()
	defer s.ctrMu.Unlock()
	var first uint64
	err := s.db.Update(func(txn *badger.Txn) error {
		var err error
		first, err = NextInTxn(txn, name, n, start, max)
		return err
	})
	return first, err
}

// NextInTxn is Next inside the caller's transaction, so that a number and
// what it numbers commit (and sync) together. Concurrent callers on one
// counter conflict (badger.ErrConflict): serialise them or retry.
func NextInTxn(txn *badger.Txn, name string, n, start, max uint64) (uint64, error) {
	if n == 0 {
		return 0, errors.New("store: Next of 0 numbers")
	}
	key := []byte(PrefixCounter + name)
	next := start
	item, err := txn.Get(key)
	switch {
	case err == nil:
		if err := item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("counter %s: corrupt value of %d bytes", name, len(v))
			}
			next = binary.BigEndian.Uint64(v)
			return nil
		}); err != nil {
			return 0, err
		}
	case errors.Is(err, badger.ErrKeyNotFound):
	default:
		return 0, err
	}
	if next > max || max-next < n-1 {
		return 0, fmt.Errorf("counter %s: %d more would pass the maximum %d: %w", name, n, max, ErrExhausted)
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], next+n)
	return next, txn.Set(key, buf[:])
}

// corrupt reports whether an open error may be the store's own damage, as
// opposed to the machine's condition (permissions, a full or read-only disk,
// no file descriptors left), which a fresh store would not cure.
func corrupt(err error) bool {
	for _, e := range machineErrors {
		// Badger wraps some causes as text only.
		if errors.Is(err, e) || strings.Contains(err.Error(), e.Error()) {
			return false
		}
	}
	return true
}

var machineErrors = []error{syscall.EACCES, syscall.EPERM, syscall.ENOSPC, syscall.EROFS, syscall.EMFILE, syscall.ENFILE, syscall.EIO}

// access checks that the store's directory and every file in it can be
// read and written, and that a file can be made there: an open failure
// these explain is the machine's condition, not the store's damage.
func access(dbDir string) error {
	entries, err := os.ReadDir(dbDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dbDir, e.Name()), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		f.Close()
	}
	probe, err := os.CreateTemp(dbDir, ".access-*")
	if err != nil {
		return err
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// geteuid is os.Geteuid; tests play root with it.
var geteuid = os.Geteuid

// checkOwner returns an OwnerError when the process is root and dir
// belongs to another user, and the gateway does not hold it: a gateway
// that does answers the caller through its API (LockedError). Nothing is
// written here either way, not even the lock file.
func checkOwner(dir string) error {
	if geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == 0 {
		return nil
	}
	path := filepath.Join(dir, "dockgate.lock")
	if f, err := os.Open(path); err == nil {
		held := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) != nil
		f.Close()
		if held {
			return &LockedError{Dir: dir, PID: lockHolder(path)}
		}
	}
	return &OwnerError{Dir: dir, UID: int(st.Uid)}
}

func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "dockgate.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid := lockHolder(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// lockHolder is the pid the lock file names, 0 when it names none.
func lockHolder(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func unlock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}

// badgerLogger sends Badger's warnings and errors to slog and drops its
// chatty info and debug lines.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	if b.l != nil {
		b.l.Error(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
	}
}

func (b badgerLogger) Warningf(f string, a ...any) {
	if b.l != nil {
		b.l.Warn(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
	}
}
func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
