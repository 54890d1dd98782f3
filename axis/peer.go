package axis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/axis-h40/axis/axis/api"
	"github.com/axis-h40/axis/store/record"
)

// Peers: the client that hands an envelope to a peer hub (PeerClient, the
// native one here, VDXP in vdxp_peer.go), and the calls the hub makes to its
// peers' APIs (tokens, trace following, the reconciliation).

// PeerClient delivers envelopes, unchanged, to one peer hub. Each peer kind
// (the native axis API today, VDXP next) is one implementation.
type PeerClient interface {
	// Send posts the envelope's exact bytes and returns the peer's id for
	// them. Peers de-duplicate by content, so sending again after a crash is
	// harmless.
	Send(ctx context.Context, out Outgoing) (peerDocID string, err error)
}

// Outgoing is one envelope on its way to a peer: its exact bytes and what
// the hub's record (made from the verified element at intake) says of it,
// so no peer client reads the bytes again unverified.
type Outgoing struct {
	Raw    []byte
	Kind   string   // envelope.KindDocument or KindStatus
	From   string   // From/OrganId
	Organs []string // the recipients this peer is to take care of
}

// PermanentError marks a refusal that retrying cannot fix (the peer refused
// the envelope itself): the entry goes dead at once, visibly.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// axisClient speaks the native API of another axis hub.
type axisClient struct {
	url, token string
	http       *http.Client
}

// newPeerClient is the relay's client of p, over hc, the peer's one HTTP
// client (peerHTTP, tls.go: its timeout, connections and TLS).
func (h *Hub) newPeerClient(p *Peer, hc *http.Client) (PeerClient, error) {
	switch p.Kind {
	case PeerVDXP:
		secret := h.getenv(p.SecretEnv)
		if secret == "" {
			return nil, fmt.Errorf("peer %s: $%s is empty", p.Name, p.SecretEnv)
		}
		return newVDXPPeer(p, secret, hc), nil
	case PeerAxis:
		return &axisClient{url: strings.TrimRight(p.URL, "/"), token: h.peerToken(p), http: hc}, nil
	}
	return nil, fmt.Errorf("peer %s: kind %q has no client", p.Name, p.Kind)
}

func (c *axisClient) Send(ctx context.Context, out Outgoing) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", c.url+"/api/v1/envelopes", bytes.NewReader(out.Raw))
	if err != nil {
		return "", &PermanentError{err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set(api.RecipientsHeader, strings.Join(out.Organs, ","))
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	// 202: the peer holds it durably until its signer's revocation status
	// is known (its mode hold); it has taken it over as much as with 201.
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusAccepted {
		var r api.Receipt
		if err := json.Unmarshal(body, &r); err != nil || r.DocID == "" {
			return "", fmt.Errorf("peer answered %d without a doc id", resp.StatusCode)
		}
		return r.DocID, nil
	}
	var p api.Problem
	_ = json.Unmarshal(body, &p)
	err = fmt.Errorf("peer answered %d %s: %s", resp.StatusCode, p.Code, p.Detail)
	if retryLater(resp.StatusCode) {
		return "", err // a configuration or availability problem: keep retrying
	}
	return "", &PermanentError{err}
}

// retryLater reports whether a peer's error answer may change by itself
// or once a token is fixed: 401, 408, 429 and every 5xx. Others are
// refusals retrying cannot change.
func retryLater(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return true
	}
	return status >= 500
}

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
