package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ancore/ancore/crdt"
)

// testStore opens a new store in a temporary directory. On cleanup it
// closes the store (unless the test did) and checks the file.
func testStore(tb testing.TB) *Store {
	tb.Helper()
	return testOpen(tb, filepath.Join(tb.TempDir(), "ancore.db"), nil)
}

// testOpen opens the store at path. On cleanup it closes the store,
// tolerating a Close the test already did, then reopens the file and runs
// the bbolt consistency check on it, as bbolt's internal/btesting does.
func testOpen(tb testing.TB, path string, opts *Options) *Store {
	tb.Helper()
	s, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
			tb.Errorf("close store: %v", err)
		}
		testCheckFile(tb, path)
	})
	return s
}

// testReopen closes s and opens its file again (with the same cleanup as
// testOpen).
func testReopen(tb testing.TB, s *Store) *Store {
	tb.Helper()
	if err := s.Close(); err != nil {
		tb.Fatalf("close store: %v", err)
	}
	return testOpen(tb, s.Path(), nil)
}

// testCheckFile opens the (closed) store at path and fails the test if
// bbolt's consistency check finds anything. An existing store is only read.
func testCheckFile(tb testing.TB, path string) {
	tb.Helper()
	s, err := Open(path, nil)
	if err != nil {
		tb.Errorf("reopen store for check: %v", err)
		return
	}
	if err := s.Check(); err != nil {
		tb.Errorf("check %s: %v", path, err)
	}
	if err := s.Close(); err != nil {
		tb.Errorf("close store after check: %v", err)
	}
}

// testAuthor signs message ops for one user's device in one channel.
// Authors made with otherUser share its community, channel, epoch key and
// clock, so their ops interleave in one HLC order.
type testAuthor struct {
	user      *crdt.User
	dev       *crdt.Device
	key       *crdt.EpochKey
	clock     *crdt.Clock
	community crdt.ID
	channel   crdt.ID
}

// testNewAuthor returns an author with a new user, device and epoch key in
// community "community" and channel "general".
func testNewAuthor(tb testing.TB) *testAuthor {
	tb.Helper()
	key, err := crdt.NewEpochKey()
	if err != nil {
		tb.Fatal(err)
	}
	a := &testAuthor{
		key:       key,
		clock:     crdt.NewClock(nil),
		community: crdt.IDOf([]byte("community")),
		channel:   crdt.IDOf([]byte("general")),
	}
	a.newIdentity(tb)
	return a
}

func (a *testAuthor) newIdentity(tb testing.TB) {
	tb.Helper()
	var err error
	if a.user, err = crdt.NewUser(); err != nil {
		tb.Fatal(err)
	}
	if a.dev, err = crdt.NewDevice(a.user); err != nil {
		tb.Fatal(err)
	}
}

// otherUser returns an author for another user in the same channel.
func (a *testAuthor) otherUser(tb testing.TB) *testAuthor {
	tb.Helper()
	b := *a
	b.newIdentity(tb)
	return &b
}

// inChannel returns the same author writing to the channel named name.
func (a *testAuthor) inChannel(name string) *testAuthor {
	b := *a
	b.channel = crdt.IDOf([]byte(name))
	return &b
}

// sign signs an op of the author's channel with the next HLC and returns it
// as a readable entry.
func (a *testAuthor) sign(tb testing.TB, kind crdt.Kind, target crdt.ID, body crdt.Body, parents []crdt.ID) Entry {
	tb.Helper()
	op, err := a.dev.Sign(crdt.Draft{
		Community: a.community, Channel: a.channel, Kind: kind, HLC: a.clock.Now(),
		Parents: parents, Target: target, Body: body,
	}, a.key)
	if err != nil {
		tb.Fatalf("sign %s: %v", kind, err)
	}
	return Entry{Op: op, Body: body, Readable: true}
}

func (a *testAuthor) post(tb testing.TB, text string, parents ...crdt.ID) Entry {
	tb.Helper()
	return a.sign(tb, crdt.KindPost, crdt.ID{}, crdt.Body{Text: text}, parents)
}

func (a *testAuthor) edit(tb testing.TB, target crdt.ID, text string, parents ...crdt.ID) Entry {
	tb.Helper()
	return a.sign(tb, crdt.KindEdit, target, crdt.Body{Text: text}, parents)
}

func (a *testAuthor) del(tb testing.TB, target crdt.ID, parents ...crdt.ID) Entry {
	tb.Helper()
	return a.sign(tb, crdt.KindDelete, target, crdt.Body{}, parents)
}

func (a *testAuthor) react(tb testing.TB, target crdt.ID, emoji string, parents ...crdt.ID) Entry {
	tb.Helper()
	return a.sign(tb, crdt.KindReact, target, crdt.Body{Emoji: emoji}, parents)
}

func (a *testAuthor) unreact(tb testing.TB, target crdt.ID, emoji string, parents ...crdt.ID) Entry {
	tb.Helper()
	return a.sign(tb, crdt.KindUnreact, target, crdt.Body{Emoji: emoji}, parents)
}

// posts signs n posts, each naming the previous one as its parent.
func (a *testAuthor) posts(tb testing.TB, n int) []Entry {
	tb.Helper()
	out := make([]Entry, n)
	var parents []crdt.ID
	for i := range out {
		out[i] = a.post(tb, "message "+strconv.Itoa(i), parents...)
		parents = []crdt.ID{out[i].Op.ID}
	}
	return out
}

// testIngest ingests entries and fails the test on error.
func testIngest(tb testing.TB, s *Store, entries ...Entry) {
	tb.Helper()
	if err := s.Ingest(context.Background(), entries); err != nil {
		tb.Fatalf("ingest %d entries: %v", len(entries), err)
	}
}

// testSealed returns e as it is stored before its epoch key is known.
func testSealed(e Entry) Entry {
	return Entry{Op: e.Op, Local: e.Local}
}

// testLocal returns e marked as authored on this node.
func testLocal(e Entry) Entry {
	e.Local = true
	return e
}

// testOpIDs returns the IDs of the entries' ops.
func testOpIDs(entries []Entry) []crdt.ID {
	ids := make([]crdt.ID, len(entries))
	for i, e := range entries {
		ids[i] = e.Op.ID
	}
	return ids
}

// testMessageIDs returns the IDs of messages.
func testMessageIDs(msgs []*crdt.Message) []crdt.ID {
	ids := make([]crdt.ID, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}

// testSameIDs compares ID sets regardless of order.
func testSameIDs(a, b []crdt.ID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, crdt.ID.Compare)
	slices.SortFunc(b, crdt.ID.Compare)
	return slices.Equal(a, b)
}

// testChild returns a command that runs one test of this test binary in a
// child process with extra environment variables.
func testChild(test string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.timeout=2m")
	// The race detector's default one-second sleep at exit only slows
	// children down.
	cmd.Env = append(os.Environ(), "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// testHead returns the first n lines of out.
func testHead(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
