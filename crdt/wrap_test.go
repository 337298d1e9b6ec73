package crdt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"filippo.io/edwards25519"
)

var testWrapContext = []byte("community 1, epoch 2")

// newTestUsers returns n fresh users.
func newTestUsers(t testing.TB, n int) []*User {
	t.Helper()
	us := make([]*User, n)
	for i := range us {
		us[i] = newTestUser(t)
	}
	return us
}

func userIDs(us []*User) []UserID {
	ids := make([]UserID, len(us))
	for i, u := range us {
		ids[i] = u.ID()
	}
	return ids
}

func testSecret(t testing.TB) []byte {
	t.Helper()
	s := make([]byte, 32)
	if _, err := rand.Read(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSealTo(t testing.TB, users []UserID, secret, context []byte) *Wraps {
	t.Helper()
	w, err := SealTo(users, secret, context)
	if err != nil {
		t.Fatalf("SealTo %d users: %v", len(users), err)
	}
	return w
}

// invalidPointID returns a 32-byte string that is not the encoding of an
// Ed25519 point (about half of all y coordinates have no x).
func invalidPointID(t testing.TB) UserID {
	t.Helper()
	for i := range 256 {
		var u UserID
		u[0] = byte(i)
		if _, err := new(edwards25519.Point).SetBytes(u[:]); err != nil {
			return u
		}
	}
	t.Fatal("no invalid point among 256 candidates")
	return UserID{}
}

func TestSealToRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 3, 200} {
		t.Run(fmt.Sprint(n, " users"), func(t *testing.T) {
			users := newTestUsers(t, n)
			ids := userIDs(users)
			// Feed them shuffled and with duplicates: SealTo sorts and
			// deduplicates, leaving its argument alone.
			in := slices.Concat(ids, ids[:n/2])
			slices.Reverse(in)
			given := slices.Clone(in)
			secret := testSecret(t)
			w := mustSealTo(t, in, secret, testWrapContext)
			if !slices.Equal(in, given) {
				t.Error("SealTo modified its users argument")
			}

			want := slices.SortedFunc(slices.Values(ids), compareUsers)
			if got := w.Users(); !slices.Equal(got, want) {
				t.Fatalf("Users() = %d users (sorted %v), want the %d sorted unique recipients",
					len(got), slices.IsSortedFunc(got, compareUsers), len(want))
			}
			if len(w.To) != n {
				t.Fatalf("%d wraps, want %d", len(w.To), n)
			}
			for _, u := range users {
				got, err := w.Open(u, testWrapContext)
				if err != nil {
					t.Fatalf("Open by recipient: %v", err)
				}
				if !bytes.Equal(got, secret) {
					t.Fatalf("Open = %x, want %x", got, secret)
				}
			}
			if _, err := w.Open(newTestUser(t), testWrapContext); !errors.Is(err, ErrNoKey) {
				t.Errorf("Open by a non-recipient: error %v, want ErrNoKey", err)
			}
		})
	}
}

// The boxes share one buffer; growing one must not overwrite the next.
func TestSealToBoxesDoNotAlias(t *testing.T) {
	users := newTestUsers(t, 3)
	secret := testSecret(t)
	w := mustSealTo(t, userIDs(users), secret, testWrapContext)
	w.To[0].Box = append(w.To[0].Box, 0xff, 0xff, 0xff)
	for _, u := range users {
		if u.ID() == w.To[0].User {
			continue
		}
		if got, err := w.Open(u, testWrapContext); err != nil || !bytes.Equal(got, secret) {
			t.Errorf("Open after appending to another box = %x, %v", got, err)
		}
	}
}

