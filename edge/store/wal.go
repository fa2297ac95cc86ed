package store

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// dropEmptyWALs removes the empty memtable logs (*.mem of 0 bytes) in dir.
// A process killed right after Badger created the next memtable's log, and
// before it sized the file, leaves one behind; Badger then refuses to open
// ("while opening memtables … Create a new file"), and the store would be
// set aside as damaged — its lot sequences with it. An empty log holds no
// write: removing it loses nothing.
func dropEmptyWALs(dir string, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() != 0 {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.Remove(path); err != nil {
			return err
		}
		if log != nil {
			log.Warn("empty memtable log left by a kill removed", "file", path)
		}
	}
	return nil
}
