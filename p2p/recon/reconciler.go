package recon

import (
	"fmt"
	"math"

	"github.com/ancore/ancore/crdt"
)

type role uint8

const (
	roleUnset role = iota
	roleInitiator
	roleResponder
)

const (
	// minBucket is the fewest items split puts in a range.
	minBucket = 4
	// minList is the most items always listed rather than split: a list
	// of so few costs less than the fingerprints of a split.
	minList = 8
)

// Reconciler runs one side of one reconciliation of a Set. The side that
// calls Initiate is the initiator and learns the difference; a Reconciler
// whose first call is Reconcile is the responder. It is not safe for
// concurrent use.
type Reconciler struct {
	set  *Set
	role role
	done bool
	// limit is the largest message this side writes: MaxMessageSize,
	// smaller in tests so that they cover replies that do not fit.
	limit int
	// fpSize is the most a fingerprint payload of this side takes.
	fpSize int
	// diffCap is the most items the responder answers a list with; past
	// it, it splits the range so that an answer never crowds a message.
	diffCap int

	// haveSent and needSeen hold what the initiator has reported. A reply
	// cut short covers the rest of the set with one fingerprint, which can
	// take in ranges already settled; the peer then sends their IDs again.
	haveSent []uint64 // bit i: items[i] was reported
	needSeen map[crdt.ID]struct{}
	repeats  int // IDs learned again and not reported; tests watch it
}

// NewReconciler returns a reconciler for set.
func NewReconciler(set *Set) *Reconciler {
	r := &Reconciler{set: set, fpSize: fingerprintSize + uvarintLen(uint64(set.Len()))}
	r.setLimit(MaxMessageSize)
	return r
}

func (r *Reconciler) setLimit(limit int) {
	r.limit = limit
	r.diffCap = max(Buckets, limit/8/digestSize)
}

// Initiate makes r the initiator and returns the first message: the whole
// set as Buckets fingerprinted ranges, or as a list of IDs if it is small.
func (r *Reconciler) Initiate() ([]byte, error) {
	if r.role != roleUnset {
		return nil, fmt.Errorf("%w: Initiate after the session started", ErrState)
	}
	r.role = roleInitiator
	w := newWriter()
	r.describe(&w, 0, r.set.Len(), infBound, -1)
	return w.buf, nil
}

// Done reports whether the reconciliation is over. The initiator is done
// when Reconcile returns a nil reply. The responder is done once its reply
// says nothing more (its last reply is then the version byte alone, which
// the initiator must still receive); a responder whose last reply said more
// learns the end from the transport, when the initiator stops sending.
func (r *Reconciler) Done() bool { return r.done }

// Reconcile takes the peer's message and returns the reply to send back.
// On the initiator it also returns what the message taught: have, IDs of
// items this side holds and the peer lacks, and need, IDs the peer holds
// and this side lacks; a nil reply means the reconciliation is complete.
// The responder always gets a reply to send, and nil have and need. An
// error (ErrMalformed, ErrVersion, ErrState) ends the session.
func (r *Reconciler) Reconcile(msg []byte) (reply []byte, have, need []crdt.ID, err error) {
	if r.done {
		return nil, nil, nil, fmt.Errorf("%w: Reconcile after Done", ErrState)
	}
	d, err := newDecoder(msg)
	if err != nil {
		return nil, nil, nil, err
	}
	role := r.role
	if role == roleUnset {
		role = roleResponder
	}
	// Check the whole message before acting on any of it, and total what
	// handing each range back would cost.
	check := *d
	echoCost := 0
	var in inRange
	for {
		ok, err := check.next(&in)
		if err != nil {
			return nil, nil, nil, err
		}
		if !ok {
			break
		}
		echoCost += r.echoSize(&in, role)
	}
	r.role = role
	w, learnedHave, learnedNeed, err := r.answer(d, echoCost)
	if err != nil {
		return nil, nil, nil, err
	}
	have, need = r.firstTime(learnedHave, learnedNeed)
	reply = w.finish()
	if reply == nil {
		r.done = true
		if r.role == roleResponder {
			// The initiator waits for an answer; this one tells it that
			// every range is settled.
			reply = w.buf
		}
	}
	return reply, have, need, nil
}

