package node

import (
	"bytes"
	"context"
	"errors"

	"github.com/ancore/ancore/crdt"
)

// The local user's profile, as published in its communities.
const (
	settingProfile    = "profile"     // the display name
	settingStatusText = "status-text" // the custom status
	settingAvatar     = "avatar"
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
	shown := n.MemberProfile(c, m.User)
	if shown.Name == p.Name && shown.StatusText == p.StatusText && bytes.Equal(shown.Avatar, p.Avatar) {
		return
	}
	if err := n.SetProfile(context.Background(), id, p); err != nil {
		n.log.Warn("profile", "community", id, "err", err)
	}
}

// MemberProfile is user u's profile in community c, as this node can read
// it (crdt.Community.OpenProfile).
func (n *Node) MemberProfile(c *crdt.Community, u crdt.UserID) crdt.Info {
	info, _ := c.OpenProfile(u, n.comms.keyring())
	return info
}

// Profile is the local user's profile.
func (n *Node) Profile() Profile {
	name, _ := n.store.Setting(settingProfile)
	text, _ := n.store.Setting(settingStatusText)
	avatar, _ := n.store.Setting(settingAvatar)
	return Profile{Name: string(name), StatusText: string(text), Avatar: avatar}
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
	if err := n.store.PutSetting(settingAvatar, p.Avatar); err != nil {
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
