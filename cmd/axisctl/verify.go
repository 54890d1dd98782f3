package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/axis-h40/axis/envelope"
)

// verifySummary is what verify prints on success.
type verifySummary struct {
	Verified     bool                `json:"verified"`
	SHA256       string              `json:"sha256"`
	From         string              `json:"from"`
	To           []string            `json:"to"`
	DocumentID   string              `json:"document_id"`
	Kind         envelope.Kind       `json:"kind"`
	Code         string              `json:"code"`
	Subject      string              `json:"subject"`
	BusinessType *int                `json:"business_type,omitempty"` // documents only
	StatusCode   *string             `json:"status_code,omitempty"`   // status messages only
	Signer       signerSummary       `json:"signer"`
	Algorithms   envelope.Algorithms `json:"algorithms"`
	CheckedAt    string              `json:"checked_at"`
}

type signerSummary struct {
	Subject           string `json:"subject"`
	FingerprintSHA256 string `json:"fingerprint_sha256"`
	NotAfter          string `json:"not_after"`
}

// runVerify: axisctl verify --roots ROOTS.pem [flags] FILE
func runVerify(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", "--roots ROOTS.pem [--roots MORE.pem] [flags] FILE|-", stderr)
	var roots, pins listFlag
	fs.Var(&roots, "roots", "PEM file of trusted root certificates (repeatable; at least one)")
	fs.Var(&pins, "pin", "ORGAN=SHA256HEX: bind the certificate with that fingerprint to the organ code (repeatable)")
	allowSHA1 := fs.Bool("allow-sha1", false, "accept rsa-sha1 signatures and sha1 digests (legacy senders)")
	legacyNS := fs.Bool("legacy-signature-ns", false, "accept a Signature without the xmldsig namespace declaration (legacy field systems)")
	at := fs.String("at", "", "check certificates at this RFC 3339 time instead of now")
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(roots) == 0 {
		return usageError(stderr, "verify: --roots is required")
	}
	if len(pos) != 1 {
		return usageError(stderr, "verify: want exactly one envelope file (or - for standard input), got %d", len(pos))
	}
	pool, err := envelope.LoadRoots(roots...)
	if err != nil {
		return fail(stderr, fmt.Errorf("verify: --roots: %w", err)) // a file, not a usage error: exit 1
	}
	policy := envelope.Policy{Roots: pool, AllowSHA1: *allowSHA1, LegacySignatureNS: *legacyNS}
	if len(pins) > 0 {
		if policy.Pins, err = parsePins(pins); err != nil {
			return usageError(stderr, "verify: %v", err)
		}
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError(stderr, "verify: --at: want an RFC 3339 time such as 2026-06-01T09:00:00Z: %v", err)
		}
		policy.Now = func() time.Time { return t }
	}
	v, err := envelope.NewVerifier(policy)
	if err != nil {
		return usageError(stderr, "verify: %v", err)
	}
	raw, err := readInput(pos[0])
	if err != nil {
		return fail(stderr, fmt.Errorf("verify: %w", err)) // a missing input file is not a usage error: exit 1
	}
	ver, err := v.Verify(raw)
	if err != nil {
		return fail(stderr, err)
	}
	if err := writeJSON(stdout, summarize(ver)); err != nil {
		return fail(stderr, err)
	}
	return exitOK
}

// parsePins turns ORGAN=SHA256HEX values into a Policy.Pins map. The
// fingerprint may be upper or lower case and may separate bytes with colons.
func parsePins(values []string) (map[string][]string, error) {
	pins := map[string][]string{}
	for _, v := range values {
		organ, fp, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("--pin %q: want ORGAN=SHA256HEX", v)
		}
		id, err := envelope.ParseOrganID(organ)
		if err != nil {
			return nil, fmt.Errorf("--pin %q: %v", v, err)
		}
		fp = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(fp), ":", ""))
		if b, err := hex.DecodeString(fp); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("--pin %q: the fingerprint must be 64 hex digits (a SHA-256)", v)
		}
		pins[id.String()] = append(pins[id.String()], fp)
	}
	return pins, nil
}

func summarize(v *envelope.Verified) verifySummary {
	m := v.Message()
	s := verifySummary{
		Verified:   true,
		SHA256:     v.SHA256Hex(),
		From:       m.From.OrganID,
		To:         make([]string, 0, len(m.To)),
		DocumentID: m.DocumentID,
		Kind:       m.Kind,
		Code:       m.Code.String(),
		Subject:    m.Subject,
		Signer: signerSummary{
			Subject:           v.Signer().Subject.String(),
			FingerprintSHA256: v.SignerFingerprint(),
			NotAfter:          v.Signer().NotAfter.UTC().Format(time.RFC3339),
		},
		Algorithms: v.Algorithms(),
		CheckedAt:  v.CheckedAt().UTC().Format(time.RFC3339),
	}
	for _, t := range m.To {
		s.To = append(s.To, t.OrganID)
	}
	if m.Kind == envelope.KindStatus {
		sc := m.StatusCode
		s.StatusCode = &sc
	} else {
		bt := m.BusinessDocType()
		s.BusinessType = &bt
	}
	return s
}
