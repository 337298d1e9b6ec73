// Package pipeline turns op bytes received from peers into stored, applied
// ops: it decodes and verifies them and opens their bodies on every core,
// then hands the batch to the store's group commit. Local ops take the same
// store path with Local set, so there is one way in for every op.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node/store"
)

// Pipeline verifies and stores received ops. It is safe for concurrent use;
// concurrent Ingest calls share store commits.
type Pipeline struct {
	store    *store.Store
	verifier *crdt.Verifier
	keys     func() crdt.Keyring
	now      func() time.Time
	// cores bounds verification across all concurrent Ingest calls to one
	// goroutine per core, so the store's committer is never starved of CPU:
	// it is the serial stage every op passes through.
	cores chan struct{}
	// stored, if set, hears of every batch once it has committed.
	stored    func([]store.Entry)
	authorize func(*crdt.Op) error
}

// OnStored registers fn to be called with every batch of ops once it is
// durably stored; set it before the pipeline is used.
func (p *Pipeline) OnStored(fn func([]store.Entry)) { p.stored = fn }

// save ingests entries and reports them once committed.
// Authorize registers fn to judge every op before it is stored, whoever
// brought it. Ops fn refuses are dropped, not stored: an op refused only
// for now (its author's admission has not arrived yet) comes back with the
// next sync, because it is still missing here. Dropping is not an error of
// the peer that carried it.
func (p *Pipeline) Authorize(fn func(*crdt.Op) error) { p.authorize = fn }

func (p *Pipeline) save(ctx context.Context, entries []store.Entry) error {
	if p.authorize != nil {
		kept := entries[:0]
		for _, e := range entries {
			if p.authorize(e.Op) == nil {
				kept = append(kept, e)
			}
		}
		entries = kept
	}
	if err := p.store.Ingest(ctx, entries); err != nil {
		return err
	}
	// Hooks hear of what changed the store: an op that arrived twice at
	// once (by gossip and by sync) is news once.
	changed := slices.DeleteFunc(entries, func(e store.Entry) bool { return !e.Changed })
	if p.stored != nil && len(changed) > 0 {
		p.stored(changed)
	}
	return nil
}

// New returns a pipeline into st. keys returns the current key ring; the
// ring it returns is only read, so its owner replaces it rather than
// changing it in place.
func New(st *store.Store, keys func() crdt.Keyring) *Pipeline {
	return &Pipeline{
		store: st, verifier: crdt.NewVerifier(), keys: keys, now: time.Now,
		cores: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
}

// Ingest verifies, opens and stores raw ops. It returns, per op, nil or
// why the op was refused (a crdt decode error); refused ops are not stored.
// The error is the store's, for the accepted ops as a whole: when it is nil
// they are all durably stored.
func (p *Pipeline) Ingest(ctx context.Context, raws [][]byte) ([]error, error) {
	return p.ingest(ctx, raws, nil)
}

// ErrWrongLog: an op sent for one log belongs to another.
var ErrWrongLog = errors.New("op of another log")

// IngestLog is Ingest for ops that a peer sent as ops of log: others are
// refused with ErrWrongLog.
func (p *Pipeline) IngestLog(ctx context.Context, log crdt.ID, raws [][]byte) ([]error, error) {
	return p.ingest(ctx, raws, func(op *crdt.Op) error {
		if op.Log() != log {
			return fmt.Errorf("%w: %s is not in %s", ErrWrongLog, op.ID, log)
		}
		return nil
	})
}

func (p *Pipeline) ingest(ctx context.Context, raws [][]byte, check func(*crdt.Op) error) ([]error, error) {
	rejected := make([]error, len(raws))
	entries := make([]store.Entry, len(raws))
	keys, now := p.keys(), p.now()
	p.onCores(len(raws), func(i int) {
		op, err := p.verifier.Decode(raws[i], now)
		if err == nil && check != nil {
			err = check(op)
		}
		if err != nil {
			rejected[i] = err
			return
		}
		entries[i] = open(op, keys)
	})
	accepted := entries[:0:0]
	for i := range entries {
		if rejected[i] == nil {
			accepted = append(accepted, entries[i])
		}
	}
	return rejected, p.save(ctx, accepted)
}

// IngestLocal stores an op authored on this node, readable and in the
// outbox, through the same checks as any other.
func (p *Pipeline) IngestLocal(ctx context.Context, op *crdt.Op) error {
	if p.authorize != nil {
		if err := p.authorize(op); err != nil {
			return err
		}
	}
	e := open(op, p.keys())
	e.Local = true
	return p.save(ctx, []store.Entry{e})
}

// IngestVerified stores ops that were decoded and verified already (by a
// gossip validator). Their bodies are opened here, in the caller: that
// takes a few microseconds an op, and a live op must not queue for a core
// behind the verification of a large sync.
func (p *Pipeline) IngestVerified(ctx context.Context, ops []*crdt.Op) error {
	entries := make([]store.Entry, len(ops))
	keys := p.keys()
	for i, op := range ops {
		entries[i] = open(op, keys)
	}
	return p.save(ctx, entries)
}

// open makes the store entry of an authentic op. It is stored even when
// its body cannot be read: without the key it waits in the sealed list,
// purged it is kept as it is; with a key it fails to open under, its zero
// body is applied and changes nothing, as on every other replica.
func open(op *crdt.Op, keys crdt.Keyring) store.Entry {
	body, err := op.Open(keys)
	readable := !errors.Is(err, crdt.ErrNoKey) && !errors.Is(err, crdt.ErrPurged)
	return store.Entry{Op: op, Body: body, Readable: readable}
}

// onCores runs work(i) for i in [0, n), in chunks, on at most one
// goroutine per core across all calls.
func (p *Pipeline) onCores(n int, work func(i int)) {
	const chunk = 64
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += chunk {
		wg.Go(func() {
			p.cores <- struct{}{}
			defer func() { <-p.cores }()
			for i := lo; i < min(lo+chunk, n); i++ {
				work(i)
			}
		})
	}
	wg.Wait()
}
