package crdt

import (
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

func newTestInvite(t testing.TB, addrs []string, expires int64) (Invite, [ed25519.PublicKeySize]byte) {
	t.Helper()
	seed, pub, err := NewInviteKey()
	if err != nil {
		t.Fatal(err)
	}
	ids := testIDs(2)
	return Invite{Community: ids[0], Invite: ids[1], Seed: seed, Addrs: addrs, Expires: expires}, pub
}

// sameInvite compares invites; Addrs compare as lists, nil and empty alike.
func sameInvite(a, b Invite) bool {
	return a.Community == b.Community && a.Invite == b.Invite && a.Seed == b.Seed &&
		slices.Equal(a.Addrs, b.Addrs) && a.Expires == b.Expires
}

// inviteLinkV1 encodes w as a version 1 link, valid or not.
func inviteLinkV1(t testing.TB, w wireInviteV1) string {
	t.Helper()
	b, err := encMode.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return InviteScheme + strings.ToLower(linkEncodingV1.EncodeToString(b))
}

const (
	peerA = "12D3KooWGzBXXtDTd1Db2rTCYbvsCuRTnHkrWdHpbnnq1WBkSBWU"
	peerB = "12D3KooWAS3MTAnfjUpT1qK9S1rhhm6tKFQhBTNzTT2pBgno7E53"
)

func TestInviteLinkRoundTrip(t *testing.T) {
	invites := map[string]Invite{}
	invites["bare"], _ = newTestInvite(t, nil, 0)
	invites["one address"], _ = newTestInvite(t, []string{"/ip4/192.0.2.1/udp/4001/quic-v1/p2p/" + peerA}, 1_750_000_000_000)
	invites["two addresses"], _ = newTestInvite(t, []string{
		"/ip6/2606:4700::1111/tcp/4001/p2p/" + peerA, "/dns4/relay.example/tcp/443/wss/p2p/" + peerB}, 1<<62)
	invites["a relayed address"], _ = newTestInvite(t, []string{"/ip4/93.184.216.34/tcp/4001/p2p/" + peerB + "/p2p-circuit/p2p/" + peerA}, 0)

	forms := []struct {
		name string
		edit func(string) string
	}{
		{"as made", func(l string) string { return l }},
		{"without scheme", func(l string) string { return strings.TrimPrefix(l, InviteScheme) }},
		{"surrounded by whitespace", func(l string) string { return " \t\n" + l + "\r\n " }},
		{"upper-case scheme", func(l string) string {
			return strings.ToUpper(InviteScheme) + strings.TrimPrefix(l, InviteScheme)
		}},
	}
	for name, inv := range invites {
		link := inv.Link()
		if !strings.HasPrefix(link, InviteScheme+"A") || strings.ContainsAny(link[len(InviteScheme):], "+/=") {
			t.Errorf("%s: Link() = %q, want a version 2 base64url link", name, link)
		}
		if inv.Link() != link {
			t.Errorf("%s: Link() is not deterministic", name)
		}
		for _, f := range forms {
			got, err := ParseInvite(f.edit(link))
			if err != nil {
				t.Errorf("%s, %s: ParseInvite: %v", name, f.name, err)
				continue
			}
			if !sameInvite(got, inv) {
				t.Errorf("%s, %s: ParseInvite = %+v, want %+v", name, f.name, got, inv)
			}
		}
	}
}

// TestInviteLinkAddresses: a link keeps the two most reachable of the
// member's addresses, and only dialable ones.
func TestInviteLinkAddresses(t *testing.T) {
	p2p := "/p2p/" + peerA
	inv, _ := newTestInvite(t, []string{
		"/ip4/127.0.0.1/tcp/4001" + p2p,
		"/ip4/192.168.1.20/udp/4001/quic-v1" + p2p,
		"/ip4/203.0.113.9/tcp/4001", // no peer: not dialable
		"x",
		"/ip4/192.168.1.20/tcp/4001" + p2p,
		"/ip4/93.184.216.34/udp/4001/quic-v1" + p2p,
	}, 0)
	got, err := ParseInvite(inv.Link())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/ip4/93.184.216.34/udp/4001/quic-v1" + p2p, "/ip4/192.168.1.20/udp/4001/quic-v1" + p2p}
	if !slices.Equal(got.Addrs, want) {
		t.Errorf("addresses %q, want %q", got.Addrs, want)
	}
	loopback, _ := newTestInvite(t, []string{"/ip4/127.0.0.1/tcp/1" + p2p, "/ip6/::1/tcp/2" + p2p, "/ip4/127.0.0.1/tcp/3" + p2p}, 0)
	if got, _ := ParseInvite(loopback.Link()); !slices.Equal(got.Addrs, loopback.Addrs[:2]) {
		t.Errorf("loopback addresses: %q", got.Addrs)
	}
}

// TestInviteLinkLength: a typical invite — a member's LAN address over
// TCP and QUIC, a day's expiry — makes a link short enough to paste.
func TestInviteLinkLength(t *testing.T) {
	inv, _ := newTestInvite(t, []string{
		"/ip4/192.168.1.20/tcp/40521/p2p/" + peerA,
		"/ip4/192.168.1.20/udp/40521/quic-v1/p2p/" + peerA,
		"/ip4/127.0.0.1/tcp/40521/p2p/" + peerA,
	}, time.Date(2026, 12, 8, 21, 0, 0, 0, time.UTC).UnixMilli())
	link := inv.Link()
	old := inviteLinkV1(t, wireInviteV1{Version: inviteV1, Community: inv.Community[:], Invite: inv.Invite[:],
		Seed: inv.Seed[:], Addrs: inv.Addrs, Expires: inv.Expires})
	t.Logf("a typical link: %d characters (version 1: %d)", len(link), len(old))
	if len(link) > 240 {
		t.Errorf("a typical link has %d characters", len(link))
	}
}

// TestInviteLinkProperties: for random invites, the link parses to the
// invite with the addresses it keeps — at most LinkAddrs, each one of the
// invite's, all of them when there are no more — and a parsed link makes
// the same link again.
func TestInviteLinkProperties(t *testing.T) {
	pool := []string{
		"/ip4/127.0.0.1/tcp/1/p2p/" + peerA, "/ip4/10.0.0.2/udp/2/quic-v1/p2p/" + peerA,
		"/ip6/2001:db8::1/tcp/3/p2p/" + peerB, "/dns4/relay.example/tcp/443/wss/p2p/" + peerB,
		"/ip4/93.184.216.34/tcp/4/p2p/" + peerA, "/ip4/93.184.216.34/tcp/5", "not an address",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		var addrs []string
		for range rng.IntN(MaxInviteAddrs + 1) {
			addrs = append(addrs, pool[rng.IntN(len(pool))])
		}
		inv, _ := newTestInvite(t, addrs, rng.Int64N(1<<50))
		got, err := ParseInvite(inv.Link())
		if err != nil {
			t.Fatalf("%+v: %v", inv, err)
		}
		dialable := slices.DeleteFunc(slices.Clone(addrs), func(a string) bool { return !strings.Contains(a, "/p2p/") })
		if got.Community != inv.Community || got.Invite != inv.Invite || got.Seed != inv.Seed || got.Expires != inv.Expires ||
			len(got.Addrs) != min(len(dialable), LinkAddrs) {
			t.Fatalf("%+v parses to %+v", inv, got)
		}
		for _, a := range got.Addrs {
			if !slices.Contains(dialable, a) {
				t.Fatalf("%+v: address %q is not the invite's", inv, a)
			}
		}
		if got.Link() != inv.Link() {
			t.Fatalf("%+v: the parsed link makes another link", inv)
		}
	}
}

// TestParseInviteV1: links made before version 2 still parse, with every
// address they carry.
func TestParseInviteV1(t *testing.T) {
	addrs := []string{"/ip4/192.0.2.1/udp/4001/quic-v1/p2p/" + peerA, "/dns/exämple.test/tcp/1", "", "x"}
	inv, _ := newTestInvite(t, addrs, 1_750_000_000_000)
	link := inviteLinkV1(t, wireInviteV1{Version: inviteV1, Community: inv.Community[:], Invite: inv.Invite[:],
		Seed: inv.Seed[:], Addrs: inv.Addrs, Expires: inv.Expires})
	for _, l := range []string{link, strings.ToUpper(link), strings.TrimPrefix(link, InviteScheme)} {
		if got, err := ParseInvite(l); err != nil || !sameInvite(got, inv) {
			t.Errorf("%s: %+v, %v", l, got, err)
		}
	}
}

// TestParseInviteV1Made: a link that the code before version 2 made.
func TestParseInviteV1Made(t *testing.T) {
	const old = "ancore://invite/qyavqjabkejcb42u52m6fpeghtqz3afyim2ti5rzj26dkmffdsjjbvrjazn2zq5tlasacuisebibj6nphjue7xleu524drgfglxgnmnzns2wwhicc4gsesnwozhxkwbaaaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypye6cuf5uxanbpge4telrrgy4c4mjogiyc65ddoaxtimbvgiys64bsoaxtcmsegnfw632xi55eewcyorcfizbrirrde4suinmwe5ttin2vevdojbvxev3ejbyge3tooeyvoqtlknbfovlylexws4buf4ytenzogaxdalrrf52wi4bpgqydkmrrf5yxk2ldfv3dcl3qgjyc6mjsiqzuw33pk5dxuqsylb2eivdegfcgemtskrbvsytwonbxkusunzegw4sxmrehaytonzytcv2cnnjuev2vdmaaaam277bzraa"
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(i)
	}
	want := Invite{Community: IDOf([]byte("community")), Invite: IDOf([]byte("invite")), Seed: seed,
		Addrs:   []string{"/ip4/192.168.1.20/tcp/40521/p2p/" + peerA, "/ip4/127.0.0.1/udp/40521/quic-v1/p2p/" + peerA},
		Expires: 1765227600000}
	got, err := ParseInvite(old)
	if err != nil || !sameInvite(got, want) {
		t.Fatalf("%+v, %v", got, err)
	}
	t.Logf("the same invite: %d characters in version 1, %d in version 2", len(old), len(got.Link()))
}

