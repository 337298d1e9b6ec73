// Package preview shows the holder of an invite link what it would join
// — the community's name, icon and member count — before it joins: the
// feature asks a member named in the link over /ancore/invite-preview/1
// (node/joinproto), and answers such requests for the communities this
// node holds, only to a device that proves it holds a valid invite, with
// the reasons a join would be refused for (expired, revoked, …) otherwise.
package preview

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/joinproto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Preview is the feature.
type Preview struct {
	host node.Host
	log  *slog.Logger
}

// New makes the feature; Open attaches it to a node.
func New() *Preview { return &Preview{} }

// Open attaches the feature to h, before h runs.
func (p *Preview) Open(h node.Host, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	p.host, p.log = h, logger.With("subsystem", "preview")
	return nil
}

// Run answers previews while the node is on the network, until ctx ends.
func (p *Preview) Run(ctx context.Context) {
	select {
	case <-p.host.Ready():
	case <-ctx.Done():
		return
	}
	h := p.host.Libp2p()
	h.SetStreamHandler(joinproto.PreviewProtocol, p.serve)
	<-ctx.Done()
	h.RemoveStreamHandler(joinproto.PreviewProtocol)
}

// Community is what a preview shows.
type Community struct {
	ID      crdt.ID
	Name    string
	Icon    []byte
	Members int
}

func (p *Preview) serve(s network.Stream) {
	asker := s.Conn().RemotePeer()
	err := joinproto.ServePreview(s, func(req joinproto.Request) (joinproto.Preview, error) {
		c, err := p.show(req, asker, time.Now())
		return joinproto.Preview{Name: c.Name, Icon: c.Icon, Members: c.Members}, err
	})
	if err != nil {
		p.log.Info("preview refused", "peer", asker, "err", err)
	}
}

// show is the community req asks about, if asker proves it holds a valid
// invite to it.
func (p *Preview) show(req joinproto.Request, asker peer.ID, now time.Time) (Community, error) {
	community, invite, user, err := req.Parsed()
	if err != nil {
		return Community{}, err
	}
	c, err := p.host.Community(community)
	if err != nil || c.Genesis == nil {
		return Community{}, joinproto.ErrNotHeld
	}
	inv, err := c.CheckInvite(invite, user, now.UnixMilli())
	if err != nil {
		return Community{}, err
	}
	if !crdt.VerifyPreviewProof(inv.Key, community, invite, user, []byte(asker), req.Proof) {
		return Community{}, fmt.Errorf("%w: %w", crdt.ErrUnauthorized, crdt.ErrBadProof)
	}
	out := Community{ID: community}
	if c.Meta != nil {
		info, err := p.host.OpenInfo(c.Meta)
		if err != nil {
			return Community{}, err
		}
		out.Name, out.Icon = info.Name, info.Icon
	}
	for _, m := range c.Members {
		if m.State == crdt.Joined {
			out.Members++
		}
	}
	return out, nil
}

// Show asks the members whose addresses link carries, in turn, what
// community it leads to. Refusals carry their reason (crdt.ErrInviteExpired,
// …) within node.ErrJoin; node.ErrCommunityUnreachable when no member
// answered for the community.
func (p *Preview) Show(ctx context.Context, link string) (Community, error) {
	inv, err := crdt.ParseInvite(link)
	if err != nil {
		return Community{}, err
	}
	if !p.host.Running() {
		return Community{}, node.ErrNotRunning
	}
	h := p.host.Libp2p()
	me := p.host.Identity().User.ID()
	req := joinproto.Request{Community: inv.Community[:], Invite: inv.Invite[:], User: me[:], Proof: inv.ProvePreview(me, []byte(h.ID()))}
	var errs []error
	refused := false
	for _, a := range inv.Addrs {
		pi, err := peer.AddrInfoFromString(a)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: invite address %q: %w", joinproto.ErrUnreachable, a, err))
			continue
		}
		shown, err := joinproto.AskPreview(ctx, h, *pi, req)
		if err != nil {
			refused = refused || !errors.Is(err, joinproto.ErrUnreachable) && !errors.Is(err, joinproto.ErrNotHeld)
			errs = append(errs, err)
			continue
		}
		return Community{ID: inv.Community, Name: shown.Name, Icon: shown.Icon, Members: shown.Members}, nil
	}
	if !refused {
		return Community{}, fmt.Errorf("%w: %w: %w", node.ErrJoin, node.ErrCommunityUnreachable, errors.Join(errs...))
	}
	return Community{}, fmt.Errorf("%w: %w", node.ErrJoin, errors.Join(errs...))
}

// Routes are the feature's routes of the local API.
func (p *Preview) Routes() []node.Route {
	return []node.Route{{Pattern: "POST /api/v1/invites/preview", Handle: p.postPreview}}
}

// CommunityJSON is a preview in the local API.
type CommunityJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Icon    []byte `json:"icon,omitempty"`
	Members int    `json:"members"`
	// Member: the local user is a member already.
	Member bool `json:"member"`
}

func (p *Preview) postPreview(r *http.Request) (int, any, error) {
	var in struct {
		Invite string `json:"invite"`
	}
	if err := httpjson.Decode(r, &in); err != nil {
		return 0, nil, err
	}
	// A relay's short code counts a use when resolved: only links preview.
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(in.Invite)), crdt.InviteScheme) {
		return 0, nil, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_invite", "a preview needs an invite link (ancore://invite/…)")
	}
	if _, err := crdt.ParseInvite(in.Invite); err != nil {
		return 0, nil, httpjson.Errorf(http.StatusUnprocessableEntity, "invalid_invite", "%v", err)
	}
	c, err := p.Show(r.Context(), in.Invite)
	if err != nil {
		return 0, nil, err
	}
	out := CommunityJSON{ID: c.ID.String(), Name: c.Name, Icon: c.Icon, Members: c.Members}
	if state, err := p.host.Community(c.ID); err == nil {
		out.Member, _, _ = state.Standing(p.host.Identity().User.ID())
	}
	return http.StatusOK, out, nil
}

// APIError maps the feature's errors: it has none of its own (the API
// maps the reasons of refusals, as for joins).
func (p *Preview) APIError(error) (*httpjson.StatusError, bool) { return nil, false }