// answer builds the reply to the message d reads, whose ranges would cost
// echoCost to hand back. It answers ranges in order while the reply has
// room. Then it hands the next ones back unanswered, as this side's
// fingerprints over the same bounds ("echoes"): that keeps the peer's fine
// splits, so the next round resumes where this one stopped. Once echoes no
// longer fit either, one fingerprint covers the rest of the set, as in
// Negentropy. Echoes may take up to half a message, so that when most
// ranges differ, answers still get the other half.
func (r *Reconciler) answer(d *decoder, echoCost int) (*writer, []int, []crdt.ID, error) {
	w := newWriter()
	var have []int // positions in the set
	var need []crdt.ID
	// rest is what echoing the ranges not yet read would cost.
	rest := echoCost
	echoing := false
	// The first range that is not a skip is answered whatever the room
	// left for echoes, so that every round makes progress.
	answered := false
	lo := 0
	var in inRange
	for {
		ok, err := d.next(&in)
		if err != nil {
			return nil, nil, nil, err
		}
		if !ok {
			break
		}
		rest -= r.echoSize(&in, r.role)
		hi := r.set.index(in.upper)
		m, nHave, nNeed := w.mark(), len(have), len(need)
		if !echoing {
			if err := r.answerRange(&w, &in, lo, hi, &have, &need); err != nil {
				return nil, nil, nil, err
			}
			room := r.limit - w.size() - r.remainderSize()
			if min(rest, r.limit/2) <= room || !answered && room >= 0 {
				answered = answered || in.mode != modeSkip
				lo = hi
				continue
			}
			w.reset(m)
			have, need = have[:nHave], need[:nNeed]
			echoing = true
		}
		if echoable(&in, r.role) {
			r.echo(&w, &in, lo, hi)
		} else if err := r.answerRange(&w, &in, lo, hi, &have, &need); err != nil {
			return nil, nil, nil, err
		}
		if w.size()+r.remainderSize() > r.limit {
			w.reset(m)
			have, need = have[:nHave], need[:nNeed]
			w.fingerprint(infBound, r.set, lo, r.set.Len())
			break
		}
		lo = hi
	}
	return &w, have, need, nil
}

// echoable reports whether in can be handed back unanswered, as a
// fingerprint. Other ranges are settled by answering them with a skip:
// skips, and lists and diffs reaching the initiator, which learns from them.
func echoable(in *inRange, role role) bool {
	return in.mode == modeFingerprint || in.mode == modeIDList && role == roleResponder
}

// echoSize bounds what handing in back adds to a reply: a skip or a
// fingerprint, whose bound takes no more bytes than the peer's encoding of
// it (the previous bound in the reply is never further back).
func (r *Reconciler) echoSize(in *inRange, role role) int {
	n := in.boundLen + 1
	if echoable(in, role) {
		n += r.fpSize
	}
	return n
}

// remainderSize bounds the range that covers the rest of the set with one
// fingerprint: infinite bound, mode, fingerprint.
func (r *Reconciler) remainderSize() int { return 1 + 1 + r.fpSize }

// firstTime turns what one message taught into the IDs not reported in
// an earlier round.
func (r *Reconciler) firstTime(have []int, need []crdt.ID) ([]crdt.ID, []crdt.ID) {
	var haveIDs []crdt.ID
	if len(have) > 0 && r.haveSent == nil {
		r.haveSent = make([]uint64, (r.set.Len()+63)/64)
	}
	for _, i := range have {
		if r.haveSent[i/64]&(1<<(i%64)) != 0 {
			r.repeats++
			continue
		}
		r.haveSent[i/64] |= 1 << (i % 64)
		haveIDs = append(haveIDs, r.set.items[i].ID)
	}
	if len(need) > 0 && r.needSeen == nil {
		r.needSeen = make(map[crdt.ID]struct{})
	}
	fresh := need[:0]
	for _, id := range need {
		if _, seen := r.needSeen[id]; seen {
			r.repeats++
			continue
		}
		r.needSeen[id] = struct{}{}
		fresh = append(fresh, id)
	}
	if len(fresh) == 0 {
		fresh = nil
	}
	return haveIDs, fresh
}

// echo hands in back as this side's fingerprint over the same bounds.
func (r *Reconciler) echo(w *writer, in *inRange, lo, hi int) {
	if in.mode == modeFingerprint && r.set.fingerprint(lo, hi) == in.fp {
		w.skip(in.upper)
		return
	}
	w.fingerprint(in.upper, r.set, lo, hi)
}

