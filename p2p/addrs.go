package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/fxamacker/cbor/v2"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
)

// Address announcements: a node that came back on new addresses tells its
// communities where it is, so that members it does not reach itself (nor
// remember) can dial it. An announcement is a libp2p signed peer record —
// sealed by the device key that is the peer's ID — and the device's
// certificate from its user, so that whoever receives it can tell, from
// the announcement alone, which user's device is where. It travels on a
// topic of its own, derived from the community's secret like the others:
// nodes that predate it never join it, so they cannot count its messages
// against anyone.

const (
	// MaxAddrAnnouncementSize caps an encoded announcement: a peer record
	// of MaxAnnouncedAddrs addresses, its envelope and a certificate.
	MaxAddrAnnouncementSize = 4096
	// MaxAnnouncedAddrs caps the addresses of one announcement.
	MaxAnnouncedAddrs = 16
	// addrAnnouncementSkew is how far an announcement's time (its peer
	// record's sequence number, in Unix nanoseconds) may be from the
	// receiver's clock: replaying an old one later cannot bring back
	// stale addresses, and an announcement from the future is refused.
	addrAnnouncementSkew = 10 * time.Minute
	addrBuffer           = 64
)

// AddrTopicName derives the topic of a community's address announcements
// from its secret.
func AddrTopicName(secret []byte, community crdt.ID) string {
	return topicName(secret, "ancore/addrs/1\x00", community)
}

// AddrAnnouncement says where a user's device can be reached.
type AddrAnnouncement struct {
	Peer peer.AddrInfo
	User crdt.UserID
	Time time.Time
}

// wireAddrAnnouncement is the encoded announcement.
type wireAddrAnnouncement struct {
	_        struct{} `cbor:",toarray"`
	Envelope []byte   // a sealed peer.PeerRecord
	User     []byte   // the device's certificate: its user
	CertSig  []byte   // and the user's signature
}

// SealAddrs encodes an announcement that the device holding key (the
// peer's private key) and cert is at addrs, as of now.
func SealAddrs(key crypto.PrivKey, cert crdt.Cert, addrs []ma.Multiaddr, now time.Time) ([]byte, error) {
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("seal addresses: %w", err)
	}
	if len(addrs) > MaxAnnouncedAddrs {
		addrs = addrs[:MaxAnnouncedAddrs]
	}
	rec := &peer.PeerRecord{PeerID: id, Addrs: addrs, Seq: uint64(now.UnixNano())}
	env, err := record.Seal(rec, key)
	if err != nil {
		return nil, fmt.Errorf("seal addresses: %w", err)
	}
	raw, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("seal addresses: %w", err)
	}
	b, err := cbor.Marshal(wireAddrAnnouncement{Envelope: raw, User: cert.User[:], CertSig: cert.Sig[:]})
	if err != nil {
		return nil, fmt.Errorf("seal addresses: %w", err)
	}
	if len(b) > MaxAddrAnnouncementSize {
		return nil, fmt.Errorf("seal addresses: %d bytes, at most %d", len(b), MaxAddrAnnouncementSize)
	}
	return b, nil
}

// ErrBadAnnouncement: an address announcement that does not decode or
// verify, or is not fresh.
var ErrBadAnnouncement = errors.New("bad address announcement")

