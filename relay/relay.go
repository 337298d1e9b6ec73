// Package relay is Ancore's home relay: an always-on, blind peer backed by
// PostgreSQL. It carries the communities their owners register with it —
// it joins their gossip topics with the topic secret (never an epoch key),
// validates what members publish, stores the ciphertext and serves it
// through the sync protocol to members who come back — and it keeps
// accounts with encrypted identity backups, short invite codes, a
// circuit relay and AutoNAT service for members behind NAT, and STUN and
// TURN for their calls (relay/turn).
package relay

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/relay/account"
	"github.com/ancore/ancore/relay/invitecode"
	"github.com/ancore/ancore/relay/store"
	"github.com/ancore/ancore/relay/turn"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	circuit "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	"github.com/prometheus/client_golang/prometheus"
)

// Config says how to run a relay.
type Config struct {
	// DB is the PostgreSQL address (postgres://…).
	DB string
	// HTTP is the address of the HTTP API (host:port).
	HTTP string
	// Listen holds the libp2p multiaddrs; none means TCP and QUIC on
	// port 4001 of every interface.
	Listen []string
	// Retention is how long message ops are kept; zero keeps them.
	// Community state is always kept: members need it to join.
	Retention time.Duration
	// Circuit bounds the circuit relay service.
	Circuit CircuitLimits
	// Account configures accounts, sessions and their rate limits.
	Account account.Config
	// TURN configures STUN and TURN for members' calls; its zero value
	// serves none.
	TURN TURNConfig
	// Logger receives the relay's logs; nil means slog.Default().
	Logger *slog.Logger
}

// CircuitLimits bound what the circuit relay spends on members behind NAT.
// A relayed connection is meant for signaling and small transfers until
// hole punching gives the members a direct one.
type CircuitLimits struct {
	Reservations int           // active reservations; zero means 1024
	Duration     time.Duration // per relayed connection; zero means 2 minutes
	Data         int64         // bytes per relayed connection and direction; zero means 1 MiB
}

// DefaultListen is where a relay listens when Config.Listen is empty.
var DefaultListen = []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1"}

// Relay is a running relay.
type Relay struct {
	cfg      Config
	log      *slog.Logger
	store    *store.Store
	host     host.Host
	verifier *crdt.Verifier
	metrics  *metrics
	registry *prometheus.Registry
	accounts *account.Service
	invites  *invitecode.Service
	turn     *turn.Server // nil: no TURN
	http     *http.Server
	httpLn   net.Listener

	gossip *p2p.Gossip
	sync   *p2p.Sync

	mu      sync.Mutex
	runCtx  context.Context
	carried map[crdt.ID]*carried // by community
	handles map[string]*relayLog // sync handle → log
	wg      sync.WaitGroup
}

// settingKey holds the relay's libp2p key seed.
const settingKey = "libp2p-key"

