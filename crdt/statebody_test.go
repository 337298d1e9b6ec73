package crdt

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// sbFixture is an author, an epoch key and a state draft that uses every
// field of StateBody.
type sbFixture struct {
	device     *Device
	key        *EpochKey
	recipients []*User // of the draft's wraps
	secret     []byte  // what the wraps carry
	draft      Draft   // an admit
}

func newSBFixture(t testing.TB) sbFixture {
	t.Helper()
	u := newTestUser(t)
	f := sbFixture{device: newTestDevice(t, u), key: newTestKey(t), recipients: newTestUsers(t, 3), secret: testSecret(t)}
	ids := testIDs(8)
	roles := slices.SortedFunc(slices.Values(ids[:3]), ID.Compare)
	pos, perms := int64(-7), PermKick|PermBan|PermSendMessages
	inviteKey := [32]byte{1, 2, 3}
	old1, old2 := newTestKey(t), newTestKey(t)
	f.draft = Draft{
		Community: testCommunity, Kind: KindAdmit, HLC: hlcAt(0, 3), Parents: ids[5:7], Target: ids[7],
		State: &StateBody{
			Info: &Info{Name: "général", StatusText: "away 🌴", Topic: "a topic", Icon: []byte("\x89PNG…"), Avatar: []byte("\xff\xd8\xff…"), Color: 0xabcdef,
				Keys: [][]byte{old1.Bytes(), old2.Bytes()}},
			ChannelType: ChannelVoice,
			Position:    &pos,
			Perms:       &perms,
			User:        f.recipients[0].ID(),
			Roles:       roles,
			InviteKey:   inviteKey,
			Expires:     1_750_000_000_000,
			MaxUses:     25,
			Proof:       bytes.Repeat([]byte{0x5a}, 64),
			Wraps:       mustSealTo(t, userIDs(f.recipients), f.secret, testWrapContext),
			Seen: []Seen{
				{Log: ids[3], Device: DeviceID{9, 8, 7}, Last: ids[4]},
				{Log: testCommunity, Device: f.device.ID(), Last: ids[0]},
			},
		},
	}
	return f
}

func (f sbFixture) keyring() Keyring { return Keyring{f.key.ID(): f.key} }

// sbOp is an op value carrying body: all that State reads.
func sbOp(k Kind, epoch EpochID, body []byte) *Op { return &Op{Kind: k, Epoch: epoch, Body: body} }

func sbMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := encMode.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sbFakeWraps returns n sorted recipients with boxes of a 32-byte secret's
// size that nobody can open: enough for size limits, cheap to make.
func sbFakeWraps(n int) *Wraps {
	w := &Wraps{Eph: [32]byte{0x42}, To: make([]Wrap, n)}
	for i := range w.To {
		binary.BigEndian.PutUint32(w.To[i].User[:], uint32(i+1))
		w.To[i].Box = bytes.Repeat([]byte{byte(i)}, 32+chacha20poly1305.Overhead)
	}
	return w
}

