package crdt

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"math"
	"time"
)

// Limits on signals. Like the op limits they are part of the protocol.
const (
	// MaxSignalSize caps an encoded signal. Every field has a fixed size, so
	// a valid signal is under 300 bytes; the cap only bounds what a
	// decoder looks at.
	MaxSignalSize = 512
	// MaxSignalAge is how old a signal may be when it arrives. It is far
	// below gossipsub's two-minute duplicate cache, so a signal replayed
	// while it is still fresh is dropped as a duplicate everywhere.
	MaxSignalAge = 30 * time.Second
)

// signalVersion is the signal format this code writes and reads.
const signalVersion = 1

// signalDomain separates signal signatures from op and certificate ones.
const signalDomain = "ancore/signal/1\x00"

// SignalKind says what a signal announces.
type SignalKind uint8

const (
	SignalPresence SignalKind = 1 // the user's status in the community
	SignalTyping   SignalKind = 2 // the user is typing in a channel
)

// Status is a user's presence. Invisible users send StatusOffline, so
// peers cannot tell them from users who left.
type Status uint8

const (
	StatusOnline  Status = 1
	StatusIdle    Status = 2
	StatusDND     Status = 3
	StatusOffline Status = 4
)

// Signal is an ephemeral, signed announcement — presence or typing — sent
// on a community's signal topic. Unlike an op it is never stored and has
// no ID: it matters only for MaxSignalAge after Time.
type Signal struct {
	Kind      SignalKind
	Community ID
	Channel   ID        // typing: the channel; presence: zero
	Status    Status    // presence only; zero for typing
	Time      time.Time // when sent, to the millisecond
	Author    DeviceID
	Cert      Cert // ties the device to its user, as in ops
}

// User returns the user the author device acts for.
func (s Signal) User() UserID { return s.Cert.User }

// unsignedSignal is what the author signs: the wire array without its
// signature.
type unsignedSignal struct {
	_         struct{} `cbor:",toarray"`
	Version   uint64
	Kind      uint64
	Community []byte
	Channel   []byte
	Status    uint64
	Time      uint64 // Unix milliseconds
	Author    []byte
	User      []byte
	CertSig   []byte
}

// wireSignal is the encoded signal: unsignedSignal's fields, then the
// signature.
type wireSignal struct {
	_         struct{} `cbor:",toarray"`
	Version   uint64
	Kind      uint64
	Community []byte
	Channel   []byte
	Status    uint64
	Time      uint64
	Author    []byte
	User      []byte
	CertSig   []byte
	Sig       []byte
}

func (w *wireSignal) signingInput() []byte {
	b, err := encMode.Marshal(unsignedSignal{
		Version: w.Version, Kind: w.Kind, Community: w.Community, Channel: w.Channel,
		Status: w.Status, Time: w.Time, Author: w.Author, User: w.User, CertSig: w.CertSig,
	})
	if err != nil {
		panic(err) // integers and byte strings in a fixed array always encode
	}
	return append([]byte(signalDomain), b...)
}

// check enforces the shape of each kind, for signer and reader alike.
func (s *Signal) check() error {
	switch s.Kind {
	case SignalPresence:
		if !s.Channel.IsZero() {
			return fmt.Errorf("%w: presence signal names a channel", ErrMalformed)
		}
		if s.Status < StatusOnline || s.Status > StatusOffline {
			return fmt.Errorf("%w: presence status %d", ErrMalformed, s.Status)
		}
	case SignalTyping:
		if s.Channel.IsZero() {
			return fmt.Errorf("%w: typing signal without a channel", ErrMalformed)
		}
		if s.Status != 0 {
			return fmt.Errorf("%w: typing signal with a status", ErrMalformed)
		}
	default:
		return fmt.Errorf("%w: signal kind %d", ErrUnknownKind, s.Kind)
	}
	for _, id := range []ID{s.Community, s.Channel} {
		if !id.IsZero() && !id.valid() {
			return fmt.Errorf("%w: %x is not an id", ErrMalformed, id[:])
		}
	}
	if s.Community.IsZero() {
		return fmt.Errorf("%w: signal without a community", ErrMalformed)
	}
	if s.Time.UnixMilli() < 0 {
		return fmt.Errorf("%w: signal time %s", ErrMalformed, s.Time)
	}
	return nil
}