func TestWrapsOpenErrors(t *testing.T) {
	users := newTestUsers(t, 3)
	secret := testSecret(t)
	w := mustSealTo(t, userIDs(users), secret, testWrapContext)
	// users[i] is the recipient of w.To[i].
	slices.SortFunc(users, func(a, b *User) int { return compareUsers(a.ID(), b.ID()) })
	u := users[1]

	cloneWraps := func() *Wraps {
		c := &Wraps{Eph: w.Eph, To: slices.Clone(w.To)}
		for i := range c.To {
			c.To[i].Box = slices.Clone(c.To[i].Box)
		}
		return c
	}
	decryptFails := func(t *testing.T, name string, w *Wraps, context []byte) {
		t.Helper()
		if got, err := w.Open(u, context); !errors.Is(err, ErrDecrypt) || got != nil {
			t.Errorf("%s: Open = %x, %v; want ErrDecrypt", name, got, err)
		}
	}

	if got, err := w.Open(u, testWrapContext); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %x, %v", got, err)
	}
	for _, i := range []int{0, 20, 31, 32, 47} {
		c := cloneWraps()
		c.To[1].Box[i] ^= 0x01
		decryptFails(t, fmt.Sprint("box byte ", i, " flipped"), c, testWrapContext)
	}
	c := cloneWraps()
	c.To[1].Box = c.To[1].Box[:len(c.To[1].Box)-1]
	decryptFails(t, "truncated box", c, testWrapContext)
	c = cloneWraps()
	c.To[1].Box = c.To[0].Box
	decryptFails(t, "another recipient's box", c, testWrapContext)

	// Every bit of the ephemeral key matters, the top bit too, which X25519
	// itself ignores: the key's bytes are bound into the box key.
	for i := range len(w.Eph) * 8 {
		c := cloneWraps()
		c.Eph[i/8] ^= 1 << (i % 8)
		decryptFails(t, fmt.Sprint("ephemeral key bit ", i, " flipped"), c, testWrapContext)
	}
	c = cloneWraps()
	c.Eph = [32]byte{}
	decryptFails(t, "zero ephemeral key", c, testWrapContext)

	for _, ctx := range [][]byte{nil, []byte("community 1, epoch 3"), testWrapContext[:len(testWrapContext)-1],
		append(slices.Clone(testWrapContext), 0)} {
		decryptFails(t, fmt.Sprintf("context %q", ctx), w, ctx)
	}

	// A second sealing of the same secret to the same users uses a new
	// ephemeral key; boxes do not carry over between the two.
	w2 := mustSealTo(t, userIDs(users), secret, testWrapContext)
	if w2.Eph == w.Eph {
		t.Fatal("two sealings share an ephemeral key")
	}
	c = cloneWraps()
	c.Eph = w2.Eph
	decryptFails(t, "box under another sealing's ephemeral key", c, testWrapContext)
}

func TestSealToRejectsBadUserKeys(t *testing.T) {
	good := userIDs(newTestUsers(t, 2))
	identity := UserID{0: 1} // the neutral point: its X25519 key has low order
	for name, bad := range map[string]UserID{
		"not a curve point": invalidPointID(t),
		"low-order point":   identity,
	} {
		w, err := SealTo(slices.Concat(good, []UserID{bad}), testSecret(t), testWrapContext)
		if err == nil || w != nil {
			t.Errorf("%s: SealTo = %v, %v; want an error", name, w, err)
		} else if !errors.Is(err, ErrBadBody) {
			t.Errorf("%s: SealTo error %v does not wrap ErrBadBody", name, err)
		}
	}
}

// A 32-byte secret (an epoch key) costs each recipient its user id and a
// 48-byte box: 80 bytes on the wire.
func TestWrapSize(t *testing.T) {
	users := newTestUsers(t, 5)
	w := mustSealTo(t, userIDs(users), testSecret(t), testWrapContext)
	for _, x := range w.To {
		if len(x.Box) != 48 {
			t.Errorf("box of %d bytes, want 48", len(x.Box))
		}
	}
	b, err := (&StateBody{Wraps: w}).encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	var ws wireState
	if err := decMode.Unmarshal(b, &ws); err != nil {
		t.Fatal(err)
	}
	if ws.Wraps == nil || len(ws.Wraps.To) != len(users) || len(ws.Wraps.Eph) != 32 {
		t.Fatalf("encoded wraps: %+v", ws.Wraps)
	}
	for _, x := range ws.Wraps.To {
		if len(x) != 32+48 {
			t.Errorf("encoded wrap of %d bytes, want %d", len(x), 32+48)
		}
	}
}

// The X25519 public key derived from a user id matches the one derived
// from the user's private key: otherwise sealer and recipient would
// disagree on the box key.
func TestX25519Conversion(t *testing.T) {
	for range 32 {
		u := newTestUser(t)
		want := u.x25519().PublicKey()
		for _, pass := range []string{"fresh", "cached"} {
			got, err := x25519Public(u.ID())
			if err != nil {
				t.Fatalf("%s: x25519Public: %v", pass, err)
			}
			if !got.Equal(want) {
				t.Fatalf("%s: x25519Public(%v) = %x, private key gives %x", pass, u.ID(), got.Bytes(), want.Bytes())
			}
		}
	}
	if _, err := x25519Public(invalidPointID(t)); !errors.Is(err, ErrBadBody) {
		t.Errorf("x25519Public of a non-point: error %v, want ErrBadBody", err)
	}
}

func TestSealToConcurrentUse(t *testing.T) {
	users := newTestUsers(t, 4)
	ids := userIDs(users)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			secret := make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				t.Error(err)
				return
			}
			w, err := SealTo(ids, secret, testWrapContext)
			if err != nil {
				t.Error(err)
				return
			}
			for _, u := range users {
				if got, err := w.Open(u, testWrapContext); err != nil || !bytes.Equal(got, secret) {
					t.Errorf("Open = %x, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
