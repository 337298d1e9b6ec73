// Package secretstore keeps the few secrets of a node that live outside its
// store — its relay session (the bearer token, with the relay's URL and
// the account's email) — in the OS keyring through the Secret Service
// where a desktop session offers one, and otherwise in a file in the data
// folder that only its owner can read.
package secretstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/zalando/go-keyring"
)

// Store holds one secret value.
type Store interface {
	// Load returns the value, or nil if there is none.
	Load() ([]byte, error)
	// Save replaces the value.
	Save(value []byte) error
	// Delete removes the value; deleting nothing is no error.
	Delete() error
	// String says where the value lives, for logs.
	String() string
}

// File keeps the value in a file of mode 0600, replaced atomically.
func File(path string) Store { return fileStore(path) }

type fileStore string

func (f fileStore) String() string { return string(f) }

func (f fileStore) Load() ([]byte, error) {
	b, err := os.ReadFile(string(f))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secretstore: %w", err)
	}
	return b, nil
}

func (f fileStore) Save(value []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(string(f)), filepath.Base(string(f))+".*.tmp")
	if err != nil {
		return fmt.Errorf("secretstore: %w", err)
	}
	// CreateTemp makes the file 0600: the value is never readable by others.
	_, err = tmp.Write(value)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), string(f))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("secretstore: %w", err)
	}
	return nil
}

func (f fileStore) Delete() error {
	if err := os.Remove(string(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("secretstore: %w", err)
	}
	return nil
}

// Keyring keeps the value in the OS keyring under service and account.
// Its calls block while the keyring asks its user to unlock it.
func Keyring(service, account string) Store { return keyringStore{service, account} }

type keyringStore struct{ service, account string }

func (k keyringStore) String() string { return "keyring " + k.service + "/" + k.account }

func (k keyringStore) Load() ([]byte, error) {
	s, err := keyring.Get(k.service, k.account)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("secretstore: keyring: %w", err)
	}
	return []byte(s), nil
}

func (k keyringStore) Save(value []byte) error {
	if err := keyring.Set(k.service, k.account, string(value)); err != nil {
		return fmt.Errorf("secretstore: keyring: %w", err)
	}
	return nil
}

func (k keyringStore) Delete() error {
	if err := keyring.Delete(k.service, k.account); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("secretstore: keyring: %w", err)
	}
	return nil
}

// DetectTimeout bounds the keyring probe of Detect: a Secret Service that
// does not answer that fast (or wants to show an unlock prompt nobody
// sees) is taken as absent.
const DetectTimeout = 2 * time.Second

// Detect returns the keyring store for service and account if a Secret
// Service answers within timeout, else the file store at path. A value
// found in the file moves into the keyring. It never starts a session bus:
// without DBUS_SESSION_BUS_ADDRESS or the user's bus socket there is no
// keyring to ask (the D-Bus library would otherwise run dbus-launch).
func Detect(ctx context.Context, path, service, account string, timeout time.Duration) Store {
	file := File(path)
	if !sessionBus() {
		return file
	}
	kr := Keyring(service, account)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	probe := make(chan error, 1)
	// A keyring call cannot be cancelled: one that hangs past the timeout
	// is left to finish on its own.
	go func() {
		_, err := kr.Load()
		probe <- err
	}()
	select {
	case err := <-probe:
		if err != nil {
			return file
		}
	case <-ctx.Done():
		return file
	}
	if v, err := file.Load(); err == nil && v != nil {
		if kr.Save(v) != nil {
			return file
		}
		if err := file.Delete(); err != nil {
			return file
		}
	}
	return kr
}

// sessionBus reports whether a D-Bus session bus is there to connect to.
func sessionBus() bool {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return true
	}
	u, err := user.Current()
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join("/run/user", u.Uid, "bus"))
	return err == nil
}
