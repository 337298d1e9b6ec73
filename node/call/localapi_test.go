package call

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ancore/ancore/node/nodetest"
	"github.com/gorilla/websocket"
)

// request makes an API request of p's and decodes the answer into out
// (an error's code into code).
func request(t *testing.T, p *peerNode, method, path string, in, out any) (status int, code string) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.api.Info().URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.api.Info().Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		var e struct{ Error struct{ Code string } }
		_ = json.Unmarshal(raw, &e)
		return resp.StatusCode, e.Error.Code
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, ""
}

func TestCallAPI(t *testing.T) {
	a, b, mute := startPeer(t, nil, withAPI), startPeer(t, nil, withAPI), startPeer(t, nil, withAPI, withMedia(nil))
	id := community(t, a, b, mute)
	for _, addr := range b.Addrs() {
		if err := connect(t, mute, addr); err != nil {
			t.Fatal(err)
		}
	}
	u := strings.Replace(b.api.Info().URL, "http://", "ws://", 1) + "/api/v1/events?token=" + b.api.Info().Token
	conn, _, err := websocket.DefaultDialer.Dial(u, http.Header{"Origin": {b.api.Info().URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	if status, code := request(t, mute, "POST", "/api/v1/calls", map[string]string{"community": id.String(), "user": b.user().String()}, nil); status != http.StatusServiceUnavailable || code != "calls_unavailable" {
		t.Errorf("calling without a media engine: %d %s", status, code)
	}
	if status, code := request(t, a, "POST", "/api/v1/calls", map[string]string{"community": id.String(), "user": a.user().String()}, nil); status != http.StatusUnprocessableEntity || code != "invalid" {
		t.Errorf("calling oneself: %d %s", status, code)
	}
	if status, code := request(t, a, "POST", "/api/v1/calls/"+NewID().String()+"/accept", nil, nil); status != http.StatusNotFound || code != "call_unknown" {
		t.Errorf("accepting no call: %d %s", status, code)
	}

	var started InfoJSON
	if status, code := request(t, a, "POST", "/api/v1/calls", map[string]string{"community": id.String(), "user": b.user().String()}, &started); status != http.StatusCreated {
		t.Fatalf("start: %d %s", status, code)
	}
	if started.State != StateRinging || started.Direction != "outgoing" || started.User != b.user().String() || started.Community != id.String() {
		t.Errorf("started %+v", started)
	}
	// b hears it ring on its event stream.
	_ = conn.SetReadDeadline(time.Now().Add(nodetest.Wait.Timeout))
	for {
		var ev struct {
			Type string
			Data InfoJSON
		}
		if err := conn.ReadJSON(&ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == "call:state" {
			if ev.Data.ID != started.ID || ev.Data.State != StateRinging || ev.Data.Direction != "incoming" || ev.Data.User != a.user().String() {
				t.Errorf("call:state %+v", ev.Data)
			}
			break
		}
	}
	if status, code := request(t, mute, "POST", "/api/v1/calls", map[string]string{"community": id.String(), "user": b.user().String()}, nil); status != http.StatusServiceUnavailable || code != "calls_unavailable" {
		t.Errorf("calling without a media engine: %d %s", status, code)
	}
	if status, code := request(t, a, "POST", "/api/v1/calls/"+started.ID+"/accept", nil, nil); status != http.StatusConflict || code != "call_state" {
		t.Errorf("caller accepting: %d %s", status, code)
	}
	var accepted InfoJSON
	if status, code := request(t, b, "POST", "/api/v1/calls/"+started.ID+"/accept", nil, &accepted); status != http.StatusOK || accepted.State != StateConnecting {
		t.Fatalf("accept: %d %s %+v", status, code, accepted)
	}
	listed := func(p *peerNode, want State) func() bool {
		return func() bool {
			var calls []InfoJSON
			request(t, p, "GET", "/api/v1/calls", nil, &calls)
			return len(calls) == 1 && calls[0].ID == started.ID && calls[0].State == want
		}
	}
	nodetest.Wait.For(t, "active on the caller", listed(a, StateActive))
	nodetest.Wait.For(t, "active on the callee", listed(b, StateActive))
	if status, code := request(t, a, "POST", "/api/v1/calls", map[string]string{"community": id.String(), "user": mute.user().String()}, nil); status != http.StatusConflict || code != "in_call" {
		t.Errorf("calling from a call: %d %s", status, code)
	}
	var ended InfoJSON
	if status, code := request(t, b, "POST", "/api/v1/calls/"+started.ID+"/end", nil, &ended); status != http.StatusOK || ended.State != StateEnded || ended.Ended == nil {
		t.Fatalf("end: %d %s %+v", status, code, ended)
	}
	nodetest.Wait.For(t, "ended on the caller", listed(a, StateEnded))
	if status, code := request(t, b, "POST", "/api/v1/calls/"+started.ID+"/end", nil, nil); status != http.StatusNotFound || code != "call_unknown" {
		t.Errorf("ending an ended call: %d %s", status, code)
	}
}
