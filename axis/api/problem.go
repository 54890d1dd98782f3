package api

// Problem is the body of every error answer of the API, served as
// application/problem+json (RFC 9457). Code is the stable machine code
// (axis's and envelope's error tables); Detail says what was wrong with
// this request.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}
