package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/httpjson"
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relay/turn"
	"github.com/ancore/ancore/relayapi"
)

// TURNConfig says how the relay serves STUN and TURN (relay/turn).
type TURNConfig struct {
	// Listen is the host:port of the UDP and TCP listeners; empty
	// serves no TURN.
	Listen string
	// IP is the public IPv4 address clients reach TURN at (relayed
	// transports are allocated on it). Empty means the Listen host if it
	// is an address, else the machine's first public IPv4 address.
	IP string
	// MinPort and MaxPort bound the UDP ports of relayed transports;
	// zero means any free port.
	MinPort, MaxPort uint16
	// TTL is the lifetime of issued credentials; zero means
	// turn.DefaultTTL.
	TTL time.Duration
}

// settingTURNSecret holds the key of TURN credentials: kept, so that
// credentials issued before a restart still work after it.
const settingTURNSecret = "turn-secret"

// turnProofWindow is how far a credential request's time may be from the
// relay's clock: enough for clock skew, short for a replayed proof.
const turnProofWindow = 5 * time.Minute

func (r *Relay) startTURN(ctx context.Context) error {
	cfg := r.cfg.TURN
	if cfg.Listen == "" {
		return nil
	}
	ip, err := turnIP(cfg)
	if err != nil {
		return err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	if secret, err = r.store.InitSetting(ctx, settingTURNSecret, secret); err != nil {
		return fmt.Errorf("turn secret: %w", err)
	}
	if r.turn, err = turn.New(turn.Config{Listen: cfg.Listen, IP: ip, Secret: secret, TTL: cfg.TTL,
		MinPort: cfg.MinPort, MaxPort: cfg.MaxPort,
		Now: r.accounts.Now, Logger: r.log.With("part", "turn")}); err != nil {
		return err
	}
	r.log.Info("serving STUN/TURN", "listen", r.turn.Addr().String(), "ip", ip.String())
	return nil
}

// TURNURLs are the relay's STUN and TURN URLs; none when it serves no
// TURN.
func (r *Relay) TURNURLs() []string {
	if r.turn == nil {
		return nil
	}
	return r.turn.URLs()
}

// turnIP is the address TURN announces (TURNConfig.IP): the configured
// one, the listener's, or the machine's first public IPv4 address — or,
// with none, its first private one, which serves a relay on a LAN or
// behind a port-forwarding router until the operator names the public
// address.
func turnIP(cfg TURNConfig) (net.IP, error) {
	if cfg.IP != "" {
		ip := net.ParseIP(cfg.IP).To4()
		if ip == nil || ip.IsUnspecified() {
			return nil, fmt.Errorf("turn ip %q: want an IPv4 address", cfg.IP)
		}
		return ip, nil
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("turn listen %q: %w", cfg.Listen, err)
	}
	if ip := net.ParseIP(host).To4(); ip != nil && !ip.IsUnspecified() {
		return ip, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("turn ip: %w", err)
	}
	var private net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			ip := n.IP.To4()
			switch {
			case ip == nil || !ip.IsGlobalUnicast():
			case !ip.IsPrivate():
				return ip, nil
			case private == nil:
				private = ip
			}
		}
	}
	if private == nil {
		return nil, errors.New("turn: no IPv4 address on this machine but loopback; set the TURN IP (--turn-ip)")
	}
	return private, nil
}

// handleTURN issues TURN credentials to a member of a community the relay
// carries, as its signature over the community and a recent time proves.
func (r *Relay) handleTURN(w http.ResponseWriter, req *http.Request, _ store.Account) {
	if r.turn == nil {
		httpjson.Error(w, http.StatusNotFound, "turn_disabled", "this relay serves no TURN")
		return
	}
	var body relayapi.TURNRequest
	if err := httpjson.Decode(req, &body); err != nil {
		var notBase64 base64.CorruptInputError
		if errors.As(err, &notBase64) {
			httpjson.Error(w, http.StatusUnprocessableEntity, "bad_base64", "proof must be base64")
			return
		}
		writeErr(w, err)
		return
	}
	id, err := crdt.ParseID(body.Community)
	if err != nil {
		httpjson.Error(w, http.StatusUnprocessableEntity, "bad_community", "community is not a community ID")
		return
	}
	key, err := crdt.ParseKeyText(body.User)
	if err != nil || len(key) != len(crdt.UserID{}) {
		httpjson.Error(w, http.StatusUnprocessableEntity, "bad_user", "user is not a user key")
		return
	}
	user := crdt.UserID(key)
	if d := r.accounts.Now().Sub(body.At); d > turnProofWindow || d < -turnProofWindow {
		httpjson.Error(w, http.StatusUnprocessableEntity, "stale_proof", "at must be within 5 minutes of the relay's clock")
		return
	}
	r.mu.Lock()
	c := r.carried[id]
	r.mu.Unlock()
	var member bool
	if c != nil {
		if state := c.current(); state != nil {
			member, _, _ = state.Standing(user)
		}
	}
	if !member || !crdt.VerifyTURN(user, id, body.At.Unix(), body.Proof) {
		httpjson.Error(w, http.StatusForbidden, "not_member", "no member of a community this relay carries signed this request")
		return
	}
	creds := r.turn.Issue(user.String())
	httpjson.JSON(w, http.StatusOK, relayapi.TURNCredentials{URLs: creds.URLs, Username: creds.Username,
		Password: creds.Password, TTL: int(creds.TTL / time.Second)})
}
