package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/relayclient"
	"github.com/ancore/ancore/node/secretstore"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/relayapi"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
)

// The node's home relay (docs/operations.md, "Relay" and "Relay account";
// docs/protocol.md, "The home relay"). The node knows one
// relay by its HTTP base URL. It asks the relay's /info for its libp2p
// peer, keeps connected to it like to a bootstrap peer (the dialer), and
// offers it to AutoRelay as its circuit relay, so that a node behind a NAT
// is reachable through it and hole punching (DCUtR) can upgrade relayed
// connections. Once connected, the replicas sync with the relay as with
// any peer: it serves the logs of the communities it carries.
//
// An account on the relay (register, login, logout) keeps the user's
// identity key there sealed with a key derived from the password
// (relayclient.Keys): logging in on a new device restores the user. The
// session token, with the relay's URL and the account's email, lives in
// the OS keyring or DATA/relay.json (node/secretstore), never in the store.

// Errors of the relay operations.
var (
	ErrNoRelay          = errors.New("no relay session")
	ErrBadCredentials   = errors.New("wrong email or password")
	ErrIdentityConflict = errors.New("this node is another user, who belongs to communities")
	ErrRelayUnreachable = errors.New("relay unreachable")
	ErrInvalidEmail     = errors.New("not an email address")
	// ErrWiped is what Run returns after a logout with wipe: the store and
	// the relay secrets are deleted, so the next start makes a new
	// identity. The program should exit.
	ErrWiped = errors.New("this device's identity and data were wiped")
)

// RelaySecretsFile holds the relay session in the data folder when no OS
// keyring is available (mode 0600).
const RelaySecretsFile = "relay.json"

// keyringService names the node's entries in the OS keyring; the account
// is "relay/" and the device key, so nodes on one machine stay apart.
const keyringService = "ancore"

// relayBackoff is how long AutoRelay waits after a failed reservation
// before it asks the relay again. Its default (an hour) suits a pool of
// public relays; with a single home relay, a restart of the relay should
// not leave the node unreachable that long.
const relayBackoff = time.Minute

// relayConnectTimeout bounds the first dial after the relay is set.
const relayConnectTimeout = 5 * time.Second

