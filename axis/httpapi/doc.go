// Package httpapi is the hub's HTTP layer, on Echo: the routes of the
// agencies' API (/api/v1) and the administrators' (/admin/v1), bearer-token
// authentication with the auth-failure limiter, the error handler (the one
// place an error becomes an application/problem+json answer, through
// axis.ProblemOf), the access log, and the server that mounts the web
// console (axis/console) and the VDXP server (axis.Hub.ServeVDXP) beside
// them.
//
// # Basics
//
//	h := axis.NewHub(cfg, axis.Options{})
//	if err := h.Open(ctx); err != nil { ... }
//	srv := &http.Server{Handler: httpapi.New(h)} // what axisd serves
//
// API(h) is the API alone (tests that do not need the console).
//
// Handlers here only translate: they read the request (path, query, JSON
// body), call one method of the hub, and write its answer as JSON (the
// types of axis/api) or bytes. What a request may do, and everything it
// changes, is decided in package axis, which imports no web framework.
//
// # Caveats
//
// Each request's context carries axis.RequestNotes: the caller, the
// problem code and the document a request was about, filled in by the hub
// and by these handlers, logged in the request's one access log line.
package httpapi
