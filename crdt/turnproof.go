package crdt

import (
	"crypto/ed25519"
	"encoding/binary"
	"slices"
)

// turnDomain separates TURN credential requests from every other
// signature of a user key.
const turnDomain = "ancore/turn/v1\x00"

func turnMessage(community ID, at int64) []byte {
	return slices.Concat([]byte(turnDomain), community[:], binary.BigEndian.AppendUint64(nil, uint64(at)))
}

// SignTURN proves to a relay that carries community that the user asks it
// for TURN credentials at at (Unix seconds): the relay issues them to
// members only, and a recent time keeps a seen proof from being replayed
// for long.
func (u *User) SignTURN(community ID, at int64) []byte {
	return ed25519.Sign(u.priv, turnMessage(community, at))
}

// VerifyTURN checks a SignTURN signature by user.
func VerifyTURN(user UserID, community ID, at int64, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(user[:], turnMessage(community, at), sig)
}
