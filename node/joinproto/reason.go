package joinproto

import (
	"errors"
	"fmt"

	"github.com/ancore/ancore/crdt"
)

// Reason is why a member refused, as a number beside the refusal's text,
// so that the joiner can say it in its own words. A joiner takes it for
// nothing but that: a member may lie, so a refusal never stops the joiner
// from asking the other members, and it trusts only an admission that
// verifies.
type Reason uint8

// The reasons. Numbers are fixed on the wire; a reason this code does not
// know reads as Refused.
const (
	Refused Reason = iota // for another reason: the text says which
	InviteUnknown
	InviteRevoked
	InviteExpired
	InviteUsedUp
	BadProof
	Banned
	Dissolved
	NotHeld
)

// reasons maps each reason to the error it stands for.
var reasons = [...]error{
	InviteUnknown: crdt.ErrInviteUnknown,
	InviteRevoked: crdt.ErrInviteRevoked,
	InviteExpired: crdt.ErrInviteExpired,
	InviteUsedUp:  crdt.ErrInviteUsedUp,
	BadProof:      crdt.ErrBadProof,
	Banned:        crdt.ErrBanned,
	Dissolved:     crdt.ErrDissolved,
	NotHeld:       ErrNotHeld,
}

// ReasonOf is the reason a refusal with err gives.
func ReasonOf(err error) Reason {
	if err == nil {
		return Refused
	}
	for r, e := range reasons {
		if e != nil && errors.Is(err, e) {
			return Reason(r)
		}
	}
	return Refused
}

// Err is the error r stands for; nil for Refused and unknown reasons.
func (r Reason) Err() error {
	if int(r) < len(reasons) {
		return reasons[r]
	}
	return nil
}

// Refusal is a member's refusal as the joiner sees it: errors.Is finds
// the reason's error (crdt.ErrInviteExpired, …) in it.
type Refusal struct {
	Peer   string
	Reason Reason
	Text   string
}

func refusal(from fmt.Stringer, r Reason, text string) *Refusal {
	if text == "" {
		text = "no reason given"
	}
	return &Refusal{Peer: from.String(), Reason: r, Text: text}
}

func (r *Refusal) Error() string { return r.Peer + " refused: " + r.Text }

// Unwrap returns the reason's error.
func (r *Refusal) Unwrap() error { return r.Reason.Err() }
