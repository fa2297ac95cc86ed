// Package store opens the gateway's one Badger database under the data
// directory and provides what every durable part of the gateway shares:
//
//   - Open takes an exclusive lock on the data directory (a second process gets
//     ErrLocked naming the holder's pid), opens Badger with options tuned for
//     small ARM boxes, and sets a store that fails to open aside (renamed
//     badger.corrupt-<time>) and starts fresh, reporting it in Store.Recovered
//     so the gateway can raise an alarm.
//   - Every write is synced before its commit returns (SyncWrites): Badger
//     batches the commits of concurrent transactions into one sync, which is
//     the gateway's group commit.
//   - Next allocates numbers from named durable counters (lot sequences, SSCC
//     and SGTIN serials): a number is never handed out twice, not after a
//     crash and not under concurrency, and a counter that would pass its
//     maximum is an error, never a wrap.
//   - FreeBytes reports free disk space so writers can refuse work before the
//     disk fills (Badger panics on a full disk).
//
// Key space: each user of the database owns one prefix, listed in keys.go.
package store
