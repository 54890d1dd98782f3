// Package synthetic is the form in which storetest hands synthetic
// documents to store's loader (DB.LoadSynthetic). It is internal to store/
// so that only store and store/storetest can build one: outside store/,
// the store's API has no way to write records that no verified envelope
// stands behind.
package synthetic

import "time"

// Doc is one synthetic document; storetest.Synthetic describes the fields.
type Doc struct {
	Raw        []byte
	From       string
	Routes     []Route
	Code       string
	Subject    string
	DocumentID string
	At         time.Time
	Acked      bool
}

// Route is a record.Route (the two convert to each other).
type Route struct {
	OrganID string
	Peer    string
}
