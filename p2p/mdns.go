package p2p

import (
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// MDNSService is the mDNS service name Ancore nodes announce on the LAN.
// It names the application, not a community: what a peer may read is
// decided by the community secrets it holds, not by being found.
const MDNSService = "_ancore._udp"

// LAN finds Ancore peers on the local network by mDNS and hands them to a
// Dialer, which connects and keeps reconnecting: all LAN-only mode needs.
type LAN struct {
	host   host.Host
	dialer *Dialer
	svc    mdns.Service
}

// StartLAN announces h and adds the peers it hears of to d until Close.
func StartLAN(h host.Host, d *Dialer) (*LAN, error) {
	l := &LAN{host: h, dialer: d}
	l.svc = mdns.NewMdnsService(h, MDNSService, l)
	if err := l.svc.Start(); err != nil {
		return nil, err
	}
	return l, nil
}

// HandlePeerFound implements mdns.Notifee.
func (l *LAN) HandlePeerFound(pi peer.AddrInfo) { l.dialer.Add(pi) }

// Close stops announcing and listening.
func (l *LAN) Close() error { return l.svc.Close() }
