package p2p

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/p2p/recon"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// SyncProtocol is the stream protocol that catches a log up with a peer.
const SyncProtocol protocol.ID = "/ancore/sync/1"

// Sync limits. A session that exceeds them is a faulty peer's.
const (
	// MaxFrame bounds one frame: a reconciliation message, a batch of op
	// IDs or a batch of ops.
	MaxFrame = recon.MaxMessageSize + 64
	// SyncTimeout bounds a whole session.
	SyncTimeout = 5 * time.Minute
	// maxReconRounds bounds reconciliation; a log of 10^9 ops needs fewer
	// than 10 rounds of 16-way splits.
	maxReconRounds = 64
)

// Frame types of the sync protocol (see docs/protocol.md).
const (
	frameOpen  byte = 1 // initiator: the log's handle
	frameRecon byte = 2 // a recon message, both ways
	frameWant  byte = 3 // initiator: 32-byte digests of ops it asks for
	frameOps   byte = 4 // ops, each uvarint length-prefixed
	frameEnd   byte = 5 // no more wants, or no more ops, from this side
	frameNope  byte = 6 // responder: unknown log or not allowed
)

// ErrSyncRefused: the peer does not serve the log to this node.
var ErrSyncRefused = errors.New("sync: peer refused the log")

// ErrSyncProtocol: the peer broke the sync protocol or sent ops that do
// not verify; the session ends and the peer is disconnected.
var ErrSyncProtocol = errors.New("sync: protocol violation")

// SyncLog is a log as the sync protocol sees it; the node implements it
// over its store and ingest pipeline.
type SyncLog interface {
	// Items returns the log's (HLC, ID) set.
	Items() ([]recon.Item, error)
	// Ops returns the encoded ops with the given IDs that the log holds.
	Ops(ids []crdt.ID) ([][]byte, error)
	// Ingest verifies and stores ops a peer sent. An error that wraps
	// ErrSyncProtocol says the peer sent ops that are not valid.
	Ingest(ctx context.Context, raws [][]byte) error
}

// SyncLogs finds the log a handle names, for a peer: nil, false when the
// log is unknown here or the peer may not read it.
type SyncLogs func(p peer.ID, handle string) (SyncLog, bool)

// Progress reports a session's op transfer: done of total ops received.
type Progress func(done, total int)

// Sync serves and starts sync sessions on a host.
type Sync struct {
	host   host.Host
	logs   SyncLogs
	served func(p peer.ID, handle string, received int)
}

// OnServed registers fn to hear of every session this node served that
// stored ops the peer sent; set it before peers connect.
func (s *Sync) OnServed(fn func(p peer.ID, handle string, received int)) { s.served = fn }

// NewSync registers the sync protocol on h.
func NewSync(h host.Host, logs SyncLogs) *Sync {
	s := &Sync{host: h, logs: logs}
	h.SetStreamHandler(SyncProtocol, s.serve)
	return s
}

// Close stops serving.
func (s *Sync) Close() { s.host.RemoveStreamHandler(SyncProtocol) }

// SyncResult says what a session moved.
type SyncResult struct {
	Received, Sent int // ops
	// RoundTrips counts the reconciliation rounds plus the transfer.
	RoundTrips int
	// BytesIn and BytesOut count the protocol's frames, headers included
	// (not the transport's encryption and multiplexing).
	BytesIn, BytesOut int64
	// Held is what this side held when the session began. After a session
	// this side started ends without error, the peer holds all of it: the
	// peer answers the last frame only once it has stored what it was sent.
	Held *recon.Set
}

