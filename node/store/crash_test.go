package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
)

// Environment of TestCrashChild.
const (
	crashEnvDir     = "ANCORE_STORE_CRASH_CHILD"   // directory of the store
	crashEnvChannel = "ANCORE_STORE_CRASH_CHANNEL" // channel name to write to
	crashEnvKey     = "ANCORE_STORE_CRASH_KEY"     // epoch key, hex
)

// TestCrashRecovery kills a child process that ingests into a store with
// SIGKILL at random moments, and checks after each kill that the store
// opens, passes bbolt's check, holds every op the child saw acknowledged,
// holds each batch entirely or not at all, and that its rows, heads and
// missing parents are exactly what the stored ops make. Every round
// writes to a channel of its own in the same store, so later rounds open a
// store that was killed before.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes for several seconds")
	}
	const rounds = 25
	start := time.Now()
	dir := t.TempDir()
	key, err := crdt.NewEpochKey()
	if err != nil {
		t.Fatal(err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill delays from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	want := map[crdt.ID]crashCounts{} // per channel, what the rounds verified
	var acked, stored, headsWrong int
	for round := range rounds {
		name := fmt.Sprint("crash-", round)
		delay := 10*time.Millisecond + time.Duration(rng.Int64N(int64(290*time.Millisecond)))
		out := testCrashRun(t, dir, name, key, delay)
		c := testCrashVerify(t, filepath.Join(dir, "ancore.db"), crdt.IDOf([]byte(name)), key, out)
		want[crdt.IDOf([]byte(name))] = c
		acked += c.acked
		stored += c.ops
		if c.headsWrong {
			headsWrong++
		}
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}

	if headsWrong > 0 {
		t.Errorf("in %d of %d rounds the heads were not the stored ops that no stored op names as parent", headsWrong, rounds)
	}

	// Earlier rounds' data survived the later kills.
	s := testOpen(t, filepath.Join(dir, "ancore.db"), nil)
	for ch, c := range want {
		if n, err := s.LogLen(ch); err != nil || n != c.ops {
			t.Errorf("channel %s: LogLen %d, %v; want %d", ch, n, err, c.ops)
		}
		if n := testCountMessages(t, s, ch); n != c.live {
			t.Errorf("channel %s: %d messages, want %d", ch, n, c.live)
		}
	}
	t.Logf("%d rounds, %d ops acknowledged, %d stored, in %s", rounds, acked, stored, time.Since(start).Round(time.Millisecond))
}

// crashCounts is what one round left in its channel.
type crashCounts struct {
	acked int // ops acknowledged to the child
	ops   int // ops stored
	live  int // messages not deleted

	headsWrong bool // heads are not the stored ops no stored op names
}

// crashOutput is what the parent read of the child's stdout: complete
// lines only, since the last one may have been cut by the kill.
type crashOutput struct {
	tried map[int][]crdt.ID // batch number → op IDs, printed before Ingest
	acked map[int][]crdt.ID // printed after Ingest returned nil
}

// testCrashRun starts a child that ingests into the store in dir, kills it
// delay after its first acknowledgement and returns what it printed.
func testCrashRun(t *testing.T, dir, channel string, key *crdt.EpochKey, delay time.Duration) crashOutput {
	t.Helper()
	cmd := testChild("TestCrashChild",
		crashEnvDir+"="+dir, crashEnvChannel+"="+channel, crashEnvKey+"="+hex.EncodeToString(key.Bytes()))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	firstAck := make(chan struct{})
	read := make(chan []string, 1)
	go func() {
		r := bufio.NewReaderSize(stdout, 64<<10)
		var lines []string
		acked := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				break // EOF; a line without its newline was cut by the kill
			}
			if strings.HasPrefix(line, "ack ") && !acked {
				close(firstAck)
				acked = true
			}
			lines = append(lines, line)
		}
		read <- lines
	}()

	var lines []string
	select {
	case <-firstAck:
		<-time.After(delay)
	case lines = <-read:
		cmd.Wait()
		t.Fatalf("child exited before acknowledging anything:\n%s", testHead(stderr.Bytes(), 30))
	case <-time.After(60 * time.Second):
		t.Errorf("no acknowledgement from the child within a minute")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if lines == nil {
		lines = <-read
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v before it was killed:\n%s", err, testHead(stderr.Bytes(), 30))
	}

	out := crashOutput{tried: map[int][]crdt.ID{}, acked: map[int][]crdt.ID{}}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "try" && f[0] != "ack") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			t.Fatalf("child printed %q", line)
		}
		ids := make([]crdt.ID, len(f)-2)
		for i, s := range f[2:] {
			if ids[i], err = crdt.ParseID(s); err != nil {
				t.Fatalf("child printed %q: %v", s, err)
			}
		}
		if f[0] == "try" {
			out.tried[n] = ids
		} else {
			out.acked[n] = ids
		}
	}
	return out
}

