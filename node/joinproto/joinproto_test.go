package joinproto

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

const member = peer.ID("member")

// TestReasons: every reason travels as its number and comes back as its
// error; errors without one, and numbers this code does not know, are
// plain refusals.
func TestReasons(t *testing.T) {
	for r := Refused + 1; r <= NotHeld; r++ {
		err := fmt.Errorf("wrapped: %w: %w", crdt.ErrUnauthorized, r.Err())
		if got := ReasonOf(err); got != r {
			t.Errorf("ReasonOf(%v) = %d, want %d", err, got, r)
		}
		b, _ := cbor.Marshal(answer{Reason: ReasonOf(err), Error: err.Error()})
		_, got := decodeAnswer(b, Protocol, member)
		var refusal *Refusal
		if !errors.As(got, &refusal) || !errors.Is(got, r.Err()) || refusal.Text != err.Error() {
			t.Errorf("reason %d comes back as %v", r, got)
		}
	}
	if ReasonOf(errors.New("other")) != Refused || ReasonOf(nil) != Refused || Reason(200).Err() != nil {
		t.Error("an unknown reason is not a plain refusal")
	}
}

// TestAnswerVersions: version 1 answers have no reason; both versions
// carry an admission and a refusal.
func TestAnswerVersions(t *testing.T) {
	for _, tc := range []struct {
		p   protocol.ID
		msg any
	}{
		{ProtocolV1, answerV1{Admit: []byte("op")}},
		{Protocol, answer{Admit: []byte("op")}},
	} {
		b, _ := cbor.Marshal(tc.msg)
		if op, err := decodeAnswer(b, tc.p, member); err != nil || string(op) != "op" {
			t.Errorf("%s: %q, %v", tc.p, op, err)
		}
	}
	b, _ := cbor.Marshal(answerV1{Error: "unauthorized op: invite expired"})
	_, err := decodeAnswer(b, ProtocolV1, member)
	var refusal *Refusal
	if !errors.As(err, &refusal) || refusal.Reason != Refused || errors.Is(err, crdt.ErrInviteExpired) {
		t.Errorf("a version 1 refusal: %v (its text is not taken for a reason)", err)
	}
	// A version 2 answer is not a version 1 answer, nor the reverse.
	b, _ = cbor.Marshal(answer{Admit: []byte("op")})
	if _, err := decodeAnswer(b, ProtocolV1, member); !errors.Is(err, crdt.ErrMalformed) {
		t.Errorf("a version 2 answer on version 1: %v", err)
	}
}

// TestLongText: a refusal's text is cut to what a joiner shows, and stays
// text that decodes.
func TestLongText(t *testing.T) {
	long := errors.New("a" + strings.Repeat("é", maxText)) // the cut falls inside an é
	b, err := cbor.Marshal(answer{Reason: ReasonOf(long), Error: text(long)})
	if err != nil {
		t.Fatal(err)
	}
	_, got := decodeAnswer(b, Protocol, member)
	var refusal *Refusal
	if !errors.As(got, &refusal) || len(refusal.Text) > maxText || !strings.HasPrefix(long.Error(), refusal.Text) {
		t.Errorf("a long refusal comes back as %v", got)
	}
}

func TestFraming(t *testing.T) {
	var buf bytes.Buffer
	req := Request{Community: []byte{1}, Invite: []byte{2}, User: []byte{3}, Proof: []byte{4}}
	if err := write(&buf, req); err != nil {
		t.Fatal(err)
	}
	b, err := readFrame(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRequest(b)
	if err != nil || !bytes.Equal(got.Proof, req.Proof) {
		t.Fatalf("%+v, %v", got, err)
	}
	if _, _, _, err := got.Parsed(); !errors.Is(err, crdt.ErrMalformed) {
		t.Errorf("ids of one byte parse: %v", err)
	}
	huge := bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	if _, err := readFrame(huge); !errors.Is(err, crdt.ErrTooLarge) {
		t.Errorf("a frame over the limit: %v", err)
	}
}

// FuzzDecode: no bytes from a peer make the decoders panic, and what a
// preview answer passes is within the bounds the UI is promised.
func FuzzDecode(f *testing.F) {
	for _, v := range []any{
		Request{Community: make([]byte, 36), Invite: make([]byte, 36), User: make([]byte, 32), Proof: make([]byte, 64)},
		answer{Admit: []byte("op"), Reason: InviteExpired, Error: "expired"},
		answerV1{Error: "no"},
		previewAnswer{Name: "n", Icon: []byte{1}, Members: 3},
		previewAnswer{Reason: Banned, Error: "banned"},
	} {
		b, _ := cbor.Marshal(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := DecodeRequest(b); err == nil {
			_, _, _, _ = r.Parsed()
		}
		_, _ = decodeAnswer(b, Protocol, member)
		_, _ = decodeAnswer(b, ProtocolV1, member)
		if p, err := decodePreview(b, member); err == nil && (len(p.Icon) > crdt.MaxIconSize || p.Members < 0) {
			t.Errorf("preview out of bounds: %d bytes of icon, %d members", len(p.Icon), p.Members)
		}
		_, _ = readFrame(bytes.NewReader(b))
	})
}
