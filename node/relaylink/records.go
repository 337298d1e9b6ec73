package relaylink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ancore/ancore/crdt"
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/relayclient"
	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Device restore (docs/protocol.md, "Device restore"). While logged in,
// the link keeps at the relay one sealed record per community the user
// belongs to (its topic secret, epoch keys, and where this device
// listens) and one of the user's profile, sealed under keys derived from
// the identity seed (relayclient.RecordKeys). On login, at start and
// after each reconnection it reads them back and imports the communities
// this node lacks (node.Host.ImportCommunity); sync then brings their
// state and history. Records only grow by what a device adds (keys and
// addresses are merged), so devices never undo each other; a community
// the user left, was kicked or banned from, or that was dissolved loses
// its record. A record that does not open or decode is skipped with a log
// line and changes nothing.

// Limits of a record's content. A community holds one key per epoch it
// went through; a record with more keys than maxRecordKeys carries the
// first epoch's and the tips' only (the others are chained from the tips
// in the state log) and so stays within relayapi.MaxRecordBytes.
const (
	maxRecordKeys  = 180
	maxRecordAddrs = 8
	ownRecordAddrs = 4 // of this device's addresses, the first ones
	recordVersion  = 1
)

// recordsCheck is how often the records loop looks for what no hook
// announces — a change of the profile of a user in no community (in a
// community, it is a state op) — and retries a failed sync. A look that
// finds nothing changed and nothing failed costs no request.
const recordsCheck = time.Minute

// Settings of the link's for the profile record: when the local profile
// last changed (Unix ms) and the profile that time is of.
const (
	settingProfileAt   = "relay-profile-at"
	settingProfileSeen = "relay-profile-seen"
)

var profileSubject = []byte("profile")

func communitySubject(id crdt.ID) []byte { return slices.Concat([]byte("community\x00"), id[:]) }

// communityRecord is what a record holds of a community.
type communityRecord struct {
	_         struct{} `cbor:",toarray"`
	Version   uint
	Community []byte   // crdt.ID
	Topic     []byte   // 16 to 64 bytes
	Keys      [][]byte // epoch keys, sorted
	Addrs     []string // members' multiaddrs with /p2p/
}

// profileRecord is what the profile record holds.
type profileRecord struct {
	_          struct{} `cbor:",toarray"`
	Version    uint
	Name       string
	StatusText string
	At         int64 // Unix ms of the change; the latest wins
}

var recordDec = func() cbor.DecMode {
	dm, err := cbor.DecOptions{MaxNestedLevels: 4, MaxArrayElements: 1024, MaxMapPairs: 16}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

var recordEnc = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// decodeCommunityRecord decodes and checks an opened community record.
func decodeCommunityRecord(b []byte) (communityRecord, crdt.ID, error) {
	var r communityRecord
	if err := recordDec.Unmarshal(b, &r); err != nil {
		return r, crdt.ID{}, fmt.Errorf("community record: %w", err)
	}
	id, err := crdt.IDFromBytes(r.Community)
	switch {
	case r.Version != recordVersion:
		return r, id, fmt.Errorf("community record: version %d", r.Version)
	case err != nil || id.IsZero():
		return r, id, fmt.Errorf("community record: community: %v", err)
	case len(r.Topic) < 16 || len(r.Topic) > 64:
		return r, id, fmt.Errorf("community record: a topic secret of %d bytes", len(r.Topic))
	case len(r.Keys) > maxRecordKeys || len(r.Addrs) > maxRecordAddrs:
		return r, id, fmt.Errorf("community record: %d keys and %d addresses", len(r.Keys), len(r.Addrs))
	}
	for _, k := range r.Keys {
		if _, err := crdt.EpochKeyFromBytes(k); err != nil {
			return r, id, fmt.Errorf("community record: %w", err)
		}
	}
	for _, a := range r.Addrs {
		if _, err := peer.AddrInfoFromString(a); err != nil {
			return r, id, fmt.Errorf("community record: address %q: %w", a, err)
		}
	}
	return r, id, nil
}

// decodeProfileRecord decodes and checks an opened profile record.
func decodeProfileRecord(b []byte) (profileRecord, error) {
	var r profileRecord
	if err := recordDec.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("profile record: %w", err)
	}
	printable := func(s string) bool {
		return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
	}
	switch {
	case r.Version != recordVersion:
		return r, fmt.Errorf("profile record: version %d", r.Version)
	case r.Name == "" || !printable(r.Name) || utf8.RuneCountInString(r.Name) > crdt.MaxNameLen:
		return r, fmt.Errorf("profile record: name %q", r.Name)
	case !printable(r.StatusText) || utf8.RuneCountInString(r.StatusText) > crdt.MaxStatusTextLen:
		return r, fmt.Errorf("profile record: status text %q", r.StatusText)
	case r.At <= 0:
		return r, fmt.Errorf("profile record: time %d", r.At)
	}
	return r, nil
}

