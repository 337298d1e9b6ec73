package turn

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// Relayed transports get ports of this range.
const minPort, maxPort = 41000, 41999

func start(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{Listen: "127.0.0.1:0", IP: net.IPv4(127, 0, 0, 1), Secret: []byte("a secret of the relay"),
		TTL: time.Hour, MinPort: minPort, MaxPort: maxPort, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dial makes a TURN client over UDP (or TCP) with the credentials.
func dial(t *testing.T, s *Server, username, password string, tcp bool) *turn.Client {
	t.Helper()
	var conn net.PacketConn
	if tcp {
		c, err := net.Dial("tcp4", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn = turn.NewSTUNConn(c)
	} else {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn = c
	}
	t.Cleanup(func() { conn.Close() })
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: s.Addr().String(), TURNServerAddr: s.Addr().String(),
		Username: username, Password: password, Realm: Realm, Conn: conn, RTO: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRelaysBetweenTwoClients(t *testing.T) {
	s := start(t)
	ca, cb := s.Issue("ada"), s.Issue("bea")
	if !strings.HasSuffix(ca.Username, ":ada") || ca.TTL != time.Hour || len(ca.URLs) != 3 {
		t.Fatalf("credentials %+v", ca)
	}
	a := dial(t, s, ca.Username, ca.Password, false)
	b := dial(t, s, cb.Username, cb.Password, true)

	mapped, err := a.SendBindingRequest()
	if err != nil {
		t.Fatalf("STUN binding: %v", err)
	}
	if !mapped.(*net.UDPAddr).IP.IsLoopback() {
		t.Fatalf("STUN mapped address %v", mapped)
	}
	ra, err := a.Allocate()
	if err != nil {
		t.Fatalf("allocate over UDP: %v", err)
	}
	defer ra.Close()
	rb, err := b.Allocate()
	if err != nil {
		t.Fatalf("allocate over TCP: %v", err)
	}
	defer rb.Close()

	for _, c := range []net.PacketConn{ra, rb} {
		if a := c.LocalAddr().(*net.UDPAddr); !a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.Port < minPort || a.Port > maxPort {
			t.Fatalf("relayed address %v, want 127.0.0.1 in ports %d-%d", a, minPort, maxPort)
		}
	}

	// Each side permits the other's relayed address; then a packet from
	// one relayed address arrives at the other.
	if err := a.CreatePermission(rb.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if err := b.CreatePermission(ra.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	msg := []byte("a packet of media")
	if _, err := ra.WriteTo(msg, rb.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	rb.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 100)
	n, from, err := rb.ReadFrom(buf)
	if err != nil {
		t.Fatalf("read relayed packet: %v", err)
	}
	if !bytes.Equal(buf[:n], msg) || from.String() != ra.LocalAddr().String() {
		t.Fatalf("got %q from %v, want %q from %v", buf[:n], from, msg, ra.LocalAddr())
	}
}

func TestRefusesBadCredentials(t *testing.T) {
	s := start(t)
	good := s.Issue("ada")
	expired := fmt.Sprintf("%d:ada", time.Now().Add(-time.Minute).Unix())
	other, err := New(Config{Listen: "127.0.0.1:0", IP: net.IPv4(127, 0, 0, 1), Secret: []byte("another secret"),
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	foreign := other.Issue("ada")
	for name, cred := range map[string][2]string{
		"expired":        {expired, password(s.cfg.Secret, expired)},
		"wrong password": {good.Username, good.Password[1:] + "A"},
		"other secret":   {foreign.Username, foreign.Password},
		"no expiry":      {"ada", password(s.cfg.Secret, "ada")},
		"changed peer":   {strings.TrimSuffix(good.Username, "ada") + "bea", good.Password},
	} {
		c := dial(t, s, cred[0], cred[1], false)
		if conn, err := c.Allocate(); err == nil {
			conn.Close()
			t.Errorf("%s: allocated", name)
		}
	}
	conn, err := dial(t, s, good.Username, good.Password, false).Allocate()
	if err != nil {
		t.Fatalf("good credentials refused: %v", err)
	}
	conn.Close()
}

// TestRefusesPeersInsideTheRelaysNetwork: a member cannot use TURN to
// reach the relay's loopback or private network, only public addresses
// and the server's own relayed transports.
func TestRefusesPeersInsideTheRelaysNetwork(t *testing.T) {
	s := start(t)
	cred := s.Issue("ada")
	c := dial(t, s, cred.Username, cred.Password, false)
	relayed, err := c.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	defer relayed.Close()
	for _, ip := range []string{"127.0.0.53", "10.0.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "::1"} {
		if err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 53}); err == nil {
			t.Errorf("permission to %s granted", ip)
		}
	}
	for _, ip := range []string{"8.8.8.8", "127.0.0.1"} { // public; the server's own address
		if err := c.CreatePermission(&net.UDPAddr{IP: net.ParseIP(ip), Port: 53}); err != nil {
			t.Errorf("permission to %s refused: %v", ip, err)
		}
	}
}
