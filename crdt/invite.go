package crdt

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Invite links. An invite is a capability: the link carries the private
// half of a key pair whose public half an invite op published in the
// community's log. Whoever holds the link proves it by signing its own
// user id with that key; any member allowed to create invites checks the
// proof against the log and admits the holder with an admit op that
// carries the proof, so every replica can check the admission too.
//
// A link is version 2 (docs/protocol.md, "Invites and joining"): binary,
// in base64url, about 230 characters with two addresses. Version 1 links
// (CBOR in base32, with every address and the expiry) still parse.
const (
	InviteScheme = "ancore://invite/"
	proofDomain  = "ancore/join/1\x00"
	// previewDomain separates a preview's proof from a join's: a join's
	// proof is public in its admit op, a preview's names the asking device.
	previewDomain = "ancore/invite-preview/1\x00"
	// MaxInviteAddrs bounds the addresses a link may carry.
	MaxInviteAddrs = 8
	// LinkAddrs is how many addresses Link keeps: the most reachable.
	LinkAddrs     = 2
	maxInviteLink = 2048 // characters after the scheme
	inviteV1      = 1
	inviteV2      = 2
	maxLinkField  = 256 // bytes of a peer id or an address in a link
)

// DefaultInviteTTL is how long an invite lasts unless its creator says
// otherwise (Discord's default).
const DefaultInviteTTL = 24 * time.Hour

// errBadInvite: text that is not a well-formed invite link.
var errBadInvite = fmt.Errorf("%w: invite link", ErrMalformed)

// Invite is what an invite link carries.
type Invite struct {
	Community ID
	Invite    ID // the invite op
	Seed      [ed25519.SeedSize]byte
	Addrs     []string // members' multiaddrs to dial, each ending in /p2p/<peer>
	Expires   int64    // Unix ms, 0: never (informational; the invite op decides)
}

// wireInviteV1 is a version 1 link's content.
type wireInviteV1 struct {
	_         struct{} `cbor:",toarray"`
	Version   uint8
	Community []byte
	Invite    []byte
	Seed      []byte
	Addrs     []string
	Expires   int64 // informational; the invite op decides
}

var (
	linkEncoding   = base64.RawURLEncoding
	linkEncodingV1 = base32.StdEncoding.WithPadding(base32.NoPadding)
)

// Link encodes the invite as an ancore://invite/ link:
//
//	version 2 ‖ community digest (32) ‖ invite digest (32) ‖ seed (32) ‖
//	uvarint(expires) ‖ uvarint(peers) ‖
//	per peer: bytes(peer id) uvarint(addrs) bytes(addr)…
//
// where bytes(x) is uvarint(len(x)) ‖ x and an address is a binary
// multiaddr without its /p2p part. Of Addrs it keeps the LinkAddrs most
// reachable (public, then LAN, then loopback; in their order otherwise);
// addresses that are not multiaddrs ending in /p2p are left out.
func (i Invite) Link() string {
	b := []byte{inviteV2}
	b = append(b, i.Community[len(cidPrefix):]...)
	b = append(b, i.Invite[len(cidPrefix):]...)
	b = append(b, i.Seed[:]...)
	b = binary.AppendUvarint(b, uint64(max(i.Expires, 0)))
	peers := linkPeers(i.Addrs)
	b = binary.AppendUvarint(b, uint64(len(peers)))
	for _, p := range peers {
		b = appendField(b, p.id)
		b = binary.AppendUvarint(b, uint64(len(p.addrs)))
		for _, a := range p.addrs {
			b = appendField(b, a)
		}
	}
	return InviteScheme + linkEncoding.EncodeToString(b)
}

func appendField(b, field []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(field))), field...)
}

// linkPeer is a peer of a link and its addresses, binary.
type linkPeer struct {
	id    []byte
	addrs [][]byte
}

// linkPeers picks the addresses a link keeps and groups them by peer.
func linkPeers(addrs []string) []linkPeer {
	type candidate struct {
		rank       int
		peer, addr []byte
	}
	var cs []candidate
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		rest, last := ma.SplitLast(m)
		if last == nil || last.Code() != ma.P_P2P || len(rest) == 0 || len(last.RawValue()) > maxLinkField || len(rest.Bytes()) > maxLinkField {
			continue
		}
		cs = append(cs, candidate{reachRank(rest), last.RawValue(), rest.Bytes()})
	}
	slices.SortStableFunc(cs, func(a, b candidate) int { return a.rank - b.rank })
	var peers []linkPeer
	for _, c := range cs[:min(len(cs), LinkAddrs)] {
		j := slices.IndexFunc(peers, func(p linkPeer) bool { return bytes.Equal(p.id, c.peer) })
		if j < 0 {
			j = len(peers)
			peers = append(peers, linkPeer{id: c.peer})
		}
		peers[j].addrs = append(peers[j].addrs, c.addr)
	}
	return peers
}

// reachRank orders addresses by who can dial them: public, LAN,
// loopback, the rest.
func reachRank(m ma.Multiaddr) int {
	switch {
	case manet.IsPublicAddr(m):
		return 0
	case manet.IsIPLoopback(m):
		return 2
	case manet.IsPrivateAddr(m):
		return 1
	}
	return 3
}

// ParseInvite decodes an invite link of either version (the scheme may be
// left out).
func ParseInvite(link string) (Invite, error) {
	link = strings.TrimSpace(link)
	if len(link) >= len(InviteScheme) && strings.EqualFold(link[:len(InviteScheme)], InviteScheme) {
		link = link[len(InviteScheme):] // schemes are case-insensitive
	}
	if len(link) > maxInviteLink {
		return Invite{}, fmt.Errorf("%w: too long", errBadInvite)
	}
	// Version 2's first byte encodes as "A"; version 1's CBOR array as "q".
	if strings.HasPrefix(link, "A") {
		b, err := linkEncoding.Strict().DecodeString(link)
		if err != nil {
			return Invite{}, fmt.Errorf("%w: %v", errBadInvite, err)
		}
		return parseInviteV2(b)
	}
	return parseInviteV1(link)
}

