package axis

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hub.pkcs11 in the YAML: the keys parse, hub.key with it is a config
// error, and so is a token not fully named. (The token itself:
// cmd/axisd/hsm_test.go, with SoftHSM2.)
func TestPKCS11Config(t *testing.T) {
	const token = "hub: {name: h, cert: hub.pem, pkcs11: {module: /usr/lib/softhsm/libsofthsm2.so, token_label: axis, key_label: hub-key, pin_env: AXIS_HSM_PIN}}\n"
	for _, c := range []struct {
		name, hub, want string // want "" = loads
	}{
		{"token", token, ""},
		{"key and token", strings.Replace(token, "cert: hub.pem,", "key: hub.key, cert: hub.pem,", 1), "hub.key and hub.pkcs11 are both set"},
		{"no pin_env", strings.Replace(token, ", pin_env: AXIS_HSM_PIN", "", 1), "hub.pkcs11: pin_env required"},
		{"no labels", strings.Replace(token, "token_label: axis, key_label: hub-key, ", "", 1), "hub.pkcs11: token_label, key_label required"},
		{"no cert", strings.Replace(token, "cert: hub.pem, ", "", 1), "hub.pkcs11 needs hub.cert"},
		{"unknown key", strings.Replace(token, "pin_env:", "pin:", 1), "pin"},
	} {
		f := filepath.Join(t.TempDir(), "axis.yaml")
		if err := os.WriteFile(f, []byte(c.hub+"trust: {roots: [r.pem]}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(f)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want == "":
			if p := cfg.Hub.PKCS11; p == nil || p.Module != "/usr/lib/softhsm/libsofthsm2.so" || p.TokenLabel != "axis" || p.KeyLabel != "hub-key" || p.PINEnv != "AXIS_HSM_PIN" {
				t.Errorf("%s: hub.pkcs11 = %+v", c.name, p)
			}
		case err == nil || !strings.Contains(err.Error(), c.want):
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
