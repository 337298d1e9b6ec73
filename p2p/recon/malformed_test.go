package recon

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// msg builds a message from the version and the given fields: []byte is
// copied, int is written as a uvarint.
func msg(fields ...any) []byte {
	b := []byte{ProtocolVersion}
	for _, f := range fields {
		switch f := f.(type) {
		case []byte:
			b = append(b, f...)
		case int:
			b = binary.AppendUvarint(b, uint64(f))
		case mode:
			b = binary.AppendUvarint(b, uint64(f))
		case uint64:
			b = binary.AppendUvarint(b, f)
		}
	}
	return b
}

func TestMalformed(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	items := randomItems(rng, 10, 1)
	set := NewSet(items)
	d0, d1 := set.digest(0), set.digest(1)
	inf := 0                                               // the infinite bound
	fin := func(hlc int) []byte { return msg(1, hlc)[1:] } // a bound without prefix
	cases := []struct {
		name      string
		initiator bool
		msg       []byte
		want      error
	}{
		{"empty", false, nil, ErrMalformed},
		{"unknown version", false, []byte{ProtocolVersion + 1}, ErrVersion},
		{"too long", false, append(msg(inf, modeSkip), make([]byte, MaxMessageSize)...), ErrMalformed},
		{"bad varint", false, msg([]byte{0x80}), ErrMalformed},
		{"truncated bound", false, msg(4, 7, []byte{1}), ErrMalformed},
		{"prefix too long", false, msg(digestSize+2, 7, make([]byte, digestSize+1), modeSkip), ErrMalformed},
		{"clock overflows", false, msg(1, uint64(math.MaxUint64), modeSkip, 1, 1, modeSkip), ErrMalformed},
		{"first bound at zero", false, msg(1, 0, modeSkip), ErrMalformed},
		{"bounds repeat", false, msg(fin(5), modeSkip, 1, 0, modeSkip), ErrMalformed},
		{"bounds go back", false, msg(2, 5, []byte{9}, modeSkip, 2, 0, []byte{8}, modeSkip), ErrMalformed},
		{"range after infinity", false, msg(inf, modeSkip, inf, modeSkip), ErrMalformed},
		{"unknown mode", false, msg(inf, 4), ErrMalformed},
		{"missing mode", false, msg(inf), ErrMalformed},
		{"truncated fingerprint", false, msg(inf, modeFingerprint, make([]byte, fingerprintSize-1)), ErrMalformed},
		{"count larger than message", false, msg(inf, modeIDList, 2, d0), ErrMalformed},
		{"huge count", false, msg(inf, modeIDList, uint64(math.MaxUint64)), ErrMalformed},
		{"ID listed twice", false, msg(inf, modeIDList, 2, d0, d0), ErrMalformed},
		{"diff sent to responder", false, msg(inf, modeIDDiff, 0, 0), ErrMalformed},
		{"diff bits past the end", true, msg(inf, modeIDDiff, 3, []byte{0x08}, 0), ErrMalformed},
		{"diff of another count", true, msg(inf, modeIDDiff, 3, []byte{0x01}, 0), ErrMalformed},
		{"diff truncated", true, msg(inf, modeIDDiff, 10, []byte{0, 0}, 1, d1[:5]), ErrMalformed},
		{"list twice to initiator", true, msg(inf, modeIDList, 2, d1, d1), ErrMalformed},
		{"fingerprint without count", false, msg(inf, modeFingerprint, make([]byte, fingerprintSize)), ErrMalformed},
		{"error after a good range", false, msg(fin(1), modeFingerprint, make([]byte, fingerprintSize), 0, inf, 9), ErrMalformed},
	}
	for _, tc := range cases {
		r := NewReconciler(set)
		if tc.initiator {
			if _, err := r.Initiate(); err != nil {
				t.Fatal(err)
			}
		}
		reply, have, need, err := r.Reconcile(tc.msg)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
		if reply != nil || have != nil || need != nil {
			t.Errorf("%s: error came with a reply or IDs", tc.name)
		}
	}
}

func TestOutOfTurn(t *testing.T) {
	set := NewSet(randomItems(rand.New(rand.NewPCG(13, 14)), 2*IDListThreshold, 1))
	initiator, responder := NewReconciler(set), NewReconciler(set)
	first, err := initiator.Initiate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := initiator.Initiate(); !errors.Is(err, ErrState) {
		t.Fatalf("second Initiate: %v", err)
	}
	reply, _, _, err := responder.Reconcile(first)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := responder.Initiate(); !errors.Is(err, ErrState) {
		t.Fatalf("Initiate on the responder: %v", err)
	}
	if !responder.Done() || !bytes.Equal(reply, []byte{ProtocolVersion}) {
		t.Fatalf("responder with the same set answered %x, done %v", reply, responder.Done())
	}
	if _, _, _, err := responder.Reconcile(first); !errors.Is(err, ErrState) {
		t.Fatalf("Reconcile on a finished responder: %v", err)
	}
	last, _, _, err := initiator.Reconcile(reply)
	if err != nil || last != nil || !initiator.Done() {
		t.Fatalf("initiator: reply %x, err %v, done %v", last, err, initiator.Done())
	}
	if _, _, _, err := initiator.Reconcile(reply); !errors.Is(err, ErrState) {
		t.Fatalf("Reconcile on a finished initiator: %v", err)
	}
}

// TestRepeatsDropped sends the initiator the same list twice, as a reply
// cut short can make an honest peer do: the second time teaches nothing.
func TestRepeatsDropped(t *testing.T) {
	items := randomItems(rand.New(rand.NewPCG(15, 16)), 20, 1000)
	r := NewReconciler(NewSet(append(items[:10:10], items[15:]...)))
	if _, err := r.Initiate(); err != nil {
		t.Fatal(err)
	}
	// The peer lists items 5 to 14 as all it has below item 15, and sends
	// a fingerprint above that keeps the session going.
	peer := NewSet(items[5:15])
	w := newWriter()
	w.idList(bound{hlc: items[15].HLC}, peer, 0, peer.Len())
	w.fingerprint(infBound, peer, 0, 0)
	for round, want := range []int{10, 0} {
		reply, have, need, err := r.Reconcile(w.buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(have) + len(need); got != want || reply == nil {
			t.Fatalf("round %d: learned %d IDs, want %d; reply %x", round, got, want, reply)
		}
	}
	if r.repeats != 10 {
		t.Fatalf("%d repeats, want 10", r.repeats)
	}
}
