package api

import (
	"net/http"
	"slices"
	"strings"
)

func (s *Server) getNetwork(*http.Request) (int, any, error) {
	out := NetworkJSON{PeerID: s.node.PeerID().String(), Addrs: append([]string{}, s.node.Addrs()...), Peers: []PeerJSON{},
		Sync: s.node.SyncSessions(), Relay: noRelay}
	if s.network != nil {
		out.Relay = s.network()
	}
	for _, p := range s.node.Peers() {
		out.Peers = append(out.Peers, PeerJSON{ID: p.String(), Addrs: s.node.PeerAddrs(p)})
	}
	slices.SortFunc(out.Peers, func(a, b PeerJSON) int { return strings.Compare(a.ID, b.ID) })
	return http.StatusOK, out, nil
}

// noRelay is the relay's part of GET /network on a node without a relay
// link.
var noRelay = map[string]any{"url": nil, "connected": false, "peer": nil}
