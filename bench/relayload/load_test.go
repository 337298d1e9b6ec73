// Package relayload is a load run of the home relay (issue 7): many
// simulated members, each a real libp2p host connected only to the relay —
// a star, as members behind NAT are — post to one channel at a steady
// aggregate rate for minutes, against the real ancore-relay binary in a
// process of its own. The run measures the relay process's CPU and
// memory (and the PostgreSQL backends serving it), how long posts take to
// reach the other members over gossip through the relay, when each post
// reached the relay's database, and whether the relay holds every post at
// the end.
//
// Members behave as nodes do: they validate what gossip brings, serve
// their logs by sync, reconcile with the relay every p2p.SyncInterval and
// redial it when the connection drops. They share this process, with small
// resource limits each; the relay's CPU, run-queue wait and memory come
// from /proc.
//
// It is a benchmark that runs only when asked, since it takes minutes:
//
//	go test -run '^$' -bench '^BenchmarkRelayLoad$' -benchtime 1x -timeout 30m \
//		./bench/relayload -args -load [-members 200] [-duration 3m] [-rate 20]
//
// -relay runs a given ancore-relay binary instead of building one, to
// compare relay builds under the same load.
//
// docs/benchmarks.md, "Relay load run (issue 7)", has the figures and
// what they say.
package relayload

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/crdt/crdttest"
	"github.com/ancore/ancore/p2p"
	"github.com/ancore/ancore/relay/relaytest"
	"github.com/ancore/ancore/relay/store/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/libp2p/go-libp2p/core/peer"
)

var (
	loadFlag   = flag.Bool("load", false, "run BenchmarkRelayLoad (it takes minutes)")
	membersN   = flag.Int("members", 200, "simulated members, each a libp2p host")
	duration   = flag.Duration("duration", 3*time.Minute, "how long the members post")
	rate       = flag.Float64("rate", 20, "posts per second, all members together")
	replicate  = flag.Bool("replicate", true, "members also reconcile with the relay by sync, as nodes do (p2p.Replica); false: gossip only")
	textLength = flag.Int("text", 100, "bytes of text per post")
	relayBin   = flag.String("relay", "", "ancore-relay binary to run; empty builds cmd/ancore-relay from this working tree")
)

// grace is how long the run waits after the last post for gossip to
// deliver it: gossipsub offers what it did not push (IHAVE) for three
// heartbeats of a second.
const grace = 5 * time.Second

// BenchmarkRelayLoad runs members against one relay process; see the
// package documentation.
func BenchmarkRelayLoad(b *testing.B) {
	if !*loadFlag {
		b.Skip("a load run of several minutes: pass -args -load")
	}
	n := *membersN
	if n < 2 || *rate <= 0 {
		b.Fatal("-members must be at least 2 and -rate positive")
	}
	ctx := b.Context()
	db := pgtest.DSN(b)
	bin := *relayBin
	if bin == "" {
		bin = relaytest.BuildBinary(b)
	}
	rp := relayProc{relaytest.StartBinary(b, bin, db)}
	b.Logf("relay pid %d, %s, %s", rp.pid(), rp.Base, rp.Peer.ID)

	comm := crdttest.NewCommunity(b, n)
	secret := make([]byte, 32)
	rand.Read(secret)
	carry(b, rp, comm, secret)

	cs := &channelSetup{secret: secret, comm: comm, state: relaytest.NewLog(comm.State...), ledger: newLedger(), drops: &dropLog{}, replicate: *replicate}
	members := startMembers(ctx, b, rp, cs)
	// Let heartbeats build the relay's mesh before the first post.
	time.Sleep(3 * time.Second)

	meter, err := newUsageMeter(ctx, rp.pid(), db)
	if err != nil {
		b.Fatal(err)
	}
	meterCtx, stopMeter := context.WithCancel(ctx)
	meterDone := make(chan struct{})
	go func() {
		defer close(meterDone)
		meter.run(meterCtx)
	}()
	time.Sleep(1500 * time.Millisecond) // a first sample before the posts

	r := &result{members: n, loadBefore: loadAverage()}
	b.ResetTimer()
	start := time.Now()
	r.posts = publish(ctx, b, members, cs.ledger, start)
	r.posting = time.Since(start)
	time.Sleep(grace)
	end := time.Now()
	b.StopTimer()
	r.loadAfter = loadAverage()
	stopMeter()
	<-meterDone

	r.usage = meter.summary(start, end)
	r.drops = seconds(cs.drops.times(), start)
	r.relayHWM = relayPeak(rp)
	for _, m := range members {
		g, s, x := m.log.deliveries()
		r.gossiped, r.synced, r.strays = append(r.gossiped, g...), append(r.synced, s...), r.strays+x
	}
	all := cs.ledger.all()
	r.lost = lostAtRelay(b, rp, comm, secret, all)
	r.stored, r.slowStores = storeLatencies(ctx, b, db, comm.Channel, all, start)
	if series, err := rp.metrics("ancore_relay_ops_", "ancore_relay_peers", "go_goroutines", "process_resident_memory_bytes"); err == nil {
		b.Logf("relay /metrics after the run:\n  %s", strings.Join(series, "\n  "))
	}
	logRelayProblems(b, rp)
	r.report(b)
}

