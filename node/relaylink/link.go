// Package relaylink is a node's link to its home relay, a feature on the
// node's host (node/host.go; docs/operations.md, "Relay" and "Relay
// account"; docs/protocol.md, "The home relay"). The node knows one relay
// by its HTTP base URL. It asks the relay's /info for its libp2p peer,
// keeps connected to it like to a bootstrap peer, and offers it to
// AutoRelay as its circuit relay, so that a node behind a NAT is reachable
// through it and hole punching (DCUtR) can upgrade relayed connections.
// Once connected, the replicas sync with the relay as with any peer: it
// serves the logs of the communities it carries.
//
// An account on the relay (register, login, logout) keeps the user's
// identity key there sealed with a key derived from the password
// (relayclient.Keys): logging in on a new device restores the user, and
// the user's profile and communities, which the link keeps at the relay
// sealed under a key derived from the identity (records.go). The
// session token, with the relay's URL and the account's email, lives in
// the OS keyring or DATA/relay.json (node/secretstore), never in the store.
// The link also gives invites short codes (node.InviteCodes) and serves
// its routes of the local API (localapi.go).
package relaylink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/relayclient"
	"github.com/ancore/ancore/node/secretstore"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/relayapi"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
)

// Errors of the relay operations.
var (
	ErrNoRelay          = errors.New("no relay session")
	ErrBadCredentials   = errors.New("wrong email or password")
	ErrRelayUnreachable = errors.New("relay unreachable")
	ErrInvalidEmail     = errors.New("not an email address")
)

// Config says which relay a node links to and where its session lives.
type Config struct {
	// URL is the base URL of a home relay (http://host:port). It is
	// remembered: a node started without it uses the relay it last had.
	// A different relay replaces the remembered one and its session.
	URL string
	// Secrets keeps the relay session; nil means the OS keyring if a
	// Secret Service answers, else DATA/relay.json (secretstore.Detect).
	Secrets secretstore.Store
}

// SecretsFile holds the relay session in the data folder when no OS
// keyring is available (mode 0600).
const SecretsFile = "relay.json"

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

