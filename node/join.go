package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// JoinProtocol is the stream protocol by which an invite's holder asks a
// member to admit it: the joiner sends the invite it holds and its proof,
// the member answers with the admit op (whose wrap carries the topic
// secret and keys) or an error. One request, one answer.
const JoinProtocol = "/ancore/join/1"

const (
	joinTimeout = 30 * time.Second
	maxJoinMsg  = crdt.MaxOpSize + 1024
)

// ErrJoin: no member named in the invite would admit this node.
var ErrJoin = errors.New("cannot join")

type joinRequest struct {
	_         struct{} `cbor:",toarray"`
	Community []byte
	Invite    []byte
	User      []byte
	Proof     []byte
}

type joinResponse struct {
	_     struct{} `cbor:",toarray"`
	Admit []byte
	Error string
}

func writeMsg(w io.Writer, v any) error {
	b, err := cbor.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...))
	return err
}

func readMsg(r *bufio.Reader, v any) error {
	size, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	if size > maxJoinMsg {
		return fmt.Errorf("join message of %d bytes", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	return cbor.Unmarshal(b, v)
}

// serveJoin answers one join request.
func (n *Node) serveJoin(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(joinTimeout))
	var req joinRequest
	var resp joinResponse
	if err := readMsg(bufio.NewReader(s), &req); err != nil {
		_ = s.Reset()
		return
	}
	op, err := n.admitJoiner(req)
	if err != nil {
		resp.Error = err.Error()
		n.log.Info("join refused", "peer", s.Conn().RemotePeer(), "err", err)
	} else {
		resp.Admit = op.Encoded()
		n.log.Info("member admitted", "peer", s.Conn().RemotePeer(), "community", op.Community)
	}
	_ = writeMsg(s, resp)
}

// admitJoiner admits the sender of req, if the community's rules let this
// node do so now. A joiner admitted before gets its admission again, so a
// lost answer can be retried.
func (n *Node) admitJoiner(req joinRequest) (*crdt.Op, error) {
	community, err1 := crdt.IDFromBytes(req.Community)
	invite, err2 := crdt.IDFromBytes(req.Invite)
	var user crdt.UserID
	if err1 != nil || err2 != nil || len(req.User) != len(user) {
		return nil, errors.New("malformed join request")
	}
	copy(user[:], req.User)
	c := n.comms.get(community)
	if c == nil {
		return nil, ErrUnknownCommunity
	}
	c.author.Lock()
	defer c.author.Unlock()
	state := n.comms.state(c)
	if m := state.Members[user]; m != nil && m.State == crdt.Joined && m.Joined.Kind == crdt.KindAdmit {
		return m.Joined, nil
	}
	n.comms.mu.Lock()
	keys := make(crdt.Keyring, len(c.keys))
	for id, k := range c.keys {
		keys[id] = k
	}
	n.comms.mu.Unlock()
	dr, err := crdt.AdmitDraft(state, 0, invite, user, req.Proof, c.topic, keys)
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
	req := joinRequest{Community: inv.Community[:], Invite: inv.Invite[:], User: me[:], Proof: inv.Prove(me)}
	var errs []error
	for _, a := range inv.Addrs {
		admit, pi, err := n.askToJoin(ctx, a, req)
		if err != nil {
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
func (n *Node) askToJoin(ctx context.Context, addr string, req joinRequest) (*crdt.Op, peer.AddrInfo, error) {
	pi, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return nil, peer.AddrInfo{}, fmt.Errorf("invite address %q: %w", addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	if err := n.host.Connect(ctx, *pi); err != nil {
		return nil, *pi, err
	}
	s, err := n.host.NewStream(ctx, pi.ID, JoinProtocol)
	if err != nil {
		return nil, *pi, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(joinTimeout))
	if err := writeMsg(s, req); err != nil {
		return nil, *pi, err
	}
	var resp joinResponse
	if err := readMsg(bufio.NewReader(s), &resp); err != nil {
		return nil, *pi, err
	}
	if resp.Error != "" {
		return nil, *pi, fmt.Errorf("%s refused: %s", pi.ID, resp.Error)
	}
	op, err := n.verifier.Decode(resp.Admit, time.Now())
	if err != nil {
		return nil, *pi, fmt.Errorf("%s sent an invalid admission: %w", pi.ID, err)
	}
	return op, *pi, nil
}
