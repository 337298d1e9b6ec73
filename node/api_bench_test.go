package node_test

// The local API's benchmarks live beside the node, not in node/api: their
// fixtures are built below the API (export_test.go), which only this
// folder's tests can reach.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/api"
	"github.com/ancore/ancore/node/nodetest"
	"github.com/ancore/ancore/node/store"
	"github.com/gorilla/websocket"
)

// benchDir is where API benchmarks keep fixtures between runs.
func benchDir(b *testing.B, name string) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "ancore-bench", name)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		b.Fatal(err)
	}
	return dir
}

const settingFixture = "bench-fixture"

// apiFixture returns a node's data folder holding a community whose
// #general has n messages by the node's user, building it on first use.
func apiFixture(b *testing.B, n int) (dir string) {
	b.Helper()
	dir = benchDir(b, fmt.Sprintf("api-v2-%d", n))
	if st, err := store.Open(filepath.Join(dir, node.StoreFile), nil); err == nil {
		v, _ := st.Setting(settingFixture)
		st.Close()
		if string(v) == fmt.Sprint(n) {
			return dir
		}
	}
	os.RemoveAll(dir)
	start := time.Now()
	nd, err := node.New(nodetest.Config(dir))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	id, err := nd.CreateCommunity(ctx, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	state, _ := nd.Community(id)
	var general crdt.ID
	for ch := range state.Channels {
		general = ch
	}
	cur, _ := state.Current()
	key := nd.Keyring()[cur.ID]
	// Signed on both cores, stored in commits of 1000 like sync delivers.
	// Each op cites the last of the previous batch: a DAG whose heads stay
	// few, as real authors' do (ops citing nothing would all be heads).
	const batch = 1000
	hlc := nd.Clock().Now()
	var parents []crdt.ID
	for lo := 0; lo < n; lo += batch {
		ops := make([]*crdt.Op, min(batch, n-lo))
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for i := w; i < len(ops); i += 2 {
					op, err := nd.Identity().Device.Sign(crdt.Draft{Community: id, Channel: general, Kind: crdt.KindPost,
						HLC: hlc + crdt.HLC(lo+i) + 1, Parents: parents, Body: crdt.Body{Text: fmt.Sprintf("message %d: %s", lo+i, strings.Repeat("x", 80))}}, key)
					if err != nil {
						panic(err)
					}
					ops[i] = op
				}
			})
		}
		wg.Wait()
		if err := nd.IngestVerified(ctx, ops); err != nil {
			b.Fatal(err)
		}
		parents = []crdt.ID{ops[len(ops)-1].ID}
	}
	if err := nd.Settings().Put(settingFixture, []byte(fmt.Sprint(n))); err != nil {
		b.Fatal(err)
	}
	closed, cancel := context.WithCancel(ctx)
	cancel()
	if err := nd.Run(closed); err != nil {
		b.Fatal(err)
	}
	b.Logf("built a %d-message API fixture in %v", n, time.Since(start).Round(time.Second))
	return dir
}

// served runs a node on dir with its local API until the benchmark ends.
func served(b *testing.B, dir string) (*node.Node, api.Info) {
	b.Helper()
	n, err := node.New(nodetest.Config(dir))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.Listen(n, api.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	nodetest.Run(b, n, srv.Serve)
	return n, srv.Info()
}

// BenchmarkAPIPage measures GET /channels/{id}/messages?limit=50 on a
// channel of 1M messages through the real HTTP stack: loopback TCP, the
// guard, JSON.
func BenchmarkAPIPage(b *testing.B) {
	nd, info := served(b, apiFixture(b, 1_000_000))
	var general string
	for _, id := range nd.Communities() {
		c, _ := nd.Community(id)
		for ch := range c.Channels {
			general = ch.String()
		}
	}
	url := info.URL + "/api/v1/channels/" + general + "/messages?limit=50"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func() time.Duration {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+info.Token)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var page []api.MessageJSON
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 || len(page) != 50 {
			b.Fatalf("status %d, %d messages, %v", resp.StatusCode, len(page), err)
		}
		resp.Body.Close()
		return time.Since(start)
	}
	for range 50 {
		get() // warm the connection and the page cache
	}
	const requests = 2000
	lat := make([]time.Duration, 0, requests)
	b.ResetTimer()
	for b.Loop() {
		lat = lat[:0]
		for range requests {
			lat = append(lat, get())
		}
	}
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkAPIEventLatency measures, for message ops a peer publishes,
// the time from publishing to this node's WebSocket client holding the
// message:new event: gossip, validation, decryption, the store's commit,
// the event stream.
func BenchmarkAPIEventLatency(b *testing.B) {
	a, _ := served(b, b.TempDir())
	bn, info := served(b, b.TempDir())
	ctx := context.Background()
	id, err := a.CreateCommunity(ctx, "Latency")
	if err != nil {
		b.Fatal(err)
	}
	link, err := a.CreateInvite(ctx, id, time.Hour, 0)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := bn.Join(ctx, link); err != nil {
		b.Fatal(err)
	}
	state, _ := a.Community(id)
	var general crdt.ID
	for ch := range state.Channels {
		general = ch
	}
	nodetest.Wait.For(b, "b to join the channel", func() bool {
		c, err := bn.Community(id)
		return err == nil && c.Channels[general] != nil && a.Subscribers(id, general) > 0
	})
	conn, _, err := websocket.DefaultDialer.Dial(strings.Replace(info.URL, "http", "ws", 1)+"/api/v1/events?token="+info.Token, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	await := func(text string) {
		for {
			conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			var e struct {
				Type string
				Data api.MessageJSON
			}
			if err := conn.ReadJSON(&e); err != nil {
				b.Fatal(err)
			}
			if e.Type == "message:new" && e.Data.Text == text {
				return
			}
		}
	}
	// The op is signed on a beforehand and published on its topic: the
	// time measured starts as the op goes onto the wire.
	topic := a.ChannelTopic(id, general)
	cur, _ := state.Current()
	key := a.Keyring()[cur.ID]
	send := func(i int) time.Duration {
		text := fmt.Sprintf("latency %d %s", i, strings.Repeat("x", 400))
		op, err := a.Identity().Device.Sign(crdt.Draft{Community: id, Channel: general, Kind: crdt.KindPost,
			HLC: a.Clock().Now(), Body: crdt.Body{Text: text}}, key)
		if err != nil {
			b.Fatal(err)
		}
		begin := time.Now()
		if err := topic.Publish(ctx, op); err != nil {
			b.Fatal(err)
		}
		await(text)
		return time.Since(begin)
	}
	for i := range 20 {
		send(-i - 1) // warm up the mesh
	}
	const messages = 300
	lat := make([]time.Duration, 0, messages)
	b.ResetTimer()
	for b.Loop() {
		lat = lat[:0]
		for i := range messages {
			lat = append(lat, send(i))
		}
	}
	reportLatency(b, lat)
}