// record is what the secret store keeps of the relay.
type record struct {
	URL       string    `json:"url"`
	Email     string    `json:"email,omitempty"`
	Token     string    `json:"token,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Link is a node's link to its relay.
type Link struct {
	node node.Host
	log  *slog.Logger
	cfg  Config

	op      sync.Mutex // one account or URL change at a time
	secrets secretstore.Store
	kick    chan struct{} // wakes runRelay

	restore sync.Mutex    // one sync of the records, or login, at a time
	records chan struct{} // wakes runRecords
	pull    atomic.Bool   // the next sync of the records reads the relay
	synced  []byte        // localMark at the last sync; guarded by restore

	mu     sync.Mutex // guards what follows
	rec    record
	client *relayclient.Client // nil without a URL
	peer   peer.AddrInfo       // from /info; zero until it answered
	err    string              // the last failure, for the status
}

// New makes the link; Open attaches it to its node. Between the two, the
// node is built with HostOptions.
func New(cfg Config) *Link {
	return &Link{cfg: cfg, kick: make(chan struct{}, 1), records: make(chan struct{}, 1)}
}

// Open attaches the link to the node whose host n is (built with
// l.HostOptions()): it reads the relay record, applies Config.URL (which
// replaces a remembered relay and its session), and hooks into the node's
// peers, invites and wipe. Call it before the node runs, and Run beside it.
func (l *Link) Open(n node.Host, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.Default()
	}
	l.node, l.log = n, logger.With("subsystem", "relay")
	if err := l.open(); err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	n.OnPeer(func(p peer.ID, connected bool) {
		if l.isRelay(p) {
			l.changed()
			if !connected {
				l.kickRun()
			}
		}
	})
	n.OnCommunity(func(_, _ *crdt.Community) { l.kickRecords(false) })
	n.OnWipe(l.wipe)
	n.SetInviteCodes(l)
	n.SetCarriers(l)
	return nil
}

// open reads the relay record and applies Config.URL.
func (l *Link) open() error {
	r := l
	r.secrets = l.cfg.Secrets
	if r.secrets == nil {
		dev := l.node.Identity().Device.ID()
		r.secrets = secretstore.Detect(context.Background(), filepath.Join(l.node.DataDir(), SecretsFile),
			keyringService, "relay/"+dev.String(), secretstore.DetectTimeout)
	}
	rec, err := loadRelayRecord(r.secrets)
	if err != nil {
		l.log.Warn("relay session not restored", "from", r.secrets, "err", err)
		r.err = err.Error()
	}
	if l.cfg.URL != "" {
		url, err := relayclient.ParseURL(l.cfg.URL)
		if err != nil {
			return err
		}
		if url != rec.URL {
			rec = record{URL: url}
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

func loadRelayRecord(s secretstore.Store) (record, error) {
	var rec record
	raw, err := s.Load()
	if err != nil || raw == nil {
		return rec, err
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return record{}, fmt.Errorf("relay secrets in %s: %w", s, err)
	}
	if rec.URL != "" {
		if _, err := relayclient.ParseURL(rec.URL); err != nil {
			return record{}, fmt.Errorf("relay secrets in %s: %w", s, err)
		}
	}
	return rec, nil
}

func saveRelayRecord(s secretstore.Store, rec record) error {
	if rec == (record{}) {
		return s.Delete()
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.Save(raw)
}

// HostOptions are the libp2p services of a node's host for NAT traversal:
// AutoRelay with the relay as its only candidate, hole punching, and the
// AutoNAT service (other nodes learn from us whether they are reachable).
// The relay becomes known only after /info answered, after the host
// exists, so AutoRelay asks relayCandidates rather than taking a static
// list.
func (l *Link) HostOptions() []libp2p.Option {
	return []libp2p.Option{
		libp2p.EnableAutoRelayWithPeerSource(l.candidates,
			autorelay.WithMinCandidates(1), autorelay.WithNumRelays(1), autorelay.WithBackoff(relayBackoff)),
		libp2p.EnableHolePunching(),
		libp2p.EnableNATService(),
	}
}

// candidates is AutoRelay's peer source: the relay, once known.
func (l *Link) candidates(_ context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, 1)
	if pi, ok := l.relayPeer(); ok && num > 0 {
		out <- pi
	}
	close(out)
	return out
}

// relayPeer returns the relay's peer, if /info told it.
func (l *Link) relayPeer() (peer.AddrInfo, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peer, l.peer.ID != ""
}

// isRelay reports whether p is the relay.
func (l *Link) isRelay(p peer.ID) bool {
	pi, ok := l.relayPeer()
	return ok && pi.ID == p
}

// relaySession returns the relay's client and session token, or
// ErrNoRelay.
func (l *Link) relaySession() (*relayclient.Client, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l
	switch {
	case r.client == nil:
		return nil, "", fmt.Errorf("%w: no relay is set", ErrNoRelay)
	case r.rec.Token == "" || (!r.rec.ExpiresAt.IsZero() && time.Now().After(r.rec.ExpiresAt)):
		return nil, "", fmt.Errorf("%w: not logged in to the relay", ErrNoRelay)
	}
	return r.client, r.rec.Token, nil
}

// relayClient returns the relay's client, or ErrNoRelay.
func (l *Link) relayClient() (*relayclient.Client, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.client == nil {
		return nil, fmt.Errorf("%w: no relay is set", ErrNoRelay)
	}
	return l.client, nil
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

// Status is the node's relay as the API shows it.
func (l *Link) Status() RelayJSON {
	l.mu.Lock()
	r := l
	rec, pi, lastErr := r.rec, r.peer, r.err
	l.mu.Unlock()
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
		out.Connected = l.node.Libp2p().Network().Connectedness(pi.ID) == network.Connected
	}
	if lastErr != "" {
		out.Error = &lastErr
	}
	return out
}

// Network is the relay's part of the node's connectivity (GET /network).
func (l *Link) Network() NetworkRelayJSON {
	s := l.Status()
	return NetworkRelayJSON{URL: s.URL, Connected: s.Connected, Peer: s.Peer}
}

// changed announces a change of the relay's status.
func (l *Link) changed() {
	l.node.Emit("network:update", RelayUpdate{Relay: l.Network()})
}

// kickRun wakes Run.
func (l *Link) kickRun() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Run keeps the node connected to its relay until ctx ends: while
// it is not, it asks /info again (the relay may have moved) and dials
// what it learns, waiting longer after each failure, from p2p.MinRedial to
// p2p.MaxRedial; a kick (a disconnection, a new relay) tries at once.
// After each reconnection it checks the session with /auth/me and
// forgets one the relay ended.
func (l *Link) Run(ctx context.Context) {
	select { // the node redials the relay once it is on the network
	case <-l.node.Ready():
	case <-ctx.Done():
		return
	}
	go l.runRecords(ctx)
	wait := p2p.MinRedial
	for {
		next := p2p.MaxRedial // connected or no relay: kicks wake us
		if client, _ := l.relayClient(); client != nil && !l.relayConnected() {
			err := l.refreshRelay(ctx, client)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				l.log.Warn("relay", "url", client.URL(), "err", err)
			}
			if l.relayConnected() {
				wait = p2p.MinRedial
				l.checkSession(ctx, client)
				l.kickRecords(true)
			} else {
				next, wait = wait, min(2*wait, p2p.MaxRedial)
			}
		}
		t := time.NewTimer(next)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-l.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// relayConnected reports whether the node is connected to its relay.
func (l *Link) relayConnected() bool {
	pi, ok := l.relayPeer()
	return ok && l.node.Libp2p().Network().Connectedness(pi.ID) == network.Connected
}

// refreshRelay asks client's relay for its peer and dials it.
func (l *Link) refreshRelay(ctx context.Context, client *relayclient.Client) error {
	pi, err := relayInfo(ctx, client)
	l.mu.Lock()
	if l.client != client { // the relay changed meanwhile
		l.mu.Unlock()
		return nil
	}
	beforePeer, beforeErr := l.peer.ID, l.err
	if err != nil {
		l.err = err.Error()
	} else {
		l.peer, l.err = pi, ""
	}
	changed := beforePeer != l.peer.ID || beforeErr != l.err
	l.mu.Unlock()
	if err == nil {
		l.dialRelay(ctx, pi)
	}
	if changed {
		l.changed()
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

// dialRelay has the node redial the relay like a bootstrap peer and tries
// a first connection at once.
func (l *Link) dialRelay(ctx context.Context, pi peer.AddrInfo) {
	if !l.node.KeepConnected(pi) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, relayConnectTimeout)
	defer cancel()
	if err := l.node.Libp2p().Connect(ctx, pi); err != nil {
		l.log.Info("relay not reached yet", "peer", pi.ID, "err", err)
	}
}

// checkSession asks the relay about the session and forgets one it no
// longer knows.
func (l *Link) checkSession(ctx context.Context, client *relayclient.Client) {
	_, token, err := l.relaySession()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, relayclient.DefaultTimeout)
	defer cancel()
	if _, err := client.Me(ctx, token); relayclient.Status(err) == http.StatusUnauthorized {
		l.log.Info("the relay ended the session", "url", client.URL())
		l.endSession(token)
	}
}

// endSession forgets the session of token (which the relay refused).
func (l *Link) endSession(token string) {
	l.op.Lock()
	defer l.op.Unlock()
	l.mu.Lock()
	rec := l.rec
	l.mu.Unlock()
	if rec.Token != token {
		return
	}
	rec.Token, rec.Email, rec.ExpiresAt = "", "", time.Time{}
	if err := l.putRelayRecord(rec); err != nil {
		l.log.Warn("relay secrets", "err", err)
	}
	l.changed()
}

// sessionErr turns a relay's 401 to a bearer call into ErrNoRelay,
// forgetting the session it ended.
func (l *Link) sessionErr(token string, err error) error {
	if relayclient.Status(err) == http.StatusUnauthorized {
		l.endSession(token)
		return fmt.Errorf("%w: the relay ended the session; log in again", ErrNoRelay)
	}
	return relayErr(err)
}

// putRelayRecord saves rec and makes it the current one. l.op is
// held.
func (l *Link) putRelayRecord(rec record) error {
	if err := saveRelayRecord(l.secrets, rec); err != nil {
		return err
	}
	l.mu.Lock()
	l.rec = rec
	l.mu.Unlock()
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

// codeErr gives the relay's refusals of a short code the reasons a
// member gives for its invite's link, so that both read alike.
func codeErr(code string, err error) error {
	var answer *relayclient.Error
	if !errors.As(err, &answer) {
		return err
	}
	reason := map[string]error{"not_found": crdt.ErrInviteUnknown, "expired": crdt.ErrInviteExpired,
		"revoked": crdt.ErrInviteRevoked, "exhausted": crdt.ErrInviteUsedUp}[answer.Code]
	if reason == nil || answer.Status != http.StatusNotFound && answer.Status != http.StatusGone {
		return err
	}
	return fmt.Errorf("invite code %s: %w (relay: %s)", code, reason, answer.Message)
}

// Set makes the relay at url the node's relay: it must answer /info.
// Another relay's session is logged out first. Nothing changes if url is
// bad or the relay does not answer.
func (l *Link) Set(ctx context.Context, url string) error {
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
	l.op.Lock()
	defer l.op.Unlock()
	l.mu.Lock()
	old, oldPeer := l.rec, l.peer
	l.mu.Unlock()
	rec := old
	if old.URL != url {
		rec = record{URL: url}
	}
	if err := saveRelayRecord(l.secrets, rec); err != nil {
		return err
	}
	if old.URL != url {
		l.logoutQuietly(ctx, old)
		if oldPeer.ID != "" && oldPeer.ID != pi.ID {
			l.node.Disconnect(oldPeer.ID)
		}
	}
	l.mu.Lock()
	l.rec, l.client, l.peer, l.err = rec, client, pi, ""
	l.mu.Unlock()
	l.log.Info("relay set", "url", url, "peer", pi.ID)
	l.dialRelay(ctx, pi)
	l.changed()
	l.kickRun()
	return nil
}

// Forget logs out of the relay and forgets it.
func (l *Link) Forget(ctx context.Context) error {
	l.op.Lock()
	defer l.op.Unlock()
	l.mu.Lock()
	rec, pi := l.rec, l.peer
	l.mu.Unlock()
	if err := l.secrets.Delete(); err != nil {
		return err
	}
	l.logoutQuietly(ctx, rec)
	l.mu.Lock()
	l.rec, l.client, l.peer, l.err = record{}, nil, peer.AddrInfo{}, ""
	l.mu.Unlock()
	if pi.ID != "" {
		l.node.Disconnect(pi.ID)
	}
	l.log.Info("relay forgotten", "url", rec.URL)
	l.changed()
	return nil
}

// logoutQuietly ends rec's session at its relay, if it has one; a relay
// that does not answer ends it when it expires.
func (l *Link) logoutQuietly(ctx context.Context, rec record) {
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
		l.log.Warn("relay logout", "url", rec.URL, "err", err)
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

// Register creates an account on the relay with this node's user and
// its sealed identity, and logs it in.
func (l *Link) Register(ctx context.Context, email, password string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := relayclient.CheckPassword(password); err != nil {
		return err
	}
	l.op.Lock()
	defer l.op.Unlock()
	client, err := l.relayClient()
	if err != nil {
		return err
	}
	email = relayclient.NormalizeEmail(email)
	keys := relayclient.DeriveKeys(email, password)
	id := l.node.Identity() // steady: a request holds it (node.HoldIdentity)
	sealed, err := keys.SealIdentity(id.User.ID(), id.User.Seed())
	if err != nil {
		return err
	}
	u := id.User.ID()
	s, err := client.Register(ctx, relayapi.Registration{Email: email, Password: keys.Login, User: u.String(), Identity: sealed})
	if err != nil {
		return relayErr(err)
	}
	prev, err := l.saveSession(client, email, s)
	if err != nil {
		l.logoutQuietly(ctx, record{URL: client.URL(), Token: s.Token})
		return err
	}
	l.logoutQuietly(ctx, prev)
	l.kickRecords(true)
	return nil
}

// Login logs in to the relay. If the account holds an identity
// backup of another user, that user's identity is restored on this node
// (keeping this device's key, certified anew) — unless this node's user
// belongs to communities (node.ErrIdentityConflict). An account without a
// backup gets this node's. Then the user's records are read: the
// profile and the communities this node lacks are restored before Login
// returns (records.go), and sync brings their state and history.
//
// The identity is swapped while no API request runs (node.SwapUser); Go
// callers must not use the node's other methods concurrently.
func (l *Link) Login(ctx context.Context, email, password string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if relayclient.CheckPassword(password) != nil {
		return ErrBadCredentials // no account has such a password
	}
	email = relayclient.NormalizeEmail(email)
	l.restore.Lock()
	defer l.restore.Unlock()
	client, s, seed, err := l.openSession(ctx, email, password)
	if err != nil {
		return err
	}
	was := l.node.Identity().User.ID()
	prev, err := l.finishLogin(client, email, s, seed)
	if err != nil {
		l.logoutQuietly(ctx, record{URL: client.URL(), Token: s.Token})
		return err
	}
	l.logoutQuietly(ctx, prev)
	if l.node.Identity().User.ID() != was {
		// This node's profile was another user's: the relay's is the user's.
		if err := l.forgetProfileTime(); err != nil {
			return err
		}
	}
	// The login answers with the user's profile and communities restored,
	// if the relay gives them now; else the records loop retries.
	l.pull.Store(true)
	if err := l.syncRecordsLocked(ctx); err != nil {
		l.log.Warn("records at the relay not in step", "err", err)
		l.kickRecords(true)
	}
	return nil
}

// openSession logs in and returns the session with the seed of the
// identity backup it holds (nil if it held none and now holds this
// node's). Only l.op is held: the network round trips do not hold up
// the API.
func (l *Link) openSession(ctx context.Context, email, password string) (*relayclient.Client, relayapi.Session, []byte, error) {
	l.op.Lock()
	defer l.op.Unlock()
	var s relayapi.Session
	client, err := l.relayClient()
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
	seed, err := l.backupSeed(ctx, client, &keys, s)
	if err != nil {
		l.logoutQuietly(ctx, record{URL: client.URL(), Token: s.Token})
		return nil, s, nil, err
	}
	return client, s, seed, nil
}

// backupSeed opens the identity backup of the account of s, or gives the
// account this node's and returns nil. l.op is held.
func (l *Link) backupSeed(ctx context.Context, client *relayclient.Client, keys *relayclient.Keys, s relayapi.Session) ([]byte, error) {
	if s.Account.Identity == "" {
		id := l.node.Identity()
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
// session s, atomically for API requests (node.SwapUser) and under
// l.op. It returns the session s replaced, for the caller to log out
// once the locks are released.
func (l *Link) finishLogin(client *relayclient.Client, email string, s relayapi.Session, seed []byte) (record, error) {
	var prev record
	err := l.node.SwapUser(seed, func() error {
		l.op.Lock()
		defer l.op.Unlock()
		if c, _ := l.relayClient(); c == nil || c.URL() != client.URL() {
			return fmt.Errorf("%w: the relay changed during the login", ErrNoRelay)
		}
		var err error
		prev, err = l.saveSession(client, email, s)
		return err
	})
	return prev, err
}

// saveSession keeps the session s of email at client's relay and returns
// the session it replaces, which the caller logs out. l.op is held.
func (l *Link) saveSession(client *relayclient.Client, email string, s relayapi.Session) (record, error) {
	l.mu.Lock()
	prev := l.rec
	l.mu.Unlock()
	rec := record{URL: client.URL(), Email: email, Token: s.Token, ExpiresAt: s.ExpiresAt}
	if err := l.putRelayRecord(rec); err != nil {
		return record{}, err
	}
	l.log.Info("logged in to the relay", "url", rec.URL, "email", email)
	l.changed()
	if prev.Token == s.Token {
		return record{}, nil
	}
	return prev, nil
}

// Logout ends the relay session and forgets its token. With wipe it
// also stops the node, and Run then deletes the store and the relay
// secrets and returns node.ErrWiped, so that the next start is a new identity.
func (l *Link) Logout(ctx context.Context, wipe bool) error {
	if wipe && !l.node.Running() {
		return node.ErrNotRunning
	}
	l.op.Lock()
	defer l.op.Unlock()
	l.mu.Lock()
	rec := l.rec
	l.mu.Unlock()
	l.logoutQuietly(ctx, rec)
	next := record{URL: rec.URL}
	if wipe {
		next = record{}
	}
	if err := l.putRelayRecord(next); err != nil {
		return err
	}
	l.changed()
	if !wipe {
		l.log.Info("logged out of the relay", "url", rec.URL)
		return nil
	}
	return l.node.Wipe()
}

// wipe deletes the relay secrets, wherever they are kept (node.OnWipe).
func (l *Link) wipe() error {
	return errors.Join(l.secrets.Delete(), secretstore.File(filepath.Join(l.node.DataDir(), SecretsFile)).Delete())
}

// Carry asks the relay to carry community id: to join its topics as a
// blind peer and keep and serve its ops. Only its owner can ask.
func (l *Link) Carry(ctx context.Context, id crdt.ID) error {
	c, err := l.node.Community(id)
	if err != nil {
		return err
	}
	user := l.node.Identity().User
	if c.Owner != user.ID() {
		return fmt.Errorf("%w: only the owner asks a relay to carry a community", node.ErrForbidden)
	}
	client, token, err := l.relaySession()
	if err != nil {
		return err
	}
	genesis, err := l.node.StoredOp(id)
	if err != nil {
		return err
	}
	topic, err := l.node.TopicSecret(id)
	if err != nil {
		return err
	}
	got, err := client.Carry(ctx, token, relayapi.CarryRequest{Genesis: genesis, TopicSecret: topic, Proof: user.SignCarry(id, topic)})
	if err != nil {
		return l.sessionErr(token, err)
	}
	if got != id.String() {
		return fmt.Errorf("%w: the relay carries %q, not %s", relayclient.ErrBadAnswer, got, id)
	}
	if err := l.node.Settings().Put(settingCarried(id), []byte(client.URL())); err != nil {
		return fmt.Errorf("remember that the relay carries %s: %w", id, err)
	}
	l.log.Info("the relay carries a community", "community", id)
	if state, err := l.node.Community(id); err == nil {
		l.node.Emit("community:update", state)
	}
	return nil
}

// settingCarried names the URL of the relay that said it carries a
// community: another relay set later does not.
func settingCarried(community crdt.ID) string { return "relay-carries/" + community.String() }

// Carried reports whether the node's relay said it carries community id.
func (l *Link) Carried(id crdt.ID) bool {
	l.mu.Lock()
	client := l.client
	l.mu.Unlock()
	if client == nil {
		return false
	}
	url, err := l.node.Settings().Get(settingCarried(id))
	return err == nil && string(url) == client.URL()
}

// Carries reports whether p is the relay, which carries community id if
// it has the community's ops: its having an op makes the op sent
// (node.Carriers). The node asks only after a sync of one of id's logs
// with p ended, and a relay syncs only the logs of the communities it
// carries — their handles derive from the secret the owner gave it — so
// this holds on every member's node, not only on the owner's that asked.
func (l *Link) Carries(p peer.ID, id crdt.ID) bool { return l.isRelay(p) }

// Create asks the relay for a short code standing for link, if
// the node has a session; it returns nil without one or when the relay
// fails (the link works without a code).
func (l *Link) Create(ctx context.Context, link string, ttl time.Duration, maxUses uint32) *string {
	client, token, err := l.relaySession()
	if err != nil {
		return nil
	}
	inv, err := client.CreateInvite(ctx, token, relayapi.InviteRequest{Link: link, MaxUses: int(maxUses), ExpiresIn: int64(ttl / time.Second)})
	if err != nil {
		l.log.Warn("no invite code from the relay", "err", l.sessionErr(token, err))
		return nil
	}
	if parsed, err := crdt.ParseInvite(link); err == nil {
		// Remembered so that revoking the invite revokes its code too.
		if err := l.node.Settings().Put(settingInviteCode(parsed.Invite), []byte(inv.Code)); err != nil {
			l.log.Warn("invite code not remembered", "err", err)
		}
	}
	return &inv.Code
}

// settingInviteCode names the relay code made for an invite.
func settingInviteCode(invite crdt.ID) string { return "relay-code/" + invite.String() }

// Revoke revokes the relay's code for an invite this node
// revoked, if it made one; the invite's revocation stands either way, and
// a code left at the relay only leads to a refused join.
func (l *Link) Revoke(ctx context.Context, invite crdt.ID) {
	code, err := l.node.Settings().Get(settingInviteCode(invite))
	if err != nil || code == nil {
		return
	}
	client, token, err := l.relaySession()
	if err == nil {
		err = client.RevokeInvite(ctx, token, string(code))
	}
	if err != nil {
		l.log.Warn("invite code not revoked at the relay", "code", string(code), "err", err)
		return
	}
	if err := l.node.Settings().Delete(settingInviteCode(invite)); err != nil {
		l.log.Warn("forget invite code", "err", err)
	}
}

// Resolve asks the relay for the invite link a short code
// stands for.
func (l *Link) Resolve(ctx context.Context, code string) (string, error) {
	client, err := l.relayClient()
	if err != nil {
		return "", err
	}
	inv, err := client.ResolveInvite(ctx, code)
	if err != nil {
		return "", codeErr(code, relayErr(err))
	}
	if _, err := crdt.ParseInvite(inv.Link); err != nil {
		return "", fmt.Errorf("%w: code %s: %v", relayclient.ErrBadAnswer, code, err)
	}
	return inv.Link, nil
}
