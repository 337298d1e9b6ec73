package crdt

import (
	"fmt"
	"slices"
)

// The key schedule. The owner's genesis op starts epoch 0; its key never
// travels in an op. Afterwards keys travel two ways:
//
//   - An admit op wraps a Grant for the joiner: the community's topic
//     secret and the keys of the epoch tips the admitter knew.
//   - A rekey op starts a new epoch: its key is wrapped for exactly the
//     members of its causal past, and its sealed Info carries the keys of
//     the tips it succeeds, so whoever holds a new key can walk back to
//     every older one (history stays readable, like Discord's).
//
// A removed member is in no later wrap and cannot walk forwards.

// Grant is what an admission hands the joiner.
type Grant struct {
	Secret []byte   // the community's topic secret
	Keys   [][]byte // epoch keys (tips); older ones follow from rekeys
}

type wireGrant struct {
	Secret []byte   `cbor:"1,keyasint"`
	Keys   [][]byte `cbor:"2,keyasint"`
}

// wrapContext binds wraps to their op, so a box cannot be replayed
// elsewhere.
func wrapContext(community ID, k Kind, epoch EpochID, user UserID) []byte {
	return slices.Concat(community[:], []byte{byte(k)}, epoch[:], user[:])
}

// AdmitDraft drafts the admission of user through invite inv of c, whose
// proof the joiner supplied. secret is the topic secret and keys the
// admitter's keyring; the grant carries the current epoch tips.
func AdmitDraft(c *Community, hlc HLC, inviteID ID, user UserID, proof, secret []byte, keys Keyring) (Draft, error) {
	g := wireGrant{Secret: secret}
	tips := c.EpochTips()
	if len(tips) > MaxPrevKeys {
		return Draft{}, fmt.Errorf("admit: %d epoch tips, at most %d: rekey first", len(tips), MaxPrevKeys)
	}
	for _, e := range tips {
		k := keys[e.ID]
		if k == nil {
			return Draft{}, fmt.Errorf("admit: %w: epoch %x", ErrNoKey, e.ID)
		}
		g.Keys = append(g.Keys, k.Bytes())
	}
	plain, err := encMode.Marshal(g)
	if err != nil {
		return Draft{}, err
	}
	w, err := SealTo([]UserID{user}, plain, wrapContext(c.ID, KindAdmit, EpochID{}, user))
	if err != nil {
		return Draft{}, err
	}
	return Draft{Community: c.ID, Kind: KindAdmit, HLC: hlc, Parents: c.Heads(), Target: inviteID,
		State: &StateBody{User: user, Proof: proof, Wraps: w}}, nil
}

// RekeyDraft drafts a new epoch for c with key next, wrapped for every
// current member; keys must hold the current tips, which the new epoch's
// Info carries. Sign the draft with next.
func RekeyDraft(c *Community, hlc HLC, next *EpochKey, keys Keyring) (Draft, error) {
	info := &Info{}
	tips := c.EpochTips()
	if len(tips) > MaxPrevKeys {
		return Draft{}, fmt.Errorf("rekey: %d epoch tips, at most %d", len(tips), MaxPrevKeys)
	}
	for _, e := range tips {
		k := keys[e.ID]
		if k == nil {
			return Draft{}, fmt.Errorf("rekey: %w: epoch %x", ErrNoKey, e.ID)
		}
		info.Keys = append(info.Keys, k.Bytes())
	}
	members := c.MemberUsers()
	if len(members) > MaxWraps {
		return Draft{}, fmt.Errorf("rekey: %d members, at most %d", len(members), MaxWraps)
	}
	w, err := SealTo(members, next.Bytes(), wrapContext(c.ID, KindRekey, next.ID(), UserID{}))
	if err != nil {
		return Draft{}, err
	}
	return Draft{Community: c.ID, Kind: KindRekey, HLC: hlc, Parents: c.Heads(),
		State: &StateBody{Info: info, Wraps: w}}, nil
}

// OpenGrant opens what admit op o grants u: the joiner reads it before it
// holds anything else of the community.
func OpenGrant(o *Op, u *User) (Grant, error) {
	if o.Kind != KindAdmit {
		return Grant{}, fmt.Errorf("%w: %s is not an admission", ErrBadBody, o.Kind)
	}
	s, err := o.State()
	if err != nil {
		return Grant{}, err
	}
	if s.Wraps == nil || s.User != u.ID() {
		return Grant{}, ErrNoKey
	}
	plain, err := s.Wraps.Open(u, wrapContext(o.Community, KindAdmit, EpochID{}, u.ID()))
	if err != nil {
		return Grant{}, err
	}
	var g wireGrant
	if err := decMode.Unmarshal(plain, &g); err != nil {
		return Grant{}, fmt.Errorf("%w: grant: %v", ErrBadBody, err)
	}
	return Grant(g), nil
}

// Unlock adds to keys every epoch key of c that u can reach: from the
// admissions and rekeys wrapped for u, then back along the rekeys' chains.
// It returns the topic secret if an admission granted one.
func (c *Community) Unlock(u *User, keys Keyring) (secret []byte) {
	add := func(b []byte) {
		if k, err := EpochKeyFromBytes(b); err == nil {
			keys[k.ID()] = k
		}
	}
	for i, o := range c.ops {
		if !c.accepted.has(i) {
			continue
		}
		s := c.bodies[i]
		switch {
		case o.Kind == KindAdmit && s.User == u.ID():
			g, err := OpenGrant(o, u)
			if err != nil {
				continue
			}
			secret = g.Secret
			for _, k := range g.Keys {
				add(k)
			}
		case o.Kind == KindRekey:
			if b, err := s.Wraps.Open(u, wrapContext(c.ID, KindRekey, o.Epoch, UserID{})); err == nil {
				add(b)
			}
		}
	}
	// Walk back: each rekey whose key is known yields the keys it succeeded.
	for changed := true; changed; {
		changed = false
		for _, e := range c.Epochs {
			if e.Op.Kind != KindRekey || keys[e.ID] == nil {
				continue
			}
			info, err := e.Op.OpenInfo(c.bodies[c.pos[e.Op.ID]], keys)
			if err != nil {
				continue
			}
			for _, b := range info.Keys {
				if k, err := EpochKeyFromBytes(b); err == nil && keys[k.ID()] == nil {
					keys[k.ID()] = k
					changed = true
				}
			}
		}
	}
	return secret
}
