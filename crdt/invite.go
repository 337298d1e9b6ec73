package crdt

import (
	"crypto/ed25519"
	"encoding/base32"
	"fmt"
	"strings"
	"time"
)

// Invite links. An invite is a capability: the link carries the private
// half of a key pair whose public half an invite op published in the
// community's log. Whoever holds the link proves it by signing its own
// user id with that key; any member allowed to create invites checks the
// proof against the log and admits the holder with an admit op that
// carries the proof, so every replica can check the admission too.
const (
	InviteScheme  = "ancore://invite/"
	inviteVersion = 1
	proofDomain   = "ancore/join/1\x00"
	// MaxInviteAddrs bounds the bootstrap addresses a link carries.
	MaxInviteAddrs = 8
	maxInviteLink  = 2048 // characters after the scheme
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
	Addrs     []string // members' multiaddrs to dial
	Expires   int64    // Unix ms, 0: never (informational; the invite op decides)
}

type wireInvite struct {
	_         struct{} `cbor:",toarray"`
	Version   uint8
	Community []byte
	Invite    []byte
	Seed      []byte
	Addrs     []string
	Expires   int64
}

var linkEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Link encodes the invite as an ancore://invite/ link. Addresses are only
// hints: those that would make the link too long to parse are left out.
func (i Invite) Link() string {
	addrs := i.Addrs[:min(len(i.Addrs), MaxInviteAddrs)]
	for {
		b, err := encMode.Marshal(wireInvite{Version: inviteVersion, Community: i.Community[:],
			Invite: i.Invite[:], Seed: i.Seed[:], Addrs: addrs, Expires: i.Expires})
		if err != nil {
			panic(err) // only byte strings and text
		}
		if text := linkEncoding.EncodeToString(b); len(text) <= maxInviteLink || len(addrs) == 0 {
			return InviteScheme + strings.ToLower(text)
		}
		addrs = addrs[:len(addrs)-1]
	}
}

// ParseInvite decodes an invite link (the scheme may be left out).
func ParseInvite(link string) (Invite, error) {
	link = strings.TrimSpace(link)
	if len(link) >= len(InviteScheme) && strings.EqualFold(link[:len(InviteScheme)], InviteScheme) {
		link = link[len(InviteScheme):] // schemes are case-insensitive
	}
	if len(link) > maxInviteLink {
		return Invite{}, fmt.Errorf("%w: too long", errBadInvite)
	}
	b, err := linkEncoding.DecodeString(strings.ToUpper(link))
	if err != nil {
		return Invite{}, fmt.Errorf("%w: %v", errBadInvite, err)
	}
	var w wireInvite
	if err := decMode.Unmarshal(b, &w); err != nil {
		return Invite{}, fmt.Errorf("%w: %v", errBadInvite, err)
	}
	if w.Version != inviteVersion {
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