// testCrashVerify opens the store after a kill and checks it against what
// the child printed.
func testCrashVerify(t *testing.T, path string, channel crdt.ID, key *crdt.EpochKey, out crashOutput) crashCounts {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("open after kill: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	if err := s.Check(); err != nil {
		t.Fatalf("check after kill: %v", err)
	}

	var c crashCounts
	var storedIDs []crdt.ID
	for n, ids := range out.tried {
		var have int
		for _, id := range ids {
			ok, err := s.Has(id)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				have++
				storedIDs = append(storedIDs, id)
			}
		}
		acked, isAcked := out.acked[n]
		switch {
		case isAcked && !slices.Equal(acked, ids):
			t.Errorf("batch %d: acknowledged other IDs than tried", n)
		case isAcked && have != len(ids):
			t.Errorf("batch %d: acknowledged, but only %d of its %d ops are stored", n, have, len(ids))
		case have != 0 && have != len(ids):
			t.Errorf("batch %d: %d of its %d ops are stored; want all or none", n, have, len(ids))
		}
		if isAcked {
			c.acked += len(ids)
		}
	}
	for n := range out.acked {
		if _, ok := out.tried[n]; !ok {
			t.Errorf("batch %d acknowledged but never tried", n)
		}
	}

	// Rebuild the channel from the stored ops in memory and compare.
	keys := crdt.Keyring{}
	keys.Add(key)
	mem := crdt.NewMemRows()
	view := crdt.ChannelView{Rows: mem}
	named := map[crdt.ID]bool{}
	var purged []*crdt.Op
	for _, id := range storedIDs {
		raw, err := s.Op(id)
		if err != nil {
			t.Fatal(err)
		}
		op, err := crdt.DecodeStored(raw)
		if err != nil {
			t.Fatalf("stored op %s: %v", id, err)
		}
		if op.ID != id || op.Channel != channel {
			t.Fatalf("stored op %s decodes as %s in channel %s", id, op.ID, op.Channel)
		}
		body, err := op.Open(keys)
		if errors.Is(err, crdt.ErrPurged) {
			// A delete purged it: any valid text rebuilds the same
			// tombstone, and the check below proves the message deleted.
			purged = append(purged, op)
			body, err = crdt.Body{Text: "purged"}, nil
		}
		if err != nil {
			t.Fatalf("open stored %s: %v", op.Kind, err)
		}
		if err := view.Apply(crdt.Opened{Op: op, Body: body}); err != nil {
			t.Fatal(err)
		}
		for _, p := range op.Parents {
			named[p] = true
		}
	}
	c.ops = len(storedIDs)
	for _, op := range purged {
		msg := op.ID
		if op.Kind == crdt.KindEdit {
			msg = op.Target
		}
		if m, err := mem.Message(msg); err != nil || m == nil || !m.Deleted {
			t.Errorf("%s %s is purged but its message is not deleted", op.Kind, op.ID)
		}
	}
	if mem.Held() != 0 {
		t.Errorf("%d ops target messages that are not stored", mem.Held())
	}
	for _, m := range mem.Messages() {
		got, err := s.Message(channel, m.ID)
		if err != nil {
			t.Fatalf("row of a stored post: %v", err)
		}
		if testRowBytes(t, got) != testRowBytes(t, m) {
			t.Errorf("row %s = %+v, the ops make %+v", m.ID, got, m)
		}
		if !m.Deleted {
			c.live++
		}
	}
	if n := testCountMessages(t, s, channel); n != c.live {
		t.Errorf("pages hold %d messages; the stored posts make %d", n, c.live)
	}
	if n, err := s.LogLen(channel); err != nil || n != c.ops {
		t.Errorf("LogLen %d, %v; %d tried ops are stored", n, err, c.ops)
	}

	var wantHeads []crdt.ID
	for _, id := range storedIDs {
		if !named[id] {
			wantHeads = append(wantHeads, id)
		}
	}
	heads, err := s.Heads(channel)
	if err != nil {
		t.Fatal(err)
	}
	// Reported once by the caller: a wrong head is not a crash problem.
	c.headsWrong = !testSameIDs(heads, wantHeads)
	if missing, err := s.Missing(channel); err != nil || len(missing) != 0 {
		t.Errorf("missing %v, %v; want none (parents are stored before or with their children)", missing, err)
	}
	return c
}

