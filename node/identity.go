package node

import (
	"crypto/ed25519"
	"errors"
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

// ErrIdentityConflict: the node's user belongs to communities, so its
// store holds that user's memberships and keys, and it cannot become
// another user.
var ErrIdentityConflict = errors.New("this node is another user, who belongs to communities")

// SwapUser makes the user of seed (if not nil) this node's user, keeping
// the device key (and so the peer ID) and certifying it by that user, and
// then runs then; both while no API request holds the identity
// (HoldIdentity), so that no request sees half of each. The new identity
// is written in one transaction. A node whose user belongs to communities
// refuses with ErrIdentityConflict. Go callers must not use the node's
// other methods concurrently.
func (n *Node) SwapUser(seed []byte, then func() error) error {
	n.identityMu.Lock()
	defer n.identityMu.Unlock()
	if seed != nil {
		if err := n.swapUser(seed); err != nil {
			return err
		}
	}
	return then()
}

func (n *Node) swapUser(seed []byte) error {
	u, err := crdt.UserFromSeed(seed)
	if err != nil {
		return err
	}
	cur := n.Identity()
	if cur.User.ID() == u.ID() {
		return nil
	}
	if len(n.Communities()) > 0 {
		return ErrIdentityConflict
	}
	d, err := u.Device(cur.Device.Seed())
	if err != nil {
		return err
	}
	if err := n.store.PutSetting(settingIdentity, append(u.Seed(), d.Seed()...)); err != nil {
		return err
	}
	n.identity.Store(&Identity{User: u, Device: d})
	n.log.Info("identity restored", "was", cur.User.ID().String(), "user", u.ID().String())
	return nil
}
