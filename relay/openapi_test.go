package relay

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relayapi"
)

// relayPaths are the paths of the document that the relay serves
// itself; the account and invite code paths are checked by their
// packages' tests.
var relayPaths = []string{"/communities", "/records", "/records/{id}", "/turn/credentials", "/info", "/healthz", "/metrics"}

// apiClient calls a relay's API through api, which checks each answer
// against docs/api/relay.yaml and records its operation.
type apiClient struct {
	t    *testing.T
	base string
	api  *relaytest.OpenAPI
}

func (c apiClient) must(status int, method, path, token string, in, out any) {
	c.t.Helper()
	var raw json.RawMessage
	if got := c.api.Call(c.t, c.base, method, path, token, in, &raw); got != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, got, raw, status)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
}

func (c apiClient) mustFail(status int, code, method, path, token string, in any) {
	c.t.Helper()
	var e httpjson.ErrorBody
	if got := c.api.Call(c.t, c.base, method, path, token, in, &e); got != status || e.Error.Code != code {
		c.t.Fatalf("%s %s: %d %+v, want %d %s", method, path, got, e, status, code)
	}
}

// TestOpenAPI drives each operation the relay serves itself through its
// answers, every one checked against the document.
func TestOpenAPI(t *testing.T) {
	r := startRelay(t)
	c := apiClient{t: t, base: base(r), api: new(relaytest.OpenAPI)}
	ada := relaytest.Register(t, c.base, "ada@example.org")
	bea := relaytest.Register(t, c.base, "bea@example.org")
	comm := crdttest.NewCommunity(t, 2)
	owner, member := comm.Members[0].User, comm.Members[1].User
	secret := []byte("a topic secret of 32 bytes......")
	carry := relaytest.CarryRequest(comm, secret, owner)
	with := func(field, value string) map[string]string {
		req := relaytest.CarryRequest(comm, secret, owner)
		req[field] = value
		return req
	}
	b64 := base64.StdEncoding.EncodeToString

	c.mustFail(401, "unauthorized", "POST", "/communities", "", carry)
	c.mustFail(403, "not_owner", "POST", "/communities", ada, relaytest.CarryRequest(comm, secret, member))
	c.mustFail(422, "bad_base64", "POST", "/communities", ada, with("proof", "not base64!"))
	c.mustFail(422, "bad_secret", "POST", "/communities", ada, relaytest.CarryRequest(comm, secret[:15], owner))
	c.mustFail(422, "bad_genesis", "POST", "/communities", ada, with("genesis", b64(comm.State[1].Encoded())))
	c.mustFail(400, "bad_json", "POST", "/communities", ada, with("name", "Ada's"))
	c.mustFail(413, "too_large", "POST", "/communities", ada, with("genesis", strings.Repeat("A", maxBody)))
	var carried relayapi.CarriedCommunity
	c.must(201, "POST", "/communities", ada, carry, &carried)
	if carried.ID != comm.ID.String() {
		t.Fatalf("carried %q, want %s", carried.ID, comm.ID)
	}
	c.mustFail(409, "carried_elsewhere", "POST", "/communities", bea, carry)

	// TURN credentials, for members of the carried community.
	now := time.Now()
	stranger, _ := crdt.NewUser()
	turnReq := func(u *crdt.User, at, signed time.Time) map[string]string {
		return map[string]string{"community": comm.ID.String(), "user": u.ID().String(),
			"at": at.Format(time.RFC3339), "proof": b64(u.SignTURN(comm.ID, signed.Unix()))}
	}
	var creds relayapi.TURNCredentials
	c.must(200, "POST", "/turn/credentials", bea, turnReq(owner, now, now), &creds)
	if !strings.HasSuffix(creds.Username, ":"+owner.ID().String()) || creds.Password == "" || len(creds.URLs) != 3 || creds.TTL != 12*3600 {
		t.Fatalf("TURN credentials %+v", creds)
	}
	c.mustFail(401, "unauthorized", "POST", "/turn/credentials", "", turnReq(owner, now, now))
	c.mustFail(403, "not_member", "POST", "/turn/credentials", ada, turnReq(stranger, now, now))
	c.mustFail(403, "not_member", "POST", "/turn/credentials", ada, turnReq(owner, now, now.Add(time.Second)))
	c.mustFail(422, "stale_proof", "POST", "/turn/credentials", ada, turnReq(owner, now.Add(-10*time.Minute), now.Add(-10*time.Minute)))
	badTURN := func(field, value string) map[string]string {
		req := turnReq(owner, now, now)
		req[field] = value
		return req
	}
	c.mustFail(422, "bad_user", "POST", "/turn/credentials", ada, badTURN("user", "nobody"))
	c.mustFail(422, "bad_community", "POST", "/turn/credentials", ada, badTURN("community", "nothing"))
	c.mustFail(422, "bad_base64", "POST", "/turn/credentials", ada, badTURN("proof", "not base64!"))
	c.mustFail(400, "bad_json", "POST", "/turn/credentials", ada, badTURN("secret", "x"))
	c.mustFail(413, "too_large", "POST", "/turn/credentials", ada, badTURN("proof", strings.Repeat("A", maxBody)))

	var list relayapi.CarriedCommunities
	c.must(200, "GET", "/communities", ada, nil, &list)
	if len(list.Communities) != 1 || list.Communities[0].ID != carried.ID {
		t.Fatalf("ada's communities: %+v", list)
	}
	c.must(200, "GET", "/communities", bea, nil, &list)
	if len(list.Communities) != 0 {
		t.Fatalf("bea's communities: %+v", list)
	}
	c.mustFail(401, "unauthorized", "GET", "/communities", "", nil)

	c.mustFail(401, "unauthorized", "DELETE", "/communities/"+comm.ID.String(), "", nil)
	c.mustFail(404, "not_found", "DELETE", "/communities/"+comm.ID.String(), bea, nil)
	c.mustFail(404, "not_found", "DELETE", "/communities/"+crdt.IDOf([]byte("unknown")).String(), ada, nil)
	c.mustFail(404, "not_found", "DELETE", "/communities/not-an-id", ada, nil)
	c.must(204, "DELETE", "/communities/"+comm.ID.String(), ada, nil, nil)
	c.mustFail(404, "not_found", "DELETE", "/communities/"+comm.ID.String(), ada, nil)

	// Sealed records: each account's own, bounded.
	sealed := func(n int) map[string]string { return map[string]string{"sealed": b64([]byte(strings.Repeat("s", n)))} }
	c.mustFail(401, "unauthorized", "GET", "/records", "", nil)
	c.mustFail(401, "unauthorized", "PUT", "/records/a", "", sealed(10))
	c.mustFail(422, "bad_record_id", "PUT", "/records/a.b", ada, sealed(10))
	c.mustFail(422, "bad_record_id", "PUT", "/records/"+strings.Repeat("a", relayapi.MaxRecordID+1), ada, sealed(10))
	c.mustFail(422, "bad_base64", "PUT", "/records/a", ada, map[string]string{"sealed": "not base64!"})
	c.mustFail(422, "bad_record", "PUT", "/records/a", ada, map[string]string{"sealed": ""})
	c.mustFail(400, "bad_json", "PUT", "/records/a", ada, map[string]string{"sealed": b64([]byte("x")), "id": "a"})
	c.mustFail(413, "too_large", "PUT", "/records/a", ada, sealed(relayapi.MaxRecordBytes+1))
	c.must(204, "PUT", "/records/a", ada, sealed(relayapi.MaxRecordBytes), nil)
	c.must(204, "PUT", "/records/b-_9", ada, sealed(3), nil)
	var records relayapi.Records
	c.must(200, "GET", "/records", ada, nil, &records)
	if len(records.Records) != 2 || records.Records[0].ID != "a" || len(records.Records[0].Sealed) != relayapi.MaxRecordBytes ||
		records.Records[1].ID != "b-_9" || string(records.Records[1].Sealed) != "sss" {
		t.Fatalf("ada's records: %d %+v", len(records.Records), records.Records[1:])
	}
	c.must(200, "GET", "/records", bea, nil, &records)
	if len(records.Records) != 0 {
		t.Fatalf("bea's records: %+v", records)
	}
	c.mustFail(404, "not_found", "DELETE", "/records/a", bea, nil)
	c.mustFail(401, "unauthorized", "DELETE", "/records/a", "", nil)
	c.must(204, "DELETE", "/records/a", ada, nil, nil)
	c.mustFail(404, "not_found", "DELETE", "/records/a", ada, nil)
	acct, err := r.store.AccountByEmail(t.Context(), "ada@example.org")
	if err != nil {
		t.Fatal(err)
	}
	for i := range relayapi.MaxRecords - 1 {
		if err := r.store.PutRecord(t.Context(), acct.ID, store.Record{ID: fmt.Sprint("r", i), Sealed: []byte("x")}, relayapi.MaxRecords); err != nil {
			t.Fatal(err)
		}
	}
	c.mustFail(409, "too_many_records", "PUT", "/records/one-more", ada, sealed(3))
	c.must(204, "PUT", "/records/b-_9", ada, sealed(4), nil) // a replacement is not one more

	var info relayapi.Info
	c.must(200, "GET", "/info", "", nil, &info)
	if info.Peer != r.host.ID().String() || len(info.Addrs) == 0 {
		t.Fatalf("info %+v", info)
	}
	c.must(200, "GET", "/healthz", "", nil, nil)
	if code := c.api.Call(t, c.base, "GET", "/metrics", "", nil, nil); code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	r.store.Close()
	c.mustFail(503, "database_unavailable", "GET", "/healthz", "", nil)

	off := startRelayWith(t, func(cfg *Config) { cfg.TURN = TURNConfig{} })
	offC := apiClient{t: t, base: base(off), api: c.api}
	offC.mustFail(404, "turn_disabled", "POST", "/turn/credentials", relaytest.Register(t, offC.base, "ada@example.org"), turnReq(owner, now, now))

	c.api.Covered(t, relayPaths...)
}
