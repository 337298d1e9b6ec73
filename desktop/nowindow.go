//go:build !desktop

package desktop

import (
	"context"
	"fmt"
)

const hasWindow = false

// Run returns ErrNoWindow: this build has no window.
func Run(context.Context, Config) error {
	return fmt.Errorf("%w; run with --headless", ErrNoWindow)
}
