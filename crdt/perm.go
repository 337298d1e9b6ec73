package crdt

import "strings"

// Perm is a Discord-style permission bitfield. Roles grant permissions; a
// member holds the union of its roles' and @everyone's.
type Perm uint64

// Permissions.
const (
	PermManageCommunity Perm = 1 << iota // name, icon; revoke others' invites
	PermManageChannels                   // create, edit, reorder, delete channels
	PermManageRoles                      // create, edit, delete and assign roles below one's own
	PermKick
	PermBan
	PermCreateInvites // create invites and admit their holders
	PermSendMessages
	PermManageMessages // delete others' messages
	PermAttachFiles
	PermAddReactions
	PermConnect // join voice channels
	PermSpeak
	PermVideo
	PermAdministrator // every permission

	permAll = PermAdministrator<<1 - 1
)

// DefaultPerms are what @everyone holds in a new community.
const DefaultPerms = PermCreateInvites | PermSendMessages | PermAttachFiles |
	PermAddReactions | PermConnect | PermSpeak | PermVideo

var permNames = []string{"manage-community", "manage-channels", "manage-roles", "kick", "ban",
	"create-invites", "send-messages", "manage-messages", "attach-files", "add-reactions",
	"connect", "speak", "video", "administrator"}

// Has reports whether p grants every permission of q (Administrator grants
// all).
func (p Perm) Has(q Perm) bool { return p&PermAdministrator != 0 || p&q == q }

// Effective expands Administrator to every permission.
func (p Perm) Effective() Perm {
	if p&PermAdministrator != 0 {
		return permAll
	}
	return p & permAll
}

// Valid reports whether p uses only defined bits.
func (p Perm) Valid() bool { return p&^permAll == 0 }

func (p Perm) String() string {
	var names []string
	for i, n := range permNames {
		if p&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, "|")
}

// PermNames lists the permission names in bit order, for APIs.
func PermNames() []string { return append([]string(nil), permNames...) }

// PermByName returns the permission called name.
func PermByName(name string) (Perm, bool) {
	for i, n := range permNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}
