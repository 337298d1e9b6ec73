// Package joinproto is the wire of joining: the join protocol
// (/ancore/join/2, and /ancore/join/1 for older nodes) by which an
// invite's holder asks a member to admit it, and the invite preview
// (/ancore/invite-preview/1) by which it first asks what it would join.
// It holds the messages, their framing, the reasons a member gives with a
// refusal, and both ends of a stream; what a member decides is its
// caller's. One request, one answer, on a stream of its own.
package joinproto

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// The protocols. Version 2 of join adds the reason to a refusal; a node
// serves both versions, and asks for 2 first, then 1.
const (
	Protocol        protocol.ID = "/ancore/join/2"
	ProtocolV1      protocol.ID = "/ancore/join/1"
	PreviewProtocol protocol.ID = "/ancore/invite-preview/1"
)

const (
	// Timeout bounds a whole exchange, dialling included.
	Timeout = 30 * time.Second
	// maxMessage bounds a message: an admit op and its framing.
	maxMessage = crdt.MaxOpSize + 1024
	// maxText bounds a refusal's text, which the joiner shows.
	maxText = 256
)

// ErrNotHeld: the member asked does not hold the community the invite
// names (it left, or the link names the wrong peer).
var ErrNotHeld = errors.New("community not held here")

// ErrUnreachable: the member could not be reached, or did not answer.
var ErrUnreachable = errors.New("member unreachable")

// Request is what the joiner sends on either protocol. Proof is the
// invite key's signature: crdt.Invite.Prove for a join,
// crdt.Invite.ProvePreview for a preview.
type Request struct {
	_         struct{} `cbor:",toarray"`
	Community []byte
	Invite    []byte
	User      []byte
	Proof     []byte
}

// Parsed returns the request's ids; a malformed request is an error.
func (r Request) Parsed() (community, invite crdt.ID, user crdt.UserID, err error) {
	community, err1 := crdt.IDFromBytes(r.Community)
	invite, err2 := crdt.IDFromBytes(r.Invite)
	if err1 != nil || err2 != nil || len(r.User) != len(user) {
		return community, invite, user, fmt.Errorf("%w: join request", crdt.ErrMalformed)
	}
	copy(user[:], r.User)
	return community, invite, user, nil
}

// answer is a join answer: the admit op, or why not.
type answer struct {
	_      struct{} `cbor:",toarray"`
	Admit  []byte
	Reason Reason
	Error  string
}

// answerV1 is the answer of /ancore/join/1, without a reason.
type answerV1 struct {
	_     struct{} `cbor:",toarray"`
	Admit []byte
	Error string
}

// Preview is what a member shows the holder of a valid invite: the
// community's name, icon and member count.
type Preview struct {
	Name    string
	Icon    []byte
	Members int
}

type previewAnswer struct {
	_       struct{} `cbor:",toarray"`
	Name    string
	Icon    []byte
	Members uint32
	Reason  Reason
	Error   string
}

var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{MaxArrayElements: 16, MaxMapPairs: 16, MaxNestedLevels: 4}.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func write(w io.Writer, v any) error {
	b, err := cbor.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...))
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(io.LimitReader(r, maxMessage+binary.MaxVarintLen64))
	size, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, err
	}
	if size > maxMessage {
		return nil, fmt.Errorf("%w: join message of %d bytes", crdt.ErrTooLarge, size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeRequest decodes a request's bytes (the frame's content).
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	if err := decMode.Unmarshal(b, &r); err != nil {
		return Request{}, fmt.Errorf("%w: join request: %v", crdt.ErrMalformed, err)
	}
	return r, nil
}

// decodeAnswer decodes a join answer of protocol p into the admit op's
// bytes or the member's refusal.
func decodeAnswer(b []byte, p protocol.ID, from peer.ID) ([]byte, error) {
	var a answer
	if p == ProtocolV1 {
		var v1 answerV1
		if err := decMode.Unmarshal(b, &v1); err != nil {
			return nil, fmt.Errorf("%w: join answer: %v", crdt.ErrMalformed, err)
		}
		a.Admit, a.Error = v1.Admit, v1.Error
	} else if err := decMode.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%w: join answer: %v", crdt.ErrMalformed, err)
	}
	if a.Error != "" || len(a.Admit) == 0 {
		return nil, refusal(from, a.Reason, a.Error)
	}
	return a.Admit, nil
}

