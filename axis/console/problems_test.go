package console

import (
	"strings"
	"testing"
)

// Each kind of technical message the hub records gets its own sentence:
// by the code it carries first, else by what a network error says.
func TestExplainCode(t *testing.T) {
	for msg, want := range map[string]string{
		"peer answered 422 unknown_recipient: 000.00.00.G99":                                             "unknown_recipient",
		"peer answered 403 sender_mismatch: signer certificate does not belong to the sender":            "sender_mismatch",
		`Post "http://127.0.0.1:1/api/v1/envelopes": dial tcp 127.0.0.1:1: connect: connection refused`:  "connection_refused",
		`Post "https://national.example/api": dial tcp: lookup national.example: no such host`:           "no_such_host",
		"Post \"http://x/\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)": "timeout",
		"tls: failed to verify certificate: x509: certificate signed by unknown authority":               "tls",
		"peer answered 503 unavailable: hub is shutting down":                                            "unavailable",
		"peer answered 502 without a doc id":                                                             "peer_error",
		"vdxp sendEdoc: ErrorCode unknown_recipient: no such agency":                                     "unknown_recipient",
		"ocsp http://127.0.0.1:9/: HTTP 404":                                                             "revocation_fetch",
		"something nobody foresaw":                                                                       "",
	} {
		code, text := explainCode(msg)
		if code != want || text == "" {
			t.Errorf("explainCode(%q) = %q %q, want code %q", msg, code, text, want)
		}
	}
	h := string(explain("peer answered 422 unknown_recipient: <x>"))
	if !strings.HasPrefix(h, `<span class="problem" data-code="unknown_recipient">Trục kia không biết nơi nhận này`) ||
		!strings.HasSuffix(h, `<details class="tech"><summary>Chi tiết kỹ thuật</summary><code>peer answered 422 unknown_recipient: &lt;x&gt;</code></details>`) {
		t.Errorf("explain: %s", h)
	}
	if explain("  ") != "" {
		t.Error("an empty message explained")
	}
}
