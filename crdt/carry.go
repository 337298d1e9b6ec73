package crdt

import (
	"crypto/ed25519"
	"slices"
)

// carryDomain separates carry requests from every other signature of a
// user key.
const carryDomain = "ancore/carry/v1\x00"

func carryMessage(community ID, topicSecret []byte) []byte {
	return slices.Concat([]byte(carryDomain), community[:], topicSecret)
}

// SignCarry asks a relay to carry a community: the owner's signature over
// the community and its topic secret. Only the genesis author can make
// one, so nobody else can point a relay at a community or change the
// secret it holds for it.
func (u *User) SignCarry(community ID, topicSecret []byte) []byte {
	return ed25519.Sign(u.priv, carryMessage(community, topicSecret))
}

// VerifyCarry checks a SignCarry signature by owner.
func VerifyCarry(owner UserID, community ID, topicSecret, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(owner[:], carryMessage(community, topicSecret), sig)
}
