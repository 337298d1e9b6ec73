package node

import (
	"fmt"
	"slices"
)

// Statuses a user can choose; "invisible" shows as offline to others.
var statuses = []string{"online", "idle", "dnd", "invisible"}

const settingStatus = "status"

// Status returns the local user's chosen status.
func (n *Node) Status() string {
	v, _ := n.store.Setting(settingStatus)
	if len(v) == 0 {
		return "online"
	}
	return string(v)
}

// SetStatus sets the local user's status.
func (n *Node) SetStatus(s string) error {
	if !slices.Contains(statuses, s) {
		return fmt.Errorf("status must be one of %v", statuses)
	}
	return n.store.PutSetting(settingStatus, []byte(s))
}
