package p2p

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	ma "github.com/multiformats/go-multiaddr"
)

var addrCommunity = crdt.IDOf([]byte("addrs community"))

// deviceKey is d's key as libp2p holds it: the key its peer ID is of.
func deviceKey(t testing.TB, d *crdt.Device) crypto.PrivKey {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(d.Seed()))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testAddrs(t testing.TB, n int) []ma.Multiaddr {
	t.Helper()
	var addrs []ma.Multiaddr
	for i := range n {
		addrs = append(addrs, ma.StringCast("/ip4/192.0.2.1/tcp/"+strconv.Itoa(4000+i)))
	}
	return addrs
}

func TestAddrAnnouncementRoundTrip(t *testing.T) {
	d := crdttest.NewDevice(t)
	now := time.Now()
	b, err := SealAddrs(deviceKey(t, d), d.Cert(), testAddrs(t, 2), now)
	if err != nil {
		t.Fatal(err)
	}
	a, err := OpenAddrs(b, now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := PeerOf(d.ID())
	if a.Peer.ID != want || a.User != d.User() || len(a.Peer.Addrs) != 2 || !a.Peer.Addrs[1].Equal(testAddrs(t, 2)[1]) {
		t.Fatalf("opened %+v, want %s of %s at %v", a, want, d.User(), testAddrs(t, 2))
	}
	if !a.Time.Equal(time.Unix(0, now.UnixNano())) {
		t.Errorf("time %s, want %s", a.Time, now)
	}
	// More addresses than an announcement holds are cut, not refused.
	b, err = SealAddrs(deviceKey(t, d), d.Cert(), testAddrs(t, MaxAnnouncedAddrs+4), now)
	if err != nil {
		t.Fatal(err)
	}
	if a, err := OpenAddrs(b, now); err != nil || len(a.Peer.Addrs) != MaxAnnouncedAddrs {
		t.Fatalf("%d addresses, %v; want %d", len(a.Peer.Addrs), err, MaxAnnouncedAddrs)
	}
}

func TestOpenAddrsRefuses(t *testing.T) {
	d, other := crdttest.NewDevice(t), crdttest.NewDevice(t)
	now := time.Now()
	seal := func(key crypto.PrivKey, cert crdt.Cert, addrs []ma.Multiaddr, at time.Time) []byte {
		t.Helper()
		b, err := SealAddrs(key, cert, addrs, at)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := seal(deviceKey(t, d), d.Cert(), testAddrs(t, 1), now)
	var w wireAddrAnnouncement
	if err := cbor.Unmarshal(good, &w); err != nil {
		t.Fatal(err)
	}
	reencode := func(change func(*wireAddrAnnouncement)) []byte {
		c := w
		change(&c)
		b, err := cbor.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Another device's envelope with d's certificate: the certificate is
	// not for the key that sealed the record.
	stolenCert := seal(deviceKey(t, other), d.Cert(), testAddrs(t, 1), now)
	for name, b := range map[string][]byte{
		"empty":             nil,
		"not cbor":          []byte("hello"),
		"too large":         make([]byte, MaxAddrAnnouncementSize+1),
		"non-canonical":     append(good[:len(good):len(good)], 0),
		"no addresses":      seal(deviceKey(t, d), d.Cert(), nil, now),
		"old":               seal(deviceKey(t, d), d.Cert(), testAddrs(t, 1), now.Add(-11*time.Minute)),
		"from the future":   seal(deviceKey(t, d), d.Cert(), testAddrs(t, 1), now.Add(11*time.Minute)),
		"another's cert":    stolenCert,
		"short cert":        reencode(func(c *wireAddrAnnouncement) { c.CertSig = c.CertSig[:10] }),
		"forged cert":       reencode(func(c *wireAddrAnnouncement) { u := other.User(); c.User = u[:] }),
		"tampered envelope": reencode(func(c *wireAddrAnnouncement) { e := append([]byte{}, c.Envelope...); e[len(e)-1] ^= 1; c.Envelope = e }),
	} {
		if a, err := OpenAddrs(b, now); !errors.Is(err, ErrBadAnnouncement) {
			t.Errorf("%s: opened %+v, %v; want ErrBadAnnouncement", name, a, err)
		}
	}
}

func FuzzOpenAddrs(f *testing.F) {
	d := crdttest.NewDevice(f)
	now := time.Unix(1_800_000_000, 0)
	for n := range 3 {
		b, err := SealAddrs(deviceKey(f, d), d.Cert(), testAddrs(f, n), now)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := OpenAddrs(b, now)
		if err != nil {
			if !errors.Is(err, ErrBadAnnouncement) {
				t.Fatalf("error %v is not ErrBadAnnouncement", err)
			}
			return
		}
		// What opens is a device's record under its own certificate.
		if _, ok := DeviceOf(a.Peer.ID); !ok || len(a.Peer.Addrs) == 0 || len(a.Peer.Addrs) > MaxAnnouncedAddrs {
			t.Fatalf("opened %+v", a)
		}
	})
}

// Announcements travel the community's members' mesh: C, who is not
// connected to A, learns from B where a member's device is; one that B's
// admit hook ignores (not a member's, as far as B knows) goes no further.
// A's own go out whatever its hook says (it says nothing of strangers).
func TestAddrTopicForwardsMembers(t *testing.T) {
	member, stranger := crdttest.NewDevice(t), crdttest.NewDevice(t)
	onlyMember := func(a AddrAnnouncement) Verdict {
		if a.User == member.User() {
			return Accept
		}
		return Ignore
	}
	everyone := func(AddrAnnouncement) Verdict { return Accept }
	type addrPeer struct {
		h     host.Host
		topic *AddrTopic
	}
	var ps []addrPeer
	for _, admit := range []func(AddrAnnouncement) Verdict{everyone, onlyMember, everyone} {
		h := testHost(t)
		topic, err := testGossip(t, h).JoinAddrs(testSecret, addrCommunity, admit)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { topic.Close() })
		ps = append(ps, addrPeer{h, topic})
	}
	a, b, c := ps[0], ps[1], ps[2]
	connect(t, a.h, b.h)
	connect(t, b.h, c.h)
	for name, p := range map[string]addrPeer{"A": a, "C": c} {
		select {
		case joined := <-p.topic.Joined():
			if joined != b.h.ID() {
				t.Fatalf("%s heard of %s joining, want B", name, joined)
			}
		case <-time.After(wait.Timeout):
			t.Fatalf("%s heard of no peer joining the topic", name)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait.Timeout)
	defer cancel()
	name := a.topic.topic.String()
	wait.For(t, "A and C in B's mesh", func() bool {
		mesh := b.topic.g.mesh.peers(name)
		return hasPeer(mesh, a.h.ID()) && hasPeer(mesh, c.h.ID())
	})
	for _, d := range []*crdt.Device{stranger, member} {
		msg, err := SealAddrs(deviceKey(t, d), d.Cert(), testAddrs(t, 1), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := a.topic.Publish(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.topic.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := PeerOf(member.ID())
	if got.Peer.ID != want || got.User != member.User() {
		t.Fatalf("C learned %+v, want the member's device %s (the stranger's announcement was first)", got, want)
	}
}