func TestStateBodyRoundTrip(t *testing.T) {
	f := newSBFixture(t)
	op := mustSign(t, f.device, f.draft, f.key)
	v := NewVerifier()
	for name, decode := range map[string]func([]byte) (*Op, error){
		"Decode":       func(b []byte) (*Op, error) { return v.Decode(b, testNow) },
		"DecodeStored": DecodeStored,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := decode(op.Encoded())
			if err != nil {
				t.Fatal(err)
			}
			if got.Epoch != f.key.ID() || got.Target != f.draft.Target || got.Community != testCommunity {
				t.Errorf("header: epoch %x target %s community %s", got.Epoch, got.Target, got.Community)
			}
			s, err := got.State()
			if err != nil {
				t.Fatalf("State: %v", err)
			}
			if !s.HasInfo() {
				t.Fatal("HasInfo() is false for an op with Info")
			}
			// Info stays sealed in the parsed body; everything else is clear.
			want := *f.draft.State
			want.Info = nil
			clear := s
			clear.sealed = nil
			if !reflect.DeepEqual(clear, want) {
				t.Errorf("State() =\n %+v\nwant\n %+v", clear, want)
			}
			if len(s.Roles) != 3 || !slices.IsSortedFunc(s.Roles, ID.Compare) {
				t.Errorf("roles %v", s.Roles)
			}

			info, err := got.OpenInfo(s, f.keyring())
			if err != nil {
				t.Fatalf("OpenInfo: %v", err)
			}
			if !reflect.DeepEqual(info, *f.draft.State.Info) {
				t.Errorf("OpenInfo = %+v, want %+v", info, *f.draft.State.Info)
			}
			for _, u := range f.recipients {
				if secret, err := s.Wraps.Open(u, testWrapContext); err != nil || !bytes.Equal(secret, f.secret) {
					t.Errorf("decoded wraps: Open = %x, %v", secret, err)
				}
			}
		})
	}
}

