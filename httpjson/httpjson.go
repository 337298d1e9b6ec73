// Package httpjson is how Ancore's HTTP APIs (the node's local API and
// the relay's) speak JSON: responses, the error shape
// {"error": {"code", "message"}}, and strict request decoding.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ErrorBody is every error's JSON: {"error": {"code", "message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a stable code for programs and a
// sentence for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error writes an error response.
func Error(w http.ResponseWriter, status int, code, message string) {
	JSON(w, status, ErrorBody{ErrorDetail{Code: code, Message: message}})
}

// JSON writes v as a JSON response.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// StatusError is an error with the HTTP status and code it answers with.
type StatusError struct {
	Status  int
	Code    string
	Message string
	cause   error
}

func (e *StatusError) Error() string { return e.Message }

// Unwrap returns what Decode could not read, so that a handler can answer
// a more telling code for it (a base64.CorruptInputError from a []byte
// field, say).
func (e *StatusError) Unwrap() error { return e.cause }

// Errorf makes a StatusError.
func Errorf(status int, code, format string, args ...any) *StatusError {
	return &StatusError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Decode reads a JSON request body into v: one object, no unknown fields.
// Its errors are StatusErrors: 413 for a body over the http.MaxBytesReader
// limit the caller set, 400 for
// anything malformed.
func Decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return Errorf(http.StatusBadRequest, "bad_json", "the body must hold one JSON object")
		}
		return nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return Errorf(http.StatusRequestEntityTooLarge, "too_large", "the body exceeds %d bytes", tooBig.Limit)
	}
	if errors.Is(err, io.EOF) {
		return Errorf(http.StatusBadRequest, "bad_json", "the body is empty")
	}
	se := Errorf(http.StatusBadRequest, "bad_json", "malformed JSON: %v", err)
	se.cause = err
	return se
}
