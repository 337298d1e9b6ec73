package crdt

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"unicode/utf8"
)

// Limits on state bodies. They keep every state op inside MaxOpSize except
// rekeys, whose wraps grow with the member count (about 85 bytes a member)
// and are held to MaxRekeySize: MaxWraps members a community.
const (
	MaxNameLen       = 100 // characters: community, channel, role and display names
	MaxStatusTextLen = 128 // characters: a profile's custom status
	MaxTopicLen      = 1024
	MaxIconSize      = 16 << 10
	MaxAvatarSize    = 16 << 10 // a profile's picture: PNG or JPEG
	MaxRoles         = 250      // roles held by one member
	MaxSeen          = 256      // (log, device) cut-offs in one removal
	MaxWraps         = 3500     // recipients of one rekey: the largest community
	MaxPrevKeys      = 64       // epoch keys one rekey or admission carries
)

// ChannelType says what a channel carries.
type ChannelType uint8

// Channel types.
const (
	ChannelText  ChannelType = 0
	ChannelVoice ChannelType = 1
)

// Info is the human content of a state op: it travels sealed under the
// community's epoch key, so relays never read names or topics.
type Info struct {
	Name       string // community, channel, role or display name
	StatusText string // profile: the custom status, at most MaxStatusTextLen
	Topic      string // channel topic
	Icon       []byte // community icon (an image, at most MaxIconSize)
	Avatar     []byte // profile: the user's picture, PNG or JPEG of at most MaxAvatarSize
	Color      uint32 // role colour, 0xRRGGBB
	Keys       [][]byte
	// Keys: rekey only — the epoch keys the new epoch succeeds, so members
	// who hold the new key can read everything before it.
}

// Decoders ignore keys they do not know and empty fields are omitted, so
// a field added later (the status text, key 6; the avatar, key 7) keeps
// older Infos valid and lets older nodes read the rest.
type wireInfo struct {
	Name       string   `cbor:"1,keyasint,omitempty"`
	StatusText string   `cbor:"6,keyasint,omitempty"`
	Topic      string   `cbor:"2,keyasint,omitempty"`
	Icon       []byte   `cbor:"3,keyasint,omitempty"`
	Avatar     []byte   `cbor:"7,keyasint,omitempty"`
	Color      uint32   `cbor:"4,keyasint,omitempty"`
	Keys       [][]byte `cbor:"5,keyasint,omitempty"`
}

func (i *Info) encode() ([]byte, error) {
	if err := i.valid(); err != nil {
		return nil, err
	}
	return encMode.Marshal(wireInfo(*i))
}

func (i *Info) valid() error {
	switch {
	case !utf8.ValidString(i.Name) || utf8.RuneCountInString(i.Name) > MaxNameLen:
		return fmt.Errorf("%w: name must be UTF-8 of at most %d characters", ErrBadBody, MaxNameLen)
	case !utf8.ValidString(i.StatusText) || utf8.RuneCountInString(i.StatusText) > MaxStatusTextLen:
		return fmt.Errorf("%w: status text must be UTF-8 of at most %d characters", ErrBadBody, MaxStatusTextLen)
	case !utf8.ValidString(i.Topic) || utf8.RuneCountInString(i.Topic) > MaxTopicLen:
		return fmt.Errorf("%w: topic must be UTF-8 of at most %d characters", ErrBadBody, MaxTopicLen)
	case len(i.Icon) > MaxIconSize:
		return fmt.Errorf("%w: icon larger than %d bytes", ErrBadBody, MaxIconSize)
	case len(i.Avatar) > MaxAvatarSize:
		return fmt.Errorf("%w: avatar larger than %d bytes", ErrBadBody, MaxAvatarSize)
	case len(i.Avatar) > 0 && !isPNGOrJPEG(i.Avatar):
		return fmt.Errorf("%w: avatar is not a PNG or JPEG image", ErrBadBody)
	case i.Color > 0xffffff:
		return fmt.Errorf("%w: colour out of range", ErrBadBody)
	case len(i.Keys) > MaxPrevKeys:
		return fmt.Errorf("%w: more than %d keys", ErrBadBody, MaxPrevKeys)
	}
	for _, k := range i.Keys {
		if len(k) != epochKeySize {
			return fmt.Errorf("%w: epoch key of %d bytes", ErrBadBody, len(k))
		}
	}
	return nil
}

