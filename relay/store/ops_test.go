package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p/recon"
)

// TestStore is the store's contract: every case runs against one store,
// each in a community of its own, as the relay shares one database among
// all the communities it carries.
func TestStore(t *testing.T) {
	s := openTest(t)
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *Store)
	}{
		{"Communities", testCommunities},
		{"CommunityNotFound", testCommunityNotFound},
		{"PutOpsIdempotent", testPutOpsIdempotent},
		{"ItemsOrder", testItemsOrder},
		{"OpsSkipsUnknown", testOpsSkipsUnknown},
		{"PurgeDeleteFirst", testPurgeDeleteFirst},
		{"PurgeSameBatch", testPurgeSameBatch},
		{"PurgeDeleteLater", testPurgeDeleteLater},
		{"PurgeEditAfterDelete", testPurgeEditAfterDelete},
		{"PurgeEditOfPurgedMessage", testPurgeEditOfPurgedMessage},
		{"PurgeRefused", testPurgeRefused},
		{"PurgeOnlyInDeleteLog", testPurgeOnlyInDeleteLog},
		{"PurgedOpStoredAsIs", testPurgedOpStoredAsIs},
		{"ExpireKeepsState", testExpireKeepsState},
		{"DeleteCommunityDropsOps", testDeleteCommunityDropsOps},
		{"ConcurrentOverlappingBatches", testConcurrentOverlappingBatches},
		{"ConcurrentDeleteAndTarget", testConcurrentDeleteAndTarget},
		{"DeleteCommunityDuringIngest", testDeleteCommunityDuringIngest},
		{"DeleteAccountDropsOps", testDeleteAccountDropsOps},
		{"UnknownCommunityStoresNothing", testUnknownCommunityStoresNothing},
		{"BadOpsStoreNothing", testBadOpsStoreNothing},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s) })
	}
}

var ctx = context.Background()

// authorOnly lets a delete purge its own user's messages only.
func authorOnly(del, target *crdt.Op) bool { return del.User() == target.User() }

func never(del, target *crdt.Op) bool { return false }

var accounts atomic.Int64

