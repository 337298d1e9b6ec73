//go:build desktop

package desktop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// StateFile, in the data folder, holds what the window keeps between
// runs: its size and place when it last closed, and the local API's port.
const StateFile = "window.json"

const (
	defaultWidth, defaultHeight = 1200, 800
	minWidth, minHeight         = 480, 360
	maxSide                     = 16384
	// onScreenMargin is how much of the window must stay on the screen
	// for a saved place to be used, so that it can be grabbed.
	onScreenMargin = 64
)

// state is the content of StateFile. X and Y are the window's top left
// corner on the screen; they mean nothing without Placed.
type state struct {
	X         int  `json:"x"`
	Y         int  `json:"y"`
	Width     int  `json:"width"`
	Height    int  `json:"height"`
	Maximised bool `json:"maximised,omitempty"`
	Placed    bool `json:"placed"`
	// APIPort is the loopback port the UI was last served on. The page's
	// origin includes the port, and its local storage (theme, read
	// markers) belongs to the origin: a new port each run would lose it.
	APIPort int `json:"api_port,omitempty"`
}

// loadState reads dir's StateFile. A missing file gives the default state
// (a centred window); an unreadable one the default and an error to log.
func loadState(dir string) (state, error) {
	s := state{Width: defaultWidth, Height: defaultHeight}
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	var saved state
	if err := json.Unmarshal(raw, &saved); err != nil {
		return s, fmt.Errorf("%s: %w", StateFile, err)
	}
	saved.Width = clamp(saved.Width, minWidth, maxSide)
	saved.Height = clamp(saved.Height, minHeight, maxSide)
	if saved.APIPort < 0 || saved.APIPort > 65535 {
		saved.APIPort = 0
	}
	return saved, nil
}

// saveState writes s to dir's StateFile, whole or not at all.
func saveState(dir string, s state) error {
	raw, _ := json.Marshal(s)
	path := filepath.Join(dir, StateFile)
	if err := os.WriteFile(path+".tmp", raw, 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// fits reports whether enough of a window placed at s stays on a screen
// of the given size for the place to be worth restoring.
func (s state) fits(screenWidth, screenHeight int) bool {
	return s.Placed &&
		s.X > -s.Width+onScreenMargin && s.X < screenWidth-onScreenMargin &&
		s.Y >= 0 && s.Y < screenHeight-onScreenMargin
}

func clamp(v, lo, hi int) int {
	return max(lo, min(v, hi))
}
