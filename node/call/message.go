package call

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"github.com/fxamacker/cbor/v2"
)

// Limits of signaling; like crdt's limits they are part of the protocol.
const (
	// MaxSDP caps an offer's or an answer's session description.
	MaxSDP = 16 << 10
	// MaxCandidate caps one ICE candidate.
	MaxCandidate = 1 << 10
	// maxReason caps the reason of an end or a reject.
	maxReason = 64
	// MaxMessageSize caps an encoded message: the largest SDP and the
	// fixed fields (ids, keys, signatures: under 300 bytes).
	MaxMessageSize = MaxSDP + 512
	// MaxAge is how old a message may be when it arrives; older ones are
	// refused as stale, and within it a replay is refused as seen.
	MaxAge = 30 * time.Second
)

// messageVersion is the message format this code writes and reads.
const messageVersion = 1

// signDomain separates call signatures from op, signal and certificate
// ones.
const signDomain = "ancore/call/1\x00"

// Kind is what a message says, with the event names of the seed plan.
type Kind uint8

const (
	KindInitiate  Kind = 1 // call:initiate — the caller rings a device
	KindOffer     Kind = 2 // call:offer — the caller's SDP offer
	KindAnswer    Kind = 3 // call:answer — the callee's SDP answer: it accepted
	KindCandidate Kind = 4 // call:ice-candidate — one trickled ICE candidate
	KindEnd       Kind = 5 // call:end — hang-up, cancel, or answered elsewhere
	KindReject    Kind = 6 // call:reject — declined, or busy
)

var kindNames = map[Kind]string{
	KindInitiate: "call:initiate", KindOffer: "call:offer", KindAnswer: "call:answer",
	KindCandidate: "call:ice-candidate", KindEnd: "call:end", KindReject: "call:reject",
}

func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("call:kind-%d", uint8(k))
}

// ID names a call: 16 random bytes, shared by both sides (and by every
// device the caller rings).
type ID [16]byte

// NewID returns a random call id.
func NewID() ID {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return id
}

func (id ID) String() string { return hex.EncodeToString(id[:]) }

// ParseID parses a call id's text form.
func ParseID(s string) (ID, error) {
	var id ID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%w: call id %q", crdt.ErrMalformed, s)
	}
	copy(id[:], b)
	return id, nil
}

// Errors of messages.
var (
	// ErrTooLarge: an SDP, a candidate, a reason or a message over its cap.
	ErrTooLarge = errors.New("call signal too large")
	// ErrMalformed: a message that does not decode, or has the wrong shape.
	ErrMalformed = errors.New("malformed call signal")
	// ErrBadSignature: a certificate or a signature that does not verify.
	ErrBadSignature = errors.New("call signal signature does not verify")
	// ErrStale: a message older than MaxAge, or from the future.
	ErrStale = errors.New("call signal stale or from the future")
)

// Message is one signaling message, signed by its author device.
type Message struct {
	Kind      Kind
	Call      ID
	Community crdt.ID     // the community caller and callee share
	To        crdt.UserID // the user it is for
	Time      time.Time   // when sent, to the millisecond
	// Payload is the SDP (offer, answer) or the candidate (ice-candidate),
	// opaque to this package; empty for the other kinds.
	Payload string
	// Reason says why an end or a reject (see the Reason constants).
	Reason string
	Author crdt.DeviceID
	Cert   crdt.Cert
}

// User is the user the author device acts for.
func (m Message) User() crdt.UserID { return m.Cert.User }

type unsignedMessage struct {
	_         struct{} `cbor:",toarray"`
	Version   uint64
	Kind      uint64
	Call      []byte
	Community []byte
	To        []byte
	Time      uint64 // Unix milliseconds
	Payload   string
	Reason    string
	Author    []byte
	User      []byte
	CertSig   []byte
}

type wireMessage struct {
	_         struct{} `cbor:",toarray"`
	Version   uint64
	Kind      uint64
	Call      []byte
	Community []byte
	To        []byte
	Time      uint64
	Payload   string
	Reason    string
	Author    []byte
	User      []byte
	CertSig   []byte
	Sig       []byte
}

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		IndefLength:      cbor.IndefLengthForbidden,
		TagsMd:           cbor.TagsForbidden,
		MaxNestedLevels:  4,
		MaxArrayElements: 16,
		MaxMapPairs:      16,
		UTF8:             cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

func (w *wireMessage) signingInput() []byte {
	b, err := encMode.Marshal(unsignedMessage{
		Version: w.Version, Kind: w.Kind, Call: w.Call, Community: w.Community, To: w.To, Time: w.Time,
		Payload: w.Payload, Reason: w.Reason, Author: w.Author, User: w.User, CertSig: w.CertSig,
	})
	if err != nil {
		panic(err) // integers, strings and byte strings in a fixed array always encode
	}
	return append([]byte(signDomain), b...)
}

