package crdt

import "testing"

func TestCarrySignature(t *testing.T) {
	owner, _ := NewUser()
	other, _ := NewUser()
	var id, id2 ID
	id[0], id2[0] = 1, 2
	secret := []byte("topic secret")
	sig := owner.SignCarry(id, secret)
	if !VerifyCarry(owner.ID(), id, secret, sig) {
		t.Fatal("valid carry request refused")
	}
	for name, ok := range map[string]bool{
		"other signer":     VerifyCarry(other.ID(), id, secret, sig),
		"other community":  VerifyCarry(owner.ID(), id2, secret, sig),
		"other secret":     VerifyCarry(owner.ID(), id, []byte("x"), sig),
		"truncated":        VerifyCarry(owner.ID(), id, secret, sig[:10]),
		"by another owner": VerifyCarry(owner.ID(), id, secret, other.SignCarry(id, secret)),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
}
