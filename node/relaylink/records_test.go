package relaylink

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ancore/ancore/crdt"
)

func testCommunityRecord(t testing.TB) communityRecord {
	key, err := crdt.NewEpochKey()
	if err != nil {
		t.Fatal(err)
	}
	id := crdt.IDOf([]byte("a community"))
	return communityRecord{Version: recordVersion, Community: id[:], Topic: bytes.Repeat([]byte{1}, 32),
		Keys: [][]byte{key.Bytes()}, Addrs: []string{"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK"}}
}

func TestCommunityRecordChecks(t *testing.T) {
	good := testCommunityRecord(t)
	enc := func(r any) []byte {
		b, err := recordEnc.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if r, id, err := decodeCommunityRecord(enc(good)); err != nil || !recordsEqual(r, good) || id[:][0] != good.Community[0] {
		t.Fatalf("a good record: %+v, %v", r, err)
	}
	for name, change := range map[string]func(r *communityRecord){
		"version":      func(r *communityRecord) { r.Version = 2 },
		"community":    func(r *communityRecord) { r.Community = r.Community[:10] },
		"short topic":  func(r *communityRecord) { r.Topic = r.Topic[:15] },
		"long topic":   func(r *communityRecord) { r.Topic = bytes.Repeat([]byte{1}, 65) },
		"key":          func(r *communityRecord) { r.Keys = [][]byte{{1, 2, 3}} },
		"many keys":    func(r *communityRecord) { r.Keys = make([][]byte, maxRecordKeys+1) },
		"address":      func(r *communityRecord) { r.Addrs = []string{"/ip4/127.0.0.1/tcp/1"} },
		"many address": func(r *communityRecord) { r.Addrs = make([]string, maxRecordAddrs+1) },
	} {
		r := good
		change(&r)
		if _, _, err := decodeCommunityRecord(enc(r)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := decodeCommunityRecord(append(enc(good), 0)); err == nil {
		t.Error("trailing bytes accepted")
	}
}

func TestProfileRecordChecks(t *testing.T) {
	good := profileRecord{Version: recordVersion, Name: "Ada", StatusText: "writing", At: 1}
	enc := func(r profileRecord) []byte {
		b, err := recordEnc.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if r, err := decodeProfileRecord(enc(good)); err != nil || r != good {
		t.Fatalf("a good record: %+v, %v", r, err)
	}
	for name, r := range map[string]profileRecord{
		"version":      {Version: 2, Name: "Ada", At: 1},
		"no name":      {Version: 1, At: 1},
		"long name":    {Version: 1, Name: strings.Repeat("a", crdt.MaxNameLen+1), At: 1},
		"control":      {Version: 1, Name: "A\nda", At: 1},
		"long status":  {Version: 1, Name: "Ada", StatusText: strings.Repeat("s", crdt.MaxStatusTextLen+1), At: 1},
		"invalid utf8": {Version: 1, Name: "Ada", StatusText: "\xff", At: 1},
		"no time":      {Version: 1, Name: "Ada"},
	} {
		if _, err := decodeProfileRecord(enc(r)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestMergeRecords: a device adds what it has to a record and keeps what
// others added, so two devices settle on the union instead of
// overwriting each other.
func TestMergeRecords(t *testing.T) {
	a, b := testCommunityRecord(t), testCommunityRecord(t)
	b.Addrs = []string{"/ip4/127.0.0.2/tcp/4001/p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK"}
	ab := mergeRecords(a, b)
	if len(ab.Keys) != 2 || len(ab.Addrs) != 2 || ab.Addrs[0] != b.Addrs[0] {
		t.Fatalf("merged %+v", ab)
	}
	// a's device merges b's result again: nothing new, nothing to put.
	if again := mergeRecords(ab, recordWithKeys(a, ab.Keys)); !recordsEqual(again, recordWithKeys(again, ab.Keys)) || len(again.Keys) != 2 {
		t.Fatalf("merged again %+v", again)
	}
	if !recordsEqual(mergeRecords(ab, b), ab) {
		t.Fatal("merging what the record holds changed it")
	}
}

func recordWithKeys(r communityRecord, keys [][]byte) communityRecord {
	r.Keys = keys
	return r
}

// FuzzRecords: the decoders of opened records (bytes from the relay)
// never panic, and what they accept encodes back to what decodes the same.
func FuzzRecords(f *testing.F) {
	good := testCommunityRecord(f)
	b, _ := recordEnc.Marshal(good)
	f.Add(b)
	p, _ := recordEnc.Marshal(profileRecord{Version: 1, Name: "Ada", At: 1})
	f.Add(p)
	f.Add([]byte{0x85, 0x01})
	f.Fuzz(func(t *testing.T, in []byte) {
		if r, _, err := decodeCommunityRecord(in); err == nil {
			again, err := recordEnc.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if r2, _, err := decodeCommunityRecord(again); err != nil || !recordsEqual(r, r2) {
				t.Fatalf("re-encoded community record: %v", err)
			}
		}
		if r, err := decodeProfileRecord(in); err == nil {
			again, err := recordEnc.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if r2, err := decodeProfileRecord(again); err != nil || r2 != r {
				t.Fatalf("re-encoded profile record: %v", err)
			}
		}
	})
}