// answerRange answers in, which covers items[lo:hi] of this side's set.
func (r *Reconciler) answerRange(w *writer, in *inRange, lo, hi int, have *[]int, need *[]crdt.ID) error {
	switch in.mode {
	case modeSkip:
		w.skip(in.upper)
	case modeFingerprint:
		if r.set.fingerprint(lo, hi) == in.fp {
			w.skip(in.upper)
			return nil
		}
		r.describe(w, lo, hi, in.upper, int(min(in.count, math.MaxInt32)))
	case modeIDList:
		if r.role == roleInitiator {
			if err := r.learnList(in.ids, lo, hi, have, need); err != nil {
				return err
			}
			w.skip(in.upper)
			return nil
		}
		if hi-lo > r.diffCap {
			r.split(w, lo, hi, in.upper)
			return nil
		}
		return r.answerList(w, in, lo, hi)
	case modeIDDiff:
		if r.role != roleInitiator {
			return fmt.Errorf("%w: an ID diff sent to the responder", ErrMalformed)
		}
		if in.listed != hi-lo {
			return fmt.Errorf("%w: ID diff answers %d IDs, the range holds %d", ErrMalformed, in.listed, hi-lo)
		}
		for i := range in.listed {
			if in.lacking[i/8]&(1<<(i%8)) != 0 {
				*have = append(*have, lo+i)
			}
		}
		for j := 0; j < len(in.ids); j += digestSize {
			*need = append(*need, idOf(in.ids[j:j+digestSize]))
		}
		w.skip(in.upper)
	}
	return nil
}

// describe states items[lo:hi] of this side's set, which end at upper and
// differ from the peer's, who holds theirs items there (-1 if unknown). A
// list costs 32 bytes an item and settles the range; a split costs a
// fingerprint a part and a round trip, and pays off when few items differ,
// since most parts then match. The counts differ by no more than the
// number of items that do, so a large difference of counts calls for a
// list, a small one (a peer missing a few scattered ops) for a split.
func (r *Reconciler) describe(w *writer, lo, hi int, upper bound, theirs int) {
	mine := hi - lo
	differ := mine
	if theirs >= 0 {
		differ = max(mine-theirs, theirs-mine)
	}
	if mine <= minList || mine <= IDListThreshold && 4*differ >= mine {
		w.idList(upper, r.set, lo, hi)
		return
	}
	r.split(w, lo, hi, upper)
}

// split writes items[lo:hi], which end at upper, as fingerprinted ranges
// of equal counts: Buckets of them, or fewer so that none holds fewer than
// minBucket items. Smaller ranges would cost a fingerprint each to save
// listing a handful of IDs, and, when most ranges differ, would crowd
// messages with fingerprints. It needs hi-lo >= 2.
func (r *Reconciler) split(w *writer, lo, hi int, upper bound) {
	n := min(Buckets, max(2, (hi-lo)/minBucket))
	start := lo
	for b := 1; b <= n; b++ {
		end := lo + (hi-lo)*b/n
		u := upper
		if b < n {
			u = r.set.boundBefore(end)
		}
		w.fingerprint(u, r.set, start, end)
		start = end
	}
}

// answerList is the responder's answer to the initiator's list of a range:
// which listed IDs it lacks, and the IDs it holds that were not listed.
func (r *Reconciler) answerList(w *writer, in *inRange, lo, hi int) error {
	listed := len(in.ids) / digestSize
	pos, err := digestIndex(in.ids)
	if err != nil {
		return err
	}
	lacking := make([]byte, (listed+7)/8)
	for j := range listed {
		lacking[j/8] |= 1 << (j % 8)
	}
	var unlisted []int
	for i := lo; i < hi; i++ {
		if j, ok := pos[[digestSize]byte(r.set.digest(i))]; ok {
			lacking[j/8] &^= 1 << (j % 8)
		} else {
			unlisted = append(unlisted, i)
		}
	}
	w.idDiff(in.upper, listed, lacking, r.set, unlisted)
	return nil
}

// learnList is the initiator learning from the responder's list of a range.
func (r *Reconciler) learnList(ids []byte, lo, hi int, have *[]int, need *[]crdt.ID) error {
	pos, err := digestIndex(ids)
	if err != nil {
		return err
	}
	held := make([]bool, len(ids)/digestSize)
	for i := lo; i < hi; i++ {
		if j, ok := pos[[digestSize]byte(r.set.digest(i))]; ok {
			held[j] = true
		} else {
			*have = append(*have, i)
		}
	}
	for j, ok := range held {
		if !ok {
			*need = append(*need, idOf(ids[j*digestSize:(j+1)*digestSize]))
		}
	}
	return nil
}

// digestIndex maps each digest of a list to its position.
func digestIndex(ids []byte) (map[[digestSize]byte]int, error) {
	pos := make(map[[digestSize]byte]int, len(ids)/digestSize)
	for j := 0; j < len(ids); j += digestSize {
		d := [digestSize]byte(ids[j : j+digestSize])
		if _, dup := pos[d]; dup {
			return nil, fmt.Errorf("%w: an ID listed twice", ErrMalformed)
		}
		pos[d] = j / digestSize
	}
	return pos, nil
}

// idOf rebuilds an ID from its wire digest.
func idOf(digest []byte) crdt.ID {
	var id crdt.ID
	copy(id[:], cidPrefix[:])
	copy(id[prefixSize:], digest)
	return id
}