func TestParseInviteV2Rejects(t *testing.T) {
	inv, _ := newTestInvite(t, []string{"/ip4/192.0.2.1/tcp/1/p2p/" + peerA}, 5)
	raw := mustOK(linkEncoding.DecodeString(strings.TrimPrefix(inv.Link(), InviteScheme)))
	link := func(b []byte) string { return InviteScheme + linkEncoding.EncodeToString(b) }
	head := raw[:98] // version, ids, seed, expiry (one byte: 5)
	peerID := mustOK(ma.NewMultiaddr("/p2p/" + peerA))[0].RawValue()
	addr := mustOK(ma.NewMultiaddr("/ip4/192.0.2.1/tcp/1")).Bytes()
	withPeers := func(parts ...[]byte) string { return link(slices.Concat(append([][]byte{head}, parts...)...)) }
	field := func(b []byte) []byte { return appendField(nil, b) }
	many := []byte{1}
	many = append(many, field(peerID)...)
	many = append(many, MaxInviteAddrs+1)
	for range MaxInviteAddrs + 1 {
		many = append(many, field(addr)...)
	}
	if got, err := ParseInvite(withPeers([]byte{1}, field(peerID), []byte{1}, field(addr))); err != nil || !sameInvite(got, inv) {
		t.Fatalf("hand-made valid link: %+v, %v", got, err)
	}
	cases := []struct{ name, link string }{
		{"version 3", link(append([]byte{3}, raw[1:]...))},
		{"version 0", link(append([]byte{0}, raw[1:]...))},
		{"truncated in the seed", link(raw[:80])},
		{"no peer count", link(raw[:98])},
		{"truncated", link(raw[:len(raw)-1])},
		{"trailing byte", link(append(slices.Clone(raw), 0))},
		{"a peer that is not there", withPeers([]byte{2}, field(peerID), []byte{1}, field(addr))},
		{"peer id not a multihash", withPeers([]byte{1}, field([]byte("nope")), []byte{1}, field(addr))},
		{"address not a multiaddr", withPeers([]byte{1}, field(peerID), []byte{1}, field([]byte{0xff, 0xff}))},
		{"address that is only a peer", withPeers([]byte{1}, field(peerID), []byte{1}, field(nil))},
		{"address longer than the link", withPeers([]byte{1}, field(peerID), []byte{1}, []byte{100}, addr)},
		{"too many addresses", withPeers(many)},
		{"expiry over 63 bits", link(slices.Concat(raw[:97], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0}))},
		{"not base64url", InviteScheme + "A" + strings.Repeat("+", 140)},
		{"non-canonical base64", InviteScheme + strings.TrimPrefix(inv.Link(), InviteScheme)[:len(inv.Link())-len(InviteScheme)-1] + "/"},
	}
	for _, c := range cases {
		got, err := ParseInvite(c.link)
		if !errors.Is(err, ErrMalformed) || !sameInvite(got, Invite{}) {
			t.Errorf("%s: ParseInvite = %+v, %v; want an ErrMalformed", c.name, got, err)
		}
	}
}

