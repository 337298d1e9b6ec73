package api

import (
	"slices"
	"strings"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
)

// The JSON resources of the local API (docs/api/openapi.yaml). IDs of ops
// and what they create are CID strings; users and devices are their keys
// in base32 (crdt.KeyText).

// MeJSON is the local user.
type MeJSON struct {
	User       string `json:"user"`
	Device     string `json:"device"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	StatusText string `json:"status_text"`
	Avatar     string `json:"avatar,omitempty"` // the avatar's tag (avatarTag); none without one
}

// CommunityJSON is a community as this node sees it.
type CommunityJSON struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Icon     []byte        `json:"icon,omitempty"`
	Owner    string        `json:"owner"`
	Channels []ChannelJSON `json:"channels"`
	Roles    []RoleJSON    `json:"roles"`
	Perms    []string      `json:"my_permissions"`
	MyRoles  []string      `json:"my_roles"`
	Member   bool          `json:"member"`
	// Dissolved: its owner dissolved it (shown only in the event that says
	// so: the routes answer 410 dissolved after).
	Dissolved bool `json:"dissolved"`
	Carried   bool `json:"carried"` // by the node's relay, as it told this node
}

// ChannelJSON is a channel.
type ChannelJSON struct {
	ID        string `json:"id"`
	Community string `json:"community"`
	Name      string `json:"name"`
	Topic     string `json:"topic"`
	Type      string `json:"type"`
	Position  int64  `json:"position"`
}

// RoleJSON is a role; @everyone's ID is the community's.
type RoleJSON struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Color    uint32   `json:"color"`
	Perms    []string `json:"permissions"`
	Position int64    `json:"position"`
}

// MemberJSON is a member, past or present.
type MemberJSON struct {
	User       string    `json:"user"`
	Name       string    `json:"name"`
	State      string    `json:"state"`
	Roles      []string  `json:"roles"`
	Owner      bool      `json:"owner"`
	JoinedAt   time.Time `json:"joined_at"`
	Status     string    `json:"status"` // online, idle, dnd or offline
	StatusText string    `json:"status_text"`
	Avatar     string    `json:"avatar,omitempty"` // the avatar's tag (avatarTag); none without one
}

// InviteJSON is an invite; Link only when it is created.
type InviteJSON struct {
	ID        string     `json:"id"`
	Creator   string     `json:"creator"`
	ExpiresAt *time.Time `json:"expires_at"`
	MaxUses   uint32     `json:"max_uses"`
	Uses      int        `json:"uses"`
	Revoked   bool       `json:"revoked"`
	Link      string     `json:"link,omitempty"`
}

// NewInviteJSON is a new invite: with its link and, when the node has a
// relay session, the relay's short code for it (else null).
type NewInviteJSON struct {
	InviteJSON
	Code *string `json:"code"`
}

// MessageJSON is a message.
type MessageJSON struct {
	ID        string         `json:"id"`
	Channel   string         `json:"channel"`
	Author    string         `json:"author"`
	Text      string         `json:"text"`
	ReplyTo   string         `json:"reply_to,omitempty"`
	Mentions  []string       `json:"mentions"`
	Everyone  bool           `json:"everyone"`
	CreatedAt time.Time      `json:"created_at"`
	EditedAt  *time.Time     `json:"edited_at"`
	Reactions []ReactionJSON `json:"reactions"`
	State     string         `json:"state"` // "sent", or "pending" while no peer has it
}

// ReactionJSON is one emoji on a message and who chose it.
type ReactionJSON struct {
	Emoji string   `json:"emoji"`
	Users []string `json:"users"`
}

// NetworkJSON is the node's connectivity.
type NetworkJSON struct {
	PeerID string           `json:"peer_id"`
	Addrs  []string         `json:"addrs"`
	Peers  []PeerJSON       `json:"peers"`
	Sync   []node.SyncEvent `json:"sync"`  // sessions under way
	Relay  any              `json:"relay"` // Config.RelayNetwork's, or noRelay
}

// PeerJSON is a connected peer.
type PeerJSON struct {
	ID    string   `json:"id"`
	Addrs []string `json:"addrs"`
}

var memberStates = map[crdt.MemberState]string{crdt.Joined: "joined", crdt.Left: "left", crdt.Kicked: "kicked", crdt.Banned: "banned"}

func channelType(t crdt.ChannelType) string {
	if t == crdt.ChannelVoice {
		return "voice"
	}
	return "text"
}

func permNames(p crdt.Perm) []string {
	names := []string{}
	for i, name := range crdt.PermNames() {
		if p&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	return names
}

// communityJSON renders a community's state with the names this node can
// open.
func (s *Server) communityJSON(c *crdt.Community) CommunityJSON {
	out := CommunityJSON{ID: c.ID.String(), Owner: c.Owner.String(), Channels: []ChannelJSON{}, Roles: []RoleJSON{}, MyRoles: []string{}}
	if c.Meta != nil {
		if info, err := s.node.OpenInfo(c.Meta); err == nil {
			out.Name, out.Icon = info.Name, info.Icon
		}
	}
	for _, ch := range c.Channels {
		if !ch.Deleted {
			out.Channels = append(out.Channels, s.channelJSON(c.ID, ch))
		}
	}
	slices.SortFunc(out.Channels, func(a, b ChannelJSON) int {
		if a.Position != b.Position {
			return int(a.Position - b.Position)
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, r := range c.Roles {
		if !r.Deleted {
			out.Roles = append(out.Roles, s.roleJSON(c, r))
		}
	}
	slices.SortFunc(out.Roles, func(a, b RoleJSON) int { return int(b.Position - a.Position) })
	self := s.node.Identity().User.ID()
	out.Dissolved = c.Dissolved
	member, perms, _ := c.Standing(self)
	out.Member, out.Perms = member, permNames(perms)
	if m := c.Members[self]; m != nil && member {
		for _, r := range m.Roles {
			out.MyRoles = append(out.MyRoles, r.String())
		}
	}
	out.Carried = s.carried != nil && s.carried(c.ID)
	return out
}

func (s *Server) channelJSON(community crdt.ID, ch *crdt.Channel) ChannelJSON {
	out := ChannelJSON{ID: ch.ID.String(), Community: community.String(), Type: channelType(ch.Type), Position: ch.Position}
	if info, err := s.node.OpenInfo(ch.Info); err == nil {
		out.Name, out.Topic = info.Name, info.Topic
	}
	return out
}

func (s *Server) roleJSON(c *crdt.Community, r *crdt.Role) RoleJSON {
	out := RoleJSON{ID: r.ID.String(), Perms: permNames(r.Perms.Effective()), Position: r.Position}
	if r.ID == c.ID {
		out.Name = "@everyone"
	} else if r.Info != nil {
		if info, err := s.node.OpenInfo(r.Info); err == nil {
			out.Name, out.Color = info.Name, info.Color
		}
	}
	return out
}

// memberJSON shows a member with its profile, or without a name the start
// of its key.
func (s *Server) memberJSON(c *crdt.Community, m *crdt.Member) MemberJSON {
	profile := s.node.MemberProfile(c, m.User)
	if profile.Name == "" {
		profile.Name = m.User.String()[:8]
	}
	out := MemberJSON{User: m.User.String(), Name: profile.Name, State: memberStates[m.State], Roles: []string{},
		Owner: m.User == c.Owner, Status: s.node.UserStatus(c.ID, m.User), StatusText: profile.StatusText,
		Avatar: avatarTag(profile.Avatar)}
	if m.Joined != nil {
		out.JoinedAt = m.Joined.HLC.Time().UTC()
	}
	for _, r := range m.Roles {
		out.Roles = append(out.Roles, r.String())
	}
	return out
}

func inviteJSON(inv *crdt.InviteInfo) InviteJSON {
	out := InviteJSON{ID: inv.ID.String(), Creator: inv.Creator.String(), MaxUses: inv.MaxUses, Uses: inv.Uses, Revoked: inv.Revoked}
	if inv.Expires != 0 {
		t := time.UnixMilli(inv.Expires).UTC()
		out.ExpiresAt = &t
	}
	return out
}

func (s *Server) messageJSON(m *crdt.Message) MessageJSON {
	out := MessageJSON{ID: m.ID.String(), Channel: m.Channel.String(), Author: m.Author.String(), Text: m.Text,
		Mentions: []string{}, Everyone: m.Everyone, CreatedAt: m.HLC.Time().UTC(), Reactions: []ReactionJSON{}, State: "sent"}
	if !m.ReplyTo.IsZero() {
		out.ReplyTo = m.ReplyTo.String()
	}
	for _, u := range m.Mentions {
		out.Mentions = append(out.Mentions, u.String())
	}
	if !m.Edited.IsZero() {
		t := m.Edited.HLC.Time().UTC()
		out.EditedAt = &t
	}
	for _, r := range m.Reacted() {
		if k := len(out.Reactions); k > 0 && out.Reactions[k-1].Emoji == r.Emoji {
			out.Reactions[k-1].Users = append(out.Reactions[k-1].Users, r.User.String())
		} else {
			out.Reactions = append(out.Reactions, ReactionJSON{Emoji: r.Emoji, Users: []string{r.User.String()}})
		}
	}
	if s.node.Pending(m) {
		out.State = "pending"
	}
	return out
}

// MemberEvent is the data of member:join, member:leave and member:update.
type MemberEvent struct {
	Community string     `json:"community"`
	Member    MemberJSON `json:"member"`
}

// publish renders one of the node's events in the API's shape and puts it
// on the stream.
func (s *Server) publish(ev node.Event) {
	data := ev.Data
	switch d := ev.Data.(type) {
	case *crdt.Message:
		data = s.messageJSON(d)
	case *crdt.Community:
		data = s.communityJSON(d)
	case node.ChannelChange:
		data = s.channelJSON(d.Community, d.Channel)
	case node.MemberChange:
		data = MemberEvent{Community: d.Community.ID.String(), Member: s.memberJSON(d.Community, d.Member)}
	}
	s.hub.Publish(ev.Type, data)
}
