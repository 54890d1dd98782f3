package axis

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"

	"github.com/axis-h40/axis/store/record"
)

// peerToken is the bearer token this hub presents to a native peer.
func (h *Hub) peerToken(p *Peer) string {
	if p.TokenEnv != "" {
		return h.getenv(p.TokenEnv)
	}
	return p.Token
}

// peersOf names the peers a document travelled through: the one it came
// from, then those it was relayed to.
func peersOf(d *record.Document) []string {
	var out []string
	if d.Via != "" {
		out = append(out, d.Via)
	}
	for _, r := range d.Recipients {
		if r.Peer != "" && !slices.Contains(out, r.Peer) {
			out = append(out, r.Peer)
		}
	}
	return out
}

// peerCall makes one authenticated request to peer p's HTTP API (over its
// one client, peerHTTPClient: TLS, timeout) and reads at most limit bytes
// of the answer, whatever its status.
func (h *Hub) peerCall(ctx context.Context, p *Peer, method, url, token string, body []byte, limit int64) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.peerHTTPClient(p).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp.StatusCode, b, err
}
