package crdt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Limits every decoder enforces. They are part of the protocol: a peer that
// accepted more would store ops that others refuse.
const (
	// Version is the op format this code writes and reads.
	Version = 1
	// MaxOpSize caps an encoded op. It leaves room for a 4000-character
	// message (up to 16 KB of UTF-8) with mentions and all headers, and
	// stays far below gossipsub's 1 MiB message limit; attachments travel
	// outside ops.
	MaxOpSize = 64 << 10
	// MaxRekeySize caps a rekey op, whose wraps grow with the member count
	// (MaxWraps recipients); every other kind is held to MaxOpSize.
	MaxRekeySize = 320 << 10
	// MaxParents caps an op's parent list. Authors with more heads cite the
	// latest MaxParents; the rest are reached through sync anyway.
	MaxParents = 32
	// MaxClockSkew is how far an op's timestamp may be ahead of the
	// receiver's clock. Beyond it the op is refused, so a peer with a wild
	// clock cannot pin messages to the bottom of every channel or drag
	// everyone's clocks forward.
	MaxClockSkew = 10 * time.Minute
)

// Kind says what an op does.
type Kind uint8

// Message kinds: ops in a channel's log.
const (
	KindPost    Kind = 1 // a new message; body: text, reply-to, mentions
	KindEdit    Kind = 2 // replaces the text of Target (author only)
	KindDelete  Kind = 3 // tombstones Target; no body, Target in clear so blind relays can purge
	KindReact   Kind = 4 // adds the body's emoji to Target for the author's user
	KindUnreact Kind = 5 // removes it
)

// Community-state kinds: ops in the community's log. Their bodies are a
// StateBody in clear, so anyone holding the log (a blind relay too) can
// check authorization; human content inside it (names, topics) is sealed.
// What each kind means and who may issue it is the community view's
// business (see community.go).
const (
	KindGenesis       Kind = 16 // creates the community; its ID is the community's
	KindMeta          Kind = 17 // name and icon
	KindChannelPut    Kind = 18 // creates (no Target) or updates channel Target
	KindChannelDelete Kind = 19
	KindRolePut       Kind = 20 // creates (no Target) or updates role Target
	KindRoleDelete    Kind = 21
	KindMemberRoles   Kind = 22 // sets a member's roles
	KindInvite        Kind = 23 // publishes an invite's public key, expiry and max uses
	KindInviteRevoke  Kind = 24
	KindAdmit         Kind = 25 // admits the holder of invite Target, handing over keys
	KindProfile       Kind = 26 // the author's own display name
	KindLeave         Kind = 27
	KindKick          Kind = 28
	KindBan           Kind = 29
	KindUnban         Kind = 30
	KindRekey         Kind = 31 // starts a new epoch, its key wrapped for every member
	KindDissolve      Kind = 32 // the owner deletes the community
)

// kindRule is what the decoder requires of each kind's header.
type kindRule struct {
	name      string
	channel   bool // belongs to a channel's log (else the community's)
	target    int  // 1: names the op it acts on; 0: never; -1: may
	encrypted bool // body sealed under an epoch key
	state     bool // body is a StateBody in clear; epoch optional
}

var kindRules = map[Kind]kindRule{
	KindPost:    {name: "post", channel: true, encrypted: true},
	KindEdit:    {name: "edit", channel: true, target: 1, encrypted: true},
	KindDelete:  {name: "delete", channel: true, target: 1},
	KindReact:   {name: "react", channel: true, target: 1, encrypted: true},
	KindUnreact: {name: "unreact", channel: true, target: 1, encrypted: true},

	KindGenesis:       {name: "genesis", state: true},
	KindMeta:          {name: "meta", state: true},
	KindChannelPut:    {name: "channel-put", target: -1, state: true},
	KindChannelDelete: {name: "channel-delete", target: 1, state: true},
	KindRolePut:       {name: "role-put", target: -1, state: true},
	KindRoleDelete:    {name: "role-delete", target: 1, state: true},
	KindMemberRoles:   {name: "member-roles", state: true},
	KindInvite:        {name: "invite", state: true},
	KindInviteRevoke:  {name: "invite-revoke", target: 1, state: true},
	KindAdmit:         {name: "admit", target: 1, state: true},
	KindProfile:       {name: "profile", state: true},
	KindLeave:         {name: "leave", state: true},
	KindKick:          {name: "kick", state: true},
	KindBan:           {name: "ban", state: true},
	KindUnban:         {name: "unban", state: true},
	KindRekey:         {name: "rekey", state: true},
	KindDissolve:      {name: "dissolve", state: true},
}

