// Package instance keeps the desktop app to one running copy per data
// folder: the first copy holds a lock file there and listens on a unix
// socket beside it; a second launch finds the lock taken and asks the first,
// through the socket, to show its window.
//
// The lock is taken before the node opens its store, so a second launch
// never waits for the store's lock; the socket lives in the data folder
// (mode 0700), so only its owner can reach it.
package instance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

const (
	// LockFile and SocketFile are the instance's files in the data folder.
	LockFile   = "window.lock"
	SocketFile = "window.sock"

	// maxSocketPath is the size of sun_path on Linux, its final NUL
	// included.
	maxSocketPath = 108

	showRequest = "show\n"
	showReply   = "ok\n"
)

// ErrRunning: another process holds the data folder's instance lock.
var ErrRunning = errors.New("another Ancore window is running with this data folder")

// Instance is the lock and the socket of the running copy.
type Instance struct {
	lock     *os.File
	listener net.Listener
	socket   string
	show     chan struct{}
	done     chan struct{}
	wg       sync.WaitGroup
}

// Acquire takes dir's instance lock and listens for show requests. It
// returns ErrRunning if another process holds the lock.
func Acquire(dir string) (*Instance, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("instance: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("instance: %w", err)
	}
	// flock, not a pid file: the kernel drops the lock when the process
	// dies, so a crash never leaves the folder locked.
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrRunning
		}
		return nil, fmt.Errorf("instance: lock %s: %w", lock.Name(), err)
	}
	in := &Instance{lock: lock, socket: filepath.Join(dir, SocketFile),
		show: make(chan struct{}, 1), done: make(chan struct{})}
	// A socket file left by a crashed copy is stale: the lock says no
	// other copy runs.
	_ = os.Remove(in.socket)
	if in.listener, err = net.Listen("unix", in.socket); err != nil {
		lock.Close()
		if len(in.socket) >= maxSocketPath {
			return nil, fmt.Errorf("instance: the data folder's path is too long for a unix socket (%d bytes, at most %d): %w", len(in.socket), maxSocketPath-1, err)
		}
		return nil, fmt.Errorf("instance: %w", err)
	}
	in.wg.Add(1)
	go in.serve()
	return in, nil
}

// ShowRequests delivers a value each time a second launch asked for the
// window; requests that arrive while one is pending merge into it.
func (in *Instance) ShowRequests() <-chan struct{} { return in.show }

func (in *Instance) serve() {
	defer in.wg.Done()
	for {
		c, err := in.listener.Accept()
		if err != nil {
			return
		}
		in.wg.Add(1)
		go func() {
			defer in.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || line != showRequest {
				return
			}
			select {
			case in.show <- struct{}{}:
			default:
			}
			_, _ = c.Write([]byte(showReply))
		}()
	}
}

// Close stops listening and releases the lock.
func (in *Instance) Close() error {
	err := in.listener.Close()
	in.wg.Wait()
	_ = os.Remove(in.socket)
	if cerr := in.lock.Close(); err == nil {
		err = cerr
	}
	return err
}

// Show asks the copy that holds dir's lock to show its window. That copy
// may have taken the lock and not yet opened its socket, so Show retries
// until ctx ends.
func Show(ctx context.Context, dir string) error {
	path := filepath.Join(dir, SocketFile)
	var d net.Dialer
	for {
		err := showOnce(ctx, &d, path)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("instance: ask the running window to show itself: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func showOnce(ctx context.Context, d *net.Dialer, path string) error {
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return err
	}
	defer c.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(deadline)
	}
	if _, err := c.Write([]byte(showRequest)); err != nil {
		return err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if reply != showReply {
		return fmt.Errorf("unexpected reply %q", reply)
	}
	return nil
}
