package node

import (
	"context"
	"errors"

	"github.com/ancore/ancore/crdt"
)

// The local user's profile, as published in its communities.
const (
	settingProfile    = "profile"     // the display name
	settingStatusText = "status-text" // the custom status
)

// publishProfile gives community id this user's profile, if the
// community does not show it yet (a profile set before joining).
func (n *Node) publishProfile(id crdt.ID) {
	p := n.Profile()
	c, err := n.Community(id)
	if err != nil {
		return
	}
	m := c.Members[n.Identity().User.ID()]
	if m == nil || m.State != crdt.Joined {
		return
	}
	var shown Profile
	if m.Profile != nil {
		if info, err := n.OpenInfo(m.Profile); err == nil {
			shown = Profile{Name: info.Name, StatusText: info.StatusText}
		}
	}
	if shown == p {
		return
	}
	if err := n.SetProfile(context.Background(), id, p); err != nil {
		n.log.Warn("profile", "community", id, "err", err)
	}
}

// Profile is the local user's profile.
func (n *Node) Profile() Profile {
	name, _ := n.store.Setting(settingProfile)
	text, _ := n.store.Setting(settingStatusText)
	return Profile{Name: string(name), StatusText: string(text)}
}

// SetLocalProfile sets the local user's profile and publishes it in every
// community the user belongs to.
func (n *Node) SetLocalProfile(ctx context.Context, p Profile) error {
	if err := n.store.PutSetting(settingProfile, []byte(p.Name)); err != nil {
		return err
	}
	if err := n.store.PutSetting(settingStatusText, []byte(p.StatusText)); err != nil {
		return err
	}
	var errs []error
	for _, id := range n.Communities() {
		if c, err := n.Community(id); err == nil && c.Members[n.Identity().User.ID()] != nil &&
			c.Members[n.Identity().User.ID()].State == crdt.Joined {
			errs = append(errs, n.SetProfile(ctx, id, p))
		}
	}
	return errors.Join(errs...)
}
