package crdt

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func FuzzParseInvite(f *testing.F) {
	bare, _ := newTestInvite(f, nil, 0)
	full, _ := newTestInvite(f, []string{"/ip4/192.0.2.1/udp/4001/quic-v1/p2p/" + peerA, "/dns/exämple.test/tcp/1/p2p/" + peerB, ""}, 1_750_000_000_000)
	relayed, _ := newTestInvite(f, []string{"/ip4/198.51.100.7/tcp/4001/p2p/" + peerB + "/p2p-circuit/p2p/" + peerA}, 1<<62)
	for _, inv := range []Invite{bare, full, relayed} {
		link := inv.Link()
		payload := strings.TrimPrefix(link, InviteScheme)
		f.Add(link)
		f.Add(payload)
		f.Add(" \n" + link + "\t")
		f.Add(link[:len(link)-3])
	}
	// Version 1 links, and some just outside its rules.
	w := wireInviteV1{Version: inviteV1, Community: bare.Community[:], Invite: bare.Invite[:], Seed: bare.Seed[:],
		Addrs: slices.Repeat([]string{"/ip6/2001:db8::1/tcp/4001/p2p/" + peerA}, MaxInviteAddrs)}
	for _, edit := range []func(*wireInviteV1){
		func(w *wireInviteV1) {},
		func(w *wireInviteV1) { w.Version = 2 },
		func(w *wireInviteV1) { w.Expires = -1 },
		func(w *wireInviteV1) { w.Addrs = make([]string, MaxInviteAddrs+1) },
		func(w *wireInviteV1) { w.Seed = w.Seed[1:] },
		func(w *wireInviteV1) { w.Community = make([]byte, IDSize) },
	} {
		c := w
		edit(&c)
		f.Add(inviteLinkV1(f, c))
	}
	f.Add("")
	f.Add(InviteScheme)
	f.Add(InviteScheme + "!!")
	f.Add(strings.Repeat("a", maxInviteLink+1))

	f.Fuzz(func(t *testing.T, link string) {
		inv, err := ParseInvite(link)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseInvite error %v does not wrap ErrMalformed", err)
			}
			if !sameInvite(inv, Invite{}) || inv.Addrs != nil {
				t.Fatalf("ParseInvite returned %+v with its error", inv)
			}
			return
		}
		if !inv.Community.valid() || !inv.Invite.valid() || len(inv.Addrs) > MaxInviteAddrs || inv.Expires < 0 {
			t.Fatalf("ParseInvite accepted %+v", inv)
		}
		// A link keeps the dialable addresses it has room for; from then
		// on it is a fixed point.
		again := inv.Link()
		if !strings.HasPrefix(again, InviteScheme+"A") {
			t.Fatalf("Link() = %q", again)
		}
		back, err := ParseInvite(again)
		if err != nil {
			t.Fatalf("re-encoded link %q does not parse: %v", again, err)
		}
		canonical := func(a string) string {
			if m, err := ma.NewMultiaddr(a); err == nil {
				return m.String()
			}
			return ""
		}
		kept := func(a string) bool {
			return slices.ContainsFunc(inv.Addrs, func(b string) bool { return canonical(b) == a })
		}
		if back.Community != inv.Community || back.Invite != inv.Invite || back.Seed != inv.Seed || back.Expires != inv.Expires ||
			len(back.Addrs) > LinkAddrs || !slices.ContainsFunc(back.Addrs, kept) && len(back.Addrs) > 0 ||
			slices.ContainsFunc(back.Addrs, func(a string) bool { return !kept(a) }) {
			t.Fatalf("re-encoded link parses to %+v, from %+v", back, inv)
		}
		if back.Link() != again {
			t.Fatalf("Link() is not stable: %q, then %q", again, back.Link())
		}
	})
}

// normalizedState clears what a re-encoding legitimately changes: empty
// byte strings that were present become absent.
func normalizedState(s StateBody) StateBody {
	if len(s.Proof) == 0 {
		s.Proof = nil
	}
	if len(s.sealed) == 0 {
		s.sealed = nil
	}
	return s
}

