//go:build !media

package app

import (
	"github.com/ancore/ancore/node"
	"github.com/ancore/ancore/node/call"
)

// callMedia is no media engine in a build without the codec: calls are
// unavailable, and the API says so.
func callMedia(node.Host, CallAudio) call.Media { return nil }