// check enforces each kind's shape and the caps, for signer and reader
// alike.
func (m *Message) check() error {
	switch m.Kind {
	case KindOffer, KindAnswer:
		if len(m.Payload) > MaxSDP {
			return fmt.Errorf("%w: %s SDP of %d bytes, at most %d", ErrTooLarge, m.Kind, len(m.Payload), MaxSDP)
		}
		if m.Payload == "" {
			return fmt.Errorf("%w: %s without an SDP", ErrMalformed, m.Kind)
		}
	case KindCandidate:
		if len(m.Payload) > MaxCandidate {
			return fmt.Errorf("%w: ICE candidate of %d bytes, at most %d", ErrTooLarge, len(m.Payload), MaxCandidate)
		}
		if m.Payload == "" {
			return fmt.Errorf("%w: %s without a candidate", ErrMalformed, m.Kind)
		}
	case KindInitiate, KindEnd, KindReject:
		if m.Payload != "" {
			return fmt.Errorf("%w: %s with a payload", ErrMalformed, m.Kind)
		}
	default:
		return fmt.Errorf("%w: kind %d", ErrMalformed, m.Kind)
	}
	if len(m.Reason) > maxReason {
		return fmt.Errorf("%w: reason of %d bytes, at most %d", ErrTooLarge, len(m.Reason), maxReason)
	}
	if m.Reason != "" && m.Kind != KindEnd && m.Kind != KindReject {
		return fmt.Errorf("%w: %s with a reason", ErrMalformed, m.Kind)
	}
	if !utf8.ValidString(m.Payload) || !utf8.ValidString(m.Reason) {
		return fmt.Errorf("%w: text is not UTF-8", ErrMalformed)
	}
	if m.Community.IsZero() {
		return fmt.Errorf("%w: no community", ErrMalformed)
	}
	if m.Time.UnixMilli() < 0 {
		return fmt.Errorf("%w: time %s", ErrMalformed, m.Time)
	}
	return nil
}

// Sign encodes m as sent by d, signed; it sets m's Author and Cert to d's.
func Sign(d *crdt.Device, m Message) ([]byte, error) {
	m.Author, m.Cert = d.ID(), d.Cert()
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("sign %s: %w", m.Kind, err)
	}
	w := m.wire()
	w.Sig = ed25519.Sign(ed25519.NewKeyFromSeed(d.Seed()), w.signingInput())
	return encMode.Marshal(w)
}

func (m *Message) wire() wireMessage {
	return wireMessage{
		Version: messageVersion, Kind: uint64(m.Kind), Call: m.Call[:], Community: m.Community[:], To: m.To[:],
		Time: uint64(m.Time.UnixMilli()), Payload: m.Payload, Reason: m.Reason,
		Author: m.Author[:], User: m.Cert.User[:], CertSig: m.Cert.Sig[:],
	}
}

// Decode parses and verifies a message received at time now: size,
// canonical form, version, kind and shape, caps, age, the author's
// certificate and its signature.
func Decode(b []byte, now time.Time) (Message, error) {
	if len(b) > MaxMessageSize {
		return Message{}, fmt.Errorf("%w: message of %d bytes, at most %d", ErrTooLarge, len(b), MaxMessageSize)
	}
	var w wireMessage
	if err := decMode.Unmarshal(b, &w); err != nil {
		return Message{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if w.Version != messageVersion {
		return Message{}, fmt.Errorf("%w: version %d", ErrMalformed, w.Version)
	}
	if again, err := encMode.Marshal(w); err != nil || !bytes.Equal(again, b) {
		return Message{}, fmt.Errorf("%w: not canonical", ErrMalformed)
	}
	if w.Kind > math.MaxUint8 || w.Time > math.MaxInt64 {
		return Message{}, fmt.Errorf("%w: kind %d, time %d", ErrMalformed, w.Kind, w.Time)
	}
	m := Message{Kind: Kind(w.Kind), Time: time.UnixMilli(int64(w.Time)), Payload: w.Payload, Reason: w.Reason}
	var err error
	if m.Community, err = crdt.IDFromBytes(w.Community); err != nil {
		return Message{}, fmt.Errorf("%w: community: %v", ErrMalformed, err)
	}
	var sig [ed25519.SignatureSize]byte
	for _, f := range []struct {
		dst, src []byte
		what     string
	}{
		{m.Call[:], w.Call, "call id"},
		{m.To[:], w.To, "recipient"},
		{m.Author[:], w.Author, "author"},
		{m.Cert.User[:], w.User, "user"},
		{m.Cert.Sig[:], w.CertSig, "certificate signature"},
		{sig[:], w.Sig, "signature"},
	} {
		if len(f.src) != len(f.dst) {
			return Message{}, fmt.Errorf("%w: %s of %d bytes, want %d", ErrMalformed, f.what, len(f.src), len(f.dst))
		}
		copy(f.dst, f.src)
	}
	if err := m.check(); err != nil {
		return Message{}, err
	}
	switch ms := int64(w.Time); {
	case ms > now.Add(crdt.MaxClockSkew).UnixMilli():
		return Message{}, fmt.Errorf("%w: sent %s", ErrStale, m.Time)
	case ms < now.Add(-MaxAge).UnixMilli():
		return Message{}, fmt.Errorf("%w: sent %s", ErrStale, m.Time)
	}
	if !m.Cert.Verify(m.Author) {
		return Message{}, fmt.Errorf("%w: device certificate", ErrBadSignature)
	}
	if !ed25519.Verify(m.Author[:], w.signingInput(), sig[:]) {
		return Message{}, fmt.Errorf("%w: %s", ErrBadSignature, m.Kind)
	}
	return m, nil
}
