package pipeline

import (
	"context"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// SyncInterval is how often a replicated log is reconciled with each peer
// on its topic even when nothing suggests it fell behind.
var SyncInterval = time.Minute

// Replica keeps one log in step with the network: it follows the log's
// gossip topic, and reconciles the log by sync with every peer that
// connects (so a reconnect or a healed partition catches up), with every
// topic peer each SyncInterval, with the topic's peers whenever stored ops
// name parents that are not stored, and with its other topic peers after a
// session brought it ops: what was new here may be new to them too, and
// gossip does not carry old ops, so news of a healed partition spreads
// this way, a hop per session.
type Replica struct {
	pipe   *Pipeline
	host   host.Host
	sync   *p2p.Sync
	topic  *p2p.Topic
	log    crdt.ID
	handle string
	due    chan peer.ID

	// Progress, if set before Run, hears of each session's op transfer.
	Progress func(p peer.ID, done, total int)
}

// NewReplica returns a replica of log, which sync peers know as handle (its
// topic name), fed by pipe from topic and by sessions of s on h.
func NewReplica(pipe *Pipeline, h host.Host, s *p2p.Sync, topic *p2p.Topic, log crdt.ID, handle string) *Replica {
	return &Replica{pipe: pipe, host: h, sync: s, topic: topic, log: log, handle: handle, due: make(chan peer.ID, 64)}
}

// ask queues a sync with p; when the queue is full a sync with every peer
// is pending anyway.
func (r *Replica) ask(p peer.ID) {
	select {
	case r.due <- p:
	default:
	}
}

// Run replicates until ctx ends.
func (r *Replica) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	notify := &network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) { r.ask(c.RemotePeer()) }}
	r.host.Network().Notify(notify)
	defer r.host.Network().StopNotify(notify)
	for _, p := range r.host.Network().Peers() {
		r.ask(p)
	}

	followed := make(chan error, 1)
	go func() { followed <- r.pipe.Follow(ctx, r.topic) }()
	tick := time.NewTicker(SyncInterval)
	defer tick.Stop()
	check := time.NewTicker(time.Second)
	defer check.Stop()
	lastMissing := 0
	for {
		select {
		case <-ctx.Done():
			return <-followed
		case err := <-followed:
			return err
		case <-tick.C:
			for _, p := range r.topic.Peers() {
				r.ask(p)
			}
		case <-check.C:
			// Ops whose parents are missing came from peers that have
			// the parents: fetch them, once per change of what is missing
			// (parents nobody has are left to the periodic sync).
			missing, err := r.pipe.store.Missing(r.log)
			if err == nil && len(missing) > 0 && len(missing) != lastMissing {
				for _, p := range r.topic.Peers() {
					r.ask(p)
				}
			}
			lastMissing = len(missing)
		case p := <-r.due:
			r.syncWith(ctx, p)
		}
	}
}

func (r *Replica) syncWith(ctx context.Context, p peer.ID) {
	var progress p2p.Progress
	if r.Progress != nil {
		progress = func(done, total int) { r.Progress(p, done, total) }
	}
	// A failure is retried by the next trigger; Sync has disconnected a
	// faulty peer already, and a peer without the log refuses.
	res, err := r.sync.Run(ctx, p, r.handle, r.pipe.SyncLog(r.log), progress)
	if err == nil && res.Received > 0 {
		r.Learned(p)
	}
}

// SyncAll asks for a sync with every connected peer: after something
// changed what this node accepts (a new member's ops were refused until
// its admission arrived), so that what was refused comes again.
func (r *Replica) SyncAll() {
	for _, p := range r.host.Network().Peers() {
		r.ask(p)
	}
}

// Learned tells the replica that a sync session with p brought it ops —
// call it for sessions this node served, too (p2p.Sync.OnServed) — so that
// it offers them to its other topic peers.
func (r *Replica) Learned(p peer.ID) {
	for _, q := range r.topic.Peers() {
		if q != p {
			r.ask(q)
		}
	}
}
