package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axis-h40/axis/axis"
)

// serverTLS is axisd's HTTPS (config tls:): the certificate and key, read
// at start and again on SIGHUP, handed to each handshake through an atomic
// pointer (GetCertificate), so a reload drops no connection: those open
// keep the certificate they were made with, the next handshake gets the
// new one.
//
// Decisions:
//   - HTTPS only: with tls there is no plain listener (Go answers plain
//     HTTP on the port 400 "Client sent an HTTP request to an HTTPS
//     server").
//   - HTTP/1.1 only (NextProtos): the transport guards (an upload idle past
//     limits.body_idle_timeout is cut and its connection closed, body.go)
//     are built and tested for HTTP/1.1 connections.
//   - A reload that fails (a missing file, a key that does not match the
//     certificate) logs an error and keeps the previous pair; so does a
//     reload between writing the new certificate and the new key: write
//     both, then send SIGHUP.
//   - SIGHUP (Main.Reload) re-reads the config, and with it the
//     certificate and key, from the paths the new config gives; client_ca
//     and min_version are read at start (restart to change them; the
//     reload warns). A pair that does not load refuses the whole reload
//     (axis.Hub.Reload): nothing of the new config is taken.
//   - Certificate validity is the client's business: an expired
//     certificate is served (and logged at warn level), not refused.
type serverTLS struct {
	mu                sync.Mutex // certFile, keyFile: a reload may move them
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
	config            *tls.Config
	log               *slog.Logger
}

// newServerTLS reads cfg.TLS's files, with errors that name them.
func newServerTLS(cfg *axis.Config, log *slog.Logger) (*serverTLS, error) {
	t := cfg.TLS
	minVersion, err := axis.TLSMinVersion(t.MinVersion)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	if t.Cert == "" || t.Key == "" {
		return nil, errors.New("tls: cert and key are both required")
	}
	s := &serverTLS{certFile: cfg.Path(t.Cert), keyFile: cfg.Path(t.Key), log: log}
	kp, err := axis.LoadKeyPair(s.certFile, s.keyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	s.cur.Store(kp)
	s.warnExpiry(kp)
	s.config = &tls.Config{
		MinVersion:     minVersion,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cur.Load(), nil },
		NextProtos:     []string{"http/1.1"},
	}
	if len(t.ClientCA) > 0 {
		files := make([]string, len(t.ClientCA))
		for i, f := range t.ClientCA {
			files[i] = cfg.Path(f)
		}
		pool, err := axis.LoadCertPool(files)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca: %w", err)
		}
		s.config.ClientCAs = pool
		s.config.ClientAuth = tls.VerifyClientCertIfGiven // optional per caller; client_cert_sha256 requires one
	}
	return s, nil
}

// reload re-reads the certificate and key; on failure the previous pair
// stays.
func (s *serverTLS) reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	kp, err := axis.LoadKeyPair(s.certFile, s.keyFile)
	if err != nil {
		s.log.Error("tls: reload failed; keeping the previous certificate", "err", err)
		return err
	}
	s.install(kp)
	return nil
}

// stage reads the pair cfg names (a reload); commit puts it in service.
func (s *serverTLS) stage(cfg *axis.Config) (commit func(), err error) {
	certFile, keyFile := cfg.Path(cfg.TLS.Cert), cfg.Path(cfg.TLS.Key)
	kp, err := axis.LoadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, cfg.ErrorAt("tls.cert", fmt.Errorf("tls: %w", err))
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.certFile, s.keyFile = certFile, keyFile
		s.install(kp)
	}, nil
}

// install serves kp from the next handshake on. Called with mu held.
func (s *serverTLS) install(kp *tls.Certificate) {
	old := s.cur.Swap(kp)
	s.warnExpiry(kp)
	s.log.Info("tls: certificate reloaded", "cert_sha256", axis.CertSHA256(kp.Leaf), "previous_sha256", axis.CertSHA256(old.Leaf),
		"subject", kp.Leaf.Subject.String(), "not_after", kp.Leaf.NotAfter)
}

func (s *serverTLS) warnExpiry(kp *tls.Certificate) {
	if now := time.Now(); now.After(kp.Leaf.NotAfter) || now.Before(kp.Leaf.NotBefore) {
		s.log.Warn("tls: the certificate is not valid now; clients will refuse it", "cert", s.certFile,
			"not_before", kp.Leaf.NotBefore, "not_after", kp.Leaf.NotAfter)
	}
}

// attrs describe the serving mode for the startup log.
func (s *serverTLS) attrs() []any {
	if s == nil {
		return []any{"tls", false}
	}
	leaf := s.cur.Load().Leaf
	return []any{"tls", true, "min_version", tls.VersionName(s.config.MinVersion), "client_ca", s.config.ClientCAs != nil,
		"cert_sha256", axis.CertSHA256(leaf), "cert_not_after", leaf.NotAfter}
}

// ReloadTLS re-reads the TLS certificate and key alone, from the files
// of the start; without tls it does nothing. A failure keeps the previous
// pair and is logged. SIGHUP calls Reload, which re-reads them with the
// rest of the config.
func (m *Main) ReloadTLS() error {
	if m.tls == nil {
		m.Options.Logger.Info("no tls configured, nothing to reload")
		return nil
	}
	return m.tls.reload()
}

// stageTLS is Reload's part for the server certificate (see
// axis.Hub.Reload): tls added or removed needs a restart (the hub's reload
// warns), so there is nothing to stage then.
func (m *Main) stageTLS(cfg *axis.Config) (func(), error) {
	if m.tls == nil || cfg.TLS == nil {
		return nil, nil
	}
	return m.tls.stage(cfg)
}
