package spool

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// submitChunk bounds the jobs of one transaction (Badger refuses a
// transaction larger than a fraction of its memtable).
const submitChunk = 128

// SubmitAll queues jobs in order, up to submitChunk of them per synced
// transaction (a receipt's carton labels). Like Submit, a job whose id is
// already known is the same job: nil if it matches, an error wrapping
// ErrIDConflict if not, and then nothing of its chunk is queued.
func (s *Spooler) SubmitAll(ctx context.Context, jobs []Job) error {
	for len(jobs) > 0 {
		n := min(len(jobs), submitChunk)
		if err := s.submitAll(ctx, jobs[:n]); err != nil {
			return err
		}
		jobs = jobs[n:]
	}
	return nil
}

func (s *Spooler) submitAll(ctx context.Context, jobs []Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	jobs = append([]Job(nil), jobs...)
	now := s.o.Now()
	for i := range jobs {
		j := &jobs[i]
		if _, ok := s.cfg[j.Printer]; !ok {
			return fmt.Errorf("%w %q: configure it under printers: or pick one of the configured ids", ErrUnknownPrint, j.Printer)
		}
		if err := j.validate(); err != nil {
			return err
		}
		j.State, j.Attempts, j.Created, j.Updated, j.Reason = Queued, 0, now, now, ""
	}
	for try := 0; ; try++ {
		batch := make([]Job, len(jobs))
		copy(batch, jobs)
		for i := range batch {
			batch[i].Seq = s.seq.Add(1)
		}
		err := s.db.Update(func(txn *badger.Txn) error {
			for i := range batch {
				j := &batch[i]
				if old, err := getJob(txn, j.ID); err == nil {
					if !old.same(j) {
						return fmt.Errorf("%w: %s (printer %s, state %s)", ErrIDConflict, j.ID, old.Printer, old.State)
					}
					continue
				} else if !errors.Is(err, ErrNotFound) {
					return err
				}
				if err := putJob(txn, j); err != nil {
					return err
				}
				if err := txn.Set(qKey(j.Printer, j.Seq), []byte(j.ID)); err != nil {
					return err
				}
			}
			return nil
		})
		if errors.Is(err, badger.ErrConflict) && try < 5 {
			continue
		}
		if err != nil {
			return fmt.Errorf("submit %d jobs: %w", len(jobs), err)
		}
		poked := map[string]bool{}
		for _, j := range batch {
			if !poked[j.Printer] {
				s.runners[j.Printer].poke()
				poked[j.Printer] = true
			}
		}
		return nil
	}
}
