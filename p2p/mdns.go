package p2p

import (
	"context"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// MDNSService is the mDNS service name Ancore nodes announce on the LAN.
// It names the application, not a community: what a peer may read is
// decided by the community secrets it holds, not by being found.
const MDNSService = "_ancore._udp"

// LAN finds Ancore peers on the local network by mDNS and connects to
// them, which is all LAN-only mode needs.
type LAN struct {
	host host.Host
	log  *slog.Logger
	svc  mdns.Service
	ctx  context.Context
}

// StartLAN announces h and connects to the peers it hears of until ctx
// ends or Close is called.
func StartLAN(ctx context.Context, h host.Host, log *slog.Logger) (*LAN, error) {
	l := &LAN{host: h, log: log, ctx: ctx}
	l.svc = mdns.NewMdnsService(h, MDNSService, l)
	if err := l.svc.Start(); err != nil {
		return nil, err
	}
	return l, nil
}

// HandlePeerFound implements mdns.Notifee.
func (l *LAN) HandlePeerFound(pi peer.AddrInfo) {
	if pi.ID == l.host.ID() {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(l.ctx, 10*time.Second)
		defer cancel()
		if err := l.host.Connect(ctx, pi); err != nil {
			l.log.Debug("connect to LAN peer", "peer", pi.ID, "err", err)
		}
	}()
}

// Close stops announcing and listening.
func (l *LAN) Close() error { return l.svc.Close() }