// kickRecords asks the records loop to look at what changed here.
func (l *Link) kickRecords(pull bool) {
	if pull {
		l.pull.Store(true)
	}
	select {
	case l.records <- struct{}{}:
	default:
	}
}

// runRecords keeps the user's records at the relay in step until ctx
// ends: woken by changes of the communities' states, by logins and
// reconnections, and every recordsCheck.
func (l *Link) runRecords(ctx context.Context) {
	l.kickRecords(true)
	check := time.NewTicker(recordsCheck)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.records:
		case <-check.C:
		}
		err := l.syncRecords(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			l.log.Warn("records at the relay not in step", "err", err)
		}
	}
}

// syncRecords brings the user's records and this node in step: it notes
// a change of the local profile, and if the relay has to be read (a
// login, a start, a reconnection, a failure) or something changed here
// since the last time, reads the records, imports what this node lacks
// and puts or deletes what the relay lacks or holds in vain.
func (l *Link) syncRecords(ctx context.Context) error {
	l.restore.Lock()
	defer l.restore.Unlock()
	return l.syncRecordsLocked(ctx)
}

// syncRecordsLocked is syncRecords with l.restore held.
func (l *Link) syncRecordsLocked(ctx context.Context) error {
	client, token, err := l.relaySession()
	if err != nil {
		return nil // no session: nothing to keep in step
	}
	if err := l.noteProfile(); err != nil {
		return err
	}
	keys := relayclient.DeriveRecordKeys(l.node.Identity().User)
	local, gone := l.localRecords(keys)
	mark := l.localMark(local, gone)
	if !l.pull.Swap(false) && bytes.Equal(mark, l.synced) {
		return nil
	}
	if err := l.exchangeRecords(ctx, client, token, keys, local, gone); err != nil {
		l.pull.Store(true)
		return l.sessionErr(token, err)
	}
	l.synced = mark
	return nil
}

// exchangeRecords reads the relay's records and settles each.
func (l *Link) exchangeRecords(ctx context.Context, client *relayclient.Client, token string, keys *relayclient.RecordKeys,
	local map[string]communityRecord, gone map[string]bool) error {
	ctx, cancel := context.WithTimeout(ctx, relayclient.DefaultTimeout)
	defer cancel()
	remote, err := client.Records(ctx, token)
	if err != nil {
		return err
	}
	profileID := keys.ID(profileSubject)
	held := map[string]communityRecord{}
	var heldProfile *profileRecord
	for _, r := range remote {
		plain, err := keys.Open(r.ID, r.Sealed)
		if err != nil {
			l.log.Warn("relay record skipped", "record", r.ID, "err", err)
			continue
		}
		if r.ID == profileID {
			p, err := decodeProfileRecord(plain)
			if err != nil {
				l.log.Warn("relay record skipped", "record", r.ID, "err", err)
				continue
			}
			heldProfile = &p
			continue
		}
		cr, id, err := decodeCommunityRecord(plain)
		if err == nil && keys.ID(communitySubject(id)) != r.ID {
			err = errors.New("the record of another community")
		}
		if err != nil {
			l.log.Warn("relay record skipped", "record", r.ID, "err", err)
			continue
		}
		held[r.ID] = cr
	}
	var errs []error
	known := map[crdt.ID]bool{}
	for _, id := range l.node.Communities() {
		known[id] = true
	}
	for _, cr := range held {
		id, _ := crdt.IDFromBytes(cr.Community)
		if !known[id] {
			errs = append(errs, l.importCommunity(ctx, id, cr))
		}
	}
	for rid, want := range local {
		have, ok := held[rid]
		merged := mergeRecords(have, want)
		if ok && recordsEqual(have, merged) {
			continue
		}
		errs = append(errs, l.putRecord(ctx, client, token, keys, rid, merged))
	}
	for rid := range gone {
		if _, ok := held[rid]; ok {
			if err := client.DeleteRecord(ctx, token, rid); err != nil && relayclient.Status(err) != 404 {
				errs = append(errs, err)
			}
		}
	}
	errs = append(errs, l.settleProfile(ctx, client, token, keys, profileID, heldProfile))
	return errors.Join(errs...)
}

