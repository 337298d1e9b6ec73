package recon

import (
	"math/rand/v2"
	"testing"
)

// FuzzDecode feeds arbitrary messages to both roles: each must come back
// with a well-formed reply or an error, never a panic.
func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(17, 18))
	universe := randomItems(rng, 400, 2)
	var mine, theirs []Item
	for i, it := range universe {
		if i%3 != 0 {
			mine = append(mine, it)
		}
		if i%5 != 0 {
			theirs = append(theirs, it)
		}
	}
	set, peer := NewSet(mine), NewSet(theirs)

	// Seeds: every message of a real exchange, and a few broken ones.
	a, b := NewReconciler(peer), NewReconciler(set)
	m, _ := a.Initiate()
	for m != nil {
		f.Add(m)
		reply, _, _, err := b.Reconcile(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(reply)
		if m, _, _, err = a.Reconcile(reply); err != nil {
			f.Fatal(err)
		}
	}
	small, _ := NewReconciler(NewSet(universe[:10])).Initiate()
	f.Add(small)
	f.Add([]byte{})
	f.Add([]byte{ProtocolVersion})
	f.Add([]byte{ProtocolVersion, 0, byte(modeIDDiff), 3, 0x05, 0})

	f.Fuzz(func(t *testing.T, msg []byte) {
		responder, initiator := NewReconciler(set), NewReconciler(set)
		if _, err := initiator.Initiate(); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*Reconciler{responder, initiator} {
			reply, have, need, err := r.Reconcile(msg)
			if err != nil {
				if reply != nil || have != nil || need != nil {
					t.Fatalf("error %v came with a reply or IDs", err)
				}
				continue
			}
			if r == responder && reply == nil {
				t.Fatal("the responder has no reply")
			}
			if reply == nil {
				continue
			}
			if len(reply) > MaxMessageSize {
				t.Fatalf("reply of %d bytes", len(reply))
			}
			d, err := newDecoder(reply)
			if err != nil {
				t.Fatalf("reply does not decode: %v", err)
			}
			var in inRange
			for {
				ok, err := d.next(&in)
				if err != nil {
					t.Fatalf("reply does not decode: %v", err)
				}
				if !ok {
					break
				}
			}
		}
	})
}