// startMembers starts a member for each of the community's members and
// connects them all to the relay; they stop when b ends.
func startMembers(ctx context.Context, b *testing.B, rp relayProc, cs *channelSetup) []*member {
	b.Helper()
	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	members := make([]*member, 0, len(cs.comm.Members))
	b.Cleanup(func() {
		stop()
		for _, m := range members {
			m.host.Close()
		}
		wg.Wait()
	})
	began := time.Now()
	for i, a := range cs.comm.Members {
		m, err := startMember(ctx, &wg, a, cs)
		if err != nil {
			b.Fatalf("member %d: %v", i, err)
		}
		members = append(members, m)
	}
	if err := connectAll(ctx, members, rp.Peer); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d members connected in %v", len(members), time.Since(began).Round(time.Millisecond))
	return members
}

// result is what a run measured.
type result struct {
	members, posts        int
	posting               time.Duration
	gossiped, synced      []time.Duration // per (post, other member), first delivery
	strays                int
	lost                  int
	stored                []time.Duration
	slowStores            string
	drops                 []int // seconds of the run in which a member lost the relay
	usage                 usageSummary
	relayHWM              int64
	loadBefore, loadAfter string
}

func (r *result) report(b *testing.B) {
	pairs := r.posts * (r.members - 1)
	achieved := float64(r.posts) / r.posting.Seconds()
	b.Logf("posted %d ops in %v (%.2f/s), %d members; %s", r.posts, r.posting.Round(time.Millisecond), achieved, r.members, replicationMode(*replicate))
	b.Logf("deliveries of (post, other member) pairs: %d of %d by gossip (%.1f %%), %d more by sync, %d missing, %d strays",
		len(r.gossiped), pairs, 100*float64(len(r.gossiped))/float64(pairs), len(r.synced), pairs-len(r.gossiped)-len(r.synced), r.strays)
	b.Logf("gossip delivery latency: %s", histogram(r.gossiped))
	if len(r.synced) > 0 {
		b.Logf("sync delivery latency: p50 %v, p99 %v", quantile(r.synced, 0.5), quantile(r.synced, 0.99))
	}
	b.Logf("store latency (publish → relay's transaction): %s", histogram(r.stored))
	if len(r.drops) > 0 {
		b.Logf("members lost their connection to the relay %d times (and redialed), by second of the run: %s", len(r.drops), ranges(slices.Compact(r.drops)))
	}
	if r.slowStores != "" {
		b.Logf("stores over %v, by second of the run: %s", slowStore, r.slowStores)
	}
	u := r.usage
	b.Logf("machine load average (1 min) %s before the posts, %s after; waiting for a CPU, the relay's threads spent %.0f ms per second, the members' %.0f ms",
		r.loadBefore, r.loadAfter, 1000*u.relayWait, 1000*u.selfWait)
	b.Logf("relay: %.3f cores average, %.3f in the busiest 10 s; RSS %.1f MiB as the posts began, %.1f MiB at most during the run, %.1f MiB at the end, %.1f MiB peak (VmHWM); PostgreSQL backends %.3f cores; members' process %.3f cores",
		u.relayCores, u.relayPeakCores, mib(u.relayRSSStart), mib(u.relayRSSMax), mib(u.relayRSSEnd), mib(r.relayHWM), u.pgCores, u.selfCores)

	b.ReportMetric(achieved, "msgs/s")
	b.ReportMetric(float64(r.lost), "lost")
	b.ReportMetric(ms(quantile(r.gossiped, 0.5)), "p50-ms")
	b.ReportMetric(ms(quantile(r.gossiped, 0.99)), "p99-ms")
	b.ReportMetric(float64(len(r.gossiped))/float64(pairs), "gossip-share")
	b.ReportMetric(float64(len(r.gossiped)+len(r.synced))/float64(pairs), "delivered-share")
	b.ReportMetric(ms(quantile(r.stored, 0.5)), "store-p50-ms")
	b.ReportMetric(ms(quantile(r.stored, 0.99)), "store-p99-ms")
	b.ReportMetric(u.relayCores, "relay-cores")
	b.ReportMetric(mib(u.relayRSSEnd), "relay-rss-MiB")
	b.ReportMetric(mib(r.relayHWM), "relay-hwm-MiB")
	b.ReportMetric(u.pgCores, "pg-cores")
	b.ReportMetric(float64(len(r.drops)), "drops")
	b.ReportMetric(1000*u.relayWait, "relay-runq-ms/s")
}

