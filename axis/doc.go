// Package axis is the hub of a province's document axis (trục liên thông văn
// bản): it takes signed edXML envelopes from agencies and peer hubs, has them
// verified by package envelope, routes every recipient, commits the envelope
// in one store transaction, delivers it (pull, push, relay to peer hubs,
// VDXP), carries acknowledgements and processing statuses back, signs
// receipts, and answers the administrator (trace, search, stuck list,
// re-drive, statistics, the nightly reconciliation).
//
// # Basics
//
// A Hub is built from a checked Config, opened, served, and closed:
//
//	cfg, err := axis.LoadConfig("testdata/demo/axis-h40.yaml") // unknown keys are errors
//	h := axis.NewHub(cfg, axis.Options{})                      // zero Options: production defaults
//	if err := h.Open(ctx); err != nil { ... }                  // roots, hub key, store, background loops
//	srv := &http.Server{Handler: httpapi.New(h)}               // /api/v1, /admin/v1, the console, VDXP, /metrics
//	...
//	srv.Shutdown(ctx) // finish in-flight intakes first
//	h.Close()         // stop the loops, close the store
//
// cmd/axisd does exactly that. This package is the domain and imports no
// web framework: the Echo handlers are package axis/httpapi (routes,
// authentication, the error handler, the access log), the web console is
// axis/console, the wire types axis/api; what the hub serves over net/http
// itself is the VDXP server (ServeVDXP) and the body guards
// (GuardBodies, ReceiveEnvelope). The same operations are methods for tests
// and tools: Intake and IntakeFor (verify, route, commit), Fetch, Ack, Inbox,
// Status and SignedReceipt for agencies; Trace, TraceFollow, Overview, Stuck,
// Redrive, Stats, AgencyView and Reconcile for administrators.
//
// # Trust
//
// Intake routes and stores only what an *envelope.Verified says (the
// store's intake takes nothing else). Beyond the signature, the hub checks that the
// authenticated caller is the envelope's From (or a peer hub relaying), and
// the authority rule that needs the store: a status message must come from a
// recipient of the document it answers. In revocation mode hold, an envelope
// whose signer's revocation status is unknown is stored durably and held
// (answered 202), then released or refused by the hold loop.
//
// # Errors
//
// Hub errors are *Problem values (a stable code and an HTTP status); the
// verification codes of package envelope map to statuses in one table
// (ProblemOf, errors.go), and axis/httpapi's error handler is the one place
// errors become application/problem+json (api.Problem). Bad input is never
// a 5xx.
//
// # Caveats
//
// Every relay, push and poll loop retries with capped exponential backoff and
// jitter, and logs a failing peer at most once a minute. A hub never routes
// an envelope back to the peer it came from, and never rewrites the signed
// bytes: peers de-duplicate by content (document ids are content hashes), so a
// re-send after a crash is harmless.
//
// See docs/ARCHITECTURE.md for the flow of one envelope, file by file.
package axis
