package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password hashing: argon2id (RFC 9106) in the PHC string format,
// $argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash> (unpadded standard base64).
// 64 MiB per hash makes each guess of an offline attacker who stole the
// table cost that much memory, which is what GPUs and ASICs lack; two
// passes over it with two lanes take about 0.1 s on one server core, an
// acceptable wait for a login and near RFC 9106's second recommended
// setting (64 MiB, t=3, p=4) scaled to a small relay. The parameters
// travel in each hash, so raising them later leaves old hashes valid.
const (
	argonMemory  = 64 * 1024 // KiB
	argonTime    = 2
	argonThreads = 2
	saltSize     = 16
	keySize      = 32
)

// errBadHash: a stored hash this package cannot read.
var errBadHash = errors.New("malformed password hash")

// params are argon2id's cost parameters.
type params struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

var defaultParams = params{memory: argonMemory, time: argonTime, threads: argonThreads}

// hasher hashes and verifies passwords, at most slots at a time: each hash
// holds params.memory of RAM, so a flood of logins queues here instead of
// exhausting memory.
type hasher struct {
	params params
	slots  chan struct{}
	// dummy is a hash that login verifies against when the email is
	// unknown, so that the answer takes as long as for a wrong password.
	dummy string
}

func newHasher(p params) *hasher {
	h := &hasher{params: p, slots: make(chan struct{}, runtime.NumCPU())}
	// A random key under a random salt: no password matches it.
	salt, key := make([]byte, saltSize), make([]byte, keySize)
	rand.Read(salt)
	rand.Read(key)
	h.dummy = encodeHash(p, salt, key)
	return h
}

// acquire waits for a hashing slot, or for ctx to end.
func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.slots }

// hash returns the PHC string of password under a fresh salt.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return encodeHash(h.params, salt, argon2.IDKey([]byte(password), salt, h.params.time, h.params.memory, h.params.threads, keySize)), nil
}

// verify reports whether password matches the PHC string encoded.
func (h *hasher) verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

var b64 = base64.RawStdEncoding

func encodeHash(p params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodeHash reads a PHC string; its parameters are bounded so that a
// corrupt row cannot make one login take the machine's memory.
func decodeHash(s string) (p params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, errBadHash
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", errBadHash, err)
	}
	if p.memory < 8 || p.memory > 1<<21 || p.time < 1 || p.time > 16 || threads < 1 || threads > 16 {
		return p, nil, nil, fmt.Errorf("%w: parameters %s", errBadHash, parts[3])
	}
	p.threads = uint8(threads)
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(salt) > 64 || len(key) > 64 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}