// Run catches log, known to the peer as handle, up with p in both
// directions: it reconciles, sends the ops p lacks and fetches those it
// lacks. A peer that breaks the protocol is disconnected.
func (s *Sync) Run(ctx context.Context, p peer.ID, handle string, log SyncLog, progress Progress) (SyncResult, error) {
	ctx, cancel := context.WithTimeout(ctx, SyncTimeout)
	defer cancel()
	str, err := s.host.NewStream(ctx, p, SyncProtocol)
	if err != nil {
		return SyncResult{}, fmt.Errorf("sync with %s: %w", p, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		str.SetDeadline(dl)
	}
	f := newFramer(str)
	res, err := s.initiate(ctx, f, handle, log, progress)
	res.BytesIn, res.BytesOut = f.in, f.out
	return res, s.finish(p, str, err)
}

// finish closes the stream; a protocol violation also drops the peer.
func (s *Sync) finish(p peer.ID, str network.Stream, err error) error {
	if err == nil {
		return str.Close()
	}
	str.Reset()
	if errors.Is(err, ErrSyncProtocol) {
		s.host.Network().ClosePeer(p)
	}
	return fmt.Errorf("sync with %s: %w", p, err)
}

func (s *Sync) initiate(ctx context.Context, f *framer, handle string, log SyncLog, progress Progress) (SyncResult, error) {
	var res SyncResult
	items, err := log.Items()
	if err != nil {
		return res, err
	}
	res.Held = recon.NewSet(items)
	r := recon.NewReconciler(res.Held)
	msg, err := r.Initiate()
	if err != nil {
		return res, err
	}
	if err := f.write(frameOpen, []byte(handle)); err != nil {
		return res, err
	}
	var have, need []crdt.ID
	for msg != nil {
		if res.RoundTrips++; res.RoundTrips > maxReconRounds {
			return res, fmt.Errorf("%w: reconciliation does not end", ErrSyncProtocol)
		}
		if err := f.write(frameRecon, msg); err != nil {
			return res, err
		}
		typ, reply, err := f.read()
		if err != nil {
			return res, err
		}
		if typ == frameNope {
			return res, ErrSyncRefused
		}
		if typ != frameRecon {
			return res, fmt.Errorf("%w: frame %d during reconciliation", ErrSyncProtocol, typ)
		}
		var h, n []crdt.ID
		if msg, h, n, err = r.Reconcile(reply); err != nil {
			return res, fmt.Errorf("%w: %v", ErrSyncProtocol, err)
		}
		have, need = append(have, h...), append(need, n...)
	}
	// Ask for what is missing here, then send what the peer lacks: the
	// peer reads all of it before it answers, so neither side blocks.
	if err := f.writeIDs(need); err != nil {
		return res, err
	}
	sent, err := f.writeOps(log, have)
	if err != nil {
		return res, err
	}
	res.Sent = sent
	res.RoundTrips++ // wants and ops go out, ops come back
	if progress != nil {
		progress(0, len(need))
	}
	res.Received, err = f.readOps(ctx, log, len(need), func(done int) {
		if progress != nil {
			progress(done, len(need))
		}
	})
	return res, err
}

func (s *Sync) serve(str network.Stream) {
	p := str.Conn().RemotePeer()
	ctx, cancel := context.WithTimeout(context.Background(), SyncTimeout)
	defer cancel()
	if dl, ok := ctx.Deadline(); ok {
		str.SetDeadline(dl)
	}
	handle, received, err := s.respond(ctx, p, newFramer(str))
	if s.finish(p, str, err) == nil && received > 0 && s.served != nil {
		s.served(p, handle, received)
	}
}

// respond serves one session and returns the log's handle and how many
// ops the peer sent.
func (s *Sync) respond(ctx context.Context, p peer.ID, f *framer) (string, int, error) {
	typ, h, err := f.read()
	if err != nil {
		return "", 0, err
	}
	handle := string(h)
	if typ != frameOpen {
		return handle, 0, fmt.Errorf("%w: frame %d before open", ErrSyncProtocol, typ)
	}
	log, ok := s.logs(p, handle)
	if !ok {
		return handle, 0, f.write(frameNope, nil)
	}
	items, err := log.Items()
	if err != nil {
		return handle, 0, err
	}
	r := recon.NewReconciler(recon.NewSet(items))
	for rounds := 0; ; rounds++ {
		if rounds > maxReconRounds {
			return handle, 0, fmt.Errorf("%w: reconciliation does not end", ErrSyncProtocol)
		}
		typ, msg, err := f.read()
		if err != nil {
			return handle, 0, err
		}
		if typ == frameWant || typ == frameEnd {
			// Reconciliation is over; this frame starts the transfer.
			wanted, err := f.readIDs(typ, msg, len(items))
			if err != nil {
				return handle, 0, err
			}
			received, err := f.readOps(ctx, log, -1, nil)
			if err != nil {
				return handle, received, err
			}
			_, err = f.writeOps(log, wanted)
			return handle, received, err
		}
		if typ != frameRecon {
			return handle, 0, fmt.Errorf("%w: frame %d during reconciliation", ErrSyncProtocol, typ)
		}
		reply, _, _, err := r.Reconcile(msg)
		if err != nil {
			return handle, 0, fmt.Errorf("%w: %v", ErrSyncProtocol, err)
		}
		if err := f.write(frameRecon, reply); err != nil {
			return handle, 0, err
		}
	}
}

// framer reads and writes frames: uvarint length, type byte, payload.
type framer struct {
	r       *bufio.Reader
	w       io.Writer
	in, out int64 // bytes
}

func newFramer(rw io.ReadWriter) *framer { return &framer{r: bufio.NewReader(rw), w: rw} }

func (f *framer) write(typ byte, payload []byte) error {
	hdr := binary.AppendUvarint(nil, uint64(len(payload)+1))
	hdr = append(hdr, typ)
	n, err := f.w.Write(append(hdr, payload...))
	f.out += int64(n)
	return err
}

func (f *framer) read() (byte, []byte, error) {
	n, err := binary.ReadUvarint(f.r)
	if err != nil {
		return 0, nil, err
	}
	if n == 0 || n > MaxFrame {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes", ErrSyncProtocol, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(f.r, buf); err != nil {
		return 0, nil, err
	}
	f.in += int64(uvarintLen(n)) + int64(n)
	return buf[0], buf[1:], nil
}

// IDs travel as their 32-byte digests, without the constant CID prefix.
const digestBytes = crdt.IDSize - 4

// writeIDs sends ids as want frames, then an end frame.
func (f *framer) writeIDs(ids []crdt.ID) error {
	per := (MaxFrame - 64) / digestBytes
	for lo := 0; lo < len(ids); lo += per {
		var b []byte
		for _, id := range ids[lo:min(lo+per, len(ids))] {
			b = append(b, id[4:]...)
		}
		if err := f.write(frameWant, b); err != nil {
			return err
		}
	}
	return f.write(frameEnd, nil)
}

// readIDs reads want frames, starting with one already read, to the end
// frame. Nobody can want more ops than this side holds: more is a faulty
// peer's way to make it hold memory.
func (f *framer) readIDs(typ byte, payload []byte, most int) ([]crdt.ID, error) {
	var ids []crdt.ID
	for typ == frameWant {
		if len(payload)%digestBytes != 0 {
			return nil, fmt.Errorf("%w: want frame of %d bytes", ErrSyncProtocol, len(payload))
		}
		if len(ids)+len(payload)/digestBytes > most {
			return nil, fmt.Errorf("%w: wants more ops than this side holds", ErrSyncProtocol)
		}
		for i := 0; i < len(payload); i += digestBytes {
			id, _ := crdt.IDFromDigest(payload[i : i+digestBytes])
			ids = append(ids, id)
		}
		var err error
		if typ, payload, err = f.read(); err != nil {
			return nil, err
		}
	}
	if typ != frameEnd {
		return nil, fmt.Errorf("%w: frame %d among wants", ErrSyncProtocol, typ)
	}
	return ids, nil
}

// writeOps sends the ops with ids in frames of at most MaxFrame, then an
// end frame, and returns how many it sent.
func (f *framer) writeOps(log SyncLog, ids []crdt.ID) (int, error) {
	sent := 0
	const chunk = 512 // ops looked up at a time
	var frame []byte
	for lo := 0; lo < len(ids); lo += chunk {
		raws, err := log.Ops(ids[lo:min(lo+chunk, len(ids))])
		if err != nil {
			return sent, err
		}
		for _, raw := range raws {
			if len(frame)+binary.MaxVarintLen64+len(raw) > MaxFrame-1 {
				if err := f.write(frameOps, frame); err != nil {
					return sent, err
				}
				frame = frame[:0]
			}
			frame = binary.AppendUvarint(frame, uint64(len(raw)))
			frame = append(frame, raw...)
			sent++
		}
	}
	if len(frame) > 0 {
		if err := f.write(frameOps, frame); err != nil {
			return sent, err
		}
	}
	return sent, f.write(frameEnd, nil)
}

// opsInFlight bounds the op frames being ingested at once: reading the
// next frame overlaps with verifying and storing earlier ones, within
// opsInFlight × MaxFrame bytes of memory. The store commits every frame
// that waits in one transaction, so more frames in flight also make the
// commits of a large catch-up fewer and larger; each commit rewrites the
// pages of the store's ID index that its ops land on, which are nearly all
// of them for a few thousand ops with random IDs. Sixteen frames (about
// two full group commits) took a scattered 100k-op catch-up from 25-41
// commits to 16-28 (docs/benchmarks.md).
const opsInFlight = 16

// readOps ingests op frames up to the end frame, reporting the running
// count as frames are stored, and returns how many ops it stored. A peer
// that sends more than most ops (when most ≥ 0: what was asked for) breaks
// the protocol.
func (f *framer) readOps(ctx context.Context, log SyncLog, most int, progress func(int)) (int, error) {
	read := 0
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		done    int
		failure error
	)
	slots := make(chan struct{}, opsInFlight)
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return failure
	}
	finish := func(err error) (int, error) {
		wg.Wait()
		if err == nil {
			err = failed()
		}
		return done, err
	}
	for {
		typ, payload, err := f.read()
		if err != nil {
			return finish(err)
		}
		if typ == frameEnd {
			return finish(nil)
		}
		if typ != frameOps {
			return finish(fmt.Errorf("%w: frame %d among ops", ErrSyncProtocol, typ))
		}
		raws, err := splitOps(payload)
		if err != nil {
			return finish(err)
		}
		if read += len(raws); most >= 0 && read > most {
			return finish(fmt.Errorf("%w: more ops than were asked for", ErrSyncProtocol))
		}
		if err := failed(); err != nil {
			return finish(nil)
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			err := log.Ingest(ctx, raws)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failure = cmp.Or(failure, err)
				return
			}
			done += len(raws)
			if progress != nil {
				progress(done)
			}
		})
	}
}

// splitOps splits an ops frame into its uvarint-prefixed ops.
func splitOps(payload []byte) ([][]byte, error) {
	var raws [][]byte
	for len(payload) > 0 {
		n, k := binary.Uvarint(payload)
		if k <= 0 || n > uint64(len(payload)-k) {
			return nil, fmt.Errorf("%w: truncated op in ops frame", ErrSyncProtocol)
		}
		raws = append(raws, payload[k:k+int(n)])
		payload = payload[k+int(n):]
	}
	return raws, nil
}

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }
