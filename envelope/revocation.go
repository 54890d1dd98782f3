package envelope

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Revocation: a signature is worth only as much as the check that its
// certificate was not revoked. Every certificate of the chain below the
// root is checked, OCSP first (the responder its AIA names), then CRLs (its
// distribution points, configured URLs and files). Answers are verified
// (signed by the issuer, or by a responder the issuer delegated OCSP
// signing to; the times; the certificate's serial) and cached until their
// nextUpdate; a background loop refreshes them before that and re-reads
// changed CRL files, so an intake with a fresh answer cached does no I/O.
// A source that cannot be reached is not asked again for Retry, so a CA
// that is down costs intake nothing but the answer "unknown".
//
// What an unknown status means is the Policy's RevocationMode: prefer
// accepts and records it, require refuses (ErrRevocationUnknown), hold
// accepts for the hub to hold the envelope until the status is known. A
// revoked certificate is refused in every mode but off.
//
// Nonces: a request carries none (an answer to a nonce cannot be cached,
// and responders of government CAs serve pre-signed answers); the freshness
// of an answer is its thisUpdate/nextUpdate.

// Revocation modes (trust.revocation.mode).
const (
	RevocationOff     = "off"
	RevocationPrefer  = "prefer"
	RevocationRequire = "require"
	RevocationHold    = "hold"
)

// Revocation statuses.
const (
	StatusGood    = "good"
	StatusRevoked = "revoked"
	StatusUnknown = "unknown"
)

// RevocationOptions configure a RevocationChecker. Zero durations take the
// defaults.
type RevocationOptions struct {
	CRLFiles []string
	CRLURLs  []string
	OCSP     bool          // ask the certificates' OCSP responders
	Refresh  time.Duration // refetch at least this often; default 1h
	Timeout  time.Duration // one fetch; default 5s
	Retry    time.Duration // an unreachable source is not asked again sooner; default 1m
	Client   *http.Client  // default: one with Timeout
	Now      func() time.Time
	Logger   *slog.Logger
}