func testRowBytes(tb testing.TB, m *crdt.Message) string {
	tb.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// testCountMessages pages through a channel and counts its messages.
func testCountMessages(tb testing.TB, s *Store, channel crdt.ID) int {
	tb.Helper()
	n := 0
	for page := (Page{Limit: MaxPageLimit}); ; {
		msgs, err := s.Messages(channel, page)
		if err != nil {
			tb.Fatal(err)
		}
		if len(msgs) == 0 {
			return n
		}
		n += len(msgs)
		page.Before = msgs[0].ID
	}
}

// TestCrashChild is the child process of TestCrashRecovery: four
// goroutines ingest batches of 1–300 ops until the process is killed,
// printing each batch's IDs before Ingest ("try") and after it returned
// nil ("ack").
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("child process of TestCrashRecovery")
	}
	rawKey, err := hex.DecodeString(os.Getenv(crashEnvKey))
	if err != nil {
		t.Fatal(err)
	}
	a := testNewAuthor(t)
	if a.key, err = crdt.EpochKeyFromBytes(rawKey); err != nil {
		t.Fatal(err)
	}
	a.channel = crdt.IDOf([]byte(os.Getenv(crashEnvChannel)))
	s, err := Open(filepath.Join(dir, "ancore.db"), nil)
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu     sync.Mutex // guards posts, ops and stdout
		posts  []crdt.ID  // acknowledged posts: targets of edits and reactions
		ops    []crdt.ID  // acknowledged ops: parents
		failed = make(chan error, 1)
	)
	report := func(verb string, n int, batch []Entry) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %d", verb, n)
		for _, e := range batch {
			b.WriteString(" " + e.Op.ID.String())
		}
		b.WriteString("\n")
		mu.Lock()
		defer mu.Unlock()
		os.Stdout.WriteString(b.String())
	}
	// A safety net in case the parent dies without killing the child.
	deadline := time.Now().Add(60 * time.Second)
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for n := w; time.Now().Before(deadline); n += workers {
				size := 1 + rand.IntN(300)
				batch := make([]Entry, 0, size)
				mu.Lock()
				targets := slices.Clone(posts)
				var parents []crdt.ID
				if len(ops) > 0 {
					parents = []crdt.ID{ops[rand.IntN(len(ops))]}
				}
				mu.Unlock()
				for range size {
					var e Entry
					r := rand.IntN(100)
					switch {
					case len(targets) == 0 || r >= 15:
						e = a.post(t, fmt.Sprint("crash message ", n), parents...)
						targets = append(targets, e.Op.ID)
					case r < 6:
						e = a.edit(t, targets[rand.IntN(len(targets))], fmt.Sprint("edited in ", n), parents...)
					case r < 11:
						e = a.react(t, targets[rand.IntN(len(targets))], "👍", parents...)
					case r < 14:
						e = a.unreact(t, targets[rand.IntN(len(targets))], "👍", parents...)
					default:
						e = a.del(t, targets[rand.IntN(len(targets))], parents...)
					}
					batch = append(batch, e)
					parents = []crdt.ID{e.Op.ID}
				}
				report("try", n, batch)
				if err := s.Ingest(context.Background(), batch); err != nil {
					failed <- err
					return
				}
				report("ack", n, batch)
				mu.Lock()
				for _, e := range batch {
					ops = append(ops, e.Op.ID)
					if e.Op.Kind == crdt.KindPost {
						posts = append(posts, e.Op.ID)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	select {
	case err := <-failed:
		t.Fatalf("ingest: %v", err)
	default:
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