func TestStateBodyWithoutInfo(t *testing.T) {
	f := newSBFixture(t)
	dr := f.draft
	s := *dr.State
	s.Info = nil
	dr.State = &s
	op := mustSign(t, f.device, dr, nil) // nothing to seal: no key needed
	if !op.Epoch.IsZero() {
		t.Errorf("op without Info has epoch %x", op.Epoch)
	}
	got, err := NewVerifier().Decode(op.Encoded(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	body, err := got.State()
	if err != nil {
		t.Fatal(err)
	}
	if body.HasInfo() {
		t.Error("HasInfo() for an op without Info")
	}
	if info, err := got.OpenInfo(body, nil); err != nil || !reflect.DeepEqual(info, Info{}) {
		t.Errorf("OpenInfo without Info = %+v, %v; want the zero Info", info, err)
	}

	// A key given for a draft without Info is not used.
	op = mustSign(t, f.device, dr, f.key)
	if !op.Epoch.IsZero() {
		t.Errorf("op without Info signed with a key has epoch %x", op.Epoch)
	}
}

func TestGenesisOp(t *testing.T) {
	f := newSBFixture(t)
	dr := Draft{Kind: KindGenesis, HLC: hlcAt(0, 0), State: &StateBody{Info: &Info{Name: "The Community", Icon: []byte{1, 2, 3}}}}
	op := mustSign(t, f.device, dr, f.key)
	if op.Community != op.ID || op.ID.IsZero() {
		t.Fatalf("genesis community %s, id %s", op.Community, op.ID)
	}
	got, err := NewVerifier().Decode(op.Encoded(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got.Community != op.ID || got.ID != op.ID || got.Log() != op.ID {
		t.Errorf("decoded genesis: community %s id %s log %s; want %s", got.Community, got.ID, got.Log(), op.ID)
	}
	s, err := got.State()
	if err != nil {
		t.Fatal(err)
	}
	info, err := got.OpenInfo(s, f.keyring())
	if err != nil || !reflect.DeepEqual(info, *dr.State.Info) {
		t.Errorf("OpenInfo = %+v, %v", info, err)
	}
	if _, err := f.device.Sign(dr, nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("genesis with Info but no key: %v, want ErrNoKey", err)
	}
	// Two geneses differ (by clock or author), and so do their communities.
	dr.HLC++
	if other := mustSign(t, f.device, dr, f.key); other.Community == op.Community {
		t.Error("two genesis ops name the same community")
	}
}

func TestOpenInfoErrors(t *testing.T) {
	f := newSBFixture(t)
	op := mustSign(t, f.device, f.draft, f.key)
	s, err := op.State()
	if err != nil {
		t.Fatal(err)
	}
	other := newTestKey(t)
	with := func(sealed []byte) StateBody {
		c := s
		c.sealed = sealed
		return c
	}
	sealAs := func(plain []byte) []byte {
		b, err := f.key.seal(plain, op.header)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	flipped := slices.Clone(s.sealed)
	flipped[len(flipped)-1] ^= 1
	nonceFlipped := slices.Clone(s.sealed)
	nonceFlipped[0] ^= 1
	// The same Info sealed for another op: the header is the AD.
	dr := f.draft
	dr.HLC++
	moved := mustSign(t, f.device, dr, f.key)

	cases := []struct {
		name string
		op   *Op
		body StateBody
		keys Keyring
		want error
	}{
		{"no keyring", op, s, nil, ErrNoKey},
		{"another epoch's key", op, s, Keyring{other.ID(): other}, ErrNoKey},
		{"wrong key under the epoch's id", op, s, Keyring{op.Epoch: other}, ErrDecrypt},
		{"tampered tag", op, with(flipped), f.keyring(), ErrDecrypt},
		{"tampered nonce", op, with(nonceFlipped), f.keyring(), ErrDecrypt},
		{"truncated", op, with(s.sealed[:chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead-1]), f.keyring(), ErrDecrypt},
		{"sealed for another op", moved, s, f.keyring(), ErrDecrypt},
		{"junk plaintext", op, with(sealAs([]byte{0xff, 0x00})), f.keyring(), ErrBadBody},
		{"plaintext not a map", op, with(sealAs([]byte{0x80})), f.keyring(), ErrBadBody},
		{"colour out of range", op, with(sealAs(sbMarshal(t, wireInfo{Name: "x", Color: 1 << 24}))), f.keyring(), ErrBadBody},
		{"name too long", op, with(sealAs(sbMarshal(t, wireInfo{Name: strings.Repeat("n", MaxNameLen+1)}))), f.keyring(), ErrBadBody},
		{"status text too long", op, with(sealAs(sbMarshal(t, wireInfo{StatusText: strings.Repeat("s", MaxStatusTextLen+1)}))), f.keyring(), ErrBadBody},
		{"short epoch key", op, with(sealAs(sbMarshal(t, wireInfo{Keys: [][]byte{make([]byte, 31)}}))), f.keyring(), ErrBadBody},
		{"icon too large", op, with(sealAs(sbMarshal(t, wireInfo{Icon: make([]byte, MaxIconSize+1)}))), f.keyring(), ErrBadBody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if info, err := c.op.OpenInfo(c.body, c.keys); !errors.Is(err, c.want) {
				t.Errorf("OpenInfo = %+v, %v; want %v", info, err, c.want)
			}
		})
	}
	if info, err := op.OpenInfo(with(sealAs(sbMarshal(t, wireInfo{Name: "resealed"}))), f.keyring()); err != nil || info.Name != "resealed" {
		t.Errorf("OpenInfo of a resealed Info = %+v, %v", info, err)
	}
	// An Info from before the status text, and one from a newer node with
	// a key this one does not know, both open.
	older := sbMarshal(t, map[int]any{1: "Dan"})
	newer := sbMarshal(t, map[int]any{1: "Dan", 6: "here", 99: "later"})
	for plain, want := range map[string]Info{string(older): {Name: "Dan"}, string(newer): {Name: "Dan", StatusText: "here"}} {
		if info, err := op.OpenInfo(with(sealAs([]byte(plain))), f.keyring()); err != nil || !reflect.DeepEqual(info, want) {
			t.Errorf("OpenInfo of %x = %+v, %v; want %+v", plain, info, err, want)
		}
	}
}

func TestSignStateRejects(t *testing.T) {
	f := newSBFixture(t)
	parent := testIDs(1)[0]
	meta := func(edit func(*Draft)) Draft {
		dr := Draft{Community: testCommunity, Kind: KindMeta, HLC: hlcAt(0, 0), State: &StateBody{Info: &Info{Name: "ok"}}}
		edit(&dr)
		return dr
	}
	info := func(i Info) func(*Draft) { return func(d *Draft) { d.State.Info = &i } }
	cases := []struct {
		name  string
		draft Draft
		key   *EpochKey
		want  error
	}{
		{"no state body", meta(func(d *Draft) { d.State = nil }), f.key, ErrBadBody},
		{"Info without a key", meta(func(*Draft) {}), nil, ErrNoKey},
		{"name too long", meta(info(Info{Name: strings.Repeat("é", MaxNameLen+1)})), f.key, ErrBadBody},
		{"name not UTF-8", meta(info(Info{Name: "a\xffb"})), f.key, ErrBadBody},
		{"status text too long", meta(info(Info{StatusText: strings.Repeat("é", MaxStatusTextLen+1)})), f.key, ErrBadBody},
		{"status text not UTF-8", meta(info(Info{StatusText: "a\xffb"})), f.key, ErrBadBody},
		{"topic too long", meta(info(Info{Topic: strings.Repeat("t", MaxTopicLen+1)})), f.key, ErrBadBody},
		{"icon too large", meta(info(Info{Icon: make([]byte, MaxIconSize+1)})), f.key, ErrBadBody},
		{"colour out of range", meta(info(Info{Color: 0x1000000})), f.key, ErrBadBody},
		{"too many keys", meta(info(Info{Keys: slices.Repeat([][]byte{make([]byte, epochKeySize)}, MaxPrevKeys+1)})), f.key, ErrBadBody},
		{"short key", meta(info(Info{Keys: [][]byte{make([]byte, epochKeySize-1)}})), f.key, ErrBadBody},
		{"genesis naming a community", meta(func(d *Draft) { d.Kind = KindGenesis }), f.key, ErrMalformed},
		{"genesis with parents", meta(func(d *Draft) { d.Kind, d.Community, d.Parents = KindGenesis, ID{}, []ID{parent} }), f.key, ErrMalformed},
		{"meta without community", meta(func(d *Draft) { d.Community = ID{} }), f.key, ErrMalformed},
		{"state op in a channel", meta(func(d *Draft) { d.Channel = testChannel }), f.key, ErrMalformed},
		{"meta with a target", meta(func(d *Draft) { d.Target = parent }), f.key, ErrMalformed},
		{"admit without target", meta(func(d *Draft) { d.Kind = KindAdmit }), f.key, ErrMalformed},
		{"channel-delete without target", meta(func(d *Draft) { d.Kind = KindChannelDelete }), f.key, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if op, err := f.device.Sign(c.draft, c.key); !errors.Is(err, c.want) || op != nil {
				t.Errorf("Sign: op %v, error %v; want %v", op != nil, err, c.want)
			}
		})
	}

	// The limits themselves are fine.
	dr := meta(info(Info{
		Name: strings.Repeat("é", MaxNameLen), StatusText: strings.Repeat("é", MaxStatusTextLen),
		Topic: strings.Repeat("😀", MaxTopicLen), Icon: make([]byte, MaxIconSize),
		Color: 0xffffff, Keys: slices.Repeat([][]byte{make([]byte, epochKeySize)}, MaxPrevKeys),
	}))
	op := mustSign(t, f.device, dr, f.key)
	s, err := op.State()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := op.OpenInfo(s, f.keyring()); err != nil || !reflect.DeepEqual(got, *dr.State.Info) {
		t.Errorf("Info at its limits: OpenInfo = %d-byte icon, %v", len(got.Icon), err)
	}
}

// validWireState is a clear body that parses, for the malformed variants
// of TestStateRejects to start from.
func validWireState(t testing.TB) wireState {
	t.Helper()
	ids := slices.SortedFunc(slices.Values(testIDs(4)), ID.Compare)
	dev := DeviceID{7}
	user := newTestUser(t).ID()
	w := sbFakeWraps(3)
	ws := wireState{
		User:      user[:],
		Roles:     [][]byte{ids[0][:], ids[1][:], ids[2][:]},
		InviteKey: bytes.Repeat([]byte{3}, 32),
		Proof:     []byte("proof"),
		Wraps:     &wireWrap{Eph: w.Eph[:]},
		Seen:      [][]byte{slices.Concat(ids[3][:], dev[:], ids[0][:])},
	}
	for _, x := range w.To {
		ws.Wraps.To = append(ws.Wraps.To, slices.Concat(x.User[:], x.Box))
	}
	return ws
}

func TestStateRejects(t *testing.T) {
	epoch := newTestKey(t).ID()
	base := validWireState(t)
	if s, err := sbOp(KindMemberRoles, EpochID{}, sbMarshal(t, base)).State(); err != nil || len(s.Roles) != 3 || len(s.Wraps.To) != 3 || len(s.Seen) != 1 {
		t.Fatalf("base body: %+v, %v", s, err)
	}
	with := func(edit func(*wireState)) []byte {
		w := validWireState(t)
		w.Wraps.To = slices.Clone(w.Wraps.To)
		edit(&w)
		return sbMarshal(t, w)
	}
	ids := slices.SortedFunc(slices.Values(testIDs(MaxRoles+1)), ID.Compare)
	idBytes := func(ids ...ID) [][]byte {
		out := make([][]byte, len(ids))
		for i := range ids {
			out[i] = ids[i][:]
		}
		return out
	}
	seenOf := func(n int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = slices.Concat(ids[i%len(ids)][:], make([]byte, 32), ids[0][:])
		}
		return out
	}
	wrapsOf := func(w *Wraps) *wireWrap {
		ww := &wireWrap{Eph: w.Eph[:]}
		for _, x := range w.To {
			ww.To = append(ww.To, slices.Concat(x.User[:], x.Box))
		}
		return ww
	}
	notAnID := make([]byte, IDSize)

	cases := []struct {
		name  string
		kind  Kind
		epoch EpochID
		body  []byte
	}{
		{"not a state op", KindPost, EpochID{}, with(func(*wireState) {})},
		{"not CBOR", KindMemberRoles, EpochID{}, []byte{0xff}},
		{"empty", KindMemberRoles, EpochID{}, nil},
		{"trailing byte", KindMemberRoles, EpochID{}, append(with(func(*wireState) {}), 0)},
		{"an array", KindMemberRoles, EpochID{}, []byte{0x80}},
		{"duplicate key", KindMemberRoles, EpochID{}, []byte{0xa2, 0x08, 0x01, 0x08, 0x02}},
		{"indefinite-length map", KindMemberRoles, EpochID{}, []byte{0xbf, 0xff}},
		{"channel type out of range", KindMemberRoles, EpochID{}, []byte{0xa1, 0x02, 0x19, 0x01, 0x00}},
		{"position not an integer", KindMemberRoles, EpochID{}, []byte{0xa1, 0x03, 0x61, 0x61}},
		{"info without epoch", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Info = []byte("sealed") })},
		{"epoch without info", KindMemberRoles, epoch, with(func(*wireState) {})},
		{"roles not sorted", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Roles = idBytes(ids[1], ids[0]) })},
		{"roles repeated", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Roles = idBytes(ids[0], ids[1], ids[1]) })},
		{"role of 35 bytes", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Roles = [][]byte{ids[0][1:]} })},
		{"role not an id", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Roles = [][]byte{notAnID} })},
		{"too many roles", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Roles = idBytes(ids...) })},
		{"user of 31 bytes", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.User = w.User[1:] })},
		{"user of 33 bytes", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.User = append(slices.Clone(w.User), 0) })},
		{"invite key of 31 bytes", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.InviteKey = w.InviteKey[1:] })},
		{"seen entry of 103 bytes", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Seen[0] = w.Seen[0][1:] })},
		{"seen entry of 105 bytes", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Seen[0] = append(slices.Clone(w.Seen[0]), 0) })},
		{"empty seen entry", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Seen = append(w.Seen, nil) })},
		{"seen log not an id", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Seen[0] = slices.Concat(notAnID, w.Seen[0][IDSize:]) })},
		{"seen last not an id", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Seen[0] = slices.Concat(w.Seen[0][:IDSize+32], notAnID) })},
		{"too many seen entries", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Seen = seenOf(MaxSeen + 1) })},
		{"wraps not sorted", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Wraps.To[0], w.Wraps.To[1] = w.Wraps.To[1], w.Wraps.To[0] })},
		{"wraps repeated", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Wraps.To[1] = w.Wraps.To[0] })},
		{"ephemeral key of 31 bytes", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Wraps.Eph = w.Wraps.Eph[1:] })},
		{"ephemeral key of 33 bytes", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Wraps.Eph = append(slices.Clone(w.Wraps.Eph), 0) })},
		{"no ephemeral key", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Wraps.Eph = nil })},
		{"wrap shorter than a tag", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Wraps.To[2] = w.Wraps.To[2][:32+chacha20poly1305.Overhead-1] })},
		{"wrap of a user only", KindMemberRoles, EpochID{}, with(func(w *wireState) { w.Wraps.To[2] = w.Wraps.To[2][:32] })},
		{"wrap longer than any grant", KindMemberRoles, EpochID{}, with(func(w *wireState) {
			w.Wraps.To[2] = append(slices.Clone(w.Wraps.To[2][:32]), make([]byte, maxBox+1)...)
		})},
		{"too many wraps", KindRekey, EpochID{}, with(func(w *wireState) { w.Wraps = wrapsOf(sbFakeWraps(MaxWraps + 1)) })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if s, err := sbOp(c.kind, c.epoch, c.body).State(); !errors.Is(err, ErrBadBody) {
				t.Errorf("State: error %v, want ErrBadBody (roles %d, seen %d)", err, len(s.Roles), len(s.Seen))
			}
		})
	}

	// The limits themselves parse.
	limits := with(func(w *wireState) {
		w.Roles = idBytes(ids[:MaxRoles]...)
		w.Seen = seenOf(MaxSeen)
		w.Wraps = wrapsOf(sbFakeWraps(MaxWraps))
		w.Wraps.To[0] = append(slices.Clone(w.Wraps.To[0][:32]), make([]byte, chacha20poly1305.Overhead)...)
		w.Wraps.To[1] = append(slices.Clone(w.Wraps.To[1][:32]), make([]byte, maxBox)...)
		w.Info = []byte("sealed")
	})
	s, err := sbOp(KindRekey, epoch, limits).State()
	if err != nil {
		t.Fatalf("body at the limits: %v", err)
	}
	if len(s.Roles) != MaxRoles || len(s.Seen) != MaxSeen || len(s.Wraps.To) != MaxWraps || len(s.Wraps.To[1].Box) != maxBox {
		t.Errorf("body at the limits: %d roles, %d seen, %d wraps", len(s.Roles), len(s.Seen), len(s.Wraps.To))
	}
}