func replicationMode(on bool) string {
	if on {
		return "members reconcile by sync every p2p.SyncInterval"
	}
	return "gossip only"
}

// carry registers the community with the relay, pushes its state log and
// waits until the relay carries the channel.
func carry(b *testing.B, rp relayProc, comm *crdttest.Community, secret []byte) {
	b.Helper()
	token := relaytest.Register(b, rp.Base, "owner@example.com")
	if code := relaytest.Call(b, rp.Base, "POST", "/communities", token, relaytest.CarryRequest(comm, secret, comm.Members[0].User), nil); code != http.StatusCreated {
		b.Fatalf("carry: status %d", code)
	}
	c := relaytest.NewClient(b)
	defer c.Host.Close()
	if err := syncLog(c, rp.Peer, secret, comm.ID, relaytest.NewLog(comm.State...)); err != nil {
		b.Fatalf("push the state log: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := syncLog(c, rp.Peer, secret, comm.Channel, relaytest.NewLog())
		if err == nil {
			return
		}
		if !errors.Is(err, p2p.ErrSyncRefused) || time.Now().After(deadline) {
			b.Fatalf("the relay does not carry the channel: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// connectAll connects the members to the relay, 16 at a time.
func connectAll(ctx context.Context, members []*member, relay peer.AddrInfo) error {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed = map[int]error{}
	)
	slots := make(chan struct{}, 16)
	for i, m := range members {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := m.connect(ctx, relay); err != nil {
				mu.Lock()
				failed[i] = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		lowest := slices.Min(slices.Collect(maps.Keys(failed)))
		return fmt.Errorf("%d of %d members could not connect, from member %d on: %w", len(failed), len(members), lowest, failed[lowest])
	}
	return nil
}

// syncLog runs one sync session of log with the relay.
func syncLog(c *relaytest.Client, relay peer.AddrInfo, secret []byte, log crdt.ID, l p2p.SyncLog) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Host.Connect(ctx, relay); err != nil {
		return err
	}
	_, err := c.Sync.Run(ctx, relay.ID, p2p.TopicName(secret, log), l, nil)
	return err
}

// publish makes the members post in turn, at rate posts per second in
// all, for duration; it returns how many posts it published. Signing and
// publishing happen here, on the benchmark's goroutine, so the achieved
// rate shows if they fall behind.
func publish(ctx context.Context, b *testing.B, members []*member, led *ledger, start time.Time) int {
	interval := time.Duration(float64(time.Second) / *rate)
	next := start
	k := 0
	for time.Since(start) < *duration {
		m := members[k%len(members)]
		op := m.author.Post(b, crdttest.Text(k, *textLength)).Op
		p := led.add(op)
		m.log.own(p)
		if err := m.topic.Publish(ctx, op); err != nil {
			b.Fatalf("publish: %v", err)
		}
		k++
		next = next.Add(interval)
		time.Sleep(time.Until(next))
	}
	return k
}

// lostAtRelay fetches the channel from the relay in one sync session, as
// a member coming back would, and counts the published ops it lacks.
func lostAtRelay(b *testing.B, rp relayProc, comm *crdttest.Community, secret []byte, published []*posted) int {
	b.Helper()
	c := relaytest.NewClient(b)
	defer c.Host.Close()
	got := relaytest.NewLog()
	if err := syncLog(c, rp.Peer, secret, comm.Channel, got); err != nil {
		b.Fatalf("fetch the channel from the relay: %v", err)
	}
	lost := 0
	for _, p := range published {
		if got.Get(p.op.ID) == nil {
			lost++
		}
	}
	if extra := got.Len() - (len(published) - lost); extra != 0 {
		b.Errorf("the relay holds %d ops nobody published", extra)
	}
	return lost
}

// slowStore is the store latency beyond which storeLatencies says when
// during the run it happened.
const slowStore = 200 * time.Millisecond

// storeLatencies reads when each published op went into the relay's
// database: received_at is the inserting transaction's start (now()), a
// little before its commit. It also returns the seconds of the run (from
// start) in which ops published took longer than slowStore, as ranges.
func storeLatencies(ctx context.Context, b *testing.B, dsn string, channel crdt.ID, published []*posted, start time.Time) ([]time.Duration, string) {
	b.Helper()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)
	rows, err := db.Query(ctx, `SELECT id, received_at FROM ops WHERE log = $1`, channel[:])
	if err != nil {
		b.Fatal(err)
	}
	at := map[crdt.ID]time.Time{}
	var raw []byte
	var t time.Time
	_, err = pgx.ForEachRow(rows, []any{&raw, &t}, func() error {
		id, err := crdt.IDFromBytes(raw)
		at[id] = t
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var out []time.Duration
	var slow []int
	for _, p := range published {
		if t, ok := at[p.op.ID]; ok {
			out = append(out, t.Sub(p.at))
			if sec := int(p.at.Sub(start).Seconds()); t.Sub(p.at) > slowStore && !slices.Contains(slow, sec) {
				slow = append(slow, sec)
			}
		}
	}
	return out, ranges(slow)
}

// seconds returns the whole seconds from start of each of ts, sorted.
func seconds(ts []time.Time, start time.Time) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		out[i] = int(math.Floor(t.Sub(start).Seconds()))
	}
	slices.Sort(out)
	return out
}

// ranges writes sorted integers as "1–3, 7, 60–61".
func ranges(xs []int) string {
	var parts []string
	for i := 0; i < len(xs); {
		j := i
		for j+1 < len(xs) && xs[j+1] == xs[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(xs[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d–%d", xs[i], xs[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// logRelayProblems logs the relay's warnings and errors, counted by
// message.
func logRelayProblems(b *testing.B, rp relayProc) {
	counts := map[string]int{}
	for line := range strings.Lines(rp.Logs.String()) {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			_, msg, _ := strings.Cut(line, "msg=")
			msg, _, _ = strings.Cut(msg, " ")
			counts[msg]++
		}
	}
	for msg, c := range counts {
		b.Logf("relay log: %d × %s", c, msg)
	}
}

// relayPeak is the relay's VmHWM now: its resident peak since it started.
func relayPeak(rp relayProc) int64 {
	_, peak, _ := procMemory(rp.pid())
	return peak
}

// quantile returns the q-quantile of ds (zero if empty).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

// histogram describes a latency distribution: quantiles and the share in
// bands around gossipsub's one-second heartbeat.
func histogram(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	bands := []time.Duration{50 * time.Millisecond, 200 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second}
	counts := make([]int, len(bands)+1)
	for _, d := range ds {
		i, _ := slices.BinarySearch(bands, d)
		counts[i]++
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "p50 %v, p90 %v, p99 %v, max %v; ", quantile(ds, 0.5), quantile(ds, 0.9), quantile(ds, 0.99), quantile(ds, 1))
	for i, c := range counts {
		label := ">" + bands[len(bands)-1].String()
		if i < len(bands) {
			label = "≤" + bands[i].String()
		}
		fmt.Fprintf(&sb, "%s %.1f %%  ", label, 100*float64(c)/float64(len(ds)))
	}
	return strings.TrimSpace(sb.String())
}

// loadAverage returns the machine's one-minute load average.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	one, _, _ := strings.Cut(string(b), " ")
	return one
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }
