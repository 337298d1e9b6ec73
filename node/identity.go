package node

import (
	"crypto/ed25519"
	"fmt"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
)

// Identity is who this node is: the user's identity key and this device's
// key, certified by it. The secrets live in the store, whose file is only
// readable by its owner.
type Identity struct {
	User   *crdt.User
	Device *crdt.Device
}

// settingIdentity holds the user seed followed by the device seed, in one
// value so that a crash cannot leave half an identity behind.
const settingIdentity = "identity"

// loadIdentity reads the identity from st, creating and saving a new one
// on first start.
func loadIdentity(st *store.Store) (*Identity, error) {
	v, err := st.Setting(settingIdentity)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return newIdentity(st)
	}
	if len(v) != 2*ed25519.SeedSize {
		return nil, fmt.Errorf("stored identity is %d bytes, want %d", len(v), 2*ed25519.SeedSize)
	}
	u, err := crdt.UserFromSeed(v[:ed25519.SeedSize])
	if err != nil {
		return nil, fmt.Errorf("stored identity: %w", err)
	}
	d, err := u.Device(v[ed25519.SeedSize:])
	if err != nil {
		return nil, fmt.Errorf("stored identity: %w", err)
	}
	return &Identity{User: u, Device: d}, nil
}

func newIdentity(st *store.Store) (*Identity, error) {
	u, err := crdt.NewUser()
	if err != nil {
		return nil, err
	}
	d, err := crdt.NewDevice(u)
	if err != nil {
		return nil, err
	}
	if err := st.PutSetting(settingIdentity, append(u.Seed(), d.Seed()...)); err != nil {
		return nil, err
	}
	return &Identity{User: u, Device: d}, nil
}