// A signed state op whose body is malformed still verifies (Decode does
// not parse state bodies); State refuses it.
func TestDecodedStateOpWithBadBody(t *testing.T) {
	f := newSBFixture(t)
	good := mustSign(t, f.device, Draft{Community: testCommunity, Kind: KindMemberRoles, HLC: hlcAt(0, 0),
		State: &StateBody{User: f.recipients[0].ID()}}, nil)
	ids := slices.SortedFunc(slices.Values(testIDs(2)), ID.Compare)
	for name, edit := range map[string]func(*wireState){
		"unsorted roles":   func(w *wireState) { w.Roles = [][]byte{ids[1][:], ids[0][:]} },
		"short seen entry": func(w *wireState) { w.Seen = [][]byte{make([]byte, 2*IDSize+31)} },
		"unsorted wraps":   func(w *wireState) { w.Wraps.To[0], w.Wraps.To[2] = w.Wraps.To[2], w.Wraps.To[0] },
		"short ephemeral":  func(w *wireState) { w.Wraps.Eph = w.Wraps.Eph[:16] },
	} {
		t.Run(name, func(t *testing.T) {
			w := validWireState(t)
			edit(&w)
			b := signWire(t, f.device, good.wireHeader(), sbMarshal(t, w))
			op, err := NewVerifier().Decode(b, testNow)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if s, err := op.State(); !errors.Is(err, ErrBadBody) {
				t.Errorf("State: error %v, want ErrBadBody (roles %d, seen %d)", err, len(s.Roles), len(s.Seen))
			}
		})
	}
}