// importCommunity adds a community of a record to the node and has it
// dial the members the record names.
func (l *Link) importCommunity(ctx context.Context, id crdt.ID, cr communityRecord) error {
	if err := l.node.ImportCommunity(ctx, id, cr.Topic, cr.Keys); err != nil {
		return fmt.Errorf("import community %s: %w", id, err)
	}
	l.log.Info("community restored from the relay", "community", id)
	self := l.node.Libp2p().ID()
	for _, a := range cr.Addrs {
		if pi, err := peer.AddrInfoFromString(a); err == nil && pi.ID != self {
			l.node.KeepConnected(*pi)
		}
	}
	return nil
}

func (l *Link) putRecord(ctx context.Context, client *relayclient.Client, token string, keys *relayclient.RecordKeys, rid string, v any) error {
	plain, err := recordEnc.Marshal(v)
	if err != nil {
		return err
	}
	sealed, err := keys.Seal(rid, plain)
	if err != nil {
		return err
	}
	return client.PutRecord(ctx, token, rid, sealed)
}

// localRecords are the records of the communities this user belongs to,
// by record ID, and the IDs of those it no longer belongs to (it left,
// was removed, or the community was dissolved). A community whose state
// has not arrived (imported a moment ago) is in neither.
func (l *Link) localRecords(keys *relayclient.RecordKeys) (local map[string]communityRecord, gone map[string]bool) {
	local, gone = map[string]communityRecord{}, map[string]bool{}
	me := l.node.Identity().User.ID()
	addrs := l.ownAddrs()
	for _, id := range l.node.Communities() {
		state, err := l.node.Community(id)
		if err != nil || state.Genesis == nil {
			continue
		}
		rid := keys.ID(communitySubject(id))
		m := state.Members[me]
		switch {
		case state.Dissolved || (m != nil && m.State != crdt.Joined):
			gone[rid] = true
			continue
		case m == nil:
			continue
		}
		topic, err1 := l.node.TopicSecret(id)
		epochKeys, err2 := l.node.EpochKeys(id)
		if err1 != nil || err2 != nil || len(topic) < 16 || len(topic) > 64 {
			continue
		}
		local[rid] = communityRecord{Version: recordVersion, Community: id[:], Topic: topic,
			Keys: recordKeys(state, epochKeys), Addrs: addrs}
	}
	return local, gone
}

// recordKeys picks the keys a record carries: all, sorted, or when they
// are too many, the first epoch's and the tips'.
func recordKeys(state *crdt.Community, keys [][]byte) [][]byte {
	if len(keys) > maxRecordKeys {
		wanted := map[crdt.EpochID]bool{}
		if len(state.Epochs) > 0 {
			wanted[state.Epochs[0].ID] = true
		}
		for _, e := range state.EpochTips() {
			wanted[e.ID] = true
		}
		keys = slices.DeleteFunc(slices.Clone(keys), func(b []byte) bool {
			k, err := crdt.EpochKeyFromBytes(b)
			return err != nil || !wanted[k.ID()]
		})
		if len(keys) > maxRecordKeys {
			keys = keys[:maxRecordKeys]
		}
	}
	keys = slices.Clone(keys)
	slices.SortFunc(keys, bytes.Compare)
	return keys
}

// ownAddrs are this device's first addresses, with /p2p/.
func (l *Link) ownAddrs() []string {
	h := l.node.Libp2p()
	var out []string
	for _, a := range h.Addrs() {
		if len(out) == ownRecordAddrs {
			break
		}
		out = append(out, a.String()+"/p2p/"+h.ID().String())
	}
	return out
}

