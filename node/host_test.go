package node

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
)

// TestHostHooks: a feature hears of stored ops and of community changes,
// after the node has taken them in.
func TestHostHooks(t *testing.T) {
	dir := t.TempDir()
	n, err := New(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var stored []crdt.Kind
	var changes []*crdt.Community
	n.OnStored(func(entries []store.Entry) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range entries {
			stored = append(stored, e.Op.Kind)
		}
	})
	n.OnCommunity(func(before, after *crdt.Community) {
		if before != nil && before == after {
			t.Error("a community change with the same state before and after")
		}
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, after)
	})
	l := &live{Node: n}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan error, 1)
	go func() { l.done <- n.Run(ctx) }()
	t.Cleanup(func() { l.stop(t) })
	waitFor(t, "node running", n.Running)

	id, err := n.CreateCommunity(ctx, "Hooks")
	if err != nil {
		t.Fatal(err)
	}
	general := generalOf(t, n, id)
	if _, err := n.Send(ctx, general, crdt.Body{Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.CreateChannel(ctx, id, "more", crdt.ChannelText); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the hooks to hear of the post and the new channel", func() bool {
		mu.Lock()
		defer mu.Unlock()
		posted := false
		for _, k := range stored {
			posted = posted || k == crdt.KindPost
		}
		last := len(changes) > 0 && len(changes[len(changes)-1].Channels) == 2
		return posted && last
	})
}

// TestFeatureDir: a feature's folder is made private under the data
// folder, and only plain names are taken.
func TestFeatureDir(t *testing.T) {
	dir := t.TempDir()
	n, err := New(testConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer stop(t, n)
	got, err := n.FeatureDir("files")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "features", "files"); got != want {
		t.Fatalf("FeatureDir = %s, want %s", got, want)
	}
	if fi, err := os.Stat(got); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("feature folder: %v, %v", fi, err)
	}
	for _, bad := range []string{"", "..", "../x", "a/b", ".hidden"} {
		if _, err := n.FeatureDir(bad); err == nil {
			t.Errorf("FeatureDir(%q) was accepted", bad)
		}
	}
}
