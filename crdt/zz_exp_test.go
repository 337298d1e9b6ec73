package crdt

import (
	"fmt"
	"strings"
	"testing"

	"filippo.io/edwards25519"
)

func TestZZExp(t *testing.T) {
	inv := Invite{Community: testCommunity, Invite: testChannel}
	l := inv.Link()
	got, err := ParseInvite(l)
	fmt.Printf("addrs nil=%v err=%v len=%d\n", got.Addrs == nil, err, len(l))
	_, err = ParseInvite(strings.ToUpper(l))
	fmt.Println("upper whole:", err)
	for n := 0; n < 3000; n += 50 {
		inv.Addrs = []string{strings.Repeat("a", n)}
		l := inv.Link()
		_, err := ParseInvite(l)
		_, err2 := ParseInvite(strings.TrimPrefix(l, InviteScheme))
		fmt.Println(n, len(l), err != nil, err2 != nil)
	}
	for i := 0; i < 10; i++ {
		var u UserID
		u[0] = byte(i)
		_, err := new(edwards25519.Point).SetBytes(u[:])
		fmt.Println(i, err)
	}
	f := newOpFixture(t)
	ids := testIDs(3)
	op, err := f.device.Sign(Draft{Community: testCommunity, Kind: KindMemberRoles, HLC: hlcAt(0, 0), State: &StateBody{Roles: []ID{ids[0], ids[0]}}}, nil)
	fmt.Println(err)
	_, err = op.State()
	fmt.Println("state", err)
}
