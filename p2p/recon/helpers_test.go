package recon

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/ancore/ancore/crdt"
)

// randomID returns an ID with the Ancore CID prefix and a random digest;
// hashing is not needed for reconciliation and would slow big sets down.
func randomID(rng *rand.Rand) crdt.ID {
	var id crdt.ID
	copy(id[:], cidPrefix[:])
	for k := prefixSize; k < crdt.IDSize; k += 8 {
		v := rng.Uint64()
		for b := 0; b < 8 && k+b < crdt.IDSize; b++ {
			id[k+b] = byte(v >> (8 * b))
		}
	}
	return id
}

// randomItems returns n items in log order whose clocks advance by up to
// step milliseconds, so that step 0 gives every item the same HLC.
func randomItems(rng *rand.Rand, n int, step int) []Item {
	items := make([]Item, n)
	hlc := crdt.HLC(1_700_000_000_000 << 16)
	for i := range items {
		if step > 0 {
			hlc += crdt.HLC(rng.IntN(step+1)) << 16
		}
		items[i] = Item{HLC: hlc, ID: randomID(rng)}
	}
	slices.SortFunc(items, Item.Compare)
	return items
}

// outcome is a whole reconciliation as both peers saw it.
type outcome struct {
	have, need []crdt.ID // as the initiator learned them
	rounds     int       // round trips: replies from the responder
	bytes      int       // both directions
	repeats    int       // IDs the initiator learned twice
}

// exchange runs a reconciliation between initiator and responder to the
// end, failing after maxRounds round trips.
func exchange(initiator, responder *Reconciler, maxRounds int) (outcome, error) {
	var out outcome
	msg, err := initiator.Initiate()
	if err != nil {
		return out, fmt.Errorf("initiate: %w", err)
	}
	for msg != nil {
		if out.rounds == maxRounds {
			return out, fmt.Errorf("not done after %d round trips", maxRounds)
		}
		if len(msg) > MaxMessageSize {
			return out, fmt.Errorf("initiator sent %d bytes", len(msg))
		}
		out.bytes += len(msg)
		reply, have, need, err := responder.Reconcile(msg)
		if err != nil {
			return out, fmt.Errorf("responder, round %d: %w", out.rounds+1, err)
		}
		if have != nil || need != nil {
			return out, fmt.Errorf("responder learned %d/%d IDs", len(have), len(need))
		}
		if len(reply) > MaxMessageSize {
			return out, fmt.Errorf("responder sent %d bytes", len(reply))
		}
		out.rounds++
		out.bytes += len(reply)
		msg, have, need, err = initiator.Reconcile(reply)
		if err != nil {
			return out, fmt.Errorf("initiator, round %d: %w", out.rounds, err)
		}
		out.have = append(out.have, have...)
		out.need = append(out.need, need...)
	}
	if !initiator.Done() {
		return out, fmt.Errorf("initiator stopped sending but is not done")
	}
	out.repeats = initiator.repeats
	return out, nil
}

// difference returns the IDs of a's items that b lacks.
func difference(a, b []Item) map[crdt.ID]bool {
	inB := make(map[crdt.ID]bool, len(b))
	for _, it := range b {
		inB[it.ID] = true
	}
	d := make(map[crdt.ID]bool)
	for _, it := range a {
		if !inB[it.ID] {
			d[it.ID] = true
		}
	}
	return d
}

// sameIDs reports how got differs from want, with duplicates counted as
// differences; "" if it does not.
func sameIDs(got []crdt.ID, want map[crdt.ID]bool) string {
	seen := make(map[crdt.ID]bool, len(got))
	for _, id := range got {
		switch {
		case seen[id]:
			return fmt.Sprintf("%s reported twice", id)
		case !want[id]:
			return fmt.Sprintf("%s reported but not in the difference", id)
		}
		seen[id] = true
	}
	if len(seen) != len(want) {
		return fmt.Sprintf("%d of %d IDs reported", len(seen), len(want))
	}
	return ""
}

// fataler is what testing.TB and rapid.T share.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func checkOutcome(t fataler, out outcome, a, b []Item) {
	t.Helper()
	if why := sameIDs(out.have, difference(a, b)); why != "" {
		t.Fatalf("have: %s", why)
	}
	if why := sameIDs(out.need, difference(b, a)); why != "" {
		t.Fatalf("need: %s", why)
	}
}
