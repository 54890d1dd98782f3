package axis

// The hub key in a PKCS#11 token (an HSM, a USB token, SoftHSM2): hub.pkcs11
// names the module, the token and the key pair; the PIN comes from the
// environment. The private key never leaves the token: the hub holds a
// crypto.Signer whose Sign asks the token (C_Sign, CKM_RSA_PKCS) and gives
// it to envelope.NewSigner like a key read from PEM.
//
// The token is reached through crypto11 (ThalesGroup), which uses cgo
// (hsm_pkcs11.go); an axisd built without cgo refuses hub.pkcs11 at open
// (hsm_nocgo.go).

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/axis-h40/axis/envelope"
)

// hsmKey is the open PKCS#11 context that holds the hub key.
type hsmKey struct {
	ctx io.Closer
}

// checkKey checks where the hub key comes from: a PEM file (hub.key) or a
// PKCS#11 token (hub.pkcs11), never both, and that a token is fully named.
func (hc HubConfig) checkKey() error {
	p := hc.PKCS11
	if p == nil {
		return nil
	}
	if hc.Key != "" {
		return errors.New("hub.key and hub.pkcs11 are both set: the hub key is either a PEM file (hub.key) or in a PKCS#11 token (hub.pkcs11), not both")
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"module", p.Module}, {"token_label", p.TokenLabel}, {"key_label", p.KeyLabel}, {"pin_env", p.PINEnv},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("hub.pkcs11: %s required (pin_env names the environment variable that holds the PIN)", strings.Join(missing, ", "))
	}
	if hc.Cert == "" {
		return errors.New("hub.pkcs11 needs hub.cert: the certificate chain (PEM, leaf first) of the key in the token")
	}
	return nil
}

// loadSigner loads the hub key, from a PEM file or a PKCS#11 token; with
// neither the hub signs no receipts.
func (h *Hub) loadSigner() error {
	hc := h.cfg.Hub
	if err := hc.checkKey(); err != nil {
		return fmt.Errorf("axis: %w", err)
	}
	switch {
	case hc.PKCS11 != nil:
		return h.openHSM()
	case hc.Key != "":
		s, err := envelope.LoadSigner(h.cfg.Path(hc.Key), h.cfg.Path(hc.Cert))
		if err != nil {
			return fmt.Errorf("axis: hub key: %w", err)
		}
		h.signer = s
	}
	return nil
}

// closeHSM closes the token's context, if the hub key is in one.
func (h *Hub) closeHSM() error {
	if h.hsm == nil {
		return nil
	}
	err := h.hsm.ctx.Close()
	h.hsm = nil
	return err
}
