package p2p

import (
	"testing"

	"github.com/ancore/ancore/crdt"
)

func TestHostIdentityIsTheDeviceKey(t *testing.T) {
	u, err := crdt.NewUser()
	if err != nil {
		t.Fatal(err)
	}
	d, err := crdt.NewDevice(u)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHost(HostConfig{DeviceSeed: d.Seed()})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	want, err := PeerOf(d.ID())
	if err != nil {
		t.Fatal(err)
	}
	if h.ID() != want {
		t.Fatalf("host %s, device peer %s", h.ID(), want)
	}
	if len(h.Addrs()) == 0 {
		t.Fatal("host listens nowhere")
	}
}

func TestHostRefusesBadConfig(t *testing.T) {
	if _, err := NewHost(HostConfig{DeviceSeed: []byte("short")}); err == nil {
		t.Error("a short seed was accepted")
	}
	seed := make([]byte, 32)
	if _, err := NewHost(HostConfig{DeviceSeed: seed, Listen: []string{"not a multiaddr"}}); err == nil {
		t.Error("a bad listen address was accepted")
	}
}