// decodePreview decodes a preview answer.
func decodePreview(b []byte, from peer.ID) (Preview, error) {
	var a previewAnswer
	if err := decMode.Unmarshal(b, &a); err != nil {
		return Preview{}, fmt.Errorf("%w: preview answer: %v", crdt.ErrMalformed, err)
	}
	if a.Error != "" {
		return Preview{}, refusal(from, a.Reason, a.Error)
	}
	if len(a.Name) > 4*crdt.MaxNameLen || len(a.Icon) > crdt.MaxIconSize {
		return Preview{}, fmt.Errorf("%w: preview answer: name or icon too large", crdt.ErrMalformed)
	}
	return Preview{Name: a.Name, Icon: a.Icon, Members: int(a.Members)}, nil
}

// ServeJoin answers one join request on s (either version) with the
// admit op's bytes admit returns, or the reason and text of its error,
// which it returns (nil when admitted).
func ServeJoin(s network.Stream, admit func(Request) ([]byte, error)) error {
	return serve(s, func(req Request) (any, error) {
		op, err := admit(req)
		if s.Protocol() == ProtocolV1 {
			return answerV1{Admit: op, Error: text(err)}, err
		}
		return answer{Admit: op, Reason: ReasonOf(err), Error: text(err)}, err
	})
}

// ServePreview answers one preview request on s with what preview
// returns, or the reason and text of its error, which it returns.
func ServePreview(s network.Stream, preview func(Request) (Preview, error)) error {
	return serve(s, func(req Request) (any, error) {
		p, err := preview(req)
		return previewAnswer{Name: p.Name, Icon: p.Icon, Members: uint32(p.Members), Reason: ReasonOf(err), Error: text(err)}, err
	})
}

func serve(s network.Stream, answer func(Request) (any, error)) error {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(Timeout))
	b, err := readFrame(s)
	var req Request
	if err == nil {
		req, err = DecodeRequest(b)
	}
	if err != nil {
		_ = s.Reset()
		return err
	}
	out, err := answer(req)
	if werr := write(s, out); err == nil {
		err = werr
	}
	return err
}

func text(err error) string {
	if err == nil {
		return ""
	}
	t := err.Error()
	if len(t) > maxText {
		t = strings.ToValidUTF8(t[:maxText], "") // CBOR text must stay UTF-8
	}
	return t
}

// ask sends req to the member at addr over the first of protocols it
// speaks and returns the answer's bytes and the protocol.
func ask(ctx context.Context, h host.Host, pi peer.AddrInfo, req Request, protocols ...protocol.ID) ([]byte, protocol.ID, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if err := h.Connect(ctx, pi); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrUnreachable, pi.ID, err)
	}
	s, err := h.NewStream(ctx, pi.ID, protocols...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrUnreachable, pi.ID, err)
	}
	defer s.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(d)
	}
	if err := write(s, req); err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrUnreachable, pi.ID, err)
	}
	b, err := readFrame(s)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrUnreachable, pi.ID, err)
	}
	return b, s.Protocol(), nil
}

// Join asks the member pi to admit req's user and returns the admit op's
// bytes (unverified: the caller decodes them), or the member's refusal
// (a *Refusal) or ErrUnreachable.
func Join(ctx context.Context, h host.Host, pi peer.AddrInfo, req Request) ([]byte, error) {
	b, p, err := ask(ctx, h, pi, req, Protocol, ProtocolV1)
	if err != nil {
		return nil, err
	}
	return decodeAnswer(b, p, pi.ID)
}

// AskPreview asks the member pi to show the community req's invite names.
func AskPreview(ctx context.Context, h host.Host, pi peer.AddrInfo, req Request) (Preview, error) {
	b, _, err := ask(ctx, h, pi, req, PreviewProtocol)
	if err != nil {
		return Preview{}, err
	}
	return decodePreview(b, pi.ID)
}
