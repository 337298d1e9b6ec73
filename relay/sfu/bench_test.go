package sfu

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// The shape of BenchmarkSFUForward: a 1000-listener call with 2 speakers
// (Mattermost rtcd's published load), Opus-like packets.
const (
	benchListeners = 1000
	benchSpeakers  = 2
	benchPayload   = 80
	benchInterval  = 20 * time.Millisecond // 50 packets/s per speaker
	benchTicks     = 100                   // one op: 2 s of the call
	benchRounds    = 4                     // per path, alternating
	benchWarmUp    = 10                    // ticks per path before measuring
)

// sinkEnv makes the test binary a sink process (see TestMain).
const sinkEnv = "ANCORE_SFU_BENCH_SINK"

func TestMain(m *testing.M) {
	if n := os.Getenv(sinkEnv); n != "" {
		listeners, err := strconv.Atoi(n)
		if err == nil {
			err = runSink(listeners)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "sink:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runSink is the listeners' side, in its own process so that the
// benchmark's CPU figure is the forwarder's alone: one UDP socket per
// listener, a count of packets received. It prints its ports, then
// answers each line on stdin with the count, and exits at EOF.
func runSink(listeners int) error {
	var received atomic.Int64
	ports := make([]string, listeners)
	for i := range ports {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return err
		}
		ports[i] = strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port)
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				received.Add(1)
			}
		}()
	}
	fmt.Println(strings.Join(ports, " "))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Println(received.Load())
	}
	return in.Err()
}

// sink is the benchmark's handle on the sink process.
type sink struct {
	addrs []*net.UDPAddr
	in    *bufio.Writer
	out   *bufio.Scanner
}

