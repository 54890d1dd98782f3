//go:build cgo

package axis

import (
	"crypto"
	"errors"
	"fmt"
	"os"

	"github.com/ThalesGroup/crypto11"
	"github.com/axis-h40/axis/envelope"
	"github.com/miekg/pkcs11"
)

// openHSM logs in to the token, finds the key pair by label, checks it is
// the key of hub.cert's leaf, and makes the hub's signer of it.
func (h *Hub) openHSM() (err error) {
	p := h.cfg.Hub.PKCS11
	where := fmt.Sprintf("axis: hub.pkcs11 (module %s, token %q)", p.Module, p.TokenLabel)
	pin := h.getenv(p.PINEnv)
	if pin == "" {
		return fmt.Errorf("%s: the PIN variable %s (pin_env) is empty or not set", where, p.PINEnv)
	}
	certFile := h.cfg.Path(h.cfg.Hub.Cert)
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return fmt.Errorf("axis: hub.cert: %w", err)
	}
	chain, err := envelope.ParseCertificatesPEM(cb)
	if err != nil {
		return fmt.Errorf("axis: hub.cert: %s: %w", certFile, err)
	}
	ctx, err := crypto11.Configure(&crypto11.Config{Path: h.cfg.Path(p.Module), TokenLabel: p.TokenLabel, Pin: pin})
	if err != nil {
		var pe pkcs11.Error
		if errors.As(err, &pe) {
			switch pe {
			case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_LEN_RANGE:
				return fmt.Errorf("%s: log in: wrong PIN (from %s): %w", where, p.PINEnv, err)
			case pkcs11.CKR_PIN_LOCKED:
				return fmt.Errorf("%s: log in: the PIN is locked: %w", where, err)
			}
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	defer func() {
		if err != nil {
			ctx.Close()
		}
	}()
	key, err := ctx.FindKeyPair(nil, []byte(p.KeyLabel))
	if err == nil && key == nil {
		err = errors.New("not found")
	}
	if err != nil {
		return fmt.Errorf("%s: no key pair labelled %q (key_label; a private key and its public key, with the same CKA_ID): %w", where, p.KeyLabel, err)
	}
	if pub, ok := chain[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(key.Public()) {
		return fmt.Errorf("%s: the key %q is not the key of hub.cert's certificate (%s, %s): refusing to sign receipts with it",
			where, p.KeyLabel, chain[0].Subject, certFile)
	}
	s, err := envelope.NewSigner(key, chain)
	if err != nil {
		return fmt.Errorf("%s: key %q: %w", where, p.KeyLabel, err)
	}
	h.signer, h.hsm = s, &hsmKey{ctx: ctx}
	h.log.Info("hub key in a PKCS#11 token", "module", p.Module, "token", p.TokenLabel, "key", p.KeyLabel, "subject", chain[0].Subject.String())
	return nil
}