// relayRecord is what the secret store keeps of the relay.
type relayRecord struct {
	URL       string    `json:"url"`
	Email     string    `json:"email,omitempty"`
	Token     string    `json:"token,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// relay is the node's relay state.
type relay struct {
	op      sync.Mutex // one account or URL change at a time
	secrets secretstore.Store
	kick    chan struct{} // wakes runRelay

	mu     sync.Mutex // guards what follows
	rec    relayRecord
	client *relayclient.Client // nil without a URL
	peer   peer.AddrInfo       // from /info; zero until it answered
	err    string              // the last failure, for the status
	wipe   bool                // Run deletes the data when it ends
}

// openRelay reads the relay record and applies Config.Relay, which
// replaces a remembered relay (and its session) by another.
func (n *Node) openRelay() error {
	r := &n.relay
	r.kick = make(chan struct{}, 1)
	r.secrets = n.cfg.Secrets
	if r.secrets == nil {
		dev := n.Identity().Device.ID()
		r.secrets = secretstore.Detect(context.Background(), filepath.Join(n.cfg.DataDir, RelaySecretsFile),
			keyringService, "relay/"+dev.String(), secretstore.DetectTimeout)
	}
	rec, err := loadRelayRecord(r.secrets)
	if err != nil {
		n.log.Warn("relay session not restored", "from", r.secrets, "err", err)
		r.err = err.Error()
	}
	if n.cfg.Relay != "" {
		url, err := relayclient.ParseURL(n.cfg.Relay)
		if err != nil {
			return err
		}
		if url != rec.URL {
			rec = relayRecord{URL: url}
			if err := saveRelayRecord(r.secrets, rec); err != nil {
				return err
			}
		}
	}
	r.rec = rec
	if rec.URL != "" {
		if r.client, err = relayclient.New(rec.URL, nil); err != nil {
			return err
		}
	}
	return nil
}

func loadRelayRecord(s secretstore.Store) (relayRecord, error) {
	var rec relayRecord
	raw, err := s.Load()
	if err != nil || raw == nil {
		return rec, err
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return relayRecord{}, fmt.Errorf("relay secrets in %s: %w", s, err)
	}
	if rec.URL != "" {
		if _, err := relayclient.ParseURL(rec.URL); err != nil {
			return relayRecord{}, fmt.Errorf("relay secrets in %s: %w", s, err)
		}
	}
	return rec, nil
}

func saveRelayRecord(s secretstore.Store, rec relayRecord) error {
	if rec == (relayRecord{}) {
		return s.Delete()
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.Save(raw)
}

// hostOptions are the libp2p services of a node's host for NAT traversal:
// AutoRelay with the relay as its only candidate, hole punching, and the
// AutoNAT service (other nodes learn from us whether they are reachable).
// The relay becomes known only after /info answered, after the host
// exists, so AutoRelay asks relayCandidates rather than taking a static
// list.
func (n *Node) hostOptions() []libp2p.Option {
	return []libp2p.Option{
		libp2p.EnableAutoRelayWithPeerSource(n.relayCandidates,
			autorelay.WithMinCandidates(1), autorelay.WithNumRelays(1), autorelay.WithBackoff(relayBackoff)),
		libp2p.EnableHolePunching(),
		libp2p.EnableNATService(),
	}
}

// relayCandidates is AutoRelay's peer source: the relay, once known.
func (n *Node) relayCandidates(_ context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, 1)
	if pi, ok := n.relayPeer(); ok && num > 0 {
		out <- pi
	}
	close(out)
	return out
}

// relayPeer returns the relay's peer, if /info told it.
func (n *Node) relayPeer() (peer.AddrInfo, bool) {
	n.relay.mu.Lock()
	defer n.relay.mu.Unlock()
	return n.relay.peer, n.relay.peer.ID != ""
}

// isRelay reports whether p is the relay.
func (n *Node) isRelay(p peer.ID) bool {
	pi, ok := n.relayPeer()
	return ok && pi.ID == p
}

// relaySession returns the relay's client and session token, or
// ErrNoRelay.
func (n *Node) relaySession() (*relayclient.Client, string, error) {
	n.relay.mu.Lock()
	defer n.relay.mu.Unlock()
	r := &n.relay
	switch {
	case r.client == nil:
		return nil, "", fmt.Errorf("%w: no relay is set", ErrNoRelay)
	case r.rec.Token == "" || (!r.rec.ExpiresAt.IsZero() && time.Now().After(r.rec.ExpiresAt)):
		return nil, "", fmt.Errorf("%w: not logged in to the relay", ErrNoRelay)
	}
	return r.client, r.rec.Token, nil
}

// relayClient returns the relay's client, or ErrNoRelay.
func (n *Node) relayClient() (*relayclient.Client, error) {
	n.relay.mu.Lock()
	defer n.relay.mu.Unlock()
	if n.relay.client == nil {
		return nil, fmt.Errorf("%w: no relay is set", ErrNoRelay)
	}
	return n.relay.client, nil
}

// NetworkRelayJSON is the relay's part of the node's connectivity.
type NetworkRelayJSON struct {
	URL       *string `json:"url"`
	Connected bool    `json:"connected"`
	Peer      *string `json:"peer"` // null until the relay's /info answered
}

// RelayUpdate is the data of a network:update event for a change of the
// relay's status (a peer's connection is {"peer", "connected"}).
type RelayUpdate struct {
	Relay NetworkRelayJSON `json:"relay"`
}

// RelayJSON is the node's relay: where it is, the account logged in, and
// whether the node is connected to it.
type RelayJSON struct {
	URL       *string           `json:"url"`
	Account   *RelayAccountJSON `json:"account"`
	Connected bool              `json:"connected"`
	Peer      *string           `json:"peer"`
	Error     *string           `json:"error"` // the last failure to reach it
}

// RelayAccountJSON is the relay account logged in.
type RelayAccountJSON struct {
	Email string `json:"email"`
}

// RelayStatus is the node's relay as the API shows it.
func (n *Node) RelayStatus() RelayJSON {
	n.relay.mu.Lock()
	r := &n.relay
	rec, pi, lastErr := r.rec, r.peer, r.err
	n.relay.mu.Unlock()
	var out RelayJSON
	if rec.URL != "" {
		out.URL = &rec.URL
	}
	if rec.Token != "" && (rec.ExpiresAt.IsZero() || time.Now().Before(rec.ExpiresAt)) {
		out.Account = &RelayAccountJSON{Email: rec.Email}
	}
	if pi.ID != "" {
		id := pi.ID.String()
		out.Peer = &id
		out.Connected = n.host.Network().Connectedness(pi.ID) == network.Connected
	}
	if lastErr != "" {
		out.Error = &lastErr
	}
	return out
}

func (n *Node) NetworkRelay() NetworkRelayJSON {
	s := n.RelayStatus()
	return NetworkRelayJSON{URL: s.URL, Connected: s.Connected, Peer: s.Peer}
}

// relayChanged announces a change of the relay's status.
func (n *Node) relayChanged() {
	n.emit("network:update", RelayUpdate{Relay: n.NetworkRelay()})
}

func (n *Node) kickRelay() {
	select {
	case n.relay.kick <- struct{}{}:
	default:
	}
}

// runRelay keeps the node connected to its relay until ctx ends: while
// it is not, it asks /info again (the relay may have moved) and dials
// what it learns, waiting longer after each failure, from p2p.MinRedial to
// p2p.MaxRedial; a kick (a disconnection, a new relay) tries at once.
// After each reconnection it checks the session with /auth/me and
// forgets one the relay ended.
func (n *Node) runRelay(ctx context.Context) {
	wait := p2p.MinRedial
	for {
		next := p2p.MaxRedial // connected or no relay: kicks wake us
		if client, _ := n.relayClient(); client != nil && !n.relayConnected() {
			err := n.refreshRelay(ctx, client)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				n.log.Warn("relay", "url", client.URL(), "err", err)
			}
			if n.relayConnected() {
				wait = p2p.MinRedial
				n.checkSession(ctx, client)
			} else {
				next, wait = wait, min(2*wait, p2p.MaxRedial)
			}
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-n.relay.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// relayConnected reports whether the node is connected to its relay.
func (n *Node) relayConnected() bool {
	pi, ok := n.relayPeer()
	return ok && n.host.Network().Connectedness(pi.ID) == network.Connected
}

// refreshRelay asks client's relay for its peer and dials it.
func (n *Node) refreshRelay(ctx context.Context, client *relayclient.Client) error {
	pi, err := relayInfo(ctx, client)
	n.relay.mu.Lock()
	if n.relay.client != client { // the relay changed meanwhile
		n.relay.mu.Unlock()
		return nil
	}
	beforePeer, beforeErr := n.relay.peer.ID, n.relay.err
	if err != nil {
		n.relay.err = err.Error()
	} else {
		n.relay.peer, n.relay.err = pi, ""
	}
	changed := beforePeer != n.relay.peer.ID || beforeErr != n.relay.err
	n.relay.mu.Unlock()
	if err == nil {
		n.dialRelay(ctx, pi)
	}
	if changed {
		n.relayChanged()
	}
	return err
}

// relayInfo asks a relay for its peer.
func relayInfo(ctx context.Context, client *relayclient.Client) (peer.AddrInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, relayclient.DefaultTimeout)
	defer cancel()
	info, err := client.Info(ctx)
	if err != nil {
		return peer.AddrInfo{}, relayErr(err)
	}
	pi, err := info.AddrInfo()
	if err != nil {
		return peer.AddrInfo{}, relayErr(err)
	}
	return pi, nil
}

// dialRelay hands the relay to the dialer (which redials it like a
// bootstrap peer) and tries a first connection at once.
func (n *Node) dialRelay(ctx context.Context, pi peer.AddrInfo) {
	n.comms.mu.Lock()
	d := n.dialer
	n.comms.mu.Unlock()
	if d == nil {
		return
	}
	d.Add(pi)
	ctx, cancel := context.WithTimeout(ctx, relayConnectTimeout)
	defer cancel()
	if err := n.host.Connect(ctx, pi); err != nil {
		n.log.Info("relay not reached yet", "peer", pi.ID, "err", err)
	}
}

// checkSession asks the relay about the session and forgets one it no
// longer knows.
func (n *Node) checkSession(ctx context.Context, client *relayclient.Client) {
	_, token, err := n.relaySession()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, relayclient.DefaultTimeout)
	defer cancel()
	if _, err := client.Me(ctx, token); relayclient.Status(err) == http.StatusUnauthorized {
		n.log.Info("the relay ended the session", "url", client.URL())
		n.endSession(token)
	}
}

// endSession forgets the session of token (which the relay refused).
func (n *Node) endSession(token string) {
	n.relay.op.Lock()
	defer n.relay.op.Unlock()
	n.relay.mu.Lock()
	rec := n.relay.rec
	n.relay.mu.Unlock()
	if rec.Token != token {
		return
	}
	rec.Token, rec.Email, rec.ExpiresAt = "", "", time.Time{}
	if err := n.putRelayRecord(rec); err != nil {
		n.log.Warn("relay secrets", "err", err)
	}
	n.relayChanged()
}

// sessionErr turns a relay's 401 to a bearer call into ErrNoRelay,
// forgetting the session it ended.
func (n *Node) sessionErr(token string, err error) error {
	if relayclient.Status(err) == http.StatusUnauthorized {
		n.endSession(token)
		return fmt.Errorf("%w: the relay ended the session; log in again", ErrNoRelay)
	}
	return relayErr(err)
}

// putRelayRecord saves rec and makes it the current one. relay.op is
// held.
func (n *Node) putRelayRecord(rec relayRecord) error {
	if err := saveRelayRecord(n.relay.secrets, rec); err != nil {
		return err
	}
	n.relay.mu.Lock()
	n.relay.rec = rec
	n.relay.mu.Unlock()
	return nil
}

// relayErr marks errors of talking to the relay that are not its answers
// as ErrRelayUnreachable.
func relayErr(err error) error {
	var answer *relayclient.Error
	if err == nil || errors.As(err, &answer) || errors.Is(err, relayclient.ErrBadAnswer) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrRelayUnreachable, err)
}

// SetRelay makes the relay at url the node's relay: it must answer /info.
// Another relay's session is logged out first. Nothing changes if url is
// bad or the relay does not answer.
func (n *Node) SetRelay(ctx context.Context, url string) error {
	url, err := relayclient.ParseURL(url)
	if err != nil {
		return err
	}
	client, err := relayclient.New(url, nil)
	if err != nil {
		return err
	}
	pi, err := relayInfo(ctx, client)
	if err != nil {
		return err
	}
	n.relay.op.Lock()
	defer n.relay.op.Unlock()
	n.relay.mu.Lock()
	old, oldPeer := n.relay.rec, n.relay.peer
	n.relay.mu.Unlock()
	rec := old
	if old.URL != url {
		rec = relayRecord{URL: url}
	}
	if err := saveRelayRecord(n.relay.secrets, rec); err != nil {
		return err
	}
	if old.URL != url {
		n.logoutQuietly(ctx, old)
		if oldPeer.ID != "" && oldPeer.ID != pi.ID {
			n.dropPeer(oldPeer.ID)
		}
	}
	n.relay.mu.Lock()
	n.relay.rec, n.relay.client, n.relay.peer, n.relay.err = rec, client, pi, ""
	n.relay.mu.Unlock()
	n.log.Info("relay set", "url", url, "peer", pi.ID)
	n.dialRelay(ctx, pi)
	n.relayChanged()
	n.kickRelay()
	return nil
}

// ForgetRelay logs out of the relay and forgets it.
func (n *Node) ForgetRelay(ctx context.Context) error {
	n.relay.op.Lock()
	defer n.relay.op.Unlock()
	n.relay.mu.Lock()
	rec, pi := n.relay.rec, n.relay.peer
	n.relay.mu.Unlock()
	if err := n.relay.secrets.Delete(); err != nil {
		return err
	}
	n.logoutQuietly(ctx, rec)
	n.relay.mu.Lock()
	n.relay.rec, n.relay.client, n.relay.peer, n.relay.err = relayRecord{}, nil, peer.AddrInfo{}, ""
	n.relay.mu.Unlock()
	if pi.ID != "" {
		n.dropPeer(pi.ID)
	}
	n.log.Info("relay forgotten", "url", rec.URL)
	n.relayChanged()
	return nil
}

// dropPeer stops redialing a former relay and disconnects from it.
func (n *Node) dropPeer(id peer.ID) {
	n.comms.mu.Lock()
	d := n.dialer
	n.comms.mu.Unlock()
	if d != nil {
		d.Remove(id)
	}
	_ = n.host.Network().ClosePeer(id)
}

// logoutQuietly ends rec's session at its relay, if it has one; a relay
// that does not answer ends it when it expires.
func (n *Node) logoutQuietly(ctx context.Context, rec relayRecord) {
	if rec.Token == "" || rec.URL == "" {
		return
	}
	client, err := relayclient.New(rec.URL, nil)
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, relayclient.DefaultTimeout)
		err = client.Logout(ctx, rec.Token)
		cancel()
	}
	if err != nil && relayclient.Status(err) != http.StatusUnauthorized {
		n.log.Warn("relay logout", "url", rec.URL, "err", err)
	}
}

// checkEmail refuses what cannot be an email address; the relay has the
// last word.
func checkEmail(email string) error {
	e := relayclient.NormalizeEmail(email)
	at := strings.LastIndexByte(e, '@')
	if len(e) > 254 || at < 1 || at == len(e)-1 || strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return ErrInvalidEmail
	}
	return nil
}

// RegisterRelay creates an account on the relay with this node's user and
// its sealed identity, and logs it in.
func (n *Node) RegisterRelay(ctx context.Context, email, password string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := relayclient.CheckPassword(password); err != nil {
		return err
	}
	n.relay.op.Lock()
	defer n.relay.op.Unlock()
	client, err := n.relayClient()
	if err != nil {
		return err
	}
	email = relayclient.NormalizeEmail(email)
	keys := relayclient.DeriveKeys(email, password)
	id := n.Identity() // see swapIdentity
	sealed, err := keys.SealIdentity(id.User.ID(), id.User.Seed())
	if err != nil {
		return err
	}
	u := id.User.ID()
	s, err := client.Register(ctx, relayapi.Registration{Email: email, Password: keys.Login, User: u.String(), Identity: sealed})
	if err != nil {
		return relayErr(err)
	}
	prev, err := n.saveSession(client, email, s)
	if err != nil {
		n.logoutQuietly(ctx, relayRecord{URL: client.URL(), Token: s.Token})
		return err
	}
	n.logoutQuietly(ctx, prev)
	return nil
}

// LoginRelay logs in to the relay. If the account holds an identity
// backup of another user, that user's identity is restored on this node
// (keeping this device's key, certified anew) — unless this node's user
// belongs to communities (ErrIdentityConflict). An account without a
// backup gets this node's.
//
// The identity is swapped while no API request runs (identityMu); Go
// callers must not use the node's other methods concurrently.
func (n *Node) LoginRelay(ctx context.Context, email, password string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if relayclient.CheckPassword(password) != nil {
		return ErrBadCredentials // no account has such a password
	}
	email = relayclient.NormalizeEmail(email)
	client, s, seed, err := n.openSession(ctx, email, password)
	if err != nil {
		return err
	}
	prev, err := n.finishLogin(client, email, s, seed)
	if err != nil {
		n.logoutQuietly(ctx, relayRecord{URL: client.URL(), Token: s.Token})
		return err
	}
	n.logoutQuietly(ctx, prev)
	return nil
}

// openSession logs in and returns the session with the seed of the
// identity backup it holds (nil if it held none and now holds this
// node's). Only relay.op is held: the network round trips do not hold up
// the API.
func (n *Node) openSession(ctx context.Context, email, password string) (*relayclient.Client, relayapi.Session, []byte, error) {
	n.relay.op.Lock()
	defer n.relay.op.Unlock()
	var s relayapi.Session
	client, err := n.relayClient()
	if err != nil {
		return nil, s, nil, err
	}
	keys := relayclient.DeriveKeys(email, password)
	s, err = client.Login(ctx, email, keys.Login)
	if relayclient.Status(err) == http.StatusUnauthorized {
		return nil, s, nil, ErrBadCredentials
	}
	if err != nil {
		return nil, s, nil, relayErr(err)
	}
	seed, err := n.backupSeed(ctx, client, &keys, s)
	if err != nil {
		n.logoutQuietly(ctx, relayRecord{URL: client.URL(), Token: s.Token})
		return nil, s, nil, err
	}
	return client, s, seed, nil
}

// backupSeed opens the identity backup of the account of s, or gives the
// account this node's and returns nil. relay.op is held.
func (n *Node) backupSeed(ctx context.Context, client *relayclient.Client, keys *relayclient.Keys, s relayapi.Session) ([]byte, error) {
	if s.Account.Identity == "" {
		id := n.Identity()
		u := id.User.ID()
		sealed, err := keys.SealIdentity(u, id.User.Seed())
		if err != nil {
			return nil, err
		}
		return nil, relayErr(client.PutIdentity(ctx, s.Token, u.String(), sealed))
	}
	var user crdt.UserID
	b, err := crdt.ParseKeyText(s.Account.User)
	if err != nil || len(b) != len(user) {
		return nil, fmt.Errorf("%w: the account's user %q is not a key", relayclient.ErrBadAnswer, s.Account.User)
	}
	copy(user[:], b)
	return keys.OpenIdentity(user, s.Account.Identity)
}

// finishLogin restores the identity of seed (if not nil) and keeps the
// session s, atomically for API requests: it holds identityMu for writing
// (no request runs) and relay.op. It returns the session s replaced, for
// the caller to log out once the locks are released.
func (n *Node) finishLogin(client *relayclient.Client, email string, s relayapi.Session, seed []byte) (relayRecord, error) {
	n.identityMu.Lock()
	defer n.identityMu.Unlock()
	n.relay.op.Lock()
	defer n.relay.op.Unlock()
	if c, _ := n.relayClient(); c == nil || c.URL() != client.URL() {
		return relayRecord{}, fmt.Errorf("%w: the relay changed during the login", ErrNoRelay)
	}
	if seed != nil {
		if err := n.swapIdentity(seed); err != nil {
			return relayRecord{}, err
		}
	}
	return n.saveSession(client, email, s)
}

// swapIdentity makes the user of seed this node's user, keeping the
// device key (and so the peer ID) and certifying it by that user; the new
// identity is written in one transaction. A node whose user belongs to
// communities refuses, since its store holds that user's memberships and
// keys. n.Identity() changes only here, with identityMu held for writing
// and relay.op held, so holding either is enough to read it.
func (n *Node) swapIdentity(seed []byte) error {
	u, err := crdt.UserFromSeed(seed)
	if err != nil {
		return err
	}
	cur := n.Identity()
	if cur.User.ID() == u.ID() {
		return nil
	}
	if len(n.Communities()) > 0 {
		return ErrIdentityConflict
	}
	d, err := u.Device(cur.Device.Seed())
	if err != nil {
		return err
	}
	if err := n.store.PutSetting(settingIdentity, append(u.Seed(), d.Seed()...)); err != nil {
		return err
	}
	n.identity.Store(&Identity{User: u, Device: d})
	old, now := cur.User.ID(), u.ID()
	n.log.Info("identity restored from the relay", "was", old.String(), "user", now.String())
	return nil
}

// saveSession keeps the session s of email at client's relay and returns
// the session it replaces, which the caller logs out. relay.op is held.
func (n *Node) saveSession(client *relayclient.Client, email string, s relayapi.Session) (relayRecord, error) {
	n.relay.mu.Lock()
	prev := n.relay.rec
	n.relay.mu.Unlock()
	rec := relayRecord{URL: client.URL(), Email: email, Token: s.Token, ExpiresAt: s.ExpiresAt}
	if err := n.putRelayRecord(rec); err != nil {
		return relayRecord{}, err
	}
	n.log.Info("logged in to the relay", "url", rec.URL, "email", email)
	n.relayChanged()
	if prev.Token == s.Token {
		return relayRecord{}, nil
	}
	return prev, nil
}

// LogoutRelay ends the relay session and forgets its token. With wipe it
// also stops the node, and Run then deletes the store and the relay
// secrets and returns ErrWiped, so that the next start is a new identity.
func (n *Node) LogoutRelay(ctx context.Context, wipe bool) error {
	if wipe && !n.Running() {
		return ErrNotRunning
	}
	n.relay.op.Lock()
	defer n.relay.op.Unlock()
	n.relay.mu.Lock()
	rec := n.relay.rec
	n.relay.mu.Unlock()
	n.logoutQuietly(ctx, rec)
	next := relayRecord{URL: rec.URL}
	if wipe {
		next = relayRecord{}
	}
	if err := n.putRelayRecord(next); err != nil {
		return err
	}
	n.relayChanged()
	if !wipe {
		n.log.Info("logged out of the relay", "url", rec.URL)
		return nil
	}
	n.log.Warn("wiping this device's identity and data")
	n.relay.mu.Lock()
	n.relay.wipe = true
	n.relay.mu.Unlock()
	n.comms.mu.Lock()
	stop := n.stopRun
	n.comms.mu.Unlock()
	if stop != nil {
		stop()
	}
	return nil
}

// wiping reports whether Run is to delete the node's data when it ends.
func (n *Node) wiping() bool {
	n.relay.mu.Lock()
	defer n.relay.mu.Unlock()
	return n.relay.wipe
}

// wipe deletes the store and the relay secrets; the store is closed.
func (n *Node) wipe() error {
	return errors.Join(
		removeIfThere(filepath.Join(n.cfg.DataDir, StoreFile)),
		n.relay.secrets.Delete(),
		secretstore.File(filepath.Join(n.cfg.DataDir, RelaySecretsFile)).Delete(),
	)
}

func removeIfThere(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// CarryCommunity asks the relay to carry community id: to join its topics
// as a blind peer and keep and serve its ops. Only its owner can ask.
func (n *Node) CarryCommunity(ctx context.Context, id crdt.ID) error {
	c := n.comms.get(id)
	if c == nil {
		return ErrUnknownCommunity
	}
	user := n.Identity().User
	if n.comms.state(c).Owner != user.ID() {
		return fmt.Errorf("%w: only the owner asks a relay to carry a community", ErrForbidden)
	}
	client, token, err := n.relaySession()
	if err != nil {
		return err
	}
	genesis, err := n.store.Op(id)
	if err != nil {
		return err
	}
	n.comms.mu.Lock()
	topic := c.topic
	n.comms.mu.Unlock()
	got, err := client.Carry(ctx, token, relayapi.CarryRequest{Genesis: genesis, TopicSecret: topic, Proof: user.SignCarry(id, topic)})
	if err != nil {
		return n.sessionErr(token, err)
	}
	if got != id.String() {
		return fmt.Errorf("%w: the relay carries %q, not %s", relayclient.ErrBadAnswer, got, id)
	}
	if err := n.store.PutSetting(settingCarried(id), []byte(client.URL())); err != nil {
		return fmt.Errorf("remember that the relay carries %s: %w", id, err)
	}
	n.log.Info("the relay carries a community", "community", id)
	if state, err := n.Community(id); err == nil {
		n.emit("community:update", state)
	}
	return nil
}

// settingCarried names the URL of the relay that said it carries a
// community: another relay set later does not.
func settingCarried(community crdt.ID) string { return "relay-carries/" + community.String() }

// Carried reports whether the node's relay said it carries community id.
func (n *Node) Carried(id crdt.ID) bool {
	n.relay.mu.Lock()
	client := n.relay.client
	n.relay.mu.Unlock()
	if client == nil {
		return false
	}
	url, err := n.store.Setting(settingCarried(id))
	return err == nil && string(url) == client.URL()
}

// relayInviteCode asks the relay for a short code standing for link, if
// the node has a session; it returns nil without one or when the relay
// fails (the link works without a code).
func (n *Node) RelayInviteCode(ctx context.Context, link string, ttl time.Duration, maxUses uint32) *string {
	client, token, err := n.relaySession()
	if err != nil {
		return nil
	}
	inv, err := client.CreateInvite(ctx, token, relayapi.InviteRequest{Link: link, MaxUses: int(maxUses), ExpiresIn: int64(ttl / time.Second)})
	if err != nil {
		n.log.Warn("no invite code from the relay", "err", n.sessionErr(token, err))
		return nil
	}
	if parsed, err := crdt.ParseInvite(link); err == nil {
		// Remembered so that revoking the invite revokes its code too.
		if err := n.store.PutSetting(settingInviteCode(parsed.Invite), []byte(inv.Code)); err != nil {
			n.log.Warn("invite code not remembered", "err", err)
		}
	}
	return &inv.Code
}

// settingInviteCode names the relay code made for an invite.
func settingInviteCode(invite crdt.ID) string { return "relay-code/" + invite.String() }

// revokeInviteCode revokes the relay's code for an invite this node
// revoked, if it made one; the invite's revocation stands either way, and
// a code left at the relay only leads to a refused join.
func (n *Node) revokeInviteCode(ctx context.Context, invite crdt.ID) {
	code, err := n.store.Setting(settingInviteCode(invite))
	if err != nil || code == nil {
		return
	}
	client, token, err := n.relaySession()
	if err == nil {
		err = client.RevokeInvite(ctx, token, string(code))
	}
	if err != nil {
		n.log.Warn("invite code not revoked at the relay", "code", string(code), "err", err)
		return
	}
	if err := n.store.DeleteSetting(settingInviteCode(invite)); err != nil {
		n.log.Warn("forget invite code", "err", err)
	}
}

// ResolveInviteCode asks the relay for the invite link a short code
// stands for.
func (n *Node) ResolveInviteCode(ctx context.Context, code string) (string, error) {
	client, err := n.relayClient()
	if err != nil {
		return "", err
	}
	inv, err := client.ResolveInvite(ctx, code)
	if err != nil {
		return "", relayErr(err)
	}
	if _, err := crdt.ParseInvite(inv.Link); err != nil {
		return "", fmt.Errorf("%w: code %s: %v", relayclient.ErrBadAnswer, code, err)
	}
	return inv.Link, nil
}
