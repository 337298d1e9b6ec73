package api

import (
	"slices"
	"testing"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/relayclient"
	"github.com/fxamacker/cbor/v2"
)

// TestRelayRestoresCommunities: a second device that logs in to the
// user's account gets the user's communities — one the user made, one
// it joined — their history by sync, and the user's profile over the
// name it had; records that do not open or are not what their ID names
// are skipped and stay as they are; leaving a community deletes its
// record.
func TestRelayRestoresCommunities(t *testing.T) {
	f := startFakeRelay(t)
	a := startAPINodeIn(t, t.TempDir(), f.url())
	carol := startAPINode(t)
	a.must(200, "POST", "/relay/register", map[string]any{"email": testEmail, "password": testPassword}, nil)
	a.must(200, "PATCH", "/me", map[string]any{"name": "Alice", "status_text": "writing"}, nil)
	var own CommunityJSON
	a.must(201, "POST", "/communities", map[string]any{"name": "Alice's"}, &own)
	general := own.Channels[0].ID
	a.must(201, "POST", "/channels/"+general+"/messages", map[string]any{"text": "first post"}, nil)
	var joined CommunityJSON
	carol.must(201, "POST", "/communities", map[string]any{"name": "Carol's"}, &joined)
	var inv InviteJSON
	carol.must(201, "POST", "/communities/"+joined.ID+"/invites", map[string]any{}, &inv)
	a.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	waitFor(t, "the relay holds both communities and the profile", func() bool { return len(f.accountRecords(testEmail)) == 3 })

	// Records a new device must skip: sealed for another user, damaged,
	// not a record, and a community's record under another ID.
	user := a.Identity().User
	keys := relayclient.DeriveRecordKeys(user)
	stranger, err := crdt.NewUser()
	if err != nil {
		t.Fatal(err)
	}
	bogus := crdt.IDOf([]byte("a community nobody is in"))
	plain, err := cbor.Marshal([]any{1, bogus[:], []byte("a topic secret of 32 bytes......"), [][]byte{}, []string{}})
	if err != nil {
		t.Fatal(err)
	}
	seal := func(k *relayclient.RecordKeys, id string, plain []byte) []byte {
		b, err := k.Seal(id, plain)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	damaged := seal(keys, "damaged", plain)
	damaged[len(damaged)-1] ^= 1
	bad := map[string][]byte{
		"stranger":  seal(relayclient.DeriveRecordKeys(stranger), "stranger", plain),
		"damaged":   damaged,
		"garbage":   seal(keys, "garbage", []byte("not CBOR")),
		"misplaced": seal(keys, "misplaced", plain), // opens, but names another community than its ID
	}
	f.mu.Lock()
	held := f.records[relayclient.NormalizeEmail(testEmail)]
	for id, b := range bad {
		held[id] = b
	}
	f.mu.Unlock()

	dirD := t.TempDir()
	d := startAPINodeIn(t, dirD, f.url())
	d.must(200, "PATCH", "/me", map[string]any{"name": "Dee"}, nil)
	d.must(200, "POST", "/relay/login", map[string]any{"email": testEmail, "password": testPassword}, nil)
	// The login answers once the profile is restored: the first-run
	// screen that logged in asks for no name.
	var me MeJSON
	d.must(200, "GET", "/me", nil, &me)
	if me.Name != "Alice" || me.StatusText != "writing" {
		t.Fatalf("the new device's profile after the login: %+v, want Alice's", me)
	}
	waitFor(t, "the new device lists the user's communities", func() bool {
		var list []CommunityJSON
		if d.call("GET", "/communities", nil, &list) != 200 {
			return false
		}
		names := []string{}
		for _, c := range list {
			if c.Member {
				names = append(names, c.Name)
			}
		}
		slices.Sort(names)
		return slices.Equal(names, []string{"Alice's", "Carol's"})
	})
	waitFor(t, "the history arrives", func() bool {
		return slices.Equal(texts2(d.messages(general, "")), []string{"first post"})
	})
	if slices.Contains(d.Communities(), bogus) {
		t.Fatal("a misplaced record was imported")
	}
	got := f.accountRecords(testEmail)
	for id, b := range bad {
		if string(got[id]) != string(b) {
			t.Errorf("record %s changed", id)
		}
	}

	// Leaving deletes the community's record; the others stay.
	joinedID := mustID(t, joined.ID)
	rid := keys.ID(slices.Concat([]byte("community\x00"), joinedID[:]))
	if got[rid] == nil {
		t.Fatalf("no record %s for the joined community among %d", rid, len(got))
	}
	a.must(204, "POST", "/communities/"+joined.ID+"/leave", nil, nil)
	waitFor(t, "the left community's record is deleted", func() bool {
		_, ok := f.accountRecords(testEmail)[rid]
		return !ok
	})
	if n := len(f.accountRecords(testEmail)); n != 2+len(bad) {
		t.Fatalf("%d records after leaving, want %d", n, 2+len(bad))
	}

	// A community the user joins on A while D is off reaches D when it
	// starts again, logged in.
	d.Stop(t)
	var later CommunityJSON
	carol.must(201, "POST", "/communities", map[string]any{"name": "Later"}, &later)
	carol.must(201, "POST", "/communities/"+later.ID+"/invites", map[string]any{}, &inv)
	a.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)
	waitFor(t, "the relay holds the new community", func() bool { return len(f.accountRecords(testEmail)) == 3+len(bad) })
	d = startAPINodeIn(t, dirD, f.url())
	waitFor(t, "the restarted device lists the new community", func() bool {
		var c CommunityJSON
		return d.call("GET", "/communities/"+later.ID, nil, &c) == 200 && c.Member && c.Name == "Later"
	})
}
