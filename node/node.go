// Package node is the Ancore application: it wires a device's identity and
// its store into one running node; networking (which feeds received ops
// through node/pipeline), the local API and the UI attach here as they
// arrive. Binaries (cmd/ancore) and the desktop shell build a node
// from a Config and Run it; nothing else imports this package.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ancore/ancore/node/store"
)

// StoreFile is the name of the store inside the data folder.
const StoreFile = "ancore.db"

// Config says how to build a node.
type Config struct {
	// DataDir holds the node's store; it is created (mode 0700) if needed.
	DataDir string
	// Logger receives the node's logs; nil means slog.Default().
	Logger *slog.Logger
}

// Node is one running Ancore node (one device).
type Node struct {
	cfg      Config
	log      *slog.Logger
	store    *store.Store
	identity *Identity
}

// New opens the node's data folder, its store and its identity (creating
// an identity on first start).
func New(cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("node: no data folder given")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data folder: %w", err)
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, StoreFile), nil)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	id, err := loadIdentity(st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	return &Node{cfg: cfg, log: cfg.Logger.With("subsystem", "node"), store: st, identity: id}, nil
}

// Identity returns the node's user and device identity.
func (n *Node) Identity() *Identity { return n.identity }

// DataDir returns the node's data folder.
func (n *Node) DataDir() string { return n.cfg.DataDir }

// Run serves until ctx is done, then closes the store, which waits for
// every queued write to commit.
func (n *Node) Run(ctx context.Context) error {
	u, d := n.identity.User.ID(), n.identity.Device.ID()
	n.log.Info("node running", "user", KeyText(u[:]), "device", KeyText(d[:]), "data", n.cfg.DataDir)
	<-ctx.Done()
	n.log.Info("node stopping")
	return n.store.Close()
}
