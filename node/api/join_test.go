package api

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/joinproto"
	"github.com/ancore/ancore/node/preview"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// failure makes a request that must fail and returns its status and code.
func (a *apiNode) failure(method, path string, in any) (int, string) {
	a.t.Helper()
	resp, raw := a.send(method, path, in, nil)
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(raw, &e); err != nil || resp.StatusCode < 400 {
		a.t.Fatalf("%s %s: %d %s, want an error", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, e.Error.Code
}

// mustFail makes a request that must fail with status and code.
func (a *apiNode) mustFail(status int, code, method, path string, in any) {
	a.t.Helper()
	if gotStatus, gotCode := a.failure(method, path, in); gotStatus != status || gotCode != code {
		a.t.Errorf("%s %s: %d %s, want %d %s", method, path, gotStatus, gotCode, status, code)
	}
}

// TestAPIJoinRefusals: each reason a member refuses a joiner for reaches
// the joiner's API as its own code, and so does a community no member of
// which answers.
func TestAPIJoinRefusals(t *testing.T) {
	a, b, c := startAPINode(t), startAPINode(t), startAPINode(t)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Strict"}, &comm)
	invite := func(body map[string]any) NewInviteJSON {
		var inv NewInviteJSON
		a.must(201, "POST", "/communities/"+comm.ID+"/invites", body, &inv)
		return inv
	}
	join := func(link string) map[string]any { return map[string]any{"invite": link} }

	expiring := invite(map[string]any{"ttl_seconds": 1})
	waitFor(t, "the invite's expiry passes", func() bool { return time.Now().After(*expiring.ExpiresAt) })
	b.mustFail(410, "invite_expired", "POST", "/communities/join", join(expiring.Link))

	revoked := invite(map[string]any{})
	a.must(204, "DELETE", "/communities/"+comm.ID+"/invites/"+revoked.ID, nil, nil)
	b.mustFail(410, "invite_revoked", "POST", "/communities/join", join(revoked.Link))

	// Links that name no such invite, or a key that is not the invite's.
	open, err := crdt.ParseInvite(invite(map[string]any{}).Link)
	if err != nil {
		t.Fatal(err)
	}
	forged := open
	forged.Seed[0] ^= 1
	c.mustFail(422, "invalid_invite", "POST", "/communities/join", join(forged.Link()))
	unknown := open
	unknown.Invite = crdt.IDOf([]byte("no such invite"))
	c.mustFail(404, "invite_unknown", "POST", "/communities/join", join(unknown.Link()))
	c.mustFail(422, "invalid_invite", "POST", "/communities/join", join("ancore://invite/zzz"))

	// Nobody answers at the link's addresses.
	gone := open
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nobody, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	gone.Addrs = []string{"/ip4/127.0.0.1/tcp/1/p2p/" + nobody.String()}
	c.mustFail(502, "community_unreachable", "POST", "/communities/join", join(gone.Link()))
	// A member that does not hold the community answers for none.
	elsewhere := open
	elsewhere.Community = crdt.IDOf([]byte("another community"))
	c.mustFail(502, "community_unreachable", "POST", "/communities/join", join(elsewhere.Link()))

	once := invite(map[string]any{"max_uses": 1})
	c.must(200, "POST", "/communities/join", join(once.Link), nil)
	b.mustFail(410, "invite_used_up", "POST", "/communities/join", join(once.Link))

	var me MeJSON
	b.must(200, "GET", "/me", nil, &me)
	a.must(204, "PUT", "/communities/"+comm.ID+"/bans/"+me.User, nil, nil)
	b.mustFail(403, "banned", "POST", "/communities/join", join(invite(map[string]any{}).Link))

}

// TestAPIInvitePreview: the holder of a valid invite sees the community's
// name, icon and member count before joining; an expired invite says so
// already, and a member shows nothing to a device without the invite's
// proof.
func TestAPIInvitePreview(t *testing.T) {
	a, b := startAPINode(t), startAPINode(t)
	var comm CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Garden"}, &comm)
	a.must(200, "PATCH", "/communities/"+comm.ID, map[string]any{"icon": testPhoto(t, 64, 64, true)}, nil)
	var stored CommunityJSON
	a.must(200, "GET", "/communities/"+comm.ID, nil, &stored)
	icon := stored.Icon // as the node shrank it
	var inv NewInviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{}, &inv)

	var got preview.CommunityJSON
	b.must(200, "POST", "/invites/preview", map[string]any{"invite": inv.Link}, &got)
	if got.ID != comm.ID || got.Name != "Garden" || string(got.Icon) != string(icon) || got.Members != 1 || got.Member {
		t.Fatalf("preview: %+v", got)
	}
	b.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	waitFor(t, "a counts b", func() bool {
		var p preview.CommunityJSON
		return b.call("POST", "/invites/preview", map[string]any{"invite": inv.Link}, &p) == 200 && p.Members == 2 && p.Member
	})

	var expiring NewInviteJSON
	a.must(201, "POST", "/communities/"+comm.ID+"/invites", map[string]any{"ttl_seconds": 1}, &expiring)
	waitFor(t, "the invite's expiry passes", func() bool { return time.Now().After(*expiring.ExpiresAt) })
	b.mustFail(410, "invite_expired", "POST", "/invites/preview", map[string]any{"invite": expiring.Link})
	b.mustFail(422, "invalid_invite", "POST", "/invites/preview", map[string]any{"invite": "ABCDE-FGHIJ"})

	// Without the proof, or with one made for another device, a member
	// shows nothing.
	link, err := crdt.ParseInvite(inv.Link)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := peer.AddrInfoFromString(link.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	me := b.Identity().User.ID()
	for name, proof := range map[string][]byte{
		"no proof":           nil,
		"a join's proof":     link.Prove(me),
		"another's device's": link.ProvePreview(me, []byte(a.PeerID())),
	} {
		req := joinproto.Request{Community: link.Community[:], Invite: link.Invite[:], User: me[:], Proof: proof}
		shown, err := joinproto.AskPreview(context.Background(), b.Libp2p(), *pi, req)
		var refusal *joinproto.Refusal
		if !errors.As(err, &refusal) || !errors.Is(err, crdt.ErrBadProof) || shown.Name != "" || shown.Icon != nil {
			t.Errorf("%s: shown %+v, %v", name, shown, err)
		}
	}
}