// isPNGOrJPEG reports whether b starts as a PNG or a JPEG file does: what
// a reader may show as an avatar, with no sniffing of its own.
func isPNGOrJPEG(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff})
}

// Seen is a removal's cut-off for one device of the removed user in one
// log: the last op of that device the remover had seen there. Of the
// removed user's ops in that log, only Last and its predecessors along the
// device's Prev chain stay; anything else the device wrote was concurrent
// with or after the removal, and the removal wins.
type Seen struct {
	Log    ID
	Device DeviceID
	Last   ID
}

// StateBody is the clear body of a community-state op. Which fields a kind
// uses is checked by validFor; authorization is the community view's.
type StateBody struct {
	Info        *Info // sealed on the wire under the header's epoch
	ChannelType ChannelType
	Position    *int64 // channel or role position
	Perms       *Perm  // role permissions
	User        UserID // the member acted on
	Roles       []ID   // member-roles: the member's roles, sorted
	InviteKey   [ed25519.PublicKeySize]byte
	Expires     int64 // invite expiry, Unix ms; 0: never
	MaxUses     uint32
	Proof       []byte // admit: the joiner's proof of the invite key
	Wraps       *Wraps // admit, rekey: secrets sealed to members
	Seen        []Seen // kick, ban, leave: cut-offs

	sealed []byte // Info as carried
}

type wireState struct {
	Info        []byte    `cbor:"1,keyasint,omitempty"`
	ChannelType uint8     `cbor:"2,keyasint,omitempty"`
	Position    *int64    `cbor:"3,keyasint,omitempty"`
	Perms       *uint64   `cbor:"4,keyasint,omitempty"`
	User        []byte    `cbor:"5,keyasint,omitempty"`
	Roles       [][]byte  `cbor:"6,keyasint,omitempty"`
	InviteKey   []byte    `cbor:"7,keyasint,omitempty"`
	Expires     int64     `cbor:"8,keyasint,omitempty"`
	MaxUses     uint32    `cbor:"9,keyasint,omitempty"`
	Proof       []byte    `cbor:"10,keyasint,omitempty"`
	Wraps       *wireWrap `cbor:"11,keyasint,omitempty"`
	Seen        [][]byte  `cbor:"12,keyasint,omitempty"`
}

type wireWrap struct {
	_   struct{} `cbor:",toarray"`
	Eph []byte
	To  [][]byte // user id ‖ box
}

func (s *StateBody) encode(sealed []byte) ([]byte, error) {
	w := wireState{Info: sealed, ChannelType: uint8(s.ChannelType), Position: s.Position,
		Expires: s.Expires, MaxUses: s.MaxUses, Proof: s.Proof}
	if s.Perms != nil {
		p := uint64(*s.Perms)
		w.Perms = &p
	}
	if s.User != (UserID{}) {
		w.User = s.User[:]
	}
	for i := range s.Roles {
		w.Roles = append(w.Roles, s.Roles[i][:])
	}
	if s.InviteKey != ([ed25519.PublicKeySize]byte{}) {
		w.InviteKey = s.InviteKey[:]
	}
	if s.Wraps != nil {
		w.Wraps = &wireWrap{Eph: s.Wraps.Eph[:]}
		for _, t := range s.Wraps.To {
			w.Wraps.To = append(w.Wraps.To, append(t.User[:len(t.User):len(t.User)], t.Box...))
		}
	}
	for _, x := range s.Seen {
		b := make([]byte, 0, 2*IDSize+len(x.Device))
		w.Seen = append(w.Seen, append(append(append(b, x.Log[:]...), x.Device[:]...), x.Last[:]...))
	}
	return encMode.Marshal(w)
}

