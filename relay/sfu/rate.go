package sfu

// Video bitrate: the SFU forwards one layer and asks the publisher to
// adapt (sender-side adaptation). Each video subscriber has a loss-based
// estimate fed by its receiver reports (and capped by its own REMB); the
// publisher is sent a REMB with the lowest estimate, but never below
// minVideoRate, so one subscriber on a bad link cannot push everyone's
// picture down to nothing: its queue drops instead and it recovers with
// NACK and PLI. Simulcast or SVC would let each subscriber get its own
// layer, but cost the publisher two or three encodes and the SFU layer
// switching on keyframes; for the small calls Ancore routes through its
// relay one adaptive layer is the simpler, honest choice.
const (
	minVideoRate   = 150_000   // bit/s
	maxVideoRate   = 2_500_000 // bit/s
	startVideoRate = 600_000   // bit/s
)

// nextRate is Galene's loss-based rule: grow 5 % while loss is under 2 %,
// shrink by half the loss above 10 %, hold in between. fractionLost is
// the RTCP receiver report's loss fraction in 1/256.
func nextRate(rate uint64, fractionLost uint8) uint64 {
	switch {
	case fractionLost < 5: // < 2 %
		rate = rate * 105 / 100
	case fractionLost > 25: // > 10 %
		rate = rate * (512 - uint64(fractionLost)) / 512
	}
	return min(max(rate, minVideoRate), maxVideoRate)
}
