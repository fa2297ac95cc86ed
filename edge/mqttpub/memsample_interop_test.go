//go:build interop

package mqttpub

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memSample is the process's memory at one moment, in MB: the resident set
// split into anonymous memory (the Go heap and runtime: Badger's memtable
// arenas, caches and table builders live there) and file pages of Badger's
// memory-mapped files; and the Go heap as the runtime sees it.
type memSample struct {
	RSSMB, AnonMB, FileMB float64
	// HeapMB is the Go heap in use (live and not yet collected objects,
	// and span fragmentation); GoMB is all memory the runtime holds from
	// the OS and has not returned (heap, free spans kept, stacks, GC data).
	HeapMB, GoMB float64
	// LiveMB is the heap the last collection found live: the runtime lets
	// the heap grow to twice that (GOGC 100) or to the memory limit.
	LiveMB float64
	// Files: the file pages by kind of Badger file (sst, mem, vlog, other),
	// read from /proc/self/smaps at the peak only.
	Files map[string]float64 `json:",omitempty"`
}

// memSampler samples the process's memory every interval until stopped and
// keeps the sample of the highest RSS, and the highest of each part (which
// need not be at the same moment).
type memSampler struct {
	stop chan struct{}
	done chan struct{}
	// profile, when set, is where a heap profile is written each time the
	// RSS passes its highest sample by 2 MB (the last one is at the peak).
	profile string

	// gc0 and cpu0 are the GC's and the process's CPU time at the start.
	gc0, cpu0 float64

	mu   sync.Mutex
	peak memSample // the sample of the highest RSS
	max  memSample // the highest of each part
}

func startMemSampler(interval time.Duration, profile string) *memSampler {
	s := &memSampler{stop: make(chan struct{}), done: make(chan struct{}), profile: profile}
	s.gc0, s.cpu0 = gcCPU()
	go s.run(interval)
	return s
}

func (s *memSampler) run(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	ms := goMemMetrics()
	for {
		m := sampleMem(ms)
		s.mu.Lock()
		newPeak := m.RSSMB > s.peak.RSSMB
		profile := s.profile != "" && m.RSSMB >= s.peak.RSSMB+2
		if newPeak {
			s.peak = m
		}
		s.max.RSSMB = max(s.max.RSSMB, m.RSSMB)
		s.max.AnonMB = max(s.max.AnonMB, m.AnonMB)
		s.max.FileMB = max(s.max.FileMB, m.FileMB)
		s.max.HeapMB = max(s.max.HeapMB, m.HeapMB)
		s.max.GoMB = max(s.max.GoMB, m.GoMB)
		s.max.LiveMB = max(s.max.LiveMB, m.LiveMB)
		s.mu.Unlock()
		if newPeak {
			files := smapsFiles()
			s.mu.Lock()
			s.peak.Files = files
			s.mu.Unlock()
		}
		if profile {
			if f, err := os.Create(s.profile); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
	}
}

// Stop ends the sampling and returns the sample of the highest RSS, the
// highest of each part, and the share of the process's CPU time the
// garbage collector took meanwhile (in %).
func (s *memSampler) Stop() (peak, highest memSample, gcPercent float64) {
	close(s.stop)
	<-s.done
	gc, cpu := gcCPU()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cpu > s.cpu0 {
		gcPercent = 100 * (gc - s.gc0) / (cpu - s.cpu0)
	}
	return s.peak, s.max, gcPercent
}

// gcCPU returns the CPU time the garbage collector used and the process's
// (user and system, as the runtime estimates them), in seconds.
func gcCPU() (gc, total float64) {
	ms := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}, {Name: "/cpu/classes/idle:cpu-seconds"}}
	metrics.Read(ms)
	return ms[0].Value.Float64(), ms[1].Value.Float64() - ms[2].Value.Float64()
}

func goMemMetrics() []metrics.Sample {
	return []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}
}

func sampleMem(ms []metrics.Sample) memSample {
	var m memSample
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		m.RSSMB = statusMB(b, "VmRSS")
		m.AnonMB = statusMB(b, "RssAnon")
		m.FileMB = statusMB(b, "RssFile")
	}
	metrics.Read(ms)
	mb := func(i int) float64 { return float64(ms[i].Value.Uint64()) / (1 << 20) }
	m.HeapMB = mb(0) + mb(1)
	m.GoMB = mb(2) - mb(3)
	m.LiveMB = mb(4)
	return m
}

func statusMB(status []byte, field string) float64 {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(field+":"))
		if !ok {
			continue
		}
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 64)
		return kb / 1024
	}
	return 0
}

// smapsFiles sums the resident pages of the process's file mappings by
// kind of Badger file: sst (tables), mem (memtable write-ahead logs), vlog
// (value log), other (the binary, libraries, Badger's small files).
func smapsFiles() map[string]float64 {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]float64{}
	kind := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && len(fields) >= 5 && !strings.HasSuffix(fields[0], ":") {
			kind = ""
			if len(fields) >= 6 && strings.HasPrefix(fields[5], "/") {
				switch ext := filepath.Ext(fields[5]); ext {
				case ".sst", ".mem", ".vlog":
					kind = ext[1:]
				default:
					kind = "other"
				}
			}
			continue
		}
		if kind != "" && fields[0] == "Rss:" && len(fields) >= 2 {
			kb, _ := strconv.ParseFloat(fields[1], 64)
			out[kind] += kb / 1024
		}
	}
	return out
}

// mbs formats file pages by kind: "sst 40.1 mem 12.0 …".
func mbs(m map[string]float64) string {
	var b strings.Builder
	for _, k := range []string{"sst", "mem", "vlog", "other"} {
		if v, ok := m[k]; ok {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k + " " + strconv.FormatFloat(v, 'f', 1, 64))
		}
	}
	return "(" + b.String() + ")"
}