// OpenAddrs decodes and verifies an announcement received at time now:
// the envelope's signature by the peer's own key, the certificate tying
// that device to its user, the address count and the time.
func OpenAddrs(b []byte, now time.Time) (AddrAnnouncement, error) {
	bad := func(format string, args ...any) (AddrAnnouncement, error) {
		return AddrAnnouncement{}, fmt.Errorf("%w: %s", ErrBadAnnouncement, fmt.Sprintf(format, args...))
	}
	if len(b) > MaxAddrAnnouncementSize {
		return bad("%d bytes, at most %d", len(b), MaxAddrAnnouncementSize)
	}
	var w wireAddrAnnouncement
	if err := cbor.Unmarshal(b, &w); err != nil {
		return bad("%v", err)
	}
	// One encoding per announcement, so that gossip's message IDs (a
	// hash of the bytes) catch every copy of it.
	if again, err := cbor.Marshal(w); err != nil || !bytes.Equal(again, b) {
		return bad("not in canonical form")
	}
	env, r, err := record.ConsumeEnvelope(w.Envelope, peer.PeerRecordEnvelopeDomain)
	if err != nil {
		return bad("%v", err)
	}
	rec, ok := r.(*peer.PeerRecord)
	if !ok {
		return bad("not a peer record")
	}
	if signer, err := peer.IDFromPublicKey(env.PublicKey); err != nil || signer != rec.PeerID {
		return bad("record of %s not sealed by its key", rec.PeerID)
	}
	if len(rec.Addrs) == 0 || len(rec.Addrs) > MaxAnnouncedAddrs {
		return bad("%d addresses, want 1 to %d", len(rec.Addrs), MaxAnnouncedAddrs)
	}
	if rec.Seq > math.MaxInt64 {
		return bad("sequence number %d is no time", rec.Seq)
	}
	at := time.Unix(0, int64(rec.Seq))
	if at.Before(now.Add(-addrAnnouncementSkew)) || at.After(now.Add(addrAnnouncementSkew)) {
		return bad("dated %s, now is %s", at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	device, ok := DeviceOf(rec.PeerID)
	if !ok {
		return bad("%s is not a device", rec.PeerID)
	}
	var cert crdt.Cert
	if len(w.User) != len(cert.User) || len(w.CertSig) != len(cert.Sig) {
		return bad("certificate of %d+%d bytes", len(w.User), len(w.CertSig))
	}
	copy(cert.User[:], w.User)
	copy(cert.Sig[:], w.CertSig)
	if !cert.Verify(device) {
		return bad("certificate of %s does not verify", rec.PeerID)
	}
	return AddrAnnouncement{Peer: peer.AddrInfo{ID: rec.PeerID, Addrs: rec.Addrs}, User: cert.User, Time: at}, nil
}

// AddrTopic is a joined address topic of one community.
type AddrTopic struct {
	g      *Gossip
	topic  *pubsub.Topic
	sub    *pubsub.Subscription
	joined chan peer.ID
	stop   context.CancelFunc
	done   chan struct{}
}

// JoinAddrs subscribes to the address topic of community. admit decides
// on each verified announcement of another peer's before it is delivered
// or forwarded (the node's: "a joined member's device"); it must be cheap.
// The node's own are sent whatever admit says: the peers judge them.
func (g *Gossip) JoinAddrs(secret []byte, community crdt.ID, admit func(AddrAnnouncement) Verdict) (*AddrTopic, error) {
	if admit == nil {
		return nil, fmt.Errorf("join addresses of %s: no admit hook", community)
	}
	validate := func(_ context.Context, from peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		a, err := OpenAddrs(m.Data, g.now())
		if err != nil {
			return pubsub.ValidationReject
		}
		if from == g.self {
			return validation(Accept, m, a)
		}
		return validation(admit(a), m, a)
	}
	t, sub, err := g.join(AddrTopicName(secret, community), validate, addrBuffer)
	if err != nil {
		return nil, fmt.Errorf("join addresses of %s: %w", community, err)
	}
	events, err := t.EventHandler()
	if err != nil {
		sub.Cancel()
		t.Close()
		g.ps.UnregisterTopicValidator(t.String())
		return nil, fmt.Errorf("join addresses of %s: %w", community, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	a := &AddrTopic{g: g, topic: t, sub: sub, joined: make(chan peer.ID, 1), stop: stop, done: make(chan struct{})}
	go a.watch(ctx, events)
	return a, nil
}

// watch passes on the peers that join the topic until ctx ends.
func (t *AddrTopic) watch(ctx context.Context, events *pubsub.TopicEventHandler) {
	defer close(t.done)
	defer events.Cancel()
	for {
		e, err := events.NextPeerEvent(ctx)
		if err != nil {
			return
		}
		if e.Type != pubsub.PeerJoin {
			continue
		}
		select {
		case t.joined <- e.Peer:
		default: // one pending is enough: an announcement reaches them all
		}
	}
}

// Joined hears of peers that join the topic (a peer come back, or new):
// the moment to tell them where this node is. It never closes.
func (t *AddrTopic) Joined() <-chan peer.ID { return t.joined }

// Publish sends an announcement made by SealAddrs.
func (t *AddrTopic) Publish(ctx context.Context, b []byte) error {
	if err := t.topic.Publish(ctx, b); err != nil {
		return fmt.Errorf("publish addresses: %w", err)
	}
	return nil
}

// Next returns the next verified announcement of another peer.
func (t *AddrTopic) Next(ctx context.Context) (AddrAnnouncement, error) {
	for {
		m, err := t.sub.Next(ctx)
		if errors.Is(err, pubsub.ErrSubscriptionCancelled) {
			return AddrAnnouncement{}, ErrTopicClosed
		}
		if err != nil {
			return AddrAnnouncement{}, err
		}
		if m.ReceivedFrom == t.g.self {
			continue
		}
		if a, ok := m.ValidatorData.(AddrAnnouncement); ok && a.Peer.ID != t.g.self {
			return a, nil
		}
	}
}

// Close leaves the topic.
func (t *AddrTopic) Close() error {
	t.stop()
	<-t.done
	t.sub.Cancel()
	err := t.topic.Close()
	if uerr := t.g.ps.UnregisterTopicValidator(t.topic.String()); err == nil {
		err = uerr
	}
	return err
}
