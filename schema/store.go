package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// Store is the embedded registry's durable, append-only log. The registry replays it at start,
// so ids, versions and levels survive restarts. One Embedded writes a Store at a time.
type Store interface {
	// Load returns every record, in the order they were appended (by Seq; of records with equal
	// Seq, the last appended last).
	Load(ctx context.Context) ([]Record, error)
	// Append durably adds r. After an error the record may or may not have been stored: the
	// registry reloads before its next change.
	Append(ctx context.Context, r Record) error
}

// RecordKind says what a Record changes.
type RecordKind string

// The kinds of record.
const (
	// RecordSchema adds version Version with schema id ID and text Schema to Subject.
	RecordSchema RecordKind = "schema"
	// RecordDelete soft-deletes Subject's live versions or, with Permanent, removes its
	// soft-deleted ones.
	RecordDelete RecordKind = "delete"
	// RecordConfig sets the compatibility level of Subject, or the global one when Subject is
	// "". An empty Level removes the subject's own level.
	RecordConfig RecordKind = "config"
)

// Record is one change to the embedded registry.
type Record struct {
	// Seq numbers records from 1 without gaps. Two records with one Seq can only come from an
	// append that failed after it was stored and the append that replaced it; the later wins.
	Seq       uint64     `json:"seq"`
	Kind      RecordKind `json:"kind"`
	Subject   string     `json:"subject,omitempty"`
	Version   int        `json:"version,omitempty"`
	ID        int        `json:"id,omitempty"`
	Schema    string     `json:"schema,omitempty"`
	Permanent bool       `json:"permanent,omitempty"`
	Level     Level      `json:"level,omitempty"`
}

// FileStore is a Store in a local file of JSON lines, synced to disk on every append. A torn last
// line (a crash during an append) is dropped when the file is opened or loaded.
type FileStore struct {
	mu   sync.Mutex
	path string
	f    *os.File
	good int64 // length of the file's valid, complete lines
}

var _ Store = (*FileStore)(nil)

// OpenFileStore opens (creating it and its directory when missing) the log file at path and locks
// it against other processes until Close.
func OpenFileStore(path string) (*FileStore, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("schema store: create directory %s: %w", dir, err)
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("schema store: open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("schema store: lock %s (is another cdcd using it?): %w", path, err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("schema store: create %s: %w", path, err)
		}
	}
	s := &FileStore{path: path, f: f}
	if _, err := s.read(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Load implements Store.
func (s *FileStore) Load(ctx context.Context) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read()
}

// read parses the whole file and cuts off a torn tail. Called with mu held (or before sharing).
func (s *FileStore) read() ([]Record, error) {
	if s.f == nil {
		return nil, fmt.Errorf("schema store: %s is closed", s.path)
	}
	data, err := io.ReadAll(io.NewSectionReader(s.f, 0, 1<<62))
	if err != nil {
		return nil, fmt.Errorf("schema store: read %s: %w", s.path, err)
	}
	var recs []Record
	var good int64
	var bad error
	for line := 1; good < int64(len(data)); line++ {
		rest := data[good:]
		end := bytes.IndexByte(rest, '\n')
		if end < 0 {
			bad = fmt.Errorf("line %d has no end", line)
			break
		}
		var r Record
		if err := json.Unmarshal(rest[:end], &r); err != nil {
			bad = fmt.Errorf("line %d: %w", line, err)
			break
		}
		recs = append(recs, r)
		good += int64(end + 1)
	}
	if bad != nil {
		// Only the tail may be torn: an append writes at the end of the valid lines, so a bad
		// line followed by valid ones is corruption, not a crash.
		if tail := data[good:]; bytes.Count(tail, []byte{'\n'}) > 1 {
			return nil, fmt.Errorf("schema store: %s is corrupt at %v", s.path, bad)
		}
		if err := s.f.Truncate(good); err != nil {
			return nil, fmt.Errorf("schema store: cut torn tail of %s: %w", s.path, err)
		}
		if err := s.f.Sync(); err != nil {
			return nil, fmt.Errorf("schema store: sync %s: %w", s.path, err)
		}
	}
	s.good = good
	return recs, nil
}

// Append implements Store. The line is written after the last valid line and synced; a failed
// append is cut off again where possible.
func (s *FileStore) Append(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("schema store: encode record %d: %w", r.Seq, err)
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return fmt.Errorf("schema store: %s is closed", s.path)
	}
	if _, err := s.f.WriteAt(line, s.good); err != nil {
		_ = s.f.Truncate(s.good)
		return fmt.Errorf("schema store: append to %s: %w", s.path, err)
	}
	if err := s.f.Sync(); err != nil {
		// The line may or may not be on disk: take it back so a reload does not count it.
		_ = s.f.Truncate(s.good)
		return fmt.Errorf("schema store: sync %s: %w", s.path, err)
	}
	s.good += int64(len(line))
	return nil
}

// Close releases the file and its lock.
func (s *FileStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
