package sfu

import "sync"

// cacheSize is how many packets a track keeps for retransmission: 10 s of
// Opus at 50 packets/s, about 1 s of 2 Mbit/s video. A NACK for anything
// older comes too late to help the receiver's jitter buffer anyway.
const cacheSize = 512

// packetCache keeps a track's recent packets by sequence number, so that
// the SFU answers a subscriber's NACK itself (Galene's design): the
// publisher's uplink is not spent again for every subscriber that lost a
// packet on its own downlink. A slot is indexed by seq mod cacheSize;
// with a continuous sequence a slot always holds the newest packet of its
// residue, so a hit is checked by the stored sequence number.
//
// The cached slices are shared, read-only, with the subscribers' queues;
// nobody writes to a packet after it was stored.
type packetCache struct {
	mu    sync.Mutex
	slots [cacheSize]cacheSlot
}

type cacheSlot struct {
	seq uint16
	pkt []byte
}

func (c *packetCache) store(seq uint16, pkt []byte) {
	c.mu.Lock()
	c.slots[seq%cacheSize] = cacheSlot{seq: seq, pkt: pkt}
	c.mu.Unlock()
}

// get returns the packet with sequence number seq, or nil.
func (c *packetCache) get(seq uint16) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.slots[seq%cacheSize]
	if s.pkt == nil || s.seq != seq {
		return nil
	}
	return s.pkt
}
