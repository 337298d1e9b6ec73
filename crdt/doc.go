// Package crdt holds Ancore's pure data logic: identities and signatures, the
// hybrid logical clock, the op (Ancore's unit of durable state) with its
// canonical encoding and encryption envelope, and the materialized views that
// ops merge into. It performs no I/O and imports nothing else of Ancore's, so
// every node, relay and test computes exactly the same state from the same
// set of ops, whatever order or duplication they arrived in.
package crdt