// sbPadded signs dr with its Proof padded so that the op's encoding is
// exactly size bytes.
func sbPadded(t *testing.T, d *Device, dr Draft, size int) (*Op, error) {
	t.Helper()
	s := *dr.State
	dr.State = &s
	s.Proof = nil
	small := mustSign(t, d, dr, nil)
	encodedSize := func(p int) int {
		s.Proof = make([]byte, p)
		body, err := s.encode(nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(mustMarshal(t, wireOp{Version: Version, Header: small.header, Body: body, Sig: small.Sig[:]}))
	}
	p := size - len(small.Encoded())
	for range 8 {
		n := encodedSize(p)
		if n == size {
			break
		}
		p += size - n
	}
	if encodedSize(p) != size {
		t.Fatalf("cannot pad a %s op to %d bytes", dr.Kind, size)
	}
	s.Proof = make([]byte, p)
	if _, err := rand.Read(s.Proof); err != nil {
		t.Fatal(err)
	}
	return d.Sign(dr, nil)
}

func TestStateOpSizeLimits(t *testing.T) {
	f := newSBFixture(t)
	v := NewVerifier()
	draft := func(k Kind, s StateBody) Draft {
		dr := Draft{Community: testCommunity, Kind: k, HLC: hlcAt(0, 0), State: &s}
		if k == KindAdmit {
			dr.Target = testIDs(1)[0]
		}
		return dr
	}
	decodeState := func(t *testing.T, op *Op) StateBody {
		t.Helper()
		got, err := v.Decode(op.Encoded(), testNow)
		if err != nil {
			t.Fatalf("Decode of a %d-byte %s op: %v", len(op.Encoded()), op.Kind, err)
		}
		s, err := got.State()
		if err != nil {
			t.Fatalf("State of a %d-byte %s op: %v", len(op.Encoded()), op.Kind, err)
		}
		return s
	}

	// Bodies that are valid field by field but too large for any kind
	// but a rekey.
	seen := make([]Seen, MaxSeen)
	for i := range seen {
		seen[i] = Seen{Log: testCommunity, Device: DeviceID{byte(i)}, Last: testCommunity}
	}
	bigWraps := sbFakeWraps(1000)
	for name, dr := range map[string]Draft{
		"admit with 1000 wraps":                draft(KindAdmit, StateBody{User: UserID{1}, Wraps: bigWraps}),
		"kick with MaxSeen cut-offs and wraps": draft(KindKick, StateBody{User: UserID{1}, Seen: seen, Wraps: sbFakeWraps(500)}),
	} {
		t.Run(name, func(t *testing.T) {
			if op, err := f.device.Sign(dr, nil); !errors.Is(err, ErrTooLarge) || op != nil {
				t.Fatalf("Sign: op %v, error %v; want ErrTooLarge", op != nil, err)
			}
			// The same body in a rekey is fine.
			dr.Kind, dr.Target = KindRekey, ID{}
			op := mustSign(t, f.device, dr, nil)
			if len(op.Encoded()) <= MaxOpSize {
				t.Fatalf("test body is only %d bytes", len(op.Encoded()))
			}
			decodeState(t, op)

			// Hand-signed as the original kind, it is refused on receipt.
			h := op.wireHeader()
			h.Kind = uint8(KindKick)
			b := signWire(t, f.device, h, op.Body)
			if _, err := v.Decode(b, testNow); !errors.Is(err, ErrTooLarge) {
				t.Errorf("Decode of an oversized kick: %v, want ErrTooLarge", err)
			}
			if _, err := DecodeStored(b); !errors.Is(err, ErrTooLarge) {
				t.Errorf("DecodeStored of an oversized kick: %v, want ErrTooLarge", err)
			}
		})
	}

	t.Run("rekey for MaxWraps members", func(t *testing.T) {
		keys := slices.Repeat([][]byte{make([]byte, epochKeySize)}, MaxPrevKeys)
		dr := draft(KindRekey, StateBody{Info: &Info{Keys: keys}, Wraps: sbFakeWraps(MaxWraps)})
		dr.Parents = testIDs(MaxParents)
		slices.SortFunc(dr.Parents, ID.Compare)
		op := mustSign(t, f.device, dr, f.key)
		if n := len(op.Encoded()); n <= MaxOpSize || n > MaxRekeySize {
			t.Fatalf("rekey of %d bytes", n)
		}
		s := decodeState(t, op)
		if len(s.Wraps.To) != MaxWraps {
			t.Errorf("%d wraps, want %d", len(s.Wraps.To), MaxWraps)
		}
		if info, err := op.OpenInfo(s, f.keyring()); err != nil || len(info.Keys) != MaxPrevKeys {
			t.Errorf("OpenInfo: %d keys, %v", len(info.Keys), err)
		}
	})

	for _, c := range []struct {
		kind Kind
		max  int
	}{{KindAdmit, MaxOpSize}, {KindMemberRoles, MaxOpSize}, {KindRekey, MaxRekeySize}} {
		t.Run(fmt.Sprint(c.kind, " at its limit"), func(t *testing.T) {
			dr := draft(c.kind, StateBody{User: UserID{1}, Wraps: sbFakeWraps(10)})
			op, err := sbPadded(t, f.device, dr, c.max)
			if err != nil {
				t.Fatalf("Sign of a %d-byte %s: %v", c.max, c.kind, err)
			}
			if len(op.Encoded()) != c.max {
				t.Fatalf("padded to %d bytes, want %d", len(op.Encoded()), c.max)
			}
			decodeState(t, op)
			if op, err := sbPadded(t, f.device, dr, c.max+1); !errors.Is(err, ErrTooLarge) || op != nil {
				t.Errorf("Sign of a %d-byte %s: op %v, error %v; want ErrTooLarge", c.max+1, c.kind, op != nil, err)
			}
		})
	}
}

// Sign refuses state bodies that State would refuse, so no author signs an
// op that every replica drops.
func TestSignChecksStateBody(t *testing.T) {
	f := newSBFixture(t)
	ids := slices.SortedFunc(slices.Values(testIDs(2)), ID.Compare)
	for name, s := range map[string]StateBody{
		"unsorted roles": {Roles: []ID{ids[1], ids[0]}},
		"zero role":      {Roles: []ID{{}}},
		"too many seen":  {Seen: make([]Seen, MaxSeen+1)},
		"zero seen log":  {Seen: []Seen{{Last: ids[0]}}},
		"unsorted wraps": {Wraps: &Wraps{To: []Wrap{{User: UserID{2}, Box: make([]byte, 48)}, {User: UserID{1}, Box: make([]byte, 48)}}}},
		"too many wraps": {Wraps: sbFakeWraps(MaxWraps + 1)},
		"empty wrap box": {Wraps: &Wraps{To: []Wrap{{User: UserID{1}}}}},
		"too many roles": {Roles: slices.SortedFunc(slices.Values(testIDs(MaxRoles+1)), ID.Compare)},
	} {
		dr := Draft{Community: testCommunity, Kind: KindRekey, HLC: hlcAt(0, 0), State: &s}
		if op, err := f.device.Sign(dr, nil); !errors.Is(err, ErrBadBody) {
			t.Errorf("%s: Sign: op %v, error %v; want ErrBadBody", name, op != nil, err)
		}
	}
}
