// Package turn is the relay's STUN and TURN server (pion/turn), for
// members whose calls cannot connect directly: STUN tells a node its
// public address, TURN relays its media when both sides are behind NATs
// that defeat hole punching. Credentials are short-lived, in the TURN
// REST style (draft-uberti-behave-turn-rest): the username is
// "expiry:peer", the password the base64 HMAC-SHA1 of the username under
// a secret only the relay holds, so the server checks a credential
// without storing it and a leaked one expires by itself.
package turn

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// Realm is the TURN realm of every Ancore relay.
const Realm = "ancore"

// DefaultTTL is how long issued credentials last. TURN checks them on
// every allocation refresh, so a call outlasting them needs new ones.
const DefaultTTL = 12 * time.Hour

// Config configures a Server.
type Config struct {
	// Listen is the host:port of the UDP and TCP listeners (the same
	// port for both; port 0 picks one).
	Listen string
	// IP is the public address clients reach the server at: relayed
	// transports are allocated on it and the URLs name it.
	IP net.IP
	// MinPort and MaxPort bound the UDP ports of relayed transports (to
	// open in a firewall); zero means any free port.
	MinPort, MaxPort uint16
	// Secret keys the credentials' HMAC.
	Secret []byte
	// TTL is the lifetime of issued credentials; zero means DefaultTTL.
	TTL time.Duration
	// Now is the clock of credentials; nil means time.Now.
	Now func() time.Time
	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Credentials are a TURN REST credential and where to use it.
type Credentials struct {
	URLs     []string
	Username string
	Password string
	TTL      time.Duration
}

// Server is a running STUN/TURN server.
type Server struct {
	cfg  Config
	log  *slog.Logger
	srv  *turn.Server
	udp  net.PacketConn
	tcp  net.Listener
	once sync.Once
	err  error
}

// New listens and serves until Close.
func New(cfg Config) (*Server, error) {
	if len(cfg.Secret) == 0 {
		return nil, errors.New("turn: no secret")
	}
	if cfg.IP == nil || cfg.IP.IsUnspecified() {
		return nil, errors.New("turn: no public IP")
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log.With("subsystem", "turn")}
	var err error
	if s.udp, err = net.ListenPacket("udp4", cfg.Listen); err != nil {
		return nil, fmt.Errorf("turn listen udp: %w", err)
	}
	host, _, _ := net.SplitHostPort(cfg.Listen)
	port := s.udp.LocalAddr().(*net.UDPAddr).Port
	if s.tcp, err = net.Listen("tcp4", net.JoinHostPort(host, strconv.Itoa(port))); err != nil {
		s.udp.Close()
		return nil, fmt.Errorf("turn listen tcp: %w", err)
	}
	relay := func() turn.RelayAddressGenerator {
		if cfg.MinPort != 0 || cfg.MaxPort != 0 {
			return &turn.RelayAddressGeneratorPortRange{RelayAddress: cfg.IP, Address: "0.0.0.0",
				MinPort: cfg.MinPort, MaxPort: cfg.MaxPort}
		}
		return &turn.RelayAddressGeneratorStatic{RelayAddress: cfg.IP, Address: "0.0.0.0"}
	}
	s.srv, err = turn.NewServer(turn.ServerConfig{
		Realm:             Realm,
		AuthHandler:       s.authenticate,
		LoggerFactory:     pionLogs{s.log},
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: s.udp, RelayAddressGenerator: relay(), PermissionHandler: s.permit}},
		ListenerConfigs:   []turn.ListenerConfig{{Listener: s.tcp, RelayAddressGenerator: relay(), PermissionHandler: s.permit}},
	})
	if err != nil {
		s.udp.Close()
		s.tcp.Close()
		return nil, fmt.Errorf("turn: %w", err)
	}
	return s, nil
}

// Addr is the UDP listener's address (the TCP one has the same port).
func (s *Server) Addr() *net.UDPAddr { return s.udp.LocalAddr().(*net.UDPAddr) }

// URLs are the server's STUN and TURN URLs (RFC 7064, RFC 7065).
func (s *Server) URLs() []string {
	hp := net.JoinHostPort(s.cfg.IP.String(), strconv.Itoa(s.Addr().Port))
	return []string{"stun:" + hp, "turn:" + hp + "?transport=udp", "turn:" + hp + "?transport=tcp"}
}

// Issue makes credentials for peer, valid for the configured TTL.
func (s *Server) Issue(peer string) Credentials {
	user := strconv.FormatInt(s.cfg.Now().Add(s.cfg.TTL).Unix(), 10) + ":" + peer
	return Credentials{URLs: s.URLs(), Username: user, Password: password(s.cfg.Secret, user), TTL: s.cfg.TTL}
}

func password(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// authenticate accepts a username whose expiry has not passed, with the
// key of the password Issue would give it; pion checks the request's
// MESSAGE-INTEGRITY against that key, so a wrong password fails there.
func (s *Server) authenticate(ra *turn.RequestAttributes) (string, []byte, bool) {
	expiry, peer, ok := strings.Cut(ra.Username, ":")
	if !ok {
		return "", nil, false
	}
	t, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || !s.cfg.Now().Before(time.Unix(t, 0)) {
		s.log.Debug("refused credential", "username", ra.Username, "from", ra.SrcAddr)
		return "", nil, false
	}
	return peer, turn.GenerateAuthKey(ra.Username, ra.Realm, password(s.cfg.Secret, ra.Username)), true
}

// Allocations counts the live allocations.
func (s *Server) Allocations() int { return s.srv.AllocationCount() }

// permit keeps TURN from being a way into the relay's own machine or
// network: no relaying to loopback, private, link-local, multicast or
// unspecified addresses, except the server's own public address, where
// the other members' relayed transports live.
func (s *Server) permit(client net.Addr, peer net.IP) bool {
	if peer.Equal(s.cfg.IP) {
		return true
	}
	ok := peer.IsGlobalUnicast() && !peer.IsPrivate()
	if !ok {
		s.log.Debug("refused TURN permission", "client", client, "peer", peer)
	}
	return ok
}

// Close stops the server.
func (s *Server) Close() error {
	s.once.Do(func() { s.err = s.srv.Close() })
	return s.err
}

// pionLogs sends pion's logs to slog: its errors and warnings (a client's
// malformed or unauthenticated requests, mostly) at Warn, its info at
// Debug; its debug and trace output is dropped.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("scope", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (pionLogger) Trace(string)                  {}
func (pionLogger) Tracef(string, ...any)         {}
func (pionLogger) Debug(string)                  {}
func (pionLogger) Debugf(string, ...any)         {}
func (l pionLogger) Info(msg string)             { l.log.Debug(msg) }
func (l pionLogger) Infof(f string, args ...any) { l.log.Debug(fmt.Sprintf(f, args...)) }
func (l pionLogger) Warn(msg string)             { l.log.Warn(msg) }
func (l pionLogger) Warnf(f string, args ...any) { l.log.Warn(fmt.Sprintf(f, args...)) }
func (l pionLogger) Error(msg string)            { l.log.Warn(msg) }
func (l pionLogger) Errorf(f string, a ...any)   { l.log.Warn(fmt.Sprintf(f, a...)) }