// newAccount inserts an account as the accounts code would.
func newAccount(t testing.TB, s *Store) int64 {
	t.Helper()
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO accounts (email, password_hash) VALUES ($1, 'x') RETURNING id`,
		fmt.Sprintf("%d@example.com", accounts.Add(1))).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// carry registers community id for a new account.
func carry(t testing.TB, s *Store, id crdt.ID) {
	t.Helper()
	if err := s.PutCommunity(ctx, Community{ID: id, TopicSecret: []byte("secret"), AccountID: newAccount(t, s)}); err != nil {
		t.Fatal(err)
	}
}

// newCarried returns an author writing to a community the store carries,
// named after the test.
func newCarried(t *testing.T, s *Store) *crdttest.Author {
	t.Helper()
	a := crdttest.NewAuthor(t, t.Name(), t.Name())
	carry(t, s, a.Community)
	return a
}

func opsOf(os []crdt.Opened) []*crdt.Op {
	out := make([]*crdt.Op, len(os))
	for i, o := range os {
		out[i] = o.Op
	}
	return out
}

func put(t *testing.T, s *Store, mayPurge func(del, target *crdt.Op) bool, ops ...*crdt.Op) int {
	t.Helper()
	n, err := s.PutOps(ctx, ops, mayPurge)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// stored returns op id as stored, decoded and as bytes, checking that the
// purged column agrees with the bytes.
func stored(t *testing.T, s *Store, id crdt.ID) (*crdt.Op, []byte) {
	t.Helper()
	raw, err := s.Op(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	op, err := crdt.DecodeStored(raw)
	if err != nil {
		t.Fatal(err)
	}
	var purged bool
	if err := s.pool.QueryRow(ctx, `SELECT purged FROM ops WHERE id = $1`, id[:]).Scan(&purged); err != nil {
		t.Fatal(err)
	}
	if purged != op.Purged() {
		t.Errorf("op %s: purged column %v, bytes purged %v", id, purged, op.Purged())
	}
	return op, raw
}

func mustBePurged(t *testing.T, s *Store, ops ...*crdt.Op) {
	t.Helper()
	for _, o := range ops {
		got, raw := stored(t, s, o.ID)
		if !got.Purged() || !bytes.Equal(raw, o.Purge().Encoded()) {
			t.Errorf("%s %s kept its body", o.Kind, o.ID)
		}
	}
}

func mustBeWhole(t *testing.T, s *Store, ops ...*crdt.Op) {
	t.Helper()
	for _, o := range ops {
		if _, raw := stored(t, s, o.ID); !bytes.Equal(raw, o.Encoded()) {
			t.Errorf("%s %s not stored as received", o.Kind, o.ID)
		}
	}
}

func testCommunities(t *testing.T, s *Store) {
	id := crdt.IDOf([]byte(t.Name()))
	acc := newAccount(t, s)
	if err := s.PutCommunity(ctx, Community{ID: id, TopicSecret: []byte("one"), AccountID: acc}); err != nil {
		t.Fatal(err)
	}
	first, err := s.Community(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != id || string(first.TopicSecret) != "one" || first.AccountID != acc || first.CreatedAt.IsZero() {
		t.Fatalf("got %+v", first)
	}
	other := newAccount(t, s)
	if err := s.PutCommunity(ctx, Community{ID: id, TopicSecret: []byte("two"), AccountID: other}); err != nil {
		t.Fatal(err)
	}
	second, err := s.Community(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(second.TopicSecret) != "two" || second.AccountID != other || !second.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("after update got %+v, first %+v", second, first)
	}
	all, err := s.Communities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(slices.DeleteFunc(all, func(c Community) bool { return c.ID != id })); n != 1 {
		t.Fatalf("Communities lists the community %d times", n)
	}
	if err := s.PutCommunity(ctx, Community{TopicSecret: []byte("x"), AccountID: acc}); err == nil {
		t.Error("a community with the zero id was put")
	}
	if err := s.PutCommunity(ctx, Community{ID: crdt.IDOf([]byte(t.Name() + " orphan")), AccountID: -1}); err == nil {
		t.Error("a community of no account was put")
	}
}

func testCommunityNotFound(t *testing.T, s *Store) {
	id := crdt.IDOf([]byte(t.Name()))
	if _, err := s.Community(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Community: %v, want ErrNotFound", err)
	}
	if err := s.DeleteCommunity(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteCommunity: %v, want ErrNotFound", err)
	}
	if _, err := s.Op(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Op: %v, want ErrNotFound", err)
	}
}

func testPutOpsIdempotent(t *testing.T, s *Store) {
	a := newCarried(t, s)
	ops := opsOf(a.Posts(t, 20, 64))
	if n := put(t, s, authorOnly, ops[:10]...); n != 10 {
		t.Fatalf("first put stored %d, want 10", n)
	}
	if n := put(t, s, authorOnly, ops[:10]...); n != 0 {
		t.Fatalf("put again stored %d, want 0", n)
	}
	// A batch with old, new and repeated ops counts each new one once.
	batch := slices.Concat(ops[5:], ops[15:], ops[:3])
	if n := put(t, s, authorOnly, batch...); n != 10 {
		t.Fatalf("overlapping put stored %d, want 10", n)
	}
	items, err := s.Items(ctx, a.Channel)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 20 {
		t.Fatalf("%d items, want 20", len(items))
	}
	if n, err := s.PutOps(ctx, nil, authorOnly); n != 0 || err != nil {
		t.Fatalf("empty put: %d, %v", n, err)
	}
}

// signAt signs a post at a given clock.
func signAt(t *testing.T, a *crdttest.Author, hlc crdt.HLC, text string) *crdt.Op {
	t.Helper()
	op, err := a.Device.Sign(crdt.Draft{Community: a.Community, Channel: a.Channel, Kind: crdt.KindPost, HLC: hlc,
		Body: crdt.Body{Text: text}}, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

func testItemsOrder(t *testing.T, s *Store) {
	a := newCarried(t, s)
	peer := a.Peer(t)
	base := a.Clock.Now()
	var ops []*crdt.Op
	for i := range 30 {
		// Clocks repeat, so the ID must break ties.
		hlc := base + crdt.HLC(i%7)
		ops = append(ops, signAt(t, a, hlc, crdttest.Text(i, 16)), signAt(t, peer, hlc, crdttest.Text(i, 16)))
	}
	// A post in another channel of the same community is another log.
	other := crdttest.NewAuthor(t, t.Name(), t.Name()+" other")
	otherPost := other.Post(t, "elsewhere").Op
	shuffled := slices.Clone(ops)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	put(t, s, authorOnly, slices.Concat(shuffled[:30], []*crdt.Op{otherPost})...)
	put(t, s, authorOnly, shuffled[30:]...)

	want := make([]recon.Item, len(ops))
	for i, o := range ops {
		want[i] = recon.Item{HLC: o.HLC, ID: o.ID}
	}
	slices.SortFunc(want, recon.Item.Compare)
	items, err := s.Items(ctx, a.Channel)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(items, want) {
		t.Fatalf("Items:\n got %v\nwant %v", items, want)
	}
	raws, err := s.LogOps(ctx, a.Channel)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[crdt.ID]*crdt.Op{}
	for _, o := range ops {
		byID[o.ID] = o
	}
	if len(raws) != len(want) {
		t.Fatalf("LogOps: %d ops, want %d", len(raws), len(want))
	}
	for i, it := range want {
		if !bytes.Equal(raws[i], byID[it.ID].Encoded()) {
			t.Fatalf("LogOps[%d] is not op %s", i, it.ID)
		}
	}
	if items, err := s.Items(ctx, other.Channel); err != nil || len(items) != 1 || items[0].ID != otherPost.ID {
		t.Fatalf("other log: %v, %v", items, err)
	}
}

func testOpsSkipsUnknown(t *testing.T, s *Store) {
	a := newCarried(t, s)
	ops := opsOf(a.Posts(t, 3, 32))
	put(t, s, authorOnly, ops...)
	unknown := crdt.IDOf([]byte("unknown"))
	raws, err := s.Ops(ctx, []crdt.ID{ops[2].ID, unknown, ops[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(raws) != 2 || !bytes.Equal(raws[0], ops[2].Encoded()) || !bytes.Equal(raws[1], ops[0].Encoded()) {
		t.Fatalf("Ops returned %d ops, not ops 2 and 0 in that order", len(raws))
	}
	if raws, err := s.Ops(ctx, []crdt.ID{unknown}); err != nil || len(raws) != 0 {
		t.Fatalf("Ops of unknown: %d, %v", len(raws), err)
	}
	raw, err := s.Op(ctx, ops[1].ID)
	if err != nil || !bytes.Equal(raw, ops[1].Encoded()) {
		t.Fatalf("Op: %v", err)
	}
	if _, err := s.Op(ctx, unknown); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Op of unknown: %v, want ErrNotFound", err)
	}
}

// message returns a post, an edit of it and a react on it, and the
// author's delete of it.
func message(t *testing.T, a *crdttest.Author) (post, edit, react, del *crdt.Op) {
	t.Helper()
	post = a.Post(t, "secret text").Op
	edit = a.Sign(t, crdt.KindEdit, post.ID, crdt.Body{Text: "edited secret"}).Op
	react = a.Sign(t, crdt.KindReact, post.ID, crdt.Body{Emoji: "👍"}).Op
	del = a.Sign(t, crdt.KindDelete, post.ID, crdt.Body{}).Op
	return post, edit, react, del
}

func testPurgeDeleteFirst(t *testing.T, s *Store) {
	a := newCarried(t, s)
	post, edit, react, del := message(t, a)
	put(t, s, authorOnly, del)
	put(t, s, authorOnly, edit)
	put(t, s, authorOnly, post, react)
	mustBePurged(t, s, post, edit)
	mustBeWhole(t, s, del, react)
}

func testPurgeSameBatch(t *testing.T, s *Store) {
	a := newCarried(t, s)
	post, edit, react, del := message(t, a)
	if n := put(t, s, authorOnly, edit, del, react, post); n != 4 {
		t.Fatalf("stored %d, want 4", n)
	}
	mustBePurged(t, s, post, edit)
	mustBeWhole(t, s, del, react)
}

func testPurgeDeleteLater(t *testing.T, s *Store) {
	a := newCarried(t, s)
	post, edit, react, del := message(t, a)
	kept := a.Post(t, "not deleted").Op
	put(t, s, authorOnly, post, edit, react, kept)
	mustBeWhole(t, s, post, edit, react, kept)
	var calls []crdt.ID
	put(t, s, func(d, target *crdt.Op) bool {
		if d.ID != del.ID {
			t.Errorf("mayPurge got delete %s, want %s", d.ID, del.ID)
		}
		calls = append(calls, target.ID)
		return authorOnly(d, target)
	}, del)
	if !slices.Equal(calls, []crdt.ID{post.ID}) {
		t.Errorf("mayPurge judged %v, want the post only", calls)
	}
	mustBePurged(t, s, post, edit)
	mustBeWhole(t, s, del, react, kept)
}

func testPurgeEditAfterDelete(t *testing.T, s *Store) {
	a := newCarried(t, s)
	post, edit, _, del := message(t, a)
	put(t, s, authorOnly, post, del)
	put(t, s, authorOnly, edit)
	mustBePurged(t, s, post, edit)
}

// An edit of a message purged earlier carries text nobody may read,
// whatever the policy says now.
func testPurgeEditOfPurgedMessage(t *testing.T, s *Store) {
	a := newCarried(t, s)
	post, edit, _, del := message(t, a)
	put(t, s, authorOnly, post, del)
	put(t, s, never, edit)
	mustBePurged(t, s, post, edit)
}

func testPurgeRefused(t *testing.T, s *Store) {
	a := newCarried(t, s)
	post, edit, _, del := message(t, a)
	put(t, s, never, post, edit, del)
	put(t, s, nil, del)
	mustBeWhole(t, s, post, edit, del)
	// A delete is judged again when it arrives again: the policy may
	// have changed (a moderator granted the permission meanwhile).
	put(t, s, authorOnly, del)
	mustBePurged(t, s, post, edit)
}

func testPurgeOnlyInDeleteLog(t *testing.T, s *Store) {
	a := newCarried(t, s)
	post, edit, _, _ := message(t, a)
	// A delete from another channel naming the post does not reach it.
	other := crdttest.NewAuthor(t, t.Name(), t.Name()+" other")
	other.User, other.Device = a.User, a.Device
	stray := other.Sign(t, crdt.KindDelete, post.ID, crdt.Body{}).Op
	put(t, s, func(*crdt.Op, *crdt.Op) bool { return true }, post, edit, stray)
	mustBeWhole(t, s, post, edit, stray)
}

func testPurgedOpStoredAsIs(t *testing.T, s *Store) {
	a := newCarried(t, s)
	post := a.Post(t, "text").Op
	put(t, s, authorOnly, post.Purge())
	mustBePurged(t, s, post)
	// The whole op arriving later does not replace the skeleton.
	if n := put(t, s, authorOnly, post); n != 0 {
		t.Fatalf("stored %d, want 0", n)
	}
	mustBePurged(t, s, post)
}

// testExpireKeepsState expires by clock across the whole store, so it
// checks only what happens to its own community's ops.
func testExpireKeepsState(t *testing.T, s *Store) {
	c := crdttest.NewCommunity(t, 2)
	carry(t, s, c.ID)
	put(t, s, authorOnly, c.State...)
	base := c.State[len(c.State)-1].HLC + 1
	var posts []*crdt.Op
	for i := range 10 {
		posts = append(posts, signAt(t, c.Members[i%2], base+crdt.HLC(i), crdttest.Text(i, 32)))
	}
	put(t, s, authorOnly, posts...)

	n, err := s.Expire(ctx, posts[4].HLC)
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Fatalf("expired %d, want at least the 4 older posts", n)
	}
	for i, o := range posts {
		_, err := s.Op(ctx, o.ID)
		if gone := errors.Is(err, ErrNotFound); gone != (i < 4) {
			t.Errorf("post %d: %v", i, err)
		}
	}
	// Every state op stays, however old.
	if _, err := s.Expire(ctx, crdt.HLC(1<<64-1)); err != nil {
		t.Fatal(err)
	}
	if raws, err := s.Ops(ctx, ids(posts)); err != nil || len(raws) != 0 {
		t.Fatalf("%d posts left after expiring everything: %v", len(raws), err)
	}
	state, err := s.LogOps(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(state) != len(c.State) {
		t.Fatalf("%d state ops left, want %d", len(state), len(c.State))
	}
	stateOps := make([]*crdt.Op, len(state))
	for i, raw := range state {
		if stateOps[i], err = crdt.DecodeStored(raw); err != nil {
			t.Fatal(err)
		}
	}
	if got := crdt.BuildCommunity(c.ID, stateOps); len(got.MemberUsers()) != 2 {
		t.Fatalf("state rebuilt from the store has %d members, want 2", len(got.MemberUsers()))
	}
}

func ids(ops []*crdt.Op) []crdt.ID {
	out := make([]crdt.ID, len(ops))
	for i, o := range ops {
		out[i] = o.ID
	}
	return out
}

func testDeleteCommunityDropsOps(t *testing.T, s *Store) {
	a := newCarried(t, s)
	ops := opsOf(a.Posts(t, 5, 32))
	put(t, s, authorOnly, ops...)
	other := crdttest.NewAuthor(t, t.Name()+" other", t.Name()+" other")
	carry(t, s, other.Community)
	kept := other.Post(t, "kept").Op
	put(t, s, authorOnly, kept)
	if err := s.DeleteCommunity(ctx, a.Community); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Community(ctx, a.Community); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Community after delete: %v", err)
	}
	if raws, err := s.Ops(ctx, ids(ops)); err != nil || len(raws) != 0 {
		t.Fatalf("%d ops left: %v", len(raws), err)
	}
	if items, err := s.Items(ctx, a.Channel); err != nil || len(items) != 0 {
		t.Fatalf("%d items left: %v", len(items), err)
	}
	mustBeWhole(t, s, kept)
	if err := s.DeleteCommunity(ctx, a.Community); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	// Putting ops of a community no longer carried fails.
	if _, err := s.PutOps(ctx, ops, authorOnly); !errors.Is(err, ErrNotFound) {
		t.Fatalf("put into deleted community: %v, want ErrNotFound", err)
	}
}

func testConcurrentOverlappingBatches(t *testing.T, s *Store) {
	a := newCarried(t, s)
	ops := opsOf(a.Posts(t, 400, 64))
	const workers = 8
	counts := make([]int, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		// Each worker puts a window of half the ops, in its own order.
		lo := w * len(ops) / (2 * workers)
		batch := slices.Clone(ops[lo : lo+len(ops)/2])
		if w == workers-1 {
			batch = append(batch, ops[lo+len(ops)/2:]...)
		}
		r := rand.New(rand.NewPCG(uint64(w), 1))
		r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		wg.Go(func() {
			for chunk := range slices.Chunk(batch, 50) {
				n, err := s.PutOps(ctx, chunk, authorOnly)
				if err != nil {
					errs[w] = err
					return
				}
				counts[w] += n
			}
		})
	}
	wg.Wait()
	total := 0
	for w := range workers {
		if errs[w] != nil {
			t.Fatal(errs[w])
		}
		total += counts[w]
	}
	if total != len(ops) {
		t.Fatalf("workers report %d new ops, want %d", total, len(ops))
	}
	items, err := s.Items(ctx, a.Channel)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(ops) {
		t.Fatalf("%d items, want %d", len(items), len(ops))
	}
}

// testConcurrentDeleteAndTarget puts deletes and their targets in
// concurrent transactions: each transaction alone would miss the other's
// uncommitted op, so the purge rule depends on the store serializing them.
func testConcurrentDeleteAndTarget(t *testing.T, s *Store) {
	a := newCarried(t, s)
	const pairs = 40
	var posts, dels []*crdt.Op
	for range pairs {
		post := a.Post(t, "text").Op
		posts = append(posts, post)
		dels = append(dels, a.Sign(t, crdt.KindDelete, post.ID, crdt.Body{}).Op)
	}
	errs := make(chan error, 2*pairs)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range pairs {
		for _, op := range []*crdt.Op{posts[i], dels[i]} {
			wg.Go(func() {
				<-start
				_, err := s.PutOps(ctx, []*crdt.Op{op}, authorOnly)
				errs <- err
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	mustBePurged(t, s, posts...)
}

// testDeleteCommunityDuringIngest deletes a community while batches of it
// are being stored: every batch is stored before the delete (and goes with
// it) or refused after it, and no op outlives its community.
func testDeleteCommunityDuringIngest(t *testing.T, s *Store) {
	a := newCarried(t, s)
	const workers, batches = 4, 20
	ops := make([][]*crdt.Op, workers)
	for w := range ops {
		ops[w] = opsOf(a.Posts(t, batches*5, 16))
	}
	stored := make(chan struct{}, workers*batches)
	errs := make(chan error, workers*batches)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for batch := range slices.Chunk(ops[w], 5) {
				_, err := s.PutOps(ctx, batch, authorOnly)
				switch {
				case err == nil:
					stored <- struct{}{}
				case !errors.Is(err, ErrNotFound):
					errs <- err
				}
			}
		})
	}
	<-stored // delete while the others are under way
	if err := s.DeleteCommunity(ctx, a.Community); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var left int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM ops WHERE community = $1`, a.Community[:]).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d ops outlived their community", left)
	}
}

