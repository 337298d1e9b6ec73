package p2p

import (
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peer scoring. Chat topics are quiet most of the time, so nothing here
// punishes a peer for delivering little; scores go down for what only a
// broken or hostile peer does — invalid ops and protocol misbehaviour — and
// up slowly for being useful. docs/protocol.md lists the values and why.
//
// A single invalid op costs InvalidMessageDeliveriesWeight × 1² = -100,
// below GraylistThreshold: the peer's messages are ignored until the
// penalty decays (×0.9 per second, about 40 s to fall back above -1).

const scoreDecayInterval = time.Second

func peerScoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		Topics:           map[string]*pubsub.TopicScoreParams{},
		TopicScoreCap:    100,
		AppSpecificScore: func(peer.ID) float64 { return 0 },
		// Peers on one LAN, behind one NAT or in one test process share an
		// address, so colocation is no sign of an attack here.
		IPColocationFactorWeight:  0,
		BehaviourPenaltyWeight:    -10,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     0.9,
		DecayInterval:             scoreDecayInterval,
		DecayToZero:               0.01,
		RetainScore:               10 * time.Minute,
	}
}

func peerScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:             -10,
		PublishThreshold:            -50,
		GraylistThreshold:           -80,
		AcceptPXThreshold:           10,
		OpportunisticGraftThreshold: 1,
	}
}

func topicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		TopicWeight:                    1,
		TimeInMeshWeight:               0.01,
		TimeInMeshQuantum:              time.Second,
		TimeInMeshCap:                  300,
		FirstMessageDeliveriesWeight:   1,
		FirstMessageDeliveriesDecay:    0.9,
		FirstMessageDeliveriesCap:      50,
		InvalidMessageDeliveriesWeight: -100,
		InvalidMessageDeliveriesDecay:  0.9,
		// Mesh delivery and mesh failure penalties stay off: they punish
		// peers for quiet topics, which chat channels mostly are.
		MeshMessageDeliveriesWeight: 0,
		MeshMessageDeliveriesDecay:  0.9,
		MeshFailurePenaltyWeight:    0,
		MeshFailurePenaltyDecay:     0.9,
	}
}
