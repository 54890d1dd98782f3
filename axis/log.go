package axis

import "context"

// Log keys the hub's lines share with the HTTP server's access log.
const (
	LogRequestID = "request_id"
	LogCaller    = "caller"
	LogCode      = "code"
	LogDocID     = "doc_id"
)

// RequestNotes is what handling one request learned that its access log
// line reports: who called (once authenticated), the problem code it was
// answered with, the document it was about. The HTTP server puts one in
// each request's context (WithRequestNotes) and logs it when the answer is
// sent; the hub's handlers fill it in (NoteCaller, NoteDocID), and a
// request without one (a test calling the hub directly) notes nothing.
type RequestNotes struct {
	Caller *Caller
	Code   string
	DocID  string
}

type notesKey struct{}

// WithRequestNotes returns ctx carrying fresh notes, and the notes.
func WithRequestNotes(ctx context.Context) (context.Context, *RequestNotes) {
	n := &RequestNotes{}
	return context.WithValue(ctx, notesKey{}, n), n
}

// NotesOf returns the request's notes, nil when it has none.
func NotesOf(ctx context.Context) *RequestNotes {
	n, _ := ctx.Value(notesKey{}).(*RequestNotes)
	return n
}

// NoteDocID records the document a request was about.
func NoteDocID(ctx context.Context, id string) {
	if n := NotesOf(ctx); n != nil {
		n.DocID = id
	}
}

// NoteCaller records who made the request.
func NoteCaller(ctx context.Context, c Caller) {
	if n := NotesOf(ctx); n != nil {
		n.Caller = &c
	}
}
