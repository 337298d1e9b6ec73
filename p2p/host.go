// Package p2p carries Ancore's ops between peers: the libp2p host (TCP and
// QUIC, Noise, yamux, explicit resource limits), gossipsub topics whose
// validators refuse bad ops before they are forwarded, and, in its
// subpackages, discovery and the sync protocol. It knows ops (crdt) but not
// the store or the application: what is stored and who is a member are
// decided by hooks the node supplies.
package p2p

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// HostConfig says how to build a host.
type HostConfig struct {
	// DeviceSeed is the device's Ed25519 seed: the device key is the peer
	// identity, so a peer ID names the device that signs the ops.
	DeviceSeed []byte
	// Listen holds multiaddrs to listen on; none means loopback TCP and QUIC
	// on random ports.
	Listen []string
	// Memory and FDs bound the resource manager. Zero means 128 MiB and
	// 512 descriptors. They are explicit because libp2p's default scales
	// with the machine (1/8 of RAM per host), which many in-process peers
	// cannot afford.
	Memory int64
	FDs    int
	// LowConns and HighConns are the connection manager's water marks;
	// zero means 32 and 96.
	LowConns, HighConns int
	// MaxConns, if set, caps connections (and inbound ones) at that many
	// instead of what Memory scales to (128 inbound for 1 GiB), and lets
	// one IP address hold up to a quarter of them instead of 8: a relay's
	// members arrive by the hundred, many from behind one NAT.
	MaxConns int
	// Options add services to the host (the relay's circuit relay and
	// AutoNAT service, a node's static relays and hole punching).
	Options []libp2p.Option
}

// NewHost builds a libp2p host for a device.
func NewHost(cfg HostConfig) (host.Host, error) {
	if len(cfg.DeviceSeed) != ed25519.SeedSize {
		return nil, fmt.Errorf("p2p host: device seed is %d bytes, want %d", len(cfg.DeviceSeed), ed25519.SeedSize)
	}
	key, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(cfg.DeviceSeed))
	if err != nil {
		return nil, fmt.Errorf("p2p host: %w", err)
	}
	listen := cfg.Listen
	if len(listen) == 0 {
		listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	}
	memory, fds := cfg.Memory, cfg.FDs
	if memory == 0 {
		memory = 128 << 20
	}
	if fds == 0 {
		fds = 512
	}
	low, high := cfg.LowConns, cfg.HighConns
	if low == 0 {
		low, high = 32, 96
	}
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	scaled := limits.Scale(memory, fds)
	var rmOpts []rcmgr.Option
	if cfg.MaxConns > 0 {
		p := scaled.ToPartialLimitConfig()
		for _, l := range []*rcmgr.ResourceLimits{&p.System, &p.Transient} {
			l.Conns, l.ConnsInbound, l.ConnsOutbound = rcmgr.LimitVal(cfg.MaxConns), rcmgr.LimitVal(cfg.MaxConns), rcmgr.LimitVal(cfg.MaxConns)
			l.Streams, l.StreamsInbound = rcmgr.LimitVal(16*cfg.MaxConns), rcmgr.LimitVal(16*cfg.MaxConns)
		}
		scaled = p.Build(scaled)
		perIP := max(cfg.MaxConns/4, 8)
		rmOpts = append(rmOpts, rcmgr.WithLimitPerSubnet(
			[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 32, ConnCount: perIP}},
			[]rcmgr.ConnLimitPerSubnet{{PrefixLength: 56, ConnCount: perIP}}))
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(scaled), rmOpts...)
	if err != nil {
		return nil, fmt.Errorf("p2p host: resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(low, high, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("p2p host: connection manager: %w", err)
	}
	h, err := libp2p.New(append([]libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
	}, cfg.Options...)...)
	if err != nil {
		return nil, fmt.Errorf("p2p host: %w", err)
	}
	return h, nil
}

// PeerOf returns the peer ID of a device.
func PeerOf(dev [ed25519.PublicKeySize]byte) (peer.ID, error) {
	pub, err := crypto.UnmarshalEd25519PublicKey(dev[:])
	if err != nil {
		return "", err
	}
	return peer.IDFromPublicKey(pub)
}
