// Package api holds the wire types of the axis hub's HTTP API: the JSON the
// hub answers and accepts on /api/v1 (intake receipts, document status, the
// inbox, acknowledgements) and /admin/v1 (traces, the overview, the nightly
// reconciliation report), and the reconciliation exchange between native
// peer hubs (PeerReconcileRequest and PeerReconcileAnswer on
// POST /api/v1/peer/reconcile), and Problem, the body of every error
// answer. It also has IsDocID, and WriteReportFiles,
// which writes a Report as report.json, report.csv and report.html.
//
// The hub, package axis, answers with these types (Hub.Status returns an
// *api.DocStatus). The command-line client axisctl decodes the hub's answers
// with them and writes reconciliation reports with WriteReportFiles; tests
// on both sides decode with them too.
//
// The package imports no server code: only the standard library and
// store/record (which brings in envelope). Keep it that way, so that axisctl
// can decode hub JSON without linking Echo, bbolt or Prometheus.
//
// The JSON field names are the API. Renaming a json tag, or dropping or
// adding omitempty, changes what clients receive and breaks those that
// decode by name; api_test.go pins the names of the main types.
package api
