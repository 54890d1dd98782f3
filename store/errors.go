package store

import "errors"

// Lookup errors.
var (
	// ErrNotFound: no such document, or no delivery of it to that organ.
	ErrNotFound = errors.New("store: not found")
)

// Lifecycle errors.
var (
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("store: closed")
)

// State-change errors.
var (
	// ErrConflict: the change does not apply to the current state (for
	// example acking a delivery twice with different outcomes).
	ErrConflict = errors.New("store: state conflict")
)

// Integrity errors.
var (
	// ErrCorrupt: a consistency check failed; the detail says where.
	ErrCorrupt = errors.New("store: consistency check failed")
)
