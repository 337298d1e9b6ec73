package crdt

import "testing"

func TestTURNSignature(t *testing.T) {
	user, _ := NewUser()
	other, _ := NewUser()
	var id, id2 ID
	id[0], id2[0] = 1, 2
	sig := user.SignTURN(id, 1000)
	if !VerifyTURN(user.ID(), id, 1000, sig) {
		t.Fatal("valid TURN request refused")
	}
	for name, ok := range map[string]bool{
		"other signer":    VerifyTURN(other.ID(), id, 1000, sig),
		"other community": VerifyTURN(user.ID(), id2, 1000, sig),
		"other time":      VerifyTURN(user.ID(), id, 1001, sig),
		"truncated":       VerifyTURN(user.ID(), id, 1000, sig[:10]),
		"a carry proof":   VerifyTURN(user.ID(), id, 1000, user.SignCarry(id, nil)),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
}
