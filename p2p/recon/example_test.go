package recon_test

import (
	"fmt"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p/recon"
)

// logOf returns n ops, one a second, as reconciliation sees them.
func logOf(n int) []recon.Item {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	items := make([]recon.Item, n)
	for i := range items {
		items[i] = recon.Item{
			HLC: crdt.MakeHLC(start.Add(time.Duration(i)*time.Second), 0),
			ID:  crdt.IDOf(fmt.Appendf(nil, "op %d", i)),
		}
	}
	return items
}

// Two peers reconcile a log. Only the initiator learns the difference; the
// messages would travel over a stream.
func ExampleReconciler() {
	ops := logOf(1000)
	alice := ops[:990]                         // missed the last ten ops
	bob := append(ops[:500:500], ops[510:]...) // missed ten in the middle

	initiator := recon.NewReconciler(recon.NewSet(alice))
	responder := recon.NewReconciler(recon.NewSet(bob))
	msg, err := initiator.Initiate()
	var send, fetch []crdt.ID
	for err == nil && msg != nil {
		var reply []byte
		if reply, _, _, err = responder.Reconcile(msg); err != nil {
			break
		}
		var have, need []crdt.ID
		msg, have, need, err = initiator.Reconcile(reply)
		send, fetch = append(send, have...), append(fetch, need...)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("alice sends %d ops and fetches %d\n", len(send), len(fetch))
	// Output: alice sends 10 ops and fetches 10
}

// A peer that missed nothing: the responder's first reply settles it.
func Example_identical() {
	set := recon.NewSet(logOf(200_000))
	initiator, responder := recon.NewReconciler(set), recon.NewReconciler(set)
	msg, _ := initiator.Initiate()
	reply, _, _, _ := responder.Reconcile(msg)
	last, have, need, _ := initiator.Reconcile(reply)
	fmt.Printf("%d bytes out, %d back; done: %v, nothing more to send: %v; %d IDs to send, %d to fetch\n",
		len(msg), len(reply), initiator.Done(), last == nil, len(have), len(need))
	// Output: 414 bytes out, 1 back; done: true, nothing more to send: true; 0 IDs to send, 0 to fetch
}
