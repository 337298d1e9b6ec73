package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/joinproto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Joining (the wire is joinproto's): the joiner sends the invite it holds
// and its proof, the member answers with the admit op (whose wrap carries
// the topic secret and keys) or a refusal.

// ErrJoin: no member named in the invite would admit this node.
var ErrJoin = errors.New("cannot join")

// ErrCommunityUnreachable: no member named in the invite could be
// reached, or held the community.
var ErrCommunityUnreachable = errors.New("no member of the community could be reached")

// serveJoin answers one join request.
func (n *Node) serveJoin(s network.Stream) {
	err := joinproto.ServeJoin(s, func(req joinproto.Request) ([]byte, error) {
		op, err := n.admitJoiner(req)
		if err != nil {
			return nil, err
		}
		n.log.Info("member admitted", "peer", s.Conn().RemotePeer(), "community", op.Community)
		return op.Encoded(), nil
	})
	if err != nil {
		n.log.Info("join refused", "peer", s.Conn().RemotePeer(), "err", err)
	}
}

// admitJoiner admits the sender of req, if the community's rules let this
// node do so now. A joiner admitted before gets its admission again, so a
// lost answer can be retried.
func (n *Node) admitJoiner(req joinproto.Request) (*crdt.Op, error) {
	community, invite, user, err := req.Parsed()
	if err != nil {
		return nil, err
	}
	c := n.comms.get(community)
	if c == nil {
		return nil, joinproto.ErrNotHeld
	}
	c.author.Lock()
	defer c.author.Unlock()
	state := n.comms.state(c)
	if m := state.Members[user]; m != nil && m.State == crdt.Joined && m.Joined.Kind == crdt.KindAdmit {
		return m.Joined, nil
	}
	// The admission's own rules, for a refusal that says why.
	inv, err := state.CheckInvite(invite, user, time.Now().UnixMilli())
	if err == nil && !crdt.VerifyProof(inv.Key, community, invite, user, req.Proof) {
		err = fmt.Errorf("%w: %w", crdt.ErrUnauthorized, crdt.ErrBadProof)
	}
	if err != nil {
		return nil, err
	}
	dr, err := crdt.AdmitDraft(state, 0, invite, user, req.Proof, c.topic, n.comms.keyring())
	if err != nil {
		return nil, err
	}
	return n.authorState(context.Background(), c, dr, nil)
}

// Join joins the community an invite link names: it asks the members
// whose addresses the link carries, in turn, to admit this node's user,
// and then replicates the community. It returns the community's id.
func (n *Node) Join(ctx context.Context, link string) (crdt.ID, error) {
	inv, err := crdt.ParseInvite(link)
	if err != nil {
		return crdt.ID{}, err
	}
	if c := n.comms.get(inv.Community); c != nil {
		if m := n.comms.state(c).Members[n.Identity().User.ID()]; m != nil && m.State == crdt.Joined {
			return inv.Community, nil
		}
	}
	if !n.Running() {
		return crdt.ID{}, ErrNotRunning
	}
	me := n.Identity().User.ID()
	req := joinproto.Request{Community: inv.Community[:], Invite: inv.Invite[:], User: me[:], Proof: inv.Prove(me)}
	var errs []error
	refused := false
	for _, a := range inv.Addrs {
		admit, pi, err := n.askToJoin(ctx, a, req)
		if err != nil {
			refused = refused || !errors.Is(err, joinproto.ErrUnreachable) && !errors.Is(err, joinproto.ErrNotHeld)
			errs = append(errs, err)
			continue
		}
		if admit.Kind != crdt.KindAdmit || admit.Community != inv.Community {
			errs = append(errs, fmt.Errorf("%s answered with a %s op", a, admit.Kind))
			continue
		}
		grant, err := crdt.OpenGrant(admit, n.Identity().User)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a, err))
			continue
		}
		c := n.comms.get(inv.Community)
		if c == nil {
			c = newCommunity(inv.Community, grant.Secret)
			addKeys(c.keys, grant.Keys)
			n.comms.add(c)
		}
		if err := n.saveCommunity(c); err != nil {
			return crdt.ID{}, err
		}
		n.dialer.Add(pi)
		// Storing the admission starts the replicas; sync then brings the
		// community's state and channels from the member just dialled.
		if err := n.pipe.IngestVerified(ctx, []*crdt.Op{admit}); err != nil {
			return crdt.ID{}, err
		}
		return inv.Community, nil
	}
	if !refused {
		return crdt.ID{}, fmt.Errorf("%w: %w: %w", ErrJoin, ErrCommunityUnreachable, errors.Join(errs...))
	}
	return crdt.ID{}, fmt.Errorf("%w: %w", ErrJoin, errors.Join(errs...))
}

// ImportCommunity adds community id from the topic secret and epoch keys
// another device of the user holds (node/relaylink); sync brings the rest.
func (n *Node) ImportCommunity(ctx context.Context, id crdt.ID, topic []byte, keys [][]byte) error {
	if n.comms.get(id) != nil {
		return nil
	}
	c := newCommunity(id, topic)
	addKeys(c.keys, keys)
	n.comms.add(c)
	if err := n.saveCommunity(c); err != nil {
		return err
	}
	return n.refresh(ctx, c)
}

// askToJoin sends req to the member at addr and returns its admission.
func (n *Node) askToJoin(ctx context.Context, addr string, req joinproto.Request) (*crdt.Op, peer.AddrInfo, error) {
	pi, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return nil, peer.AddrInfo{}, fmt.Errorf("%w: invite address %q: %w", joinproto.ErrUnreachable, addr, err)
	}
	b, err := joinproto.Join(ctx, n.host, *pi, req)
	if err != nil {
		return nil, *pi, err
	}
	op, err := n.verifier.Decode(b, time.Now())
	if err != nil {
		return nil, *pi, fmt.Errorf("%s sent an invalid admission: %w", pi.ID, err)
	}
	return op, *pi, nil
}