func startSink(b *testing.B, listeners int) *sink {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", sinkEnv, listeners))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	s := &sink{in: bufio.NewWriter(stdin), out: bufio.NewScanner(stdout)}
	if !s.out.Scan() {
		b.Fatalf("sink process: %v", s.out.Err())
	}
	for _, p := range strings.Fields(s.out.Text()) {
		port, _ := strconv.Atoi(p)
		s.addrs = append(s.addrs, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	}
	if len(s.addrs) != listeners {
		b.Fatalf("sink process gave %d ports, want %d", len(s.addrs), listeners)
	}
	return s
}

func (s *sink) count(b *testing.B) int64 {
	b.Helper()
	s.in.WriteString("count\n")
	s.in.Flush()
	if !s.out.Scan() {
		b.Fatalf("sink process: %v", s.out.Err())
	}
	n, err := strconv.ParseInt(s.out.Text(), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// waitCount waits for the sink to count want packets, or for the count
// to stop growing: what has not arrived 200 ms after the last packet is
// lost. It returns the count and when it last grew, which ends the
// measured time (the wait for stragglers is not the forwarder's).
func (s *sink) waitCount(b *testing.B, want int64) (int64, time.Time) {
	b.Helper()
	last, since := s.count(b), time.Now()
	for last < want && time.Since(since) < 200*time.Millisecond {
		time.Sleep(5 * time.Millisecond)
		if n := s.count(b); n != last {
			last, since = n, time.Now()
		}
	}
	return last, since
}

// srtpWriter is the benchmark's stand-in for a subscriber's peer
// connection: what pion's write path does per packet — set the
// subscriber's SSRC, marshal, encrypt with the subscriber's SRTP key
// (AES-128-GCM) — then one sendto on a shared socket, as with an ICE
// UDP mux.
type srtpWriter struct {
	conn *net.UDPConn
	addr *net.UDPAddr
	ssrc uint32
	ctx  *srtp.Context
	buf  []byte
	out  []byte
}

func newSRTPWriter(b *testing.B, conn *net.UDPConn, addr *net.UDPAddr, ssrc uint32) *srtpWriter {
	key := bytes.Repeat([]byte{byte(ssrc)}, 16)
	salt := bytes.Repeat([]byte{byte(ssrc >> 8)}, 12)
	ctx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		b.Fatal(err)
	}
	return &srtpWriter{conn: conn, addr: addr, ssrc: ssrc, ctx: ctx, buf: make([]byte, 1500), out: make([]byte, 1500)}
}

func (w *srtpWriter) WriteRTP(p *rtp.Packet) error {
	p.SSRC = w.ssrc
	n, err := p.MarshalTo(w.buf)
	if err != nil {
		return err
	}
	enc, err := w.ctx.EncryptRTP(w.out, w.buf[:n], nil)
	if err != nil {
		return err
	}
	_, err = w.conn.WriteToUDP(enc, w.addr)
	return err
}

// speakers send benchTicks packets each, one per benchInterval, to dst,
// with the audio level extension set (id 1), as Opus senders do.
func speak(b *testing.B, dst *net.UDPAddr, ticks int) {
	b.Helper()
	conns := make([]*net.UDPConn, benchSpeakers)
	for i := range conns {
		c, err := net.DialUDP("udp4", nil, dst)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	level, _ := rtp.AudioLevelExtension{Level: 30, Voice: true}.Marshal()
	payload := bytes.Repeat([]byte{0xa5}, benchPayload) // opaque: could be ciphertext
	tick := time.NewTicker(benchInterval)
	defer tick.Stop()
	for n := range ticks {
		<-tick.C
		for i, c := range conns {
			p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(n),
				Timestamp: uint32(n) * 960, SSRC: uint32(i + 1)}, Payload: payload}
			p.Header.SetExtension(1, level)
			raw, err := p.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Write(raw); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measured is one path's run: packets expected and received at the sink,
// CPU and wall time spent.
type measured struct {
	want, got int64
	cpu, wall time.Duration
}

// tracksPerCore is the subscriber tracks forwarded, per core of CPU.
func (m measured) tracksPerCore() float64 {
	cores := m.cpu.Seconds() / m.wall.Seconds()
	return benchSpeakers * benchListeners / cores
}

func (m *measured) add(o measured) {
	m.want += o.want
	m.got += o.got
	m.cpu += o.cpu
	m.wall += o.wall
}

func (m measured) loss() float64 { return 1 - float64(m.got)/float64(m.want) }

// run drives ticks of the call into in and measures until the sink has
// what arrives.
func run(b *testing.B, s *sink, in *net.UDPConn, ticks int) measured {
	b.Helper()
	base := s.count(b)
	want := int64(ticks * benchSpeakers * benchListeners)
	start, cpu0 := time.Now(), cpuTime()
	speak(b, in.LocalAddr().(*net.UDPAddr), ticks)
	got, end := s.waitCount(b, base+want)
	return measured{want: want, got: got - base, cpu: cpuTime() - cpu0, wall: end.Sub(start)}
}

func listen(b *testing.B) *net.UDPConn {
	b.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	c.SetReadBuffer(4 << 20)
	c.SetWriteBuffer(4 << 20)
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkSFUForward forwards two speakers' audio to 1000 listeners,
// through the SFU's forwarding core (upTrack, its cache and speaker
// detection, a bounded queue and writer per subscriber track, SRTP per
// subscriber) and through a bare UDP read/write loop, over real loopback
// sockets, and reports subscriber tracks per core of CPU for the SFU and
// its ratio to the bare loop. The listeners run in a child process, so
// the CPU measured is the forwarder's (and the two speakers').
func BenchmarkSFUForward(b *testing.B) {
	s := startSink(b, benchListeners)
	ticks := b.N * benchTicks

	// The bare loop: read a packet, write it to every listener.
	bareIn, bareOut := listen(b), listen(b)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := bareIn.Read(buf)
			if err != nil {
				return
			}
			for _, a := range s.addrs {
				bareOut.WriteToUDP(buf[:n], a)
			}
		}
	}()

	// The SFU: one read loop handing packets to the speakers' tracks.
	sfuIn, sfuOut := listen(b), listen(b)
	ups := make(map[uint32]*upTrack)
	var speaking atomic.Int32
	var downs []*downTrack
	for i := range benchSpeakers {
		up := &upTrack{id: fmt.Sprint("speaker", i), ssrc: uint32(i + 1), audioLevelID: 1,
			onSpeaking: func(on bool) {
				if on {
					speaking.Add(1)
				}
			}}
		for l, a := range s.addrs {
			d := newDownTrack(up, newSRTPWriter(b, sfuOut, a, uint32(1000+l*benchSpeakers+i)), DefaultQueueLen)
			d.audioLevelID = 1
			up.attach(d)
			downs = append(downs, d)
		}
		ups[up.ssrc] = up
	}
	var wg sync.WaitGroup
	for _, d := range downs {
		wg.Go(d.run)
	}
	b.Cleanup(func() {
		for _, d := range downs {
			d.close()
		}
		wg.Wait()
	})
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := sfuIn.Read(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			if up := ups[binary.BigEndian.Uint32(buf[8:12])]; up != nil {
				up.forward(bytes.Clone(buf[:n]))
			}
		}
	}()

	// Both paths warm up, then run in alternating rounds, so that drift
	// in the machine's other load falls on both alike.
	run(b, s, bareIn, benchWarmUp)
	run(b, s, sfuIn, benchWarmUp)
	b.ResetTimer()
	var bare, fwd measured
	for range benchRounds {
		runtime.GC()
		bare.add(run(b, s, bareIn, ticks/benchRounds))
		runtime.GC()
		fwd.add(run(b, s, sfuIn, ticks/benchRounds))
	}
	b.StopTimer()

	var dropped uint64
	for _, d := range downs {
		dropped += d.dropped.Load()
	}
	if speaking.Load() != benchSpeakers {
		b.Fatalf("%d speakers detected, want %d", speaking.Load(), benchSpeakers)
	}
	for name, m := range map[string]measured{"bare loop": bare, "SFU": fwd} {
		if m.loss() >= 0.001 {
			b.Fatalf("%s lost %.3f %% of %d packets (SFU queues dropped %d)", name, 100*m.loss(), m.want, dropped)
		}
	}
	b.ReportMetric(fwd.tracksPerCore(), "tracks-per-core")
	b.ReportMetric(fwd.tracksPerCore()/bare.tracksPerCore(), "x-udp")
	b.ReportMetric(bare.tracksPerCore(), "bare-tracks-per-core")
	b.ReportMetric(100*fwd.loss(), "loss-pct")
}