// mergeRecords is have with what want adds: its topic secret (a record
// of the same community has the same), the union of the keys, and want's
// addresses first.
func mergeRecords(have, want communityRecord) communityRecord {
	out := want
	keys := slices.Concat(want.Keys, have.Keys)
	slices.SortFunc(keys, bytes.Compare)
	out.Keys = slices.CompactFunc(keys, bytes.Equal)
	if len(out.Keys) > maxRecordKeys {
		out.Keys = want.Keys
	}
	addrs := slices.Clone(want.Addrs)
	for _, a := range have.Addrs {
		if len(addrs) < maxRecordAddrs && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	out.Addrs = addrs
	return out
}

func recordsEqual(a, b communityRecord) bool {
	ea, err1 := recordEnc.Marshal(a)
	eb, err2 := recordEnc.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

// localMark sums up the local records, the departures and the profile
// time: when it has not changed, neither has anything to tell the relay.
func (l *Link) localMark(local map[string]communityRecord, gone map[string]bool) []byte {
	h := sha256.New()
	for _, rid := range slices.Sorted(maps.Keys(local)) {
		b, _ := recordEnc.Marshal(local[rid])
		fmt.Fprintf(h, "%s %d ", rid, len(b))
		h.Write(b)
	}
	for _, rid := range slices.Sorted(maps.Keys(gone)) {
		fmt.Fprintf(h, "gone %s ", rid)
	}
	at, _ := l.profileAt()
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(at)))
	return h.Sum(nil)
}

// profileAt is when the local profile last changed (0: not since this
// node's user was restored, or never).
func (l *Link) profileAt() (int64, error) {
	v, err := l.node.Settings().Get(settingProfileAt)
	if err != nil || len(v) != 8 {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(v)), nil
}

// setProfileSeen records that the local profile p is of time at.
func (l *Link) setProfileSeen(p node.Profile, at int64) error {
	seen, err := recordEnc.Marshal([]string{p.Name, p.StatusText})
	if err != nil {
		return err
	}
	if err := l.node.Settings().Put(settingProfileSeen, seen); err != nil {
		return err
	}
	return l.node.Settings().Put(settingProfileAt, binary.BigEndian.AppendUint64(nil, uint64(at)))
}

// noteProfile stamps the local profile with the time now if it is not the
// one last seen: the user changed it.
func (l *Link) noteProfile() error {
	p := l.node.Profile()
	seen, err := l.node.Settings().Get(settingProfileSeen)
	if err != nil {
		return err
	}
	var was []string
	if seen != nil && recordDec.Unmarshal(seen, &was) == nil && len(was) == 2 && was[0] == p.Name && was[1] == p.StatusText {
		return nil
	}
	if p.Name == "" {
		return nil
	}
	at, err := l.profileAt()
	if err != nil {
		return err
	}
	return l.setProfileSeen(p, max(time.Now().UnixMilli(), at+1))
}

// forgetProfileTime makes the next sync take the relay's profile over
// this node's: called when a login restored another user, whose profile
// this node's is not.
func (l *Link) forgetProfileTime() error { return l.setProfileSeen(l.node.Profile(), 0) }

// settleProfile applies the relay's profile if it is the newer, or puts
// this node's if it is.
func (l *Link) settleProfile(ctx context.Context, client *relayclient.Client, token string, keys *relayclient.RecordKeys,
	rid string, held *profileRecord) error {
	p := l.node.Profile()
	at, err := l.profileAt()
	if err != nil {
		return err
	}
	if held != nil && held.At >= at {
		// The record holds no avatar: the node keeps its own.
		restored := node.Profile{Name: held.Name, StatusText: held.StatusText, Avatar: p.Avatar}
		if err := l.setProfileSeen(restored, held.At); err != nil {
			return err
		}
		if restored.Name == p.Name && restored.StatusText == p.StatusText {
			return nil
		}
		l.log.Info("profile restored from the relay")
		return l.node.SetLocalProfile(ctx, restored)
	}
	if p.Name == "" || at == 0 {
		return nil
	}
	return l.putRecord(ctx, client, token, keys, rid, profileRecord{Version: recordVersion, Name: p.Name, StatusText: p.StatusText, At: at})
}
