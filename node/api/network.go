package api

import (
	"net/http"
	"slices"
	"strings"
)

func (s *Server) getNetwork(*http.Request) (int, any, error) {
	out := NetworkJSON{PeerID: s.node.PeerID().String(), Addrs: append([]string{}, s.node.Addrs()...), Peers: []PeerJSON{},
		Sync: s.node.SyncSessions(), Relay: s.node.NetworkRelay()}
	for _, p := range s.node.Peers() {
		out.Peers = append(out.Peers, PeerJSON{ID: p.String(), Addrs: s.node.PeerAddrs(p)})
	}
	slices.SortFunc(out.Peers, func(a, b PeerJSON) int { return strings.Compare(a.ID, b.ID) })
	return http.StatusOK, out, nil
}
