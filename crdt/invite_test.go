package crdt

import (
	"crypto/ed25519"
	"errors"
	"slices"
	"strings"
	"testing"
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

// inviteLink encodes w as a link, valid or not.
func inviteLink(t testing.TB, w wireInvite) string {
	t.Helper()
	b, err := encMode.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return InviteScheme + strings.ToLower(linkEncoding.EncodeToString(b))
}

func TestInviteLinkRoundTrip(t *testing.T) {
	addrs := []string{
		"/ip4/192.0.2.1/udp/4001/quic-v1/p2p/12D3KooWGzBXXtDTd1Db2rTCYbvsCuRTnHkrWdHpbnnq1WBkSBWU",
		"/ip6/2001:db8::1/tcp/4001/p2p/12D3KooWGzBXXtDTd1Db2rTCYbvsCuRTnHkrWdHpbnnq1WBkSBWU",
		"/dns4/relay.example/tcp/443/wss",
		"/dns/exämple.test/tcp/1",
		"", "x", "/ip4/198.51.100.7/udp/1/quic-v1", "/ip4/203.0.113.9/tcp/2",
	}
	invites := map[string]Invite{}
	invites["bare"], _ = newTestInvite(t, nil, 0)
	invites["one address"], _ = newTestInvite(t, addrs[:1], 1_750_000_000_000)
	invites["MaxInviteAddrs addresses"], _ = newTestInvite(t, addrs[:MaxInviteAddrs], 1<<62)

	forms := []struct {
		name string
		edit func(string) string
	}{
		{"as made", func(l string) string { return l }},
		{"without scheme", func(l string) string { return strings.TrimPrefix(l, InviteScheme) }},
		{"surrounded by whitespace", func(l string) string { return " \t\n" + l + "\r\n " }},
		{"upper-case payload", func(l string) string {
			return InviteScheme + strings.ToUpper(strings.TrimPrefix(l, InviteScheme))
		}},
		{"upper-case payload without scheme", func(l string) string {
			return strings.ToUpper(strings.TrimPrefix(l, InviteScheme))
		}},
		{"mixed-case payload", func(l string) string {
			b := []byte(l)
			for i := len(InviteScheme); i < len(b); i += 2 {
				b[i] = strings.ToUpper(string(b[i]))[0]
			}
			return string(b)
		}},
	}
	for name, inv := range invites {
		link := inv.Link()
		if !strings.HasPrefix(link, InviteScheme) || strings.ToLower(link) != link {
			t.Errorf("%s: Link() = %q, want a lower-case %s link", name, link, InviteScheme)
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

func TestParseInviteRejects(t *testing.T) {
	inv, _ := newTestInvite(t, []string{"/ip4/192.0.2.1/tcp/1"}, 5)
	valid := func() wireInvite {
		return wireInvite{Version: inviteVersion, Community: inv.Community[:], Invite: inv.Invite[:],
			Seed: inv.Seed[:], Addrs: inv.Addrs, Expires: inv.Expires}
	}
	with := func(edit func(*wireInvite)) string {
		w := valid()
		edit(&w)
		return inviteLink(t, w)
	}
	if got, err := ParseInvite(with(func(*wireInvite) {})); err != nil || !sameInvite(got, inv) {
		t.Fatalf("hand-made valid link: %+v, %v", got, err)
	}
	notAnID := make([]byte, IDSize)
	payload := func(b []byte) string { return InviteScheme + strings.ToLower(linkEncoding.EncodeToString(b)) }
	body := strings.TrimPrefix(inv.Link(), InviteScheme)

	cases := []struct{ name, link string }{
		{"empty", ""},
		{"scheme only", InviteScheme},
		{"version 0", with(func(w *wireInvite) { w.Version = 0 })},
		{"version 2", with(func(w *wireInvite) { w.Version = 2 })},
		{"community of 35 bytes", with(func(w *wireInvite) { w.Community = w.Community[:IDSize-1] })},
		{"community of 37 bytes", with(func(w *wireInvite) { w.Community = append(slices.Clone(w.Community), 0) })},
		{"no community", with(func(w *wireInvite) { w.Community = nil })},
		{"community not a CID", with(func(w *wireInvite) { w.Community = notAnID })},
		{"invite of 35 bytes", with(func(w *wireInvite) { w.Invite = w.Invite[1:] })},
		{"no invite", with(func(w *wireInvite) { w.Invite = nil })},
		{"invite not a CID", with(func(w *wireInvite) { w.Invite = notAnID })},
		{"seed of 31 bytes", with(func(w *wireInvite) { w.Seed = w.Seed[1:] })},
		{"seed of 33 bytes", with(func(w *wireInvite) { w.Seed = append(slices.Clone(w.Seed), 0) })},
		{"no seed", with(func(w *wireInvite) { w.Seed = nil })},
		{"too many addresses", with(func(w *wireInvite) { w.Addrs = make([]string, MaxInviteAddrs+1) })},
		{"negative expiry", with(func(w *wireInvite) { w.Expires = -1 })},
		{"garbage base32", InviteScheme + "!!!!not base32!!!!"},
		{"digits outside the alphabet", InviteScheme + "01890189"},
		{"impossible base32 length", InviteScheme + body[:(len(body)/8-1)*8+1]},
		{"truncated", InviteScheme + body[:len(body)-8]},
		{"trailing data", payload(append(mustOK(linkEncoding.DecodeString(strings.ToUpper(body))), 0))},
		{"not CBOR", payload([]byte("hello, invite"))},
		{"a CBOR map", payload([]byte{0xa0})},
		{"an array of 5", payload(mustOK(encMode.Marshal([]any{inviteVersion, inv.Community[:], inv.Invite[:], inv.Seed[:], inv.Addrs})))},
		{"an array of 7", payload(mustOK(encMode.Marshal([]any{inviteVersion, inv.Community[:], inv.Invite[:], inv.Seed[:], inv.Addrs, 5, 0})))},
		{"address not UTF-8", payload(mustOK(encMode.Marshal([]any{inviteVersion, inv.Community[:], inv.Invite[:], inv.Seed[:], []any{"\xff"}, 5})))},
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

// Known issues (see the report that came with these tests): links Link
// makes that ParseInvite refuses. Remove the skips once fixed.
func TestInviteLinkEdges(t *testing.T) {
	t.Run("long address lists", func(t *testing.T) {
		addrs := make([]string, MaxInviteAddrs)
		for i := range addrs {
			addrs[i] = "/dns4/" + strings.Repeat("a", 150) + ".example/udp/4001/quic-v1/p2p/12D3KooWGzBXXtDTd1Db2rTCYbvsCuRTnHkrWdHpbnnq1WBkSBWU"
		}
		inv, _ := newTestInvite(t, addrs, 0)
		if _, err := ParseInvite(inv.Link()); err != nil {
			t.Errorf("ParseInvite(Link()) of %d bytes: %v", len(inv.Link()), err)
		}
	})
	t.Run("payload that parses alone", func(t *testing.T) {
		inv := nearLimitInvite(t)
		payload := strings.TrimPrefix(inv.Link(), InviteScheme)
		if _, err := ParseInvite(payload); err != nil {
			t.Fatalf("payload of %d characters: %v", len(payload), err)
		}
		if _, err := ParseInvite(inv.Link()); err != nil {
			t.Errorf("the same link with its scheme, %d characters: %v", len(inv.Link()), err)
		}
	})
	t.Run("upper-case scheme", func(t *testing.T) {
		inv, _ := newTestInvite(t, nil, 0)
		if _, err := ParseInvite(strings.ToUpper(inv.Link())); err != nil {
			t.Errorf("ParseInvite of an upper-case link: %v", err)
		}
	})
}

// nearLimitInvite returns an invite whose link is longer than
// maxInviteLink with its scheme and no longer without it.
func nearLimitInvite(t testing.TB) Invite {
	t.Helper()
	inv, _ := newTestInvite(t, nil, 0)
	for n := 1000; n < 2000; n++ {
		inv.Addrs = []string{strings.Repeat("a", n)}
		if l := len(inv.Link()); l > maxInviteLink && l-len(InviteScheme) <= maxInviteLink {
			return inv
		}
	}
	t.Fatal("no address length lands the link next to maxInviteLink")
	return Invite{}
}
