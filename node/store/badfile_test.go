package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// testWantOpenError opens path, wants an error that is want and names the
// path, and wants the file unchanged.
func testWantOpenError(tb testing.TB, path string, want error) {
	tb.Helper()
	before, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := Open(path, &Options{LockTimeout: time.Second})
	if err == nil {
		s.Close()
		tb.Fatalf("Open succeeded, want %v", want)
	}
	if !errors.Is(err, want) {
		tb.Errorf("Open: %v; want %v", err, want)
	}
	if !strings.Contains(err.Error(), path) {
		tb.Errorf("error %q does not name the file", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		tb.Errorf("a failed Open changed the file")
	}
}

func TestOpenNotAStore(t *testing.T) {
	random := make([]byte, 64<<10)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"random bytes":   random,
		"100 zero bytes": make([]byte, 100),
		"short text":     []byte("hello, this is not a database\n"),
		"long text":      bytes.Repeat([]byte("not a database\n"), 1000),
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ancore.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			testWantOpenError(t, path, ErrNotStore)
		})
	}
}

func TestOpenEmptyFileMakesStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ancore.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := testOpen(t, path, nil)
	a := testNewAuthor(t)
	testIngest(t, s, a.post(t, "first"))
}

func TestOpenForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("other"))
		if err != nil {
			return err
		}
		return b.Put([]byte("key"), []byte("value"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	testWantOpenError(t, path, ErrForeign)
	// The failed Open released the file.
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("reopening the foreign database: %v", err)
	}
	db.Close()
}

func TestOpenTamperedStore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(tx *bolt.Tx) error
		want   error
	}{
		{"newer schema", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchema, []byte{schemaVersion + 1})
		}, ErrNewerSchema},
		{"other magic", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keyMagic, []byte("something else"))
		}, ErrForeign},
		{"schema missing", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Delete(keySchema)
		}, ErrCorrupt},
		{"bucket missing", func(tx *bolt.Tx) error {
			return tx.DeleteBucket(bucketSettings)
		}, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ancore.db")
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.tamper); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			testWantOpenError(t, path, tc.want)
		})
	}
}

// TestOpenTruncatedStore opens truncated copies of a store in a child
// process, so that a crash inside bbolt (it faults on pages beyond the end
// of the file) fails this test instead of killing the test binary.
func TestOpenTruncatedStore(t *testing.T) {
	s := testStore(t)
	a := testNewAuthor(t)
	for range 6 {
		testIngest(t, s, a.posts(t, 500)...)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt preallocates: the file is longer than the database in it.
	used := testUsedSize(t, path)
	if used < 1<<20 {
		t.Fatalf("store uses only %d bytes; want one spanning many pages", used)
	}
	t.Logf("store file %d bytes, database %d bytes", len(data), used)

	for _, tc := range []struct {
		name string
		size int64
	}{
		{"half the database", used / 2},
		{"last page cut", used - 4096},
		{"less than two pages", 6000},
		{"one page", 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cut := filepath.Join(t.TempDir(), "ancore.db")
			if err := os.WriteFile(cut, data[:tc.size], 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := testChild("TestOpenChild", "ANCORE_STORE_OPEN_CHILD="+cut)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("opening a store truncated to %d bytes crashed: %v\n%s", tc.size, err, testHead(out, 30))
			}
			result := string(out)
			if !strings.Contains(result, "open-result: ErrCorrupt") && !strings.Contains(result, "open-result: ErrNotStore") {
				t.Errorf("opening a store truncated to %d bytes: want ErrCorrupt or ErrNotStore\n%s", tc.size, testHead(out, 10))
			}
			if !strings.Contains(result, cut) {
				t.Errorf("error does not name the file:\n%s", testHead(out, 10))
			}
		})
	}
}

// TestOpenChild is the child process of TestOpenTruncatedStore: it opens
// the store named by ANCORE_STORE_OPEN_CHILD and prints how that went.
func TestOpenChild(t *testing.T) {
	path := os.Getenv("ANCORE_STORE_OPEN_CHILD")
	if path == "" {
		t.Skip("child process of TestOpenTruncatedStore")
	}
	s, err := Open(path, nil)
	if err == nil {
		s.Close()
		os.Stdout.WriteString("open-result: ok\n")
		return
	}
	class := "other"
	for name, sentinel := range map[string]error{
		"ErrCorrupt": ErrCorrupt, "ErrNotStore": ErrNotStore, "ErrForeign": ErrForeign,
		"ErrLocked": ErrLocked, "ErrNewerSchema": ErrNewerSchema,
	} {
		if errors.Is(err, sentinel) {
			class = name
		}
	}
	os.Stdout.WriteString("open-result: " + class + ": " + err.Error() + "\n")
}