func (k Kind) String() string {
	if r, ok := kindRules[k]; ok {
		return r.name
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Encrypted reports whether ops of kind k carry a sealed body.
func (k Kind) Encrypted() bool { return kindRules[k].encrypted }

func (k Kind) maxSize() int {
	if k == KindRekey {
		return MaxRekeySize
	}
	return MaxOpSize
}

// IsState reports whether k is a community-state kind.
func (k Kind) IsState() bool { return kindRules[k].state }

// Op is a signed, content-addressed unit of state. The fields are read-only
// once the op exists: they are what the signature and ID cover.
type Op struct {
	ID        ID
	Community ID // for a genesis op, its own ID (the header holds none)
	Channel   ID // zero for community-state ops
	Kind      Kind
	HLC       HLC
	Parents   []ID // sorted, unique: the heads its author had seen
	Prev      ID   // the author device's previous op in this log, if any; also a parent
	Target    ID   // the op acted on; zero for posts
	Epoch     EpochID
	Author    DeviceID
	Cert      Cert
	Body      []byte            // as carried: ciphertext for encrypted kinds, a StateBody for state kinds; nil once purged
	Digest    [sha256.Size]byte // SHA-256 of the body: what the signature and ID cover
	Sig       [ed25519.SignatureSize]byte

	header  []byte // canonical header bytes: signed, and the AEAD's AD
	encoded []byte
	purged  bool
}

// Encoded returns the op's canonical bytes, full or purged. The slice must
// not be modified.
func (o *Op) Encoded() []byte { return o.encoded }

// Purged reports whether the op's body has been dropped (see Purge).
func (o *Op) Purged() bool { return o.purged }

// Purge returns the op without its body: the form stores keep of a deleted
// message's post and edits. It keeps its ID and its signature still
// verifies, because both cover the body's digest rather than the body.
// Only ops of encrypted kinds carry a body to purge; others return o.
func (o *Op) Purge() *Op {
	if o.purged || !o.Kind.Encrypted() {
		return o
	}
	p := *o
	p.Body, p.purged = nil, true
	p.encoded = p.Skeleton()
	return &p
}

// Skeleton returns the op's canonical encoding with the body replaced by its
// digest — a purged op's bytes. The op's ID is the CID of these bytes, so
// purging does not change it.
func (o *Op) Skeleton() []byte { return skeleton(o.header, o.Digest, o.Sig[:]) }

// skeleton encodes [Version, header, empty body, digest, sig] in canonical
// CBOR, written out by hand rather than through the CBOR library because
// gossip computes it for every copy of every op it hears (WireID); a test
// holds it to the library's encoding.
func skeleton(header []byte, digest [sha256.Size]byte, sig []byte) []byte {
	b := make([]byte, 0, 2+5+len(header)+1+2+len(digest)+2+len(sig))
	b = append(b, cborArray5, Version)
	b = append(appendBytesHead(b, len(header)), header...)
	b = appendBytesHead(b, 0)
	b = append(appendBytesHead(b, len(digest)), digest[:]...)
	return append(appendBytesHead(b, len(sig)), sig...)
}

// cborArray5 is the head of a five-element array: every op's encoding
// starts with it.
const cborArray5 = 0x85

// appendBytesHead appends the shortest CBOR head of a byte string of n
// bytes (major type 2); ops are far below the 4 GiB that 4 bytes cover.
func appendBytesHead(b []byte, n int) []byte {
	const major = 2 << 5
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= 0xff:
		return append(b, major|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	}
}

// cutBytes splits the byte string at the start of b, encoded with the
// shortest head, from what follows it.
func cutBytes(b []byte) (item, rest []byte, ok bool) {
	if len(b) == 0 || b[0]>>5 != 2 {
		return nil, nil, false
	}
	var n uint64
	k := 1
	switch ai := b[0] & 0x1f; {
	case ai < 24:
		n = uint64(ai)
	case ai == 24 && len(b) >= 2:
		n, k = uint64(b[1]), 2
	case ai == 25 && len(b) >= 3:
		n, k = uint64(binary.BigEndian.Uint16(b[1:])), 3
	case ai == 26 && len(b) >= 5:
		n, k = uint64(binary.BigEndian.Uint32(b[1:])), 5
	default: // 8-byte lengths, indefinite lengths, truncated heads
		return nil, nil, false
	}
	var head [5]byte
	if n > uint64(len(b)-k) || len(appendBytesHead(head[:0], int(n))) != k {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// SigningInput returns the bytes the author signed.
func (o *Op) SigningInput() []byte { return signingInput(o.header, o.Digest) }

// User returns the user the author device acts for.
func (o *Op) User() UserID { return o.Cert.User }

// Log returns the id of the log the op belongs to: its channel, or its
// community for community-state ops.
func (o *Op) Log() ID {
	if o.Channel.IsZero() {
		return o.Community
	}
	return o.Channel
}

// Draft is what an author fills in to make an op.
type Draft struct {
	Community ID
	Channel   ID
	Kind      Kind
	HLC       HLC
	Parents   []ID
	Prev      ID // added to Parents
	Target    ID
	Body      Body       // message kinds
	State     *StateBody // state kinds; its Info is sealed under the key
}

// wireOp is the outer encoding: [version, header, body, digest, signature],
// with either the body (digest empty: a full op) or the body's digest (body
// empty: a purged op). Keeping the header as a byte string lets receivers
// verify the signature and use the header as associated data without
// re-encoding anything.
type wireOp struct {
	_       struct{} `cbor:",toarray"`
	Version uint64
	Header  []byte
	Body    []byte
	Digest  []byte
	Sig     []byte
}

type wireHeader struct {
	_         struct{} `cbor:",toarray"`
	Community []byte
	Channel   []byte
	Kind      uint8
	HLC       uint64
	Parents   [][]byte
	Target    []byte
	Epoch     []byte
	Author    []byte
	User      []byte
	CertSig   []byte
	Prev      []byte
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	eo := cbor.CoreDetEncOptions()
	eo.NilContainers = cbor.NilContainerAsEmpty
	var err error
	if encMode, err = eo.EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  8,
		MaxArrayElements: MaxRekeySize,
		MaxMapPairs:      MaxRekeySize,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

const sigDomain = "ancore/op/1\x00"

// signingInput is what the author signs: a domain string, the header
// (length-delimited), and the body's digest.
func signingInput(header []byte, digest [sha256.Size]byte) []byte {
	b := make([]byte, 0, len(sigDomain)+4+len(header)+len(digest))
	b = append(b, sigDomain...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(header)))
	b = append(b, header...)
	return append(b, digest[:]...)
}

// Sign makes an op from a draft: it encodes the header, seals the body
// (or, for state kinds, the body's Info) under key, signs, and computes the
// ID. key may be nil for kinds and drafts that seal nothing.
func (d *Device) Sign(dr Draft, key *EpochKey) (*Op, error) {
	rule, ok := kindRules[dr.Kind]
	if !ok {
		return nil, fmt.Errorf("sign: %w: %d", ErrUnknownKind, dr.Kind)
	}
	if rule.state {
		if dr.State == nil {
			return nil, fmt.Errorf("sign %s: %w: no state body", dr.Kind, ErrBadBody)
		}
	} else if err := dr.Body.validFor(dr.Kind); err != nil {
		return nil, fmt.Errorf("sign %s: %w", dr.Kind, err)
	}
	parents := slices.Clone(dr.Parents)
	if !dr.Prev.IsZero() {
		parents = append(parents, dr.Prev)
	}
	slices.SortFunc(parents, ID.Compare)
	parents = slices.Compact(parents)
	op := &Op{
		Community: dr.Community, Channel: dr.Channel, Kind: dr.Kind, HLC: dr.HLC,
		Parents: parents, Prev: dr.Prev, Target: dr.Target, Author: d.id, Cert: d.cert,
	}
	sealInfo := rule.state && dr.State.Info != nil
	if rule.encrypted || sealInfo {
		if key == nil {
			return nil, fmt.Errorf("sign %s: %w: an epoch key is required", dr.Kind, ErrNoKey)
		}
		op.Epoch = key.id
	}
	if err := op.checkHeader(rule); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	var err error
	if op.header, err = encMode.Marshal(op.wireHeader()); err != nil {
		return nil, err
	}
	switch {
	case rule.encrypted:
		plain, err := dr.Body.encode()
		if err != nil {
			return nil, err
		}
		if op.Body, err = key.seal(plain, op.header); err != nil {
			return nil, err
		}
	case rule.state:
		var sealed []byte
		if sealInfo {
			plain, err := dr.State.Info.encode()
			if err != nil {
				return nil, err
			}
			if sealed, err = key.seal(plain, op.header); err != nil {
				return nil, err
			}
		}
		if op.Body, err = dr.State.encode(sealed); err != nil {
			return nil, fmt.Errorf("sign %s: %w", dr.Kind, err)
		}
		// Refuse here what every reader would refuse.
		if _, err := op.State(); err != nil {
			return nil, fmt.Errorf("sign %s: %w", dr.Kind, err)
		}
	}
	op.Digest = sha256.Sum256(op.Body)
	copy(op.Sig[:], ed25519.Sign(d.priv, signingInput(op.header, op.Digest)))
	if op.encoded, err = encMode.Marshal(wireOp{Version: Version, Header: op.header, Body: op.Body, Sig: op.Sig[:]}); err != nil {
		return nil, err
	}
	if len(op.encoded) > op.Kind.maxSize() {
		return nil, fmt.Errorf("sign: %w: %d bytes", ErrTooLarge, len(op.encoded))
	}
	op.ID = IDOf(op.Skeleton())
	if op.Kind == KindGenesis {
		op.Community = op.ID
	}
	return op, nil
}

func (o *Op) wireHeader() wireHeader {
	h := wireHeader{
		Community: o.Community.bytesOrNil(), Channel: o.Channel.bytesOrNil(),
		Kind: uint8(o.Kind), HLC: uint64(o.HLC), Target: o.Target.bytesOrNil(),
		Author: o.Author[:], User: o.Cert.User[:], CertSig: o.Cert.Sig[:], Prev: o.Prev.bytesOrNil(),
	}
	if !o.Epoch.IsZero() {
		h.Epoch = o.Epoch[:]
	}
	h.Parents = make([][]byte, len(o.Parents))
	for i := range o.Parents {
		h.Parents[i] = o.Parents[i][:]
	}
	return h
}

// checkHeader enforces the per-kind shape of the header. A genesis op names
// no community: its own ID becomes the community's.
func (o *Op) checkHeader(rule kindRule) error {
	switch {
	case (o.Kind == KindGenesis) != o.Community.IsZero():
		return fmt.Errorf("%w: %s op with wrong community presence", ErrMalformed, rule.name)
	case rule.channel == o.Channel.IsZero():
		return fmt.Errorf("%w: %s op with wrong channel presence", ErrMalformed, rule.name)
	case rule.target == 1 && o.Target.IsZero(), rule.target == 0 && !o.Target.IsZero():
		return fmt.Errorf("%w: %s op with wrong target presence", ErrMalformed, rule.name)
	case rule.encrypted == o.Epoch.IsZero() && !rule.state:
		return fmt.Errorf("%w: %s op with wrong epoch presence", ErrMalformed, rule.name)
	case len(o.Parents) > MaxParents:
		return fmt.Errorf("%w: %d parents, at most %d", ErrMalformed, len(o.Parents), MaxParents)
	case o.Kind == KindGenesis && len(o.Parents) > 0:
		return fmt.Errorf("%w: genesis op with parents", ErrMalformed)
	case !o.Prev.IsZero() && !slices.Contains(o.Parents, o.Prev):
		return fmt.Errorf("%w: previous op is not a parent", ErrMalformed)
	}
	for _, id := range append([]ID{o.Community, o.Channel, o.Target, o.Prev}, o.Parents...) {
		if !id.IsZero() && !id.valid() {
			return fmt.Errorf("%w: %x is not an op id", ErrMalformed, id[:])
		}
	}
	for _, p := range o.Parents {
		if p.IsZero() {
			return fmt.Errorf("%w: zero parent", ErrMalformed)
		}
	}
	for i := 1; i < len(o.Parents); i++ {
		if o.Parents[i-1].Compare(o.Parents[i]) >= 0 {
			return fmt.Errorf("%w: parents not sorted and unique", ErrNonCanonical)
		}
	}
	return nil
}

// Verifier decodes ops received from anywhere and checks everything that can
// be checked without community state: size, canonical form, version, kind
// and header shape, clock skew, the author's certificate and signature. It
// caches verified device certificates and is safe for concurrent use.
type Verifier struct {
	devices deviceCache
}

// NewVerifier returns a Verifier.
func NewVerifier() *Verifier { return &Verifier{} }

// Decode parses and verifies an op received at time now. The op keeps b as
// its encoding: the caller must not modify b afterwards.
func (v *Verifier) Decode(b []byte, now time.Time) (*Op, error) {
	op, err := parse(b, false)
	if err != nil {
		return nil, err
	}
	if op.HLC.Millis() > now.Add(MaxClockSkew).UnixMilli() {
		return nil, fmt.Errorf("%w: %s", ErrFromFuture, op.HLC)
	}
	dev := v.devices.device(op.Author, op.Cert)
	if dev == nil {
		return nil, fmt.Errorf("%w: device certificate", ErrBadSignature)
	}
	if !dev.verify(op.Author, signingInput(op.header, op.Digest), &op.Sig) {
		return nil, fmt.Errorf("%w: op signature", ErrBadSignature)
	}
	return op, nil
}

// WireID returns the ID of b if b has the canonical outer form of a full
// op — [1, header, body, empty digest, 64-byte sig] with the shortest
// heads and nothing after — without decoding the header or checking signatures. Gossip uses
// it as the message ID, for every copy of every message: purged and
// non-canonical variants of an op share its ID but not its bytes, so they
// must not be able to claim that message ID first and have the real op
// dropped as a duplicate. Bytes of this form are the only ones that give
// their ID (the skeleton fixes header, body digest and signature, and the
// form fixes the rest), so the header need not be decoded here; bytes
// whose header is invalid get an ID no valid op has, and the validator
// rejects them.
func WireID(b []byte) (ID, bool) {
	if len(b) > MaxRekeySize || len(b) < 2 || b[0] != cborArray5 || b[1] != Version {
		return ID{}, false
	}
	header, rest, ok := cutBytes(b[2:])
	if !ok {
		return ID{}, false
	}
	body, rest, ok := cutBytes(rest)
	if !ok {
		return ID{}, false
	}
	digest, rest, ok := cutBytes(rest)
	if !ok || len(digest) != 0 {
		return ID{}, false
	}
	sig, rest, ok := cutBytes(rest)
	if !ok || len(sig) != ed25519.SignatureSize || len(rest) != 0 {
		return ID{}, false
	}
	return IDOf(skeleton(header, sha256.Sum256(body), sig)), true
}

// DecodeStored parses an op without verifying its signatures, clock or
// canonical form. It is only for bytes this node verified before storing.
// Like Decode, the op keeps b.
func DecodeStored(b []byte) (*Op, error) { return parse(b, true) }

// parse decodes and checks the shape of an op; trusted skips the canonical
// form checks, which only matter for bytes from outside.
func parse(b []byte, trusted bool) (*Op, error) {
	if len(b) > MaxRekeySize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), MaxRekeySize)
	}
	var w wireOp
	if err := decMode.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if w.Version != Version {
		return nil, fmt.Errorf("%w: %d", ErrUnknownVersion, w.Version)
	}
	if !trusted {
		if again, err := encMode.Marshal(w); err != nil || !bytes.Equal(again, b) {
			return nil, ErrNonCanonical
		}
	}
	var h wireHeader
	if err := decMode.Unmarshal(w.Header, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if !trusted {
		if again, err := encMode.Marshal(h); err != nil || !bytes.Equal(again, w.Header) {
			return nil, fmt.Errorf("%w: header", ErrNonCanonical)
		}
	}
	rule, ok := kindRules[Kind(h.Kind)]
	if !ok {
		return nil, fmt.Errorf("%w: %d", ErrUnknownKind, h.Kind)
	}
	if max := Kind(h.Kind).maxSize(); len(b) > max {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), max)
	}
	op := &Op{Kind: Kind(h.Kind), HLC: HLC(h.HLC), Body: w.Body, header: w.Header, encoded: b, purged: len(w.Digest) != 0}
	var err error
	if op.Community, err = idOrZero(h.Community); err != nil {
		return nil, fmt.Errorf("%w: community: %v", ErrMalformed, err)
	}
	if op.Channel, err = idOrZero(h.Channel); err != nil {
		return nil, fmt.Errorf("%w: channel: %v", ErrMalformed, err)
	}
	if op.Target, err = idOrZero(h.Target); err != nil {
		return nil, fmt.Errorf("%w: target: %v", ErrMalformed, err)
	}
	if op.Prev, err = idOrZero(h.Prev); err != nil {
		return nil, fmt.Errorf("%w: previous op: %v", ErrMalformed, err)
	}
	if len(h.Parents) > MaxParents {
		return nil, fmt.Errorf("%w: %d parents, at most %d", ErrMalformed, len(h.Parents), MaxParents)
	}
	op.Parents = make([]ID, len(h.Parents))
	for i, p := range h.Parents {
		if op.Parents[i], err = IDFromBytes(p); err != nil {
			return nil, fmt.Errorf("%w: parent: %v", ErrMalformed, err)
		}
	}
	if err := copyFixed(op.Epoch[:], h.Epoch, true, "epoch"); err != nil {
		return nil, err
	}
	if err := copyFixed(op.Author[:], h.Author, false, "author"); err != nil {
		return nil, err
	}
	if err := copyFixed(op.Cert.User[:], h.User, false, "user"); err != nil {
		return nil, err
	}
	if err := copyFixed(op.Cert.Sig[:], h.CertSig, false, "certificate signature"); err != nil {
		return nil, err
	}
	if err := copyFixed(op.Sig[:], w.Sig, false, "signature"); err != nil {
		return nil, err
	}
	if err := op.checkHeader(rule); err != nil {
		return nil, err
	}
	switch {
	case rule.state && op.purged:
		return nil, fmt.Errorf("%w: %s op without its body", ErrMalformed, rule.name)
	case !rule.encrypted && !rule.state && (len(op.Body) != 0 || op.purged):
		return nil, fmt.Errorf("%w: %s op carries a body", ErrMalformed, rule.name)
	case op.purged && len(op.Body) != 0:
		return nil, fmt.Errorf("%w: both a body and its digest", ErrMalformed)
	case op.purged:
		if err := copyFixed(op.Digest[:], w.Digest, false, "body digest"); err != nil {
			return nil, err
		}
		op.ID = IDOf(b)
	default:
		op.Digest = sha256.Sum256(op.Body)
		op.ID = IDOf(op.Skeleton())
	}
	if op.Kind == KindGenesis {
		op.Community = op.ID
	}
	return op, nil
}

// copyFixed fills a fixed-size field; optional fields may be empty.
func copyFixed(dst, src []byte, optional bool, what string) error {
	if optional && len(src) == 0 {
		return nil
	}
	if len(src) != len(dst) {
		return fmt.Errorf("%w: %s is %d bytes, want %d", ErrMalformed, what, len(src), len(dst))
	}
	copy(dst, src)
	return nil
}

// Open decrypts and parses the op's body with a key from keys. Kinds that
// carry no body open to the zero Body; purged ops give ErrPurged.
func (o *Op) Open(keys Keyring) (Body, error) {
	if !o.Kind.Encrypted() {
		return Body{}, nil
	}
	if o.purged {
		return Body{}, ErrPurged
	}
	key := keys[o.Epoch]
	if key == nil {
		return Body{}, ErrNoKey
	}
	plain, err := key.open(o.Body, o.header)
	if err != nil {
		return Body{}, err
	}
	return decodeBody(plain)
}
