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
	"syscall"
	"time"

	"github.com/ancore/ancore/cmd/internal/envflag"
	"github.com/ancore/ancore/relay"
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
	for _, a := range r.Addrs() {
		fmt.Printf("libp2p: %s\n", a)
	}
	return r.Run(ctx)
}
