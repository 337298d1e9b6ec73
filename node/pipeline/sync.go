package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/p2p/recon"
)

// SyncLog returns log as the sync protocol and replicas serve and fill
// it: its set comes from the store, and what a peer or the log's gossip
// topic sends goes through this pipeline.
func (p *Pipeline) SyncLog(log crdt.ID) p2p.ReplicaLog { return syncLog{p: p, log: log} }

type syncLog struct {
	p   *Pipeline
	log crdt.ID
}

func (l syncLog) Items() ([]recon.Item, error) {
	stamps, err := l.p.store.Stamps(l.log)
	if err != nil {
		return nil, err
	}
	items := make([]recon.Item, len(stamps))
	for i, s := range stamps {
		items[i] = recon.Item{HLC: s.HLC, ID: s.ID}
	}
	return items, nil
}

func (l syncLog) Ops(ids []crdt.ID) ([][]byte, error) { return l.p.store.Ops(ids) }

// Ingest stores what verifies; anything that does not, or that belongs to
// another log, makes the session a protocol violation. The valid ops of
// the batch are kept: they are signed, whoever carried them.
func (l syncLog) Ingest(ctx context.Context, raws [][]byte) error {
	rejected, err := l.p.IngestLog(ctx, l.log, raws)
	if err != nil {
		return err
	}
	if bad := errors.Join(rejected...); bad != nil {
		return fmt.Errorf("%w: %w", p2p.ErrSyncProtocol, bad)
	}
	return nil
}

// Store keeps what the log's gossip topic delivered.
func (l syncLog) Store(ctx context.Context, ops []*crdt.Op) error {
	return l.p.IngestVerified(ctx, ops)
}

// Missing counts parents that stored ops of the log name but the store lacks.
func (l syncLog) Missing() (int, error) {
	missing, err := l.p.store.Missing(l.log)
	return len(missing), err
}