// An account's delete (the accounts code's business) cascades to its
// communities and on to their ops.
func testDeleteAccountDropsOps(t *testing.T, s *Store) {
	a := crdttest.NewAuthor(t, t.Name(), t.Name())
	acc := newAccount(t, s)
	if err := s.PutCommunity(ctx, Community{ID: a.Community, TopicSecret: []byte("secret"), AccountID: acc}); err != nil {
		t.Fatal(err)
	}
	ops := opsOf(a.Posts(t, 3, 16))
	put(t, s, authorOnly, ops...)
	if _, err := s.pool.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, acc); err != nil {
		t.Fatal(err)
	}
	if raws, err := s.Ops(ctx, ids(ops)); err != nil || len(raws) != 0 {
		t.Fatalf("%d ops left: %v", len(raws), err)
	}
}

func testUnknownCommunityStoresNothing(t *testing.T, s *Store) {
	a := newCarried(t, s)
	stranger := crdttest.NewAuthor(t, t.Name()+" not carried", t.Name())
	batch := []*crdt.Op{a.Post(t, "one").Op, stranger.Post(t, "two").Op, a.Post(t, "three").Op}
	if _, err := s.PutOps(ctx, batch, authorOnly); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PutOps: %v, want ErrNotFound", err)
	}
	if raws, err := s.Ops(ctx, ids(batch)); err != nil || len(raws) != 0 {
		t.Fatalf("%d ops of the refused batch stored: %v", len(raws), err)
	}
}

func testBadOpsStoreNothing(t *testing.T, s *Store) {
	a := newCarried(t, s)
	good := a.Post(t, "good").Op
	far := signAt(t, a, crdt.HLC(1<<63), "from the far future")
	for name, batch := range map[string][]*crdt.Op{
		"nil op":          {good, nil},
		"clock too large": {good, far},
	} {
		if _, err := s.PutOps(ctx, batch, authorOnly); err == nil {
			t.Errorf("%s: PutOps succeeded", name)
		}
	}
	if _, err := s.Op(ctx, good.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("op of a refused batch stored: %v", err)
	}
}

// TestSchemaKinds: the partial index ops_target names edits and deletes
// by number.
func TestSchemaKinds(t *testing.T) {
	if crdt.KindEdit != 2 || crdt.KindDelete != 3 {
		t.Fatal("the kinds changed: update the ops_target index")
	}
}