func TestParseInviteV1Rejects(t *testing.T) {
	inv, _ := newTestInvite(t, []string{"/ip4/192.0.2.1/tcp/1"}, 5)
	valid := func() wireInviteV1 {
		return wireInviteV1{Version: inviteV1, Community: inv.Community[:], Invite: inv.Invite[:],
			Seed: inv.Seed[:], Addrs: inv.Addrs, Expires: inv.Expires}
	}
	with := func(edit func(*wireInviteV1)) string {
		w := valid()
		edit(&w)
		return inviteLinkV1(t, w)
	}
	if got, err := ParseInvite(with(func(*wireInviteV1) {})); err != nil || !sameInvite(got, inv) {
		t.Fatalf("hand-made valid link: %+v, %v", got, err)
	}
	notAnID := make([]byte, IDSize)
	payload := func(b []byte) string { return InviteScheme + strings.ToLower(linkEncodingV1.EncodeToString(b)) }
	body := strings.TrimPrefix(with(func(*wireInviteV1) {}), InviteScheme)

	cases := []struct{ name, link string }{
		{"empty", ""},
		{"scheme only", InviteScheme},
		{"version 0", with(func(w *wireInviteV1) { w.Version = 0 })},
		{"version 2", with(func(w *wireInviteV1) { w.Version = 2 })},
		{"community of 35 bytes", with(func(w *wireInviteV1) { w.Community = w.Community[:IDSize-1] })},
		{"community of 37 bytes", with(func(w *wireInviteV1) { w.Community = append(slices.Clone(w.Community), 0) })},
		{"no community", with(func(w *wireInviteV1) { w.Community = nil })},
		{"community not a CID", with(func(w *wireInviteV1) { w.Community = notAnID })},
		{"invite of 35 bytes", with(func(w *wireInviteV1) { w.Invite = w.Invite[1:] })},
		{"no invite", with(func(w *wireInviteV1) { w.Invite = nil })},
		{"invite not a CID", with(func(w *wireInviteV1) { w.Invite = notAnID })},
		{"seed of 31 bytes", with(func(w *wireInviteV1) { w.Seed = w.Seed[1:] })},
		{"seed of 33 bytes", with(func(w *wireInviteV1) { w.Seed = append(slices.Clone(w.Seed), 0) })},
		{"no seed", with(func(w *wireInviteV1) { w.Seed = nil })},
		{"too many addresses", with(func(w *wireInviteV1) { w.Addrs = make([]string, MaxInviteAddrs+1) })},
		{"negative expiry", with(func(w *wireInviteV1) { w.Expires = -1 })},
		{"garbage base32", InviteScheme + "!!!!not base32!!!!"},
		{"digits outside the alphabet", InviteScheme + "01890189"},
		{"impossible base32 length", InviteScheme + body[:(len(body)/8-1)*8+1]},
		{"truncated", InviteScheme + body[:len(body)-8]},
		{"trailing data", payload(append(mustOK(linkEncodingV1.DecodeString(strings.ToUpper(body))), 0))},
		{"not CBOR", payload([]byte("hello, invite"))},
		{"a CBOR map", payload([]byte{0xa0})},
		{"an array of 5", payload(mustOK(encMode.Marshal([]any{inviteV1, inv.Community[:], inv.Invite[:], inv.Seed[:], inv.Addrs})))},
		{"an array of 7", payload(mustOK(encMode.Marshal([]any{inviteV1, inv.Community[:], inv.Invite[:], inv.Seed[:], inv.Addrs, 5, 0})))},
		{"address not UTF-8", payload(mustOK(encMode.Marshal([]any{inviteV1, inv.Community[:], inv.Invite[:], inv.Seed[:], []any{"\xff"}, 5})))},
		{"another scheme", "https://invite/" + body},
		{"scheme twice", InviteScheme + InviteScheme + body},
		{"over-long", InviteScheme + strings.Repeat("a", maxInviteLink)},
		{"over-long without scheme", strings.Repeat("a", maxInviteLink+1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseInvite(c.link)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseInvite = %+v, %v; want an ErrMalformed", got, err)
			}
			if !sameInvite(got, Invite{}) {
				t.Errorf("ParseInvite returned %+v with its error", got)
			}
		})
	}
}

