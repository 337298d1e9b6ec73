package joinproto

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

func testHost(t *testing.T) host.Host {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	h, err := p2p.NewHost(p2p.HostConfig{DeviceSeed: seed, Listen: []string{"/ip4/127.0.0.1/tcp/0"}, Memory: 32 << 20, FDs: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// startMember serves joins on the protocols given: it admits a request whose
// proof is "ok" and refuses others as expired.
func startMember(t *testing.T, protocols ...protocol.ID) peer.AddrInfo {
	h := testHost(t)
	for _, p := range protocols {
		h.SetStreamHandler(p, func(s network.Stream) {
			_ = ServeJoin(s, func(req Request) ([]byte, error) {
				if string(req.Proof) != "ok" {
					return nil, fmt.Errorf("%w: %w", crdt.ErrUnauthorized, crdt.ErrInviteExpired)
				}
				return []byte("admit op"), nil
			})
		})
	}
	return peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
}

// TestJoinBothVersions: a joiner gets an admission from members of either
// version, and the reason of a refusal from those that give one.
func TestJoinBothVersions(t *testing.T) {
	joiner := testHost(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		protocols []protocol.ID
		reason    bool
	}{
		{"both", []protocol.ID{Protocol, ProtocolV1}, true},
		{"version 1 only", []protocol.ID{ProtocolV1}, false},
	} {
		m := startMember(t, tc.protocols...)
		if op, err := Join(ctx, joiner, m, Request{Proof: []byte("ok")}); err != nil || string(op) != "admit op" {
			t.Errorf("%s: admitted with %q, %v", tc.name, op, err)
		}
		_, err := Join(ctx, joiner, m, Request{Proof: []byte("bad")})
		var refusal *Refusal
		if !errors.As(err, &refusal) || errors.Is(err, crdt.ErrInviteExpired) != tc.reason || refusal.Text != "unauthorized op: invite expired" {
			t.Errorf("%s: refused with %v", tc.name, err)
		}
	}
	// A member that does not speak the protocol is unreachable for it.
	if _, err := AskPreview(ctx, joiner, startMember(t, Protocol), Request{}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("a preview from a member without previews: %v", err)
	}
}