func FuzzStateBody(f *testing.F) {
	fx := newSBFixture(f)
	keys := fx.keyring()
	reader := fx.recipients[0] // a recipient of the seed wraps
	bodies := [][]byte{mustSign(f, fx.device, fx.draft, fx.key).Body}
	for _, dr := range []Draft{
		{Kind: KindGenesis, State: &StateBody{Info: &Info{Name: "c", Icon: []byte{1}}}},
		{Community: testCommunity, Kind: KindMemberRoles, State: &StateBody{User: reader.ID(), Roles: fx.draft.State.Roles}},
		{Community: testCommunity, Kind: KindKick, State: &StateBody{User: reader.ID(), Seen: fx.draft.State.Seen}},
		{Community: testCommunity, Kind: KindRekey, State: &StateBody{Info: &Info{Keys: [][]byte{fx.key.Bytes()}}, Wraps: fx.draft.State.Wraps}},
		{Community: testCommunity, Kind: KindInvite, State: &StateBody{InviteKey: [32]byte{1}, Expires: 5, MaxUses: 3}},
	} {
		dr.HLC = hlcAt(0, 0)
		bodies = append(bodies, mustSign(f, fx.device, dr, fx.key).Body)
	}
	// Info sealed with no header, as the fuzzed op (which has none) reads it.
	plain, err := fx.draft.State.Info.encode()
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := fx.key.seal(plain, nil)
	if err != nil {
		f.Fatal(err)
	}
	bodies = append(bodies, sbMarshal(f, wireState{Info: sealed}), sbMarshal(f, validWireState(f)), plain)
	for _, b := range bodies {
		f.Add(b, true)
		f.Add(b, false)
	}
	f.Add([]byte{0xa0}, false)
	f.Add([]byte{}, false)
	f.Add([]byte{0xa1, 0x06, 0x82, 0x40, 0x40}, false) // two empty roles
	f.Add([]byte{0xa1, 0x0b, 0x82, 0x40, 0x80}, false) // wraps without an ephemeral key

	f.Fuzz(func(t *testing.T, body []byte, withEpoch bool) {
		o := &Op{Kind: KindMemberRoles, Body: body}
		if withEpoch {
			o.Epoch = fx.key.ID()
		}
		s, err := o.State()
		if err != nil {
			if !errors.Is(err, ErrBadBody) {
				t.Fatalf("State error %v does not wrap ErrBadBody", err)
			}
		} else {
			checkParsedState(t, o, s, withEpoch)
			if _, err := o.OpenInfo(s, keys); err != nil &&
				!errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrBadBody) {
				t.Fatalf("OpenInfo error %v wraps no documented error", err)
			}
			if s.Wraps != nil {
				if _, err := s.Wraps.Open(reader, testWrapContext); err != nil &&
					!errors.Is(err, ErrNoKey) && !errors.Is(err, ErrDecrypt) {
					t.Fatalf("Wraps.Open error %v wraps no documented error", err)
				}
			}
		}

		// The same bytes as an Info plaintext, sealed properly.
		sealed, err := fx.key.seal(body, nil)
		if err != nil {
			t.Fatal(err)
		}
		info, err := (&Op{Kind: KindMeta, Epoch: fx.key.ID()}).OpenInfo(StateBody{sealed: sealed}, keys)
		if err != nil {
			if !errors.Is(err, ErrBadBody) {
				t.Fatalf("OpenInfo of a sealed plaintext: error %v does not wrap ErrBadBody", err)
			}
			return
		}
		if err := info.valid(); err != nil {
			t.Fatalf("OpenInfo returned an invalid Info: %v", err)
		}
	})
}

// checkParsedState checks what State promises of a body it accepted, and
// that the body survives re-encoding.
func checkParsedState(t *testing.T, o *Op, s StateBody, withEpoch bool) {
	t.Helper()
	if s.HasInfo() != withEpoch {
		t.Fatalf("HasInfo() = %v for an op with epoch %v", s.HasInfo(), withEpoch)
	}
	if len(s.Roles) > MaxRoles || len(s.Seen) > MaxSeen {
		t.Fatalf("%d roles, %d cut-offs", len(s.Roles), len(s.Seen))
	}
	for i, r := range s.Roles {
		if !r.valid() || i > 0 && s.Roles[i-1].Compare(r) >= 0 {
			t.Fatalf("roles not valid, sorted and unique: %v", s.Roles)
		}
	}
	for _, x := range s.Seen {
		if !x.Log.valid() || !x.Last.valid() {
			t.Fatalf("cut-off %+v names no op", x)
		}
	}
	if w := s.Wraps; w != nil {
		if len(w.To) > MaxWraps || !slices.IsSortedFunc(w.Users(), compareUsers) ||
			len(slices.Compact(w.Users())) != len(w.To) {
			t.Fatalf("%d recipients, not sorted and unique", len(w.To))
		}
		for _, x := range w.To {
			if len(x.Box) < 16 || len(x.Box) > maxBox {
				t.Fatalf("box of %d bytes", len(x.Box))
			}
		}
	}
	again, err := s.encode(s.sealed)
	if err != nil {
		t.Fatalf("encode of a parsed body: %v", err)
	}
	back, err := (&Op{Kind: o.Kind, Epoch: o.Epoch, Body: again}).State()
	if err != nil {
		t.Fatalf("re-encoded body does not parse: %v", err)
	}
	if !reflect.DeepEqual(normalizedState(back), normalizedState(s)) {
		t.Fatalf("re-encoded body parses to\n %+v\nwant\n %+v", back, s)
	}
}
