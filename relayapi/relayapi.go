// Package relayapi is the relay's HTTP API: the request and response
// bodies of docs/api/relay.yaml, one definition that the relay serves and
// the node's client (node/relayclient) sends and reads. Error answers are
// httpjson.ErrorBody.
package relayapi

import "time"

// Info is what GET /info answers: how to reach the relay over libp2p.
type Info struct {
	Peer  string   `json:"peer"`
	Addrs []string `json:"addrs"` // multiaddrs with the /p2p/ suffix
}

// Registration is the body of POST /auth/register. Password is what the
// node sends for the password: the login secret derived from it. User and
// Identity, both or neither, are the identity backup (Account).
type Registration struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	User     string `json:"user,omitempty"`
	Identity string `json:"identity,omitempty"`
}

// Login is the body of POST /auth/login.
type Login struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// IdentityBackup is the body of PUT /auth/identity: the user key as
// crdt.KeyText and the sealed identity in standard base64.
type IdentityBackup struct {
	User     string `json:"user"`
	Identity string `json:"identity"`
}

// Account is an account as the API shows it to its owner (GET /auth/me).
// User and Identity are its identity backup, if it has one (see
// IdentityBackup).
type Account struct {
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
	User      string    `json:"user,omitempty"`
	Identity  string    `json:"identity,omitempty"`
}

// Session answers a registration or a login: a bearer token and its
// account.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Account   Account   `json:"account"`
}

// InviteRequest is the body of POST /invites: a short code for an invite
// link. MaxUses 0 is any number of uses; ExpiresIn 0 (seconds) is the
// link's own expiry. Out-of-range values answer 422 invalid_request, so
// both are signed.
type InviteRequest struct {
	Link      string `json:"link"`
	MaxUses   int    `json:"max_uses,omitempty"`
	ExpiresIn int64  `json:"expires_in,omitempty"`
}

// Invite is a short invite code and the link it stands for.
type Invite struct {
	Code      string     `json:"code"`
	Link      string     `json:"link"`
	Community string     `json:"community"`  // the community's crdt.ID
	ExpiresAt *time.Time `json:"expires_at"` // nil: never
	MaxUses   int        `json:"max_uses"`   // 0: unlimited
	Uses      int        `json:"uses"`
	CreatedAt time.Time  `json:"created_at"`
}

// Invites answers GET /invites: the account's codes.
type Invites struct {
	Invites []Invite `json:"invites"`
}

// CarryRequest is the body of POST /communities: the raw genesis op, the
// community's topic secret (16 to 64 bytes) and the owner's
// crdt.User.SignCarry over both, each in standard base64 in JSON.
type CarryRequest struct {
	Genesis     []byte `json:"genesis"`
	TopicSecret []byte `json:"topic_secret"`
	Proof       []byte `json:"proof"`
}

// CarriedCommunity is a community the relay carries; POST /communities
// answers one.
type CarriedCommunity struct {
	ID        string    `json:"id"` // crdt.ID
	CreatedAt time.Time `json:"created_at"`
}

// CarriedCommunities answers GET /communities: the communities the
// account registered.
type CarriedCommunities struct {
	Communities []CarriedCommunity `json:"communities"`
}

// Limits of an account's sealed records (docs/protocol.md, "Device
// restore"): an ID is 1 to MaxRecordID characters of the base64url
// alphabet, a sealed record at most MaxRecordBytes, and an account holds
// at most MaxRecords.
const (
	MaxRecordID    = 64
	MaxRecordBytes = 8 << 10
	MaxRecords     = 500
)

// RecordPut is the body of PUT /records/{id}: the sealed record, in
// standard base64 in JSON.
type RecordPut struct {
	Sealed []byte `json:"sealed"`
}

// Record is one sealed record of the account's.
type Record struct {
	ID        string    `json:"id"`
	Sealed    []byte    `json:"sealed"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Records answers GET /records: every record of the account, by ID.
type Records struct {
	Records []Record `json:"records"`
}

// ValidRecordID reports whether id may name a record.
func ValidRecordID(id string) bool {
	if id == "" || len(id) > MaxRecordID {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// TURNRequest is the body of POST /turn/credentials: a member's proof
// (crdt.User.SignTURN) that it belongs to a community the relay carries,
// made at At (the relay takes it within 5 minutes of its clock).
type TURNRequest struct {
	Community string    `json:"community"` // crdt.ID
	User      string    `json:"user"`      // crdt.UserID text
	At        time.Time `json:"at"`
	Proof     []byte    `json:"proof"`
}

// TURNCredentials answer POST /turn/credentials: short-lived TURN REST
// credentials and the relay's STUN and TURN URLs, in the shape of a
// WebRTC ICE server.
type TURNCredentials struct {
	URLs     []string `json:"urls"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	TTL      int      `json:"ttl"` // seconds
}