// SignSignal encodes and signs s as sent by d; it sets s's Author and Cert
// to d's.
func (d *Device) SignSignal(s Signal) ([]byte, error) {
	s.Author, s.Cert = d.id, d.cert
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("sign signal: %w", err)
	}
	w := s.wire()
	w.Sig = ed25519.Sign(d.priv, w.signingInput())
	return encMode.Marshal(w)
}

// wire returns s's wire form without its signature; s must pass check.
func (s *Signal) wire() wireSignal {
	return wireSignal{
		Version: signalVersion, Kind: uint64(s.Kind), Community: s.Community[:], Channel: s.Channel.bytesOrNil(),
		Status: uint64(s.Status), Time: uint64(s.Time.UnixMilli()),
		Author: s.Author[:], User: s.Cert.User[:], CertSig: s.Cert.Sig[:],
	}
}

// DecodeSignal parses and verifies a signal received at time now: size,
// canonical form, version, kind and shape, age, certificate and signature.
func (v *Verifier) DecodeSignal(b []byte, now time.Time) (Signal, error) {
	if len(b) > MaxSignalSize {
		return Signal{}, fmt.Errorf("%w: signal of %d bytes, at most %d", ErrTooLarge, len(b), MaxSignalSize)
	}
	var w wireSignal
	if err := decMode.Unmarshal(b, &w); err != nil {
		return Signal{}, fmt.Errorf("%w: signal: %v", ErrMalformed, err)
	}
	if w.Version != signalVersion {
		return Signal{}, fmt.Errorf("%w: signal version %d", ErrUnknownVersion, w.Version)
	}
	if again, err := encMode.Marshal(w); err != nil || !bytes.Equal(again, b) {
		return Signal{}, fmt.Errorf("%w: signal", ErrNonCanonical)
	}
	if w.Kind > math.MaxUint8 {
		return Signal{}, fmt.Errorf("%w: signal kind %d", ErrUnknownKind, w.Kind)
	}
	if w.Status > math.MaxUint8 {
		return Signal{}, fmt.Errorf("%w: signal status %d", ErrMalformed, w.Status)
	}
	if w.Time > math.MaxInt64 {
		return Signal{}, fmt.Errorf("%w: signal time %d", ErrFromFuture, w.Time)
	}
	s := Signal{Kind: SignalKind(w.Kind), Status: Status(w.Status), Time: time.UnixMilli(int64(w.Time))}
	var err error
	if s.Community, err = IDFromBytes(w.Community); err != nil {
		return Signal{}, fmt.Errorf("%w: community: %v", ErrMalformed, err)
	}
	if s.Channel, err = idOrZero(w.Channel); err != nil {
		return Signal{}, fmt.Errorf("%w: channel: %v", ErrMalformed, err)
	}
	var sig [ed25519.SignatureSize]byte
	for _, f := range []struct {
		dst, src []byte
		what     string
	}{
		{s.Author[:], w.Author, "author"},
		{s.Cert.User[:], w.User, "user"},
		{s.Cert.Sig[:], w.CertSig, "certificate signature"},
		{sig[:], w.Sig, "signature"},
	} {
		if err := copyFixed(f.dst, f.src, false, f.what); err != nil {
			return Signal{}, err
		}
	}
	if err := s.check(); err != nil {
		return Signal{}, err
	}
	switch ms := int64(w.Time); {
	case ms > now.Add(MaxClockSkew).UnixMilli():
		return Signal{}, fmt.Errorf("%w: signal sent %s", ErrFromFuture, s.Time)
	case ms < now.Add(-MaxSignalAge).UnixMilli():
		return Signal{}, fmt.Errorf("%w: sent %s", ErrStale, s.Time)
	}
	dev := v.devices.device(s.Author, s.Cert)
	if dev == nil {
		return Signal{}, fmt.Errorf("%w: device certificate", ErrBadSignature)
	}
	if !dev.verify(s.Author, w.signingInput(), &sig) {
		return Signal{}, fmt.Errorf("%w: signal signature", ErrBadSignature)
	}
	return s, nil
}