// State parses a state op's clear body. Its Info stays sealed: open it with
// OpenInfo.
func (o *Op) State() (StateBody, error) {
	if !o.Kind.IsState() {
		return StateBody{}, fmt.Errorf("%w: %s is not a state op", ErrBadBody, o.Kind)
	}
	var w wireState
	if err := decMode.Unmarshal(o.Body, &w); err != nil {
		return StateBody{}, fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	s := StateBody{sealed: w.Info, ChannelType: ChannelType(w.ChannelType), Position: w.Position,
		Expires: w.Expires, MaxUses: w.MaxUses, Proof: w.Proof}
	if len(w.Info) > 0 != !o.Epoch.IsZero() {
		return StateBody{}, fmt.Errorf("%w: sealed info and epoch must come together", ErrBadBody)
	}
	if w.Perms != nil {
		p := Perm(*w.Perms)
		s.Perms = &p
	}
	if err := copyFixed(s.User[:], w.User, true, "user"); err != nil {
		return StateBody{}, fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	if len(w.Roles) > MaxRoles {
		return StateBody{}, fmt.Errorf("%w: more than %d roles", ErrBadBody, MaxRoles)
	}
	for _, r := range w.Roles {
		id, err := IDFromBytes(r)
		if err != nil {
			return StateBody{}, fmt.Errorf("%w: role: %v", ErrBadBody, err)
		}
		if n := len(s.Roles); n > 0 && s.Roles[n-1].Compare(id) >= 0 {
			return StateBody{}, fmt.Errorf("%w: roles not sorted and unique", ErrBadBody)
		}
		s.Roles = append(s.Roles, id)
	}
	if err := copyFixed(s.InviteKey[:], w.InviteKey, true, "invite key"); err != nil {
		return StateBody{}, fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	if w.Wraps != nil {
		ws, err := decodeWraps(w.Wraps)
		if err != nil {
			return StateBody{}, err
		}
		s.Wraps = ws
	}
	if len(w.Seen) > MaxSeen {
		return StateBody{}, fmt.Errorf("%w: more than %d cut-offs", ErrBadBody, MaxSeen)
	}
	for _, b := range w.Seen {
		var x Seen
		if len(b) != 2*IDSize+len(x.Device) {
			return StateBody{}, fmt.Errorf("%w: cut-off of %d bytes", ErrBadBody, len(b))
		}
		var err1, err2 error
		x.Log, err1 = IDFromBytes(b[:IDSize])
		copy(x.Device[:], b[IDSize:IDSize+len(x.Device)])
		x.Last, err2 = IDFromBytes(b[IDSize+len(x.Device):])
		if err1 != nil || err2 != nil {
			return StateBody{}, fmt.Errorf("%w: cut-off names no op", ErrBadBody)
		}
		s.Seen = append(s.Seen, x)
	}
	return s, nil
}

// OpenInfo decrypts a state op's Info with a key from keys. An op that
// carries no Info opens to the zero Info.
func (o *Op) OpenInfo(s StateBody, keys Keyring) (Info, error) {
	if len(s.sealed) == 0 {
		return Info{}, nil
	}
	key := keys[o.Epoch]
	if key == nil {
		return Info{}, ErrNoKey
	}
	plain, err := key.open(s.sealed, o.header)
	if err != nil {
		return Info{}, err
	}
	var w wireInfo
	if err := decMode.Unmarshal(plain, &w); err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrBadBody, err)
	}
	i := Info(w)
	if err := i.valid(); err != nil {
		return Info{}, err
	}
	return i, nil
}

// HasInfo reports whether the state body carries sealed Info.
func (s *StateBody) HasInfo() bool { return len(s.sealed) > 0 }
