package api

import (
	"net/http"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/picture"
	"github.com/ancore/ancore/node/store"
)

// maxInviteTTL is the longest an invite may live before it expires.
const maxInviteTTL = 10 * 365 * 24 * time.Hour

// LimitsJSON is every limit the API's handlers check, so that a client
// can say so before it sends rather than learn it from a 422. Lengths of
// text are in characters (Unicode code points), sizes in bytes. Icons and
// avatars are what the node makes of a picture (PictureBytes and
// PicturePixels at most), which it scales down to fit.
type LimitsJSON struct {
	MessageText      int   `json:"message_text"`
	Mentions         int   `json:"mentions"`
	EmojiBytes       int   `json:"emoji_bytes"`
	Name             int   `json:"name"`
	StatusText       int   `json:"status_text"`
	Topic            int   `json:"topic"`
	IconBytes        int   `json:"icon_bytes"`
	AvatarBytes      int   `json:"avatar_bytes"`
	PictureBytes     int   `json:"picture_bytes"`
	PicturePixels    int   `json:"picture_pixels"`
	MemberRoles      int   `json:"member_roles"`
	Page             int   `json:"page"`
	InviteTTLSeconds int64 `json:"invite_ttl_seconds"`
	RequestBytes     int   `json:"request_bytes"`
}

var limits = LimitsJSON{
	MessageText:      crdt.MaxTextLen,
	Mentions:         crdt.MaxMentions,
	EmojiBytes:       crdt.MaxEmojiBytes,
	Name:             crdt.MaxNameLen,
	StatusText:       crdt.MaxStatusTextLen,
	Topic:            crdt.MaxTopicLen,
	IconBytes:        crdt.MaxIconSize,
	AvatarBytes:      crdt.MaxAvatarSize,
	PictureBytes:     picture.MaxInputBytes,
	PicturePixels:    picture.MaxPixels,
	MemberRoles:      crdt.MaxRoles,
	Page:             store.MaxPageLimit,
	InviteTTLSeconds: int64(maxInviteTTL / time.Second),
	RequestBytes:     MaxBody,
}

func (s *Server) getLimits(*http.Request) (int, any, error) { return http.StatusOK, limits, nil }
