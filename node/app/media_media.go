//go:build media

package app

import (
	"errors"
	"fmt"
	"io"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/call"
	"github.com/ancore/ancore/node/media"
	"github.com/ancore/ancore/p2p"
)

// callMedia is the calls feature's media engine in a build with the
// codec: node/media's audio sessions, keyed from the community's epoch
// keys the node holds. Without audio there is nothing to call with.
func callMedia(h node.Host, audio CallAudio) call.Media {
	if audio == nil {
		return nil
	}
	return &audioCalls{host: h, audio: audio}
}

type audioCalls struct {
	host  node.Host
	audio CallAudio
}

var mediaStates = map[media.ConnState]call.MediaState{
	media.Connected:    call.MediaConnected,
	media.Disconnected: call.MediaDisconnected,
	media.Failed:       call.MediaFailed,
}

func (m *audioCalls) NewSession(in call.Info, ev call.SessionEvents) (call.Session, error) {
	source, sink, err := m.audio(in)
	if err != nil {
		return nil, fmt.Errorf("call audio: %w", err)
	}
	audio := closeAudio{source, sink}
	device := m.host.Identity().Device.ID()
	s, err := media.NewSession(media.SessionConfig{
		Call:   in.ID[:],
		Device: device[:],
		Peers:  m.devices(in.Peer),
		Keys:   func() ([]byte, [][]byte, error) { return epochKeys(m.host, in.Community) },
		Source: source,
		Sink:   sink,
		Events: media.Events{
			Candidate: ev.Candidate,
			State:     func(s media.ConnState) { ev.State(mediaStates[s]) },
		},
	})
	if err != nil {
		return nil, errors.Join(err, audio.Close())
	}
	return audioSession{s, audio}, nil
}

// closeAudio closes a call's source and sink, those that are io.Closers.
type closeAudio []any

func (a closeAudio) Close() error {
	var errs []error
	for _, x := range a {
		if c, ok := x.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// audioSession is a session that closes its audio after itself, once it
// no longer reads or writes it.
type audioSession struct {
	*media.Session
	audio closeAudio
}

func (s audioSession) Close() error { return errors.Join(s.Session.Close(), s.audio.Close()) }

// devices are the keys of user's devices this node knows: the callee's
// that ring, or the caller's.
func (m *audioCalls) devices(user crdt.UserID) [][]byte {
	h := m.host.Libp2p()
	var out [][]byte
	for _, p := range append(h.Network().Peers(), h.Peerstore().PeersWithAddrs()...) {
		dev, ok := p2p.DeviceOf(p)
		if u, known := m.host.DeviceUser(p); ok && known && u == user {
			out = append(out, dev[:])
		}
	}
	return out
}

// epochKeys are the epoch keys the node holds for community, and the
// current epoch's among them (the last epoch of its state).
func epochKeys(h node.Host, community crdt.ID) ([]byte, [][]byte, error) {
	all, err := h.EpochKeys(community)
	if err != nil {
		return nil, nil, err
	}
	c, err := h.Community(community)
	if err != nil {
		return nil, nil, err
	}
	epoch, ok := c.Current()
	if !ok {
		return nil, nil, errors.New("the community has no epoch yet")
	}
	for _, raw := range all {
		if k, err := crdt.EpochKeyFromBytes(raw); err == nil && k.ID() == epoch.ID {
			return raw, all, nil
		}
	}
	return nil, nil, fmt.Errorf("the key of the current epoch %x is not held", epoch.ID[:4])
}
