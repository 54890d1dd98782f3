// Package tsa asks an RFC 3161 time-stamping authority for tokens and
// checks them: the hub anchors its event chain with them (the chain head's
// hash at a moment fixed by someone outside the hub) and timestamps each
// daily archive's manifest.
//
// What is kept is the whole TimeStampResp the authority answered (status
// and token, DER), the form `openssl ts -verify -in FILE` reads, so that an
// auditor checks it with nothing of ours. The protocol's encoding is
// github.com/digitorus/timestamp's and the token's CMS signature
// github.com/digitorus/pkcs7's; this package adds the HTTP exchange, the
// nonce, and the checks a verifier needs: the imprint is the digest asked
// for, the signer chains to the configured roots with the time-stamping
// extended key usage, at the token's time.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/axis-h40/axis/envelope"
	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// parseMu serializes the parsing of tokens: digitorus/pkcs7's BER
// conversion (ber2der) moves a package-level debug counter unlocked, a
// data race when two goroutines parse at once (harmless, the counter only
// indents disabled debug output, but -race rightly fails on it). Tokens
// are parsed a few times an hour.
var parseMu sync.Mutex

func parseResponse(b []byte) (*timestamp.Timestamp, error) {
	parseMu.Lock()
	defer parseMu.Unlock()
	return timestamp.ParseResponse(b)
}

// maxResponse bounds what is read of an authority's answer: a token with a
// certificate chain is a few KB.
const maxResponse = 1 << 20

// Client asks one authority.
type Client struct {
	URL  string
	HTTP *http.Client // nil: a client with a 30 s timeout
}

// Stamp asks the authority for a token over a SHA-256 digest and returns
// the response's DER bytes, checked: granted, over that digest, echoing
// the request's nonce (the signature and the signer's chain are Verify's).
func (c *Client) Stamp(ctx context.Context, digest []byte) ([]byte, error) {
	if len(digest) != sha256.Size {
		return nil, fmt.Errorf("tsa: a SHA-256 digest is %d bytes, not %d", sha256.Size, len(digest))
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: digest, Certificates: true, Nonce: nonce}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("tsa: building the request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("tsa: reading the answer of %s: %w", c.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tsa: %s answered %s", c.URL, resp.Status)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("tsa: %s answered more than %d bytes", c.URL, maxResponse)
	}
	ts, err := parseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("tsa: %s: %w", c.URL, err)
	}
	if !bytes.Equal(ts.HashedMessage, digest) {
		return nil, fmt.Errorf("tsa: %s stamped another digest (%x)", c.URL, ts.HashedMessage)
	}
	if ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, fmt.Errorf("tsa: %s did not echo the request's nonce", c.URL)
	}
	return body, nil
}

// Token is what a verified token says.
type Token struct {
	Time   time.Time // the authority's genTime
	Serial string    // its serial number, hex
	Signer string    // the signing certificate's subject
}

// ErrToken is wrapped by every reason a token does not verify.
var ErrToken = errors.New("time-stamp token does not verify")

// Verify checks a TimeStampResp (Stamp's bytes) against the SHA-256 digest
// it must cover and the roots its signer must chain to; with no roots it
// checks the signature against the certificate in the token only, and
// Token.Signer says whose it is (the caller decides whether that is
// enough).
func Verify(resp []byte, digest []byte, roots *x509.CertPool) (*Token, error) {
	ts, err := parseResponse(resp) // verifies the CMS signature against the included certificate
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if ts.HashAlgorithm != crypto.SHA256 || !bytes.Equal(ts.HashedMessage, digest) {
		return nil, fmt.Errorf("%w: it covers %x, not %x", ErrToken, ts.HashedMessage, digest)
	}
	parseMu.Lock()
	p7, err := pkcs7.Parse(ts.RawToken)
	parseMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, fmt.Errorf("%w: it names no single signing certificate", ErrToken)
	}
	if roots != nil {
		opts := x509.VerifyOptions{Roots: roots, CurrentTime: ts.Time, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
		if err := p7.VerifyWithOpts(opts); err != nil {
			return nil, fmt.Errorf("%w: its signer %s: %v", ErrToken, signer.Subject, err)
		}
	}
	return &Token{Time: ts.Time.UTC(), Serial: fmt.Sprintf("%x", ts.SerialNumber), Signer: signer.Subject.String()}, nil
}

// LoadRoots reads PEM certificates from files (archive.tsa_roots).
func LoadRoots(files []string) (*x509.CertPool, error) {
	if len(files) == 0 {
		return nil, errors.New("tsa roots: no file")
	}
	pool, err := envelope.LoadRoots(files...)
	if err != nil {
		return nil, fmt.Errorf("tsa roots: %w", err)
	}
	return pool, nil
}
