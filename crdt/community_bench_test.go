package crdt

import (
	"fmt"
	"testing"
	"time"
)

// bigCommunity returns a world whose community has n members (the owner
// and n-1 admitted through one invite), built without recomputing the
// state after every admission: the epoch tips do not change meanwhile.
func bigCommunity(b *testing.B, n int) (*world, *Community, Invite) {
	b.Helper()
	w := newWorld(b)
	_, inv := w.invite("owner", 0, 0, nil)
	view := w.build()
	owner := w.person("owner")
	for i := 1; i < n; i++ {
		joiner := w.person(fmt.Sprint("member ", i)).user.ID()
		dr, err := AdmitDraft(view, 0, inv.Invite, joiner, inv.Prove(joiner), w.secret, owner.keys)
		if err != nil {
			b.Fatal(err)
		}
		dr.Parents = heads(w.ops)
		w.sign("owner", dr, nil)
	}
	c := w.build()
	if got := len(c.MemberUsers()); got != n {
		b.Fatalf("%d members, want %d: %v", got, n, c.Rejected)
	}
	return w, c, inv
}

// BenchmarkRekey measures rotating the epoch key after a removal: wrapping
// the new key for every remaining member and signing the rekey op.
func BenchmarkRekey(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			w, c, _ := bigCommunity(b, n)
			owner := w.person("owner")
			var size int
			var elapsed time.Duration
			for b.Loop() {
				next := newTestKey(b)
				start := time.Now()
				dr, err := RekeyDraft(c, w.clock+1, next, owner.keys)
				if err != nil {
					b.Fatal(err)
				}
				dr.Community = c.ID
				op, err := owner.dev.Sign(dr, next)
				if err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				size = len(op.Encoded())
			}
			b.ReportMetric(float64(size)/float64(n), "bytes-per-member")
			b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(b.N), "ms")
		})
	}
}

// BenchmarkAdmit measures admitting one member into a community of 1000:
// the size of the admit op, which carries the joiner's grant only.
func BenchmarkAdmit(b *testing.B) {
	w, c, inv := bigCommunity(b, 1000)
	owner := w.person("owner")
	var size int
	for b.Loop() {
		joiner := newTestUser(b).ID()
		dr, err := AdmitDraft(c, w.clock+1, inv.Invite, joiner, inv.Prove(joiner), w.secret, owner.keys)
		if err != nil {
			b.Fatal(err)
		}
		op, err := owner.dev.Sign(dr, nil)
		if err != nil {
			b.Fatal(err)
		}
		size = len(op.Encoded())
	}
	b.ReportMetric(float64(size), "bytes")
}
