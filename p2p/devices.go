package p2p

import (
	"crypto/ed25519"
	"sync"

	"github.com/ancore/ancore/crdt"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// maxDevices bounds Devices: past it the oldest half is forgotten, to be
// learned again from the next op or signal of those devices.
const maxDevices = 1 << 16

// Devices is what a node has learned of whose devices its peers are. A
// peer's ID is its device key, and every op and signal carries its
// device's certificate from its user; once one has verified, the device's
// user is known for good (a certificate cannot be taken back). It is safe
// for concurrent use and never blocks on anything but itself, so gossip's
// filters may consult it.
type Devices struct {
	mu      sync.Mutex
	users   map[crdt.DeviceID]crdt.UserID
	order   []crdt.DeviceID // learning order, for the bound
	learned func(p peer.ID, u crdt.UserID)
}

// NewDevices returns an empty Devices; learned, if not nil, hears of every
// device newly learned (outside the lock).
func NewDevices(learned func(p peer.ID, u crdt.UserID)) *Devices {
	return &Devices{users: map[crdt.DeviceID]crdt.UserID{}, learned: learned}
}

// Learn records that device belongs to user. Call it only with a device
// and user whose certificate has verified (an op's or a signal's).
func (d *Devices) Learn(device crdt.DeviceID, user crdt.UserID) {
	d.mu.Lock()
	if _, ok := d.users[device]; ok {
		d.mu.Unlock()
		return
	}
	if len(d.order) >= maxDevices {
		half := d.order[:maxDevices/2]
		for _, old := range half {
			delete(d.users, old)
		}
		d.order = append(d.order[:0], d.order[maxDevices/2:]...)
	}
	d.users[device] = user
	d.order = append(d.order, device)
	d.mu.Unlock()
	if d.learned != nil {
		if p, err := PeerOf(device); err == nil {
			d.learned(p, user)
		}
	}
}

// User returns the user whose device peer p is, if known.
func (d *Devices) User(p peer.ID) (crdt.UserID, bool) {
	device, ok := DeviceOf(p)
	if !ok {
		return crdt.UserID{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[device]
	return u, ok
}

// DeviceOf returns the device key peer p's ID holds; ok is false for a
// peer whose key is not Ed25519 (not an Ancore device: a relay may be).
func DeviceOf(p peer.ID) (crdt.DeviceID, bool) {
	pub, err := p.ExtractPublicKey()
	if err != nil || pub.Type() != crypto.Ed25519 {
		return crdt.DeviceID{}, false
	}
	raw, err := pub.Raw()
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return crdt.DeviceID{}, false
	}
	return crdt.DeviceID(raw), true
}
