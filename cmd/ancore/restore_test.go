package main

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relay/store/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestSecondDeviceRestores is device restore end to end with real
// processes: Alice registers on node A, makes a community and posts in
// it, joins Carol's community, and sets her name. A fresh node D, whose
// user was made to pick another name, logs in with Alice's account: it
// becomes Alice, lists both communities, receives their history by sync,
// and shows Alice's name. The relay holds the records sealed.
func TestSecondDeviceRestores(t *testing.T) {
	db := pgtest.DSN(t)
	relay := relaytest.StartBinary(t, relaytest.BuildBinary(t), db)
	root := t.TempDir()
	a := startHeadless(t, filepath.Join(root, "a"), "--relay", relay.Base)
	carol := startHeadless(t, filepath.Join(root, "carol"))
	account := map[string]any{"email": "alice@example.org", "password": relaytest.Password}
	a.must(200, "POST", "/relay/register", account, nil)
	a.must(200, "PATCH", "/me", map[string]any{"name": "Alice", "status_text": "on the river"}, nil)

	type community struct {
		ID       string
		Name     string
		Member   bool
		Channels []struct{ ID string }
	}
	var own, joined community
	a.must(201, "POST", "/communities", map[string]any{"name": "Mill"}, &own)
	a.must(204, "POST", "/communities/"+own.ID+"/relay", nil, nil)
	a.must(201, "POST", "/channels/"+own.Channels[0].ID+"/messages", map[string]any{"text": "the wheel turns"}, nil)
	carol.must(201, "POST", "/communities", map[string]any{"name": "Ford"}, &joined)
	carol.must(201, "POST", "/channels/"+joined.Channels[0].ID+"/messages", map[string]any{"text": "the ford is passable"}, nil)
	var inv struct{ Link string }
	carol.must(201, "POST", "/communities/"+joined.ID+"/invites", map[string]any{}, &inv)
	a.must(200, "POST", "/communities/join", map[string]any{"invite": inv.Link}, nil)

	ctx := context.Background()
	pg, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(ctx)
	wait.For(t, "the relay to hold Alice's two communities and her profile", func() bool {
		var n int
		return pg.QueryRow(ctx, "SELECT count(*) FROM account_records").Scan(&n) == nil && n == 3
	})
	var leaks int
	if err := pg.QueryRow(ctx, "SELECT count(*) FROM account_records WHERE position($1::bytea in sealed) > 0 OR position($2::bytea in sealed) > 0",
		[]byte("Alice"), []byte("on the river")).Scan(&leaks); err != nil || leaks != 0 {
		t.Fatalf("%d records hold the profile in clear (%v)", leaks, err)
	}

	d := startHeadless(t, filepath.Join(root, "d"), "--relay", relay.Base)
	d.must(200, "PATCH", "/me", map[string]any{"name": "Dee"}, nil)
	d.must(200, "POST", "/relay/login", account, nil)
	var me, alice struct {
		User, Name string
		StatusText string `json:"status_text"`
	}
	a.must(200, "GET", "/me", nil, &alice)
	wait.For(t, "D to list Alice's communities", func() bool {
		var list []community
		if d.call("GET", "/communities", nil, &list) != 200 {
			return false
		}
		var names []string
		for _, c := range list {
			if c.Member {
				names = append(names, c.Name)
			}
		}
		slices.Sort(names)
		return slices.Equal(names, []string{"Ford", "Mill"})
	})
	for channel, text := range map[string]string{own.Channels[0].ID: "the wheel turns", joined.Channels[0].ID: "the ford is passable"} {
		wait.For(t, "D to receive "+text, func() bool {
			var got []message
			return d.call("GET", "/channels/"+channel+"/messages", nil, &got) == 200 && len(got) == 1 && got[0].Text == text
		})
	}
	d.must(200, "GET", "/me", nil, &me)
	if me.User != alice.User || me.Name != "Alice" || me.StatusText != "on the river" {
		t.Fatalf("D is %+v, want Alice (%+v)", me, alice)
	}
}
