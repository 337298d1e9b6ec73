// Command ancore-relay runs Ancore's home relay: flags (each with an
// environment twin) become a relay.Config, and the relay runs until
// SIGINT or SIGTERM, when it shuts down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ancore/ancore/cmd/internal/envflag"
	"github.com/ancore/ancore/relay"
	"github.com/ancore/ancore/relay/turn"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "ancore-relay:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("ancore-relay", flag.ContinueOnError)
	var cfg relay.Config
	fs.StringVar(&cfg.DB, "db", os.Getenv("ANCORE_DB"), "PostgreSQL address, postgres://user@host:port/db (env ANCORE_DB; required)")
	fs.StringVar(&cfg.HTTP, "http", envflag.String("ANCORE_HTTP", ":8080"), "address of the HTTP API (env ANCORE_HTTP)")
	listen := envflag.NewList("ANCORE_LISTEN")
	fs.Var(listen, "listen", "libp2p multiaddr to listen on; repeatable (env ANCORE_LISTEN, comma-separated; default TCP and QUIC on port 4001)")
	retention, err := envflag.Duration("ANCORE_RETENTION", 0)
	if err != nil {
		return err
	}
	fs.DurationVar(&cfg.Retention, "retention", retention, "how long message ops are kept, e.g. 2160h; 0 keeps them (env ANCORE_RETENTION)")
	sessions, err := envflag.Duration("ANCORE_SESSION_TTL", 30*24*time.Hour)
	if err != nil {
		return err
	}
	fs.DurationVar(&cfg.Account.SessionLifetime, "session-ttl", sessions, "lifetime of a login session (env ANCORE_SESSION_TTL)")
	fs.BoolVar(&cfg.Account.TrustProxy, "trust-proxy", envflag.Bool("ANCORE_TRUST_PROXY"), "take the client address from X-Forwarded-For, behind a reverse proxy (env ANCORE_TRUST_PROXY=1)")
	circuitTime, err := envflag.Duration("ANCORE_CIRCUIT_DURATION", 2*time.Minute)
	if err != nil {
		return err
	}
	fs.DurationVar(&cfg.Circuit.Duration, "circuit-duration", circuitTime, "longest relayed connection between members behind NAT (env ANCORE_CIRCUIT_DURATION)")
	fs.Int64Var(&cfg.Circuit.Data, "circuit-data", 1<<20, "bytes per relayed connection and direction")
	fs.IntVar(&cfg.Circuit.Reservations, "circuit-reservations", 1024, "members behind NAT the circuit relay serves at once")
	fs.StringVar(&cfg.TURN.Listen, "turn-listen", envflag.String("ANCORE_TURN_LISTEN", ":3478"), "STUN/TURN address, UDP and TCP; empty serves none (env ANCORE_TURN_LISTEN)")
	fs.StringVar(&cfg.TURN.IP, "turn-ip", os.Getenv("ANCORE_TURN_IP"), "public IPv4 address TURN announces; default the machine's first public one (env ANCORE_TURN_IP)")
	turnPorts := fs.String("turn-relay-ports", envflag.String("ANCORE_TURN_RELAY_PORTS", "49152-65535"), "UDP port range of TURN's relayed transports, MIN-MAX (env ANCORE_TURN_RELAY_PORTS)")
	turnTTL, err := envflag.Duration("ANCORE_TURN_TTL", turn.DefaultTTL)
	if err != nil {
		return err
	}
	fs.DurationVar(&cfg.TURN.TTL, "turn-ttl", turnTTL, "lifetime of issued TURN credentials (env ANCORE_TURN_TTL)")
	logFormat := fs.String("log-format", envflag.String("ANCORE_LOG_FORMAT", "json"), "log format, json or text (env ANCORE_LOG_FORMAT)")
	debug := fs.Bool("debug", envflag.Bool("ANCORE_DEBUG"), "log debug messages (env ANCORE_DEBUG=1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if cfg.DB == "" {
		return errors.New("--db (or ANCORE_DB) is required: a postgres:// address")
	}
	cfg.Listen = listen.Values
	if cfg.TURN.MinPort, cfg.TURN.MaxPort, err = portRange(*turnPorts); err != nil {
		return fmt.Errorf("--turn-relay-ports: %w", err)
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	switch *logFormat {
	case "json":
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, opts))
	case "text":
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, opts))
	default:
		return fmt.Errorf("--log-format %q: want json or text", *logFormat)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := relay.New(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("Relay HTTP API: http://%s\n", r.HTTPAddr())
	for _, u := range r.TURNURLs() {
		fmt.Printf("STUN/TURN: %s\n", u)
	}
	for _, a := range r.Addrs() {
		fmt.Printf("libp2p: %s\n", a)
	}
	return r.Run(ctx)
}

// portRange parses MIN-MAX.
func portRange(s string) (lo, hi uint16, err error) {
	a, b, ok := strings.Cut(s, "-")
	l, err1 := strconv.ParseUint(a, 10, 16)
	h, err2 := strconv.ParseUint(b, 10, 16)
	if !ok || err1 != nil || err2 != nil || l == 0 || l > h {
		return 0, 0, fmt.Errorf("%q: want MIN-MAX, two ports with MIN <= MAX", s)
	}
	return uint16(l), uint16(h), nil
}
