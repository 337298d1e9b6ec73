//go:build !media

package media

// Without the media tag there is no codec: the constructors say so, and
// the types exist only so that callers build the same either way.

// Encoder is unavailable in this build.
type Encoder struct{}

// NewEncoder returns ErrUnavailable in this build.
func NewEncoder(EncoderConfig) (*Encoder, error) { return nil, ErrUnavailable }

// Encode returns ErrUnavailable in this build.
func (*Encoder) Encode([]int16, []byte) ([]byte, error) { return nil, ErrUnavailable }

// SetLossPercent returns ErrUnavailable in this build.
func (*Encoder) SetLossPercent(int) error { return ErrUnavailable }

// Close does nothing in this build.
func (*Encoder) Close() {}

// Decoder is unavailable in this build.
type Decoder struct{}

// NewDecoder returns ErrUnavailable in this build.
func NewDecoder() (*Decoder, error) { return nil, ErrUnavailable }

// Decode returns ErrUnavailable in this build.
func (*Decoder) Decode([]byte, []int16) (int, error) { return 0, ErrUnavailable }

// DecodeFEC returns ErrUnavailable in this build.
func (*Decoder) DecodeFEC([]byte, []int16) (int, error) { return 0, ErrUnavailable }

// Close does nothing in this build.
func (*Decoder) Close() {}