// CertRevocation is what was established about one certificate, and the
// evidence for it.
type CertRevocation struct {
	Subject    string    `json:"subject"`
	Serial     string    `json:"serial"` // hex
	Status     string    `json:"status"` // good | revoked | unknown
	Method     string    `json:"method,omitempty"`
	Source     string    `json:"source,omitempty"` // the responder's or CRL's URL, or the CRL file
	CheckedAt  time.Time `json:"checked_at"`
	ThisUpdate time.Time `json:"this_update,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	Reason     string    `json:"reason,omitempty"` // the revocation reason, or why the status is unknown
	CRLNumber  string    `json:"crl_number,omitempty"`
	CRLIssuer  string    `json:"crl_issuer,omitempty"`
	// Evidence is the DER that proves the status: the OCSP response, or the
	// CRL. EvidenceSHA256 is its digest (hex).
	Evidence       []byte `json:"-"`
	EvidenceSHA256 string `json:"evidence_sha256,omitempty"`
}

// Revocation is the status of a whole chain (leaf first, root excluded).
// The top-level fields sum it up for a reader: the chain's status (as
// Status computes it) and how the signer's was established.
type Revocation struct {
	Summary   string           `json:"status"`
	Method    string           `json:"method,omitempty"`
	Source    string           `json:"source,omitempty"`
	CheckedAt time.Time        `json:"checked_at"`
	Certs     []CertRevocation `json:"certs"`
}

// Status is revoked if any certificate is, unknown if any is, else good.
func (r *Revocation) Status() string {
	if r == nil {
		return StatusUnknown
	}
	st := StatusGood
	for _, c := range r.Certs {
		switch c.Status {
		case StatusRevoked:
			return StatusRevoked
		case StatusUnknown:
			st = StatusUnknown
		}
	}
	return st
}

// Leaf is the signer's entry.
func (r *Revocation) Leaf() *CertRevocation {
	if r == nil || len(r.Certs) == 0 {
		return nil
	}
	return &r.Certs[0]
}

// RevocationChecker answers revocation questions from verified, cached
// OCSP responses and CRLs. It is safe for concurrent use.
type RevocationChecker struct {
	o      RevocationOptions
	client *http.Client
	log    *slog.Logger

	mu    sync.RWMutex
	ocsp  map[string]*ocspEntry // issuer key hash + serial
	crls  map[string]*crlEntry  // source (URL or file)
	down  map[string]time.Time  // source → when it may be asked again
	files map[string]time.Time  // CRL file → its mtime when read

	stop chan struct{}
	done chan struct{}
}

type ocspEntry struct {
	source       string
	der          []byte
	resp         *ocsp.Response
	fetched      time.Time
	cert, issuer *x509.Certificate // to ask again before it goes stale
}

type crlEntry struct {
	source  string
	der     []byte
	crl     *x509.RevocationList
	fetched time.Time
	signer  []byte // the issuer key its signature was checked with (checked once)
}

// NewRevocationChecker reads the CRL files (a missing or bad one is logged
// and read again when it changes) and returns a checker; Start runs its
// refresh loop.
func NewRevocationChecker(o RevocationOptions) *RevocationChecker {
	if o.Refresh <= 0 {
		o.Refresh = time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Retry <= 0 {
		o.Retry = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &RevocationChecker{o: o, client: o.Client, log: o.Logger,
		ocsp: map[string]*ocspEntry{}, crls: map[string]*crlEntry{}, down: map[string]time.Time{}, files: map[string]time.Time{}}
	if c.client == nil {
		c.client = &http.Client{Timeout: o.Timeout}
	}
	c.readFiles()
	return c
}

// Start runs the refresh loop until Stop: CRL files re-read when changed,
// cached answers refetched before they go stale.
func (c *RevocationChecker) Start() {
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.refresh()
			}
		}
	}()
}

// Retry forgets which sources were found unreachable, so the next check
// asks them again (the hub's hold worker, before each round).
func (c *RevocationChecker) Retry() {
	c.mu.Lock()
	clear(c.down)
	c.mu.Unlock()
}

// Stop ends the refresh loop.
func (c *RevocationChecker) Stop() {
	if c.stop != nil {
		close(c.stop)
		<-c.done
		c.stop = nil
	}
}

// Check establishes the status of every certificate of chain below the
// root (chain is leaf first, as Verify builds it).
func (c *RevocationChecker) Check(ctx context.Context, chain []*x509.Certificate) *Revocation {
	r := &Revocation{}
	for i := 0; i+1 < len(chain); i++ {
		r.Certs = append(r.Certs, c.checkOne(ctx, chain[i], chain[i+1]))
	}
	r.Summary = r.Status()
	if l := r.Leaf(); l != nil {
		r.Method, r.Source, r.CheckedAt = l.Method, l.Source, l.CheckedAt
	}
	return r
}

func serialHex(cert *x509.Certificate) string { return hex.EncodeToString(cert.SerialNumber.Bytes()) }

func (c *RevocationChecker) checkOne(ctx context.Context, cert, issuer *x509.Certificate) CertRevocation {
	now := c.o.Now()
	out := CertRevocation{Subject: cert.Subject.String(), Serial: serialHex(cert), Status: StatusUnknown, CheckedAt: now.UTC()}
	var why []string
	if c.o.OCSP {
		for _, url := range cert.OCSPServer {
			e, err := c.ocspFor(ctx, url, cert, issuer, now)
			if err != nil {
				why = append(why, err.Error())
				continue
			}
			out.Method, out.Source = "ocsp", url
			out.ThisUpdate, out.NextUpdate = e.resp.ThisUpdate.UTC(), e.resp.NextUpdate.UTC()
			out.Evidence = e.der
			switch e.resp.Status {
			case ocsp.Good:
				out.Status = StatusGood
			case ocsp.Revoked:
				out.Status, out.RevokedAt, out.Reason = StatusRevoked, e.resp.RevokedAt.UTC(), reasonText(e.resp.RevocationReason)
			}
			out.EvidenceSHA256 = sha256Hex(out.Evidence)
			return out
		}
	}
	best, err := c.crlFor(ctx, cert, issuer, now)
	if err != nil {
		why = append(why, err.Error())
	}
	if best != nil {
		out.Method, out.Source = "crl", best.source
		out.ThisUpdate, out.NextUpdate = best.crl.ThisUpdate.UTC(), best.crl.NextUpdate.UTC()
		out.Evidence, out.EvidenceSHA256 = best.der, sha256Hex(best.der)
		if best.crl.Number != nil {
			out.CRLNumber = best.crl.Number.String()
		}
		out.CRLIssuer = best.crl.Issuer.String()
		out.Status = StatusGood
		for _, rc := range best.crl.RevokedCertificateEntries {
			if rc.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				out.Status, out.RevokedAt, out.Reason = StatusRevoked, rc.RevocationTime.UTC(), reasonText(rc.ReasonCode)
				break
			}
		}
		return out
	}
	if len(why) == 0 {
		why = append(why, "no OCSP responder and no CRL for its issuer")
	}
	out.Reason = strings.Join(why, "; ")
	return out
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var reasons = map[int]string{0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
	5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise"}

func reasonText(code int) string {
	if s, ok := reasons[code]; ok {
		return s
	}
	return fmt.Sprintf("reason %d", code)
}

// fresh reports whether an answer valid from this to next, fetched at
// fetched, may still be used at now.
func fresh(this, next, fetched, now time.Time, refresh time.Duration) bool {
	if now.Before(this.Add(-5 * time.Minute)) { // clock skew
		return false
	}
	if !next.IsZero() {
		return now.Before(next)
	}
	return now.Before(fetched.Add(refresh))
}

// ocspFor returns a fresh verified OCSP answer from url, from the cache or
// fetched.
func (c *RevocationChecker) ocspFor(ctx context.Context, url string, cert, issuer *x509.Certificate, now time.Time) (*ocspEntry, error) {
	key := ocspKey(url, cert, issuer)
	c.mu.RLock()
	e := c.ocsp[key]
	until := c.down[url]
	c.mu.RUnlock()
	if e != nil && fresh(e.resp.ThisUpdate, e.resp.NextUpdate, e.fetched, now, c.o.Refresh) {
		return e, nil
	}
	if now.Before(until) {
		return nil, fmt.Errorf("OCSP %s unreachable (not asked again before %s)", url, until.UTC().Format(time.RFC3339))
	}
	e, err := c.fetchOCSP(ctx, url, cert, issuer, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.down[url] = now.Add(c.o.Retry)
		c.log.Warn("revocation: OCSP", "url", url, "serial", serialHex(cert), "err", err)
		return nil, fmt.Errorf("OCSP %s: %v", url, err)
	}
	delete(c.down, url)
	c.ocsp[key] = e
	return e, nil
}

func (c *RevocationChecker) fetchOCSP(ctx context.Context, url string, cert, issuer *x509.Certificate, now time.Time) (*ocspEntry, error) {
	reqDER, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{})
	if err != nil {
		return nil, err
	}
	body, err := c.post(ctx, url, "application/ocsp-request", reqDER)
	if err != nil {
		return nil, err
	}
	resp, err := verifyOCSP(body, cert, issuer, now)
	if err != nil {
		return nil, err
	}
	return &ocspEntry{source: url, der: body, resp: resp, fetched: now, cert: cert, issuer: issuer}, nil
}

// VerifyOCSP checks an OCSP response for cert: signed by issuer or by a
// responder certificate issuer signed for OCSP signing, about cert's
// serial, current at now. An "unknown" answer is an error (it proves
// nothing).
func verifyOCSP(der []byte, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, error) {
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		return nil, err
	}
	if rc := resp.Certificate; rc != nil && !bytes.Equal(rc.Raw, issuer.Raw) {
		ok := false
		for _, u := range rc.ExtKeyUsage {
			ok = ok || u == x509.ExtKeyUsageOCSPSigning
		}
		if !ok {
			return nil, errors.New("the responder's certificate is not delegated OCSP signing")
		}
		if now.Before(rc.NotBefore) || now.After(rc.NotAfter) {
			return nil, errors.New("the responder's certificate is not valid now")
		}
	}
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return nil, errors.New("the answer is about another certificate")
	}
	if now.Before(resp.ThisUpdate.Add(-5 * time.Minute)) {
		return nil, fmt.Errorf("thisUpdate %s is in the future", resp.ThisUpdate.UTC().Format(time.RFC3339))
	}
	if !resp.NextUpdate.IsZero() && !now.Before(resp.NextUpdate) {
		return nil, fmt.Errorf("stale: nextUpdate %s has passed", resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	if resp.Status != ocsp.Good && resp.Status != ocsp.Revoked {
		return nil, errors.New("the responder does not know the certificate")
	}
	return resp, nil
}

func (c *RevocationChecker) post(ctx context.Context, url, contentType string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	return c.do(req)
}

func (c *RevocationChecker) get(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

// maxRevocationBody bounds an OCSP response or a CRL (a province's CA
// publishes CRLs of a few MB at most).
const maxRevocationBody = 64 << 20

func (c *RevocationChecker) do(req *http.Request) ([]byte, error) {
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRevocationBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRevocationBody {
		return nil, errors.New("answer too large")
	}
	return b, nil
}

// crlFor returns the newest fresh CRL of cert's issuer (the highest CRL
// number among them), fetching its distribution points and the configured
// URLs when none cached is fresh.
func (c *RevocationChecker) crlFor(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) (*crlEntry, error) {
	best := c.bestCRL(cert, issuer, now)
	if best != nil {
		return best, nil
	}
	var why []string
	for _, url := range append(append([]string{}, cert.CRLDistributionPoints...), c.o.CRLURLs...) {
		if err := c.fetchCRL(ctx, url, now); err != nil {
			why = append(why, err.Error())
		}
	}
	if best = c.bestCRL(cert, issuer, now); best != nil {
		return best, nil
	}
	if len(why) > 0 {
		return nil, errors.New(strings.Join(why, "; "))
	}
	return nil, errors.New("no current CRL of its issuer")
}

func (c *RevocationChecker) bestCRL(cert, issuer *x509.Certificate, now time.Time) *crlEntry {
	c.mu.RLock()
	var best *crlEntry
	var unchecked []*crlEntry
	for _, e := range c.crls {
		if !bytes.Equal(e.crl.RawIssuer, cert.RawIssuer) || !fresh(e.crl.ThisUpdate, e.crl.NextUpdate, e.fetched, now, c.o.Refresh) {
			continue
		}
		if !bytes.Equal(e.signer, issuer.RawSubjectPublicKeyInfo) {
			unchecked = append(unchecked, e)
			continue
		}
		if best == nil || newerCRL(e, best) {
			best = e
		}
	}
	c.mu.RUnlock()
	for _, e := range unchecked {
		if e.crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		c.mu.Lock()
		e.signer = issuer.RawSubjectPublicKeyInfo
		c.mu.Unlock()
		if best == nil || newerCRL(e, best) {
			best = e
		}
	}
	return best
}

func newerCRL(a, b *crlEntry) bool {
	switch {
	case a.crl.Number != nil && b.crl.Number != nil && a.crl.Number.Cmp(b.crl.Number) != 0:
		return a.crl.Number.Cmp(b.crl.Number) > 0
	case !a.crl.ThisUpdate.Equal(b.crl.ThisUpdate):
		return a.crl.ThisUpdate.After(b.crl.ThisUpdate)
	}
	return a.source < b.source
}

// fetchCRL fetches one CRL URL unless it is marked down.
func (c *RevocationChecker) fetchCRL(ctx context.Context, url string, now time.Time) error {
	c.mu.RLock()
	until := c.down[url]
	c.mu.RUnlock()
	if now.Before(until) {
		return fmt.Errorf("CRL %s unreachable (not asked again before %s)", url, until.UTC().Format(time.RFC3339))
	}
	der, err := c.get(ctx, url)
	var crl *x509.RevocationList
	if err == nil {
		crl, err = parseCRL(der)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.down[url] = now.Add(c.o.Retry)
		c.log.Warn("revocation: CRL", "url", url, "err", err)
		return fmt.Errorf("CRL %s: %v", url, err)
	}
	delete(c.down, url)
	c.crls[url] = &crlEntry{source: url, der: der, crl: crl, fetched: now}
	return nil
}

// parseCRL reads a DER or PEM CRL.
func parseCRL(b []byte) (*x509.RevocationList, error) {
	if der := pemBlock(b, "X509 CRL"); der != nil {
		b = der
	}
	return x509.ParseRevocationList(b)
}

// readFiles (re)reads the configured CRL files whose mtime changed.
func (c *RevocationChecker) readFiles() {
	now := c.o.Now()
	for _, f := range c.o.CRLFiles {
		st, err := os.Stat(f)
		if err != nil {
			c.mu.Lock()
			if _, had := c.files[f]; had || len(c.files) == 0 {
				c.log.Warn("revocation: CRL file", "file", f, "err", err)
			}
			delete(c.crls, f)
			c.files[f] = time.Time{}
			c.mu.Unlock()
			continue
		}
		c.mu.RLock()
		seen, ok := c.files[f]
		c.mu.RUnlock()
		if ok && seen.Equal(st.ModTime()) && !seen.IsZero() {
			continue
		}
		b, err := os.ReadFile(f)
		var crl *x509.RevocationList
		if err == nil {
			crl, err = parseCRL(b)
		}
		c.mu.Lock()
		c.files[f] = st.ModTime()
		if err != nil {
			c.log.Warn("revocation: CRL file", "file", f, "err", err)
			delete(c.crls, f)
		} else {
			if der := pemBlock(b, "X509 CRL"); der != nil {
				b = der
			}
			c.crls[f] = &crlEntry{source: f, der: b, crl: crl, fetched: now}
		}
		c.mu.Unlock()
	}
}

// refresh re-reads changed CRL files and refetches cached answers that
// will go stale soon (within a tenth of their validity, or Refresh after
// they were fetched).
func (c *RevocationChecker) refresh() {
	c.readFiles()
	now := c.o.Now()
	soon := func(this, next, fetched time.Time) bool {
		if !now.Before(fetched.Add(c.o.Refresh)) {
			return true
		}
		return !next.IsZero() && now.Add(next.Sub(this)/10).After(next)
	}
	c.mu.RLock()
	var urls []string
	for url, e := range c.crls {
		if _, isFile := c.files[url]; !isFile && soon(e.crl.ThisUpdate, e.crl.NextUpdate, e.fetched) {
			urls = append(urls, url)
		}
	}
	var stale []*ocspEntry
	for _, e := range c.ocsp {
		if soon(e.resp.ThisUpdate, e.resp.NextUpdate, e.fetched) {
			stale = append(stale, e)
		}
	}
	c.mu.RUnlock()
	sort.Strings(urls)
	ctx := context.Background()
	for _, u := range urls {
		_ = c.fetchCRL(ctx, u, now)
	}
	for _, e := range stale {
		fe, err := c.fetchOCSP(ctx, e.source, e.cert, e.issuer, now)
		if err != nil {
			c.log.Warn("revocation: OCSP refresh", "url", e.source, "serial", serialHex(e.cert), "err", err)
			continue // the cached answer serves until its nextUpdate
		}
		key := ocspKey(e.source, e.cert, e.issuer)
		c.mu.Lock()
		c.ocsp[key] = fe
		c.mu.Unlock()
	}
}

func ocspKey(url string, cert, issuer *x509.Certificate) string {
	return url + "\x00" + string(issuer.RawSubjectPublicKeyInfo) + "\x00" + cert.SerialNumber.String()
}

// pemBlock returns the DER of the first PEM block of that type, or nil.
func pemBlock(b []byte, typ string) []byte {
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil
		}
		if blk.Type == typ {
			return blk.Bytes
		}
	}
}