// testUsedSize returns the size of the database in the file at path (its
// high-water mark), without the space bbolt preallocated.
func testUsedSize(tb testing.TB, path string) int64 {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
		tb.Fatal(err)
	}
	return n
}

func TestOpenLocked(t *testing.T) {
	s := testStore(t)
	start := time.Now()
	second, err := Open(s.Path(), &Options{LockTimeout: 50 * time.Millisecond})
	waited := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatal("a second Open of an open store succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), s.Path()) {
		t.Errorf("second Open: %v; want ErrLocked naming the file", err)
	}
	// bbolt retries the lock every 50ms and gives up once the next retry
	// would pass the timeout, so a 50ms timeout gives up at once.
	if waited > 5*time.Second {
		t.Errorf("second Open gave up after %s; want about the 50ms lock timeout", waited)
	}
	// The store is unharmed and, once closed, opens again.
	a := testNewAuthor(t)
	testIngest(t, s, a.post(t, "still here"))
	s = testReopen(t, s)
	if n, err := s.LogLen(a.channel); err != nil || n != 1 {
		t.Errorf("LogLen after reopen = %d, %v", n, err)
	}
}

// TestLocked: Locked tells an open store from a closed or missing one
// without disturbing either.
func TestLocked(t *testing.T) {
	s := testStore(t)
	if held, err := Locked(s.Path()); err != nil || !held {
		t.Fatalf("Locked(open store) = %v, %v", held, err)
	}
	a := testNewAuthor(t)
	testIngest(t, s, a.post(t, "still writable"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if held, err := Locked(s.Path()); err != nil || held {
		t.Fatalf("Locked(closed store) = %v, %v", held, err)
	}
	if held, err := Locked(filepath.Join(t.TempDir(), "missing.db")); err != nil || held {
		t.Fatalf("Locked(missing file) = %v, %v", held, err)
	}
	// Checking leaves nothing behind: the store opens at once.
	s2, err := Open(s.Path(), &Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

func TestDiskFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=2m"); err != nil {
		if errors.Is(err, syscall.EPERM) {
			t.Skipf("mounting a small tmpfs needs root (CAP_SYS_ADMIN): %v", err)
		}
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount tmpfs: %v", err)
		}
	})
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 512<<10), 0o600); err != nil {
		t.Fatal(err)
	}

	s := testOpen(t, filepath.Join(dir, "ancore.db"), nil)
	a := testNewAuthor(t)
	var acked []Entry
	var full error
	for len(acked) < 100_000 {
		batch := a.posts(t, 50)
		if full = s.Ingest(context.Background(), batch); full != nil {
			break
		}
		acked = append(acked, batch...)
	}
	if !errors.Is(full, syscall.ENOSPC) {
		t.Fatalf("after %d ops Ingest returned %v; want an error wrapping ENOSPC", len(acked), full)
	}
	t.Logf("disk full after %d ops: %v", len(acked), full)
	if len(acked) == 0 {
		t.Fatal("no op fitted before the disk was full")
	}

	wantAll := func(s *Store, entries []Entry) {
		t.Helper()
		for _, e := range entries {
			if ok, err := s.Has(e.Op.ID); err != nil || !ok {
				t.Fatalf("acknowledged op not readable: %v, %v", ok, err)
			}
		}
		msgs, err := s.Messages(a.channel, Page{Limit: MaxPageLimit})
		if err != nil {
			t.Fatal(err)
		}
		testWantPage(t, msgs, testOpIDs(entries[max(0, len(entries)-MaxPageLimit):]))
		if n, err := s.LogLen(a.channel); err != nil || n != len(entries) {
			t.Fatalf("LogLen = %d, %v; want %d", n, err, len(entries))
		}
	}
	wantAll(s, acked)
	if err := s.Check(); err != nil {
		t.Fatalf("check after ENOSPC: %v", err)
	}
	// Another try on the full disk fails the same way, or fits into what
	// the failed one left; either way the store stays whole.
	again := a.posts(t, 50)
	switch err := s.Ingest(context.Background(), again); {
	case err == nil:
		acked = append(acked, again...)
	case !errors.Is(err, syscall.ENOSPC):
		t.Errorf("Ingest on a full disk: %v, want ENOSPC", err)
	}
	wantAll(s, acked)

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	more := a.posts(t, 50)
	testIngest(t, s, more...)
	acked = append(acked, more...)
	wantAll(s, acked)
	s = testReopen(t, s)
	wantAll(s, acked)
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}
