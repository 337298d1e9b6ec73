package crdt

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"
	"time"
)

func FuzzDecode(f *testing.F) {
	fx := newOpFixture(f)
	for _, k := range allKinds {
		op := fx.sign(f, k)
		b := op.Encoded()
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(b[:len(b)/2])
		f.Add(op.Purge().Encoded())
	}
	del := fx.sign(f, KindDelete)
	h := del.wireHeader()
	h.Kind = 99
	f.Add(signWire(f, fx.device, h, nil))
	h = del.wireHeader()
	h.Parents = [][]byte{del.Target[:], del.Community[:]}
	f.Add(signWire(f, fx.device, h, nil))
	f.Add([]byte{})
	f.Add([]byte{0x85, 0x01, 0x40, 0x40, 0x40, 0x40})
	f.Add([]byte{0x85, 0x01, 0x41, 0x80, 0x40, 0x40, 0x40})
	f.Add([]byte("\x9f\xff not an op"))

	v := NewVerifier()
	keys := fx.keyring()
	f.Fuzz(func(t *testing.T, b []byte) {
		checkWireID(t, b)
		op, err := v.Decode(b, testNow)
		if err != nil {
			if op != nil {
				t.Fatalf("Decode returned an op and %v", err)
			}
			if !isDecodeError(err) {
				t.Fatalf("Decode error %v wraps no documented error", err)
			}
			return
		}
		if !bytes.Equal(op.Encoded(), b) {
			t.Fatalf("Encoded() % x differs from input % x", op.Encoded(), b)
		}
		if op.ID != IDOf(op.Skeleton()) {
			t.Fatalf("ID %v, want IDOf(Skeleton()) %v", op.ID, IDOf(op.Skeleton()))
		}
		stored, err := DecodeStored(b)
		if err != nil || stored.ID != op.ID {
			t.Fatalf("DecodeStored = %v, %v; want ID %v", stored, err, op.ID)
		}
		if _, err := op.Open(keys); err != nil &&
			!errors.Is(err, ErrNoKey) && !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrBadBody) && !errors.Is(err, ErrPurged) {
			t.Fatalf("Open error %v wraps no documented error", err)
		}
		if op.HLC.Time().After(testNow.Add(MaxClockSkew + time.Millisecond)) {
			t.Fatalf("accepted an op from %s", op.HLC)
		}
	})
}

// checkWireID: WireID gives the ID of every full op that parses, and
// takes nothing else that shares an ID: the bytes it accepts are the
// library's canonical encoding of a five-element op array.
func checkWireID(t *testing.T, b []byte) {
	t.Helper()
	id, ok := WireID(b)
	if op, err := parse(b, false); err == nil && !op.purged && (!ok || id != op.ID) {
		t.Fatalf("WireID = %v, %v; the op parses with ID %v", id, ok, op.ID)
	}
	if !ok {
		return
	}
	var w wireOp
	if err := decMode.Unmarshal(b, &w); err != nil {
		t.Fatalf("WireID accepted bytes that do not decode: %v", err)
	}
	again, err := encMode.Marshal(w)
	if err != nil || !bytes.Equal(again, b) || w.Version != Version || len(w.Digest) != 0 {
		t.Fatalf("WireID accepted a non-canonical or purged op % x", b)
	}
	if id != IDOf(skeleton(w.Header, sha256.Sum256(w.Body), w.Sig)) {
		t.Fatalf("WireID = %v, not the ID of the op's skeleton", id)
	}
}

func FuzzDecodeBody(f *testing.F) {
	fx := newOpFixture(f)
	for _, k := range allKinds {
		b, err := fx.drafts[k].Body.encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0xa0})
	f.Add([]byte{0xa1, 0x02, 0x41, 0x00})                   // reply-to of one byte
	f.Add([]byte{0xa1, 0x03, 0x81, 0x40})                   // an empty mention
	f.Add([]byte{0xa2, 0x01, 0x61, 0x61, 0x01, 0x61, 0x62}) // duplicate key
	f.Add([]byte{0xa1, 0x09, 0xf5})                         // an unknown key

	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := decodeBody(p)
		if err != nil {
			if !errors.Is(err, ErrBadBody) {
				t.Fatalf("decodeBody error %v does not wrap ErrBadBody", err)
			}
			return
		}
		for _, k := range allKinds {
			_ = b.validFor(k)
		}
		again, err := b.encode()
		if err != nil {
			t.Fatalf("encode %+v: %v", b, err)
		}
		back, err := decodeBody(again)
		if err != nil || !reflect.DeepEqual(back, b) {
			t.Fatalf("re-encoded body decodes to %+v, %v; want %+v", back, err, b)
		}
	})
}

func FuzzMessageRow(f *testing.F) {
	ids := testIDs(3)
	for _, m := range []*Message{
		{},
		{ID: ids[0], Channel: ids[1], Text: "hi", ReplyTo: ids[2], Mentions: []UserID{{1}}, Edited: Stamp{5, ids[2]}},
		{ID: ids[0], Deleted: true, Reactions: []Reaction{{Emoji: "👍", User: UserID{2}, Stamp: Stamp{3, ids[1]}, On: true}}},
	} {
		b, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x80})
	f.Add([]byte{0x8d})

	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		again, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded row: %v", err)
		}
		var back Message
		if err := back.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(normalized(&back), normalized(&m)) {
			t.Fatalf("row round trip: %+v, %v; want %+v", back, err, m)
		}
	})
}
