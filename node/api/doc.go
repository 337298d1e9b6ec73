// Package api is the local HTTP and WebSocket API of an Ancore node: what
// the UI uses, and what scripts may use. It serves the REST routes of
// docs/api/openapi.yaml under /api/v1 and the event stream at
// /api/v1/events, where a reconnecting client passes the last seq it saw
// and receives what it missed.
//
// The API listens on loopback only, but a browser on the same machine can
// still be made to talk to it, so every request is guarded in layers: a
// per-install bearer token compared in constant time, a Host allow-list
// against DNS rebinding, an Origin check against cross-site pages, and
// nosniff, frame-deny and CSP headers on every answer.
package api