func parseInviteV2(b []byte) (Invite, error) {
	if len(b) < 1+3*32 || b[0] != inviteV2 {
		return Invite{}, fmt.Errorf("%w: version or length", errBadInvite)
	}
	var inv Invite
	inv.Community, _ = IDFromDigest(b[1:33])
	inv.Invite, _ = IDFromDigest(b[33:65])
	copy(inv.Seed[:], b[65:97])
	expires, r, ok := readUvarint(b[97:])
	inv.Expires = int64(expires)
	var peers uint64
	peers, r, ok = readUvarintIf(ok && expires <= math.MaxInt64, r)
	for p := uint64(0); ok && p < peers; p++ {
		var id []byte
		var n uint64
		id, r, ok = readField(r)
		n, r, ok = readUvarintIf(ok, r)
		p2p := appendField(binary.AppendUvarint(nil, ma.P_P2P), id)
		for a := uint64(0); ok && a < n; a++ {
			var addr []byte
			if addr, r, ok = readField(r); !ok || len(inv.Addrs) == MaxInviteAddrs {
				ok = false
				break
			}
			m, err := ma.NewMultiaddrBytes(slices.Concat(addr, p2p))
			if _, last := ma.SplitLast(m); err != nil || last == nil || last.Code() != ma.P_P2P || len(m) < 2 {
				ok = false
				break
			}
			inv.Addrs = append(inv.Addrs, m.String())
		}
	}
	if !ok || len(r) != 0 {
		return Invite{}, fmt.Errorf("%w: addresses", errBadInvite)
	}
	return inv, nil
}

func readUvarint(b []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, b, false
	}
	return v, b[n:], true
}

func readUvarintIf(ok bool, b []byte) (uint64, []byte, bool) {
	if !ok {
		return 0, b, false
	}
	return readUvarint(b)
}

// readField reads bytes(x), at most maxLinkField of them.
func readField(b []byte) ([]byte, []byte, bool) {
	n, rest, ok := readUvarint(b)
	if !ok || n > maxLinkField || n > uint64(len(rest)) {
		return nil, b, false
	}
	return rest[:n], rest[n:], true
}

func parseInviteV1(link string) (Invite, error) {
	b, err := linkEncodingV1.DecodeString(strings.ToUpper(link))
	if err != nil {
		return Invite{}, fmt.Errorf("%w: %v", errBadInvite, err)
	}
	var w wireInviteV1
	if err := decMode.Unmarshal(b, &w); err != nil {
		return Invite{}, fmt.Errorf("%w: %v", errBadInvite, err)
	}
	if w.Version != inviteV1 {
		return Invite{}, fmt.Errorf("%w: version %d", errBadInvite, w.Version)
	}
	var inv Invite
	var err1, err2 error
	inv.Community, err1 = IDFromBytes(w.Community)
	inv.Invite, err2 = IDFromBytes(w.Invite)
	if err1 != nil || err2 != nil || len(w.Seed) != ed25519.SeedSize || len(w.Addrs) > MaxInviteAddrs || w.Expires < 0 {
		return Invite{}, errBadInvite
	}
	copy(inv.Seed[:], w.Seed)
	inv.Addrs, inv.Expires = w.Addrs, w.Expires
	return inv, nil
}

// NewInviteKey makes the key pair of a new invite: the seed goes into the
// link, the public key into the invite op.
func NewInviteKey() (seed [ed25519.SeedSize]byte, pub [ed25519.PublicKeySize]byte, err error) {
	p, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		return seed, pub, err
	}
	copy(seed[:], k.Seed())
	copy(pub[:], p)
	return seed, pub, nil
}

func proofMessage(community, invite ID, user UserID) []byte {
	b := append([]byte(proofDomain), community[:]...)
	b = append(b, invite[:]...)
	return append(b, user[:]...)
}

// Prove signs user's claim to the invite.
func (i Invite) Prove(user UserID) []byte {
	return ed25519.Sign(ed25519.NewKeyFromSeed(i.Seed[:]), proofMessage(i.Community, i.Invite, user))
}

// VerifyProof checks a joiner's proof against the invite key published by
// invite op inviteID of community.
func VerifyProof(key [ed25519.PublicKeySize]byte, community, inviteID ID, user UserID, proof []byte) bool {
	return len(proof) == ed25519.SignatureSize &&
		ed25519.Verify(key[:], proofMessage(community, inviteID, user), proof)
}

func previewMessage(community, invite ID, user UserID, device []byte) []byte {
	b := append([]byte(previewDomain), community[:]...)
	b = append(b, invite[:]...)
	b = append(b, user[:]...)
	return append(b, device...)
}

// ProvePreview signs the claim of user's device (its libp2p peer id's
// bytes) to be shown what the invite leads to. It binds the device, so a
// proof seen once is of no use from another.
func (i Invite) ProvePreview(user UserID, device []byte) []byte {
	return ed25519.Sign(ed25519.NewKeyFromSeed(i.Seed[:]), previewMessage(i.Community, i.Invite, user, device))
}

// VerifyPreviewProof checks a preview's proof against invite key key,
// for the device that asks.
func VerifyPreviewProof(key [ed25519.PublicKeySize]byte, community, inviteID ID, user UserID, device, proof []byte) bool {
	return len(proof) == ed25519.SignatureSize &&
		ed25519.Verify(key[:], previewMessage(community, inviteID, user, device), proof)
}