// New opens the database (applying migrations), builds the libp2p host and
// binds the HTTP listener. Run starts serving.
func New(ctx context.Context, cfg Config) (*Relay, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	r := &Relay{cfg: cfg, log: log, store: st, verifier: crdt.NewVerifier(),
		registry: prometheus.NewRegistry(), carried: map[crdt.ID]*carried{}, handles: map[string]*relayLog{}}
	fail := func(err error) (*Relay, error) {
		r.close()
		return nil, err
	}
	seed := make([]byte, ed25519.SeedSize)
	rand.Read(seed)
	if seed, err = st.InitSetting(ctx, settingKey, seed); err != nil {
		return fail(fmt.Errorf("relay key: %w", err))
	}
	listen := cfg.Listen
	if len(listen) == 0 {
		listen = DefaultListen
	}
	r.host, err = p2p.NewHost(p2p.HostConfig{
		DeviceSeed: seed, Listen: listen,
		Memory: 1 << 30, FDs: 8192, LowConns: 2048, HighConns: 3072, MaxConns: 4096,
		Options: []libp2p.Option{
			libp2p.EnableRelayService(circuit.WithResources(cfg.Circuit.resources())),
			libp2p.EnableNATService(),
			// A relay exists to be reachable; it serves reservations
			// without waiting for AutoNAT to agree.
			libp2p.ForceReachabilityPublic(),
		},
	})
	if err != nil {
		return fail(err)
	}
	r.metrics = newMetrics(r.registry, r)
	if r.accounts, err = account.New(st, cfg.Account, log.With("part", "account"), r.registry); err != nil {
		return fail(err)
	}
	if r.invites, err = invitecode.New(st, r.accounts, log.With("part", "invitecode"), r.registry); err != nil {
		return fail(err)
	}
	if err := r.startTURN(ctx); err != nil {
		return fail(err)
	}
	r.httpLn, err = net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return fail(fmt.Errorf("http listen: %w", err))
	}
	r.http = &http.Server{Handler: r.routes(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return r, nil
}

func (l CircuitLimits) resources() circuit.Resources {
	res := circuit.DefaultResources()
	res.MaxReservations = cmpOr(l.Reservations, 1024)
	res.MaxReservationsPerIP = 16
	res.Limit = &circuit.RelayLimit{Duration: cmpOr(l.Duration, 2*time.Minute), Data: cmpOr(l.Data, 1<<20)}
	return res
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// HTTPAddr returns the HTTP API's address.
func (r *Relay) HTTPAddr() string { return r.httpLn.Addr().String() }

// Host returns the relay's libp2p host.
func (r *Relay) Host() host.Host { return r.host }

// Addrs returns the relay's full libp2p addresses (with /p2p/ID).
func (r *Relay) Addrs() []string {
	var out []string
	for _, a := range r.host.Addrs() {
		out = append(out, fmt.Sprintf("%s/p2p/%s", a, r.host.ID()))
	}
	return out
}

// Run serves until ctx ends, then shuts down gracefully: the HTTP server
// finishes its requests, replicas stop, and the database closes last.
func (r *Relay) Run(ctx context.Context) error {
	defer r.close()
	var err error
	if r.gossip, err = p2p.NewGossip(ctx, r.host, r.admit, p2p.AsHub()); err != nil {
		return err
	}
	r.sync = p2p.NewSync(r.host, r.syncLogs)
	defer r.sync.Close()
	r.sync.OnServed(r.served)
	r.mu.Lock()
	r.runCtx = ctx
	r.mu.Unlock()
	if err := r.carryAll(ctx); err != nil {
		return err
	}
	r.log.Info("relay running", "http", r.HTTPAddr(), "peer", r.host.ID(), "addrs", r.Addrs())

	httpErr := make(chan error, 1)
	go func() { httpErr <- r.http.Serve(r.httpLn) }()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.expire(ctx)
	}()

	select {
	case <-ctx.Done():
	case err = <-httpErr:
		err = fmt.Errorf("http: %w", err)
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if e := r.http.Shutdown(shut); e != nil && err == nil {
		err = e
	}
	r.stopAll()
	r.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (r *Relay) close() {
	if r.turn != nil {
		r.turn.Close()
	}
	if r.host != nil {
		r.host.Close()
	}
	if r.httpLn != nil && r.http == nil {
		r.httpLn.Close()
	}
	r.store.Close()
}

// expire deletes, hourly, sessions that ended and, with a retention
// period, message ops older than it.
func (r *Relay) expire(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if n, err := r.store.DeleteEndedSessions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			r.log.Error("session cleanup", "err", err)
		} else if n > 0 {
			r.log.Info("deleted ended sessions", "sessions", n)
		}
		if r.cfg.Retention > 0 {
			n, err := r.store.Expire(ctx, crdt.MakeHLC(time.Now().Add(-r.cfg.Retention), 0))
			if err != nil && ctx.Err() == nil {
				r.log.Error("retention", "err", err)
			} else if n > 0 {
				r.log.Info("retention expired ops", "ops", n)
				r.forgetItems()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// forgetItems drops every log's cached op set.
func (r *Relay) forgetItems() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.handles {
		l.forget()
	}
}
