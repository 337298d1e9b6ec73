package account

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP is the address rate limits key on: the connection's remote
// host, or, when Config.TrustProxy is set, the first X-Forwarded-For entry
// (the client as the proxy saw it; without a proxy that overwrites the
// header, a client could name any address it likes, so the flag is off by
// default). IPv6 clients are keyed by their /64, the block a single
// host usually gets, so that one host cannot rotate through addresses.
func (s *Service) ClientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-For"), ","); first != "" {
			if a, err := netip.ParseAddr(strings.TrimSpace(first)); err == nil {
				return ipKey(a)
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	return ipKey(a)
}

func ipKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