func mustOK[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestInviteProof(t *testing.T) {
	inv, pub := newTestInvite(t, nil, 0)
	if got := ed25519.NewKeyFromSeed(inv.Seed[:]).Public().(ed25519.PublicKey); !slices.Equal(got, pub[:]) {
		t.Fatal("NewInviteKey: public key does not match the seed")
	}
	user := newTestUser(t).ID()
	proof := inv.Prove(user)
	if len(proof) != ed25519.SignatureSize {
		t.Fatalf("proof of %d bytes", len(proof))
	}
	if !VerifyProof(pub, inv.Community, inv.Invite, user, proof) {
		t.Fatal("a valid proof does not verify")
	}
	// The proof travels in the link's holder's admit op; it survives
	// the link's round trip.
	parsed, err := ParseInvite(inv.Link())
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyProof(pub, inv.Community, inv.Invite, user, parsed.Prove(user)) {
		t.Error("proof made from a parsed link does not verify")
	}

	other, otherPub := newTestInvite(t, nil, 0)
	ids := testIDs(4)
	cases := []struct {
		name      string
		key       [ed25519.PublicKeySize]byte
		community ID
		invite    ID
		user      UserID
		proof     []byte
	}{
		{"another user", pub, inv.Community, inv.Invite, newTestUser(t).ID(), proof},
		{"another invite id", pub, inv.Community, ids[3], user, proof},
		{"community and invite swapped", pub, inv.Invite, inv.Community, user, proof},
		{"another community", pub, ids[2], inv.Invite, user, proof},
		{"another key", otherPub, inv.Community, inv.Invite, user, proof},
		{"proof by another invite's key", pub, inv.Community, inv.Invite, user,
			Invite{Community: inv.Community, Invite: inv.Invite, Seed: other.Seed}.Prove(user)},
		{"truncated proof", pub, inv.Community, inv.Invite, user, proof[:len(proof)-1]},
		{"proof with a trailing byte", pub, inv.Community, inv.Invite, user, append(slices.Clone(proof), 0)},
		{"flipped proof", pub, inv.Community, inv.Invite, user, append([]byte{proof[0] ^ 1}, proof[1:]...)},
		{"empty proof", pub, inv.Community, inv.Invite, user, nil},
		{"zero key", [ed25519.PublicKeySize]byte{}, inv.Community, inv.Invite, user, proof},
	}
	for _, c := range cases {
		if VerifyProof(c.key, c.community, c.invite, c.user, c.proof) {
			t.Errorf("%s: proof verifies", c.name)
		}
	}
}

func TestInviteLinkEdges(t *testing.T) {
	t.Run("upper-case scheme", func(t *testing.T) {
		inv, _ := newTestInvite(t, nil, 0)
		link := strings.ToUpper(InviteScheme) + strings.TrimPrefix(inv.Link(), InviteScheme)
		if _, err := ParseInvite(link); err != nil {
			t.Errorf("ParseInvite of a link with an upper-case scheme: %v", err)
		}
	})
	t.Run("long addresses", func(t *testing.T) {
		long := "/dns4/" + strings.Repeat("a", 200) + ".example/udp/4001/quic-v1/p2p/" + peerA
		inv, _ := newTestInvite(t, []string{long, "/ip4/192.0.2.1/tcp/1/p2p/" + peerA}, 0)
		got, err := ParseInvite(inv.Link())
		if err != nil || !slices.Equal(got.Addrs, inv.Addrs) {
			t.Errorf("ParseInvite(Link()) of %d characters: %+v, %v", len(inv.Link()), got, err)
		}
	})
}

func TestPreviewProof(t *testing.T) {
	inv, pub := newTestInvite(t, nil, 0)
	user := newTestUser(t).ID()
	device := []byte("the asking device")
	proof := inv.ProvePreview(user, device)
	if !VerifyPreviewProof(pub, inv.Community, inv.Invite, user, device, proof) {
		t.Fatal("a valid preview proof does not verify")
	}
	other, _ := newTestInvite(t, nil, 0)
	for name, ok := range map[string]bool{
		"from another device": VerifyPreviewProof(pub, inv.Community, inv.Invite, user, []byte("another device"), proof),
		"for another user":    VerifyPreviewProof(pub, inv.Community, inv.Invite, newTestUser(t).ID(), device, proof),
		"a join's proof":      VerifyPreviewProof(pub, inv.Community, inv.Invite, user, device, inv.Prove(user)),
		"as a join's proof":   VerifyProof(pub, inv.Community, inv.Invite, user, proof),
		"another invite's":    VerifyPreviewProof(pub, inv.Community, inv.Invite, user, device, other.ProvePreview(user, device)),
		"none":                VerifyPreviewProof(pub, inv.Community, inv.Invite, user, device, nil),
	} {
		if ok {
			t.Errorf("%s verifies", name)
		}
	}
}
