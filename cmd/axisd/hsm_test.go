package main

// The hub key in a PKCS#11 token: Debian's SoftHSM2 with the demo hub key
// imported, the real wiring signing receipts through the token, xmlsec1
// checking them. Skipped without softhsm2 or xmlsec1 on a developer's
// machine, never in CI.

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/axis-h40/axis/axis"
	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/fixture"
	"github.com/axis-h40/axis/internal/testgen"
)

const (
	hsmToken  = "axis-test"
	hsmPIN    = "1234"
	hsmKey    = "hub-key"
	hsmPINEnv = "AXIS_TEST_HSM_PIN"
)

// softHSMModules are where Debian and others put SoftHSM2's PKCS#11 module.
var softHSMModules = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
}

// softHSM makes a fresh SoftHSM2 token for this test (its own softhsm2.conf
// and token directory, through SOFTHSM2_CONF, which the module reads at
// C_Initialize), imports the demo hub key as hsmKey (CKA_ID 01), and
// returns the module's path.
func softHSM(t *testing.T) string {
	t.Helper()
	util := fixture.Tool(t, "softhsm2-util", "softhsm2")
	module := ""
	for _, m := range softHSMModules {
		if _, err := os.Stat(m); err == nil {
			module = m
			break
		}
	}
	if module == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("softhsm2's PKCS#11 module is required in CI (apt-get install softhsm2)")
		}
		t.Skip("softhsm2's PKCS#11 module not installed")
	}
	fixture.Tool(t, "xmlsec1", "xmlsec1")
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	writeFile(t, conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"))
	t.Setenv("SOFTHSM2_CONF", conf)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(util, args...).CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("--init-token", "--free", "--label", hsmToken, "--pin", hsmPIN, "--so-pin", "5678")
	importKey := func(keyFile, label, id string) {
		t.Helper()
		// softhsm2-util --import wants PKCS#8 PEM (openssl pkcs8 -topk8 -nocrypt).
		p8 := filepath.Join(dir, label+".p8")
		writeFile(t, p8, pkcs8PEM(t, keyFile))
		run("--import", p8, "--token", hsmToken, "--label", label, "--id", id, "--pin", hsmPIN)
	}
	importKey(filepath.Join(fixture.PKIDir, "demo-hub-h40.key"), hsmKey, "01")
	// A key pair that is not the hub's: the hub must refuse it.
	importKey(filepath.Join(fixture.PKIDir, "demo-agency-"+testgen.Commune+".key"), "other-key", "02")
	return module
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func pkcs8PEM(t *testing.T, keyFile string) []byte {
	t.Helper()
	key, err := envelope.ParsePrivateKeyPEM(fixture.ReadFile(t, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// withHSM configures the hub key as keyLabel in the test token, hub.key unset.
func withHSM(module, keyLabel string) func(*axis.Config) {
	return func(c *axis.Config) {
		c.Hub.Key = ""
		c.Hub.PKCS11 = &axis.PKCS11Config{Module: module, TokenLabel: hsmToken, KeyLabel: keyLabel, PINEnv: hsmPINEnv}
	}
}

// hsmPINIs supplies the PIN through Options.Getenv (the rest from the process).
func hsmPINIs(pin string) func(*Main) {
	return func(m *Main) {
		m.Options.Getenv = func(k string) string {
			if k == hsmPINEnv {
				return pin
			}
			return os.Getenv(k)
		}
	}
}

// receiptFor posts testdata/envelopes/new.xml as the commune and returns the
// hub's signed receipt of it.
func receiptFor(t *testing.T, m *Main) []byte {
	t.Helper()
	rc := intake(t, m, testgen.Commune, fixture.Envelope(t, "new.xml"))
	rec := call(t, m, "GET", "/api/v1/envelopes/"+rc.DocID+"/receipt", tok(testgen.Commune), nil)
	if rec.status != 200 || !bytes.Contains(rec.body, []byte("<DocId>"+rc.DocID+"</DocId>")) {
		t.Fatalf("receipt: %d %s", rec.status, rec.body)
	}
	return rec.body
}

var x509CertRE = regexp.MustCompile(`<ds:X509Certificate>([^<]+)</ds:X509Certificate>`)

func TestHSMReceipt(t *testing.T) {
	module := softHSM(t)
	m := startWith(t, hsmPINIs(hsmPIN), withHSM(module, hsmKey))
	rec := receiptFor(t, m)

	// xmlsec1, independently of axis, verifies it against the demo root;
	// changed, it does not.
	xmlsecVerify(t, rec, true)
	xmlsecVerify(t, bytes.Replace(rec, []byte(testgen.Department), []byte("000.00.12.H40"), 1), false)

	// The certificate it carries first is the hub's.
	hub, err := envelope.ParseCertificatesPEM(fixture.ReadFile(t, filepath.Join(fixture.PKIDir, "demo-hub-h40.crt")))
	if err != nil {
		t.Fatal(err)
	}
	certs := x509CertRE.FindAllSubmatch(rec, -1)
	if len(certs) == 0 {
		t.Fatalf("no X509Certificate in the receipt:\n%s", rec)
	}
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(certs[0][1])), ""))
	if err != nil || !bytes.Equal(der, hub[0].Raw) {
		t.Fatalf("the receipt's certificate is not the hub's (%v)", err)
	}
	if !bytes.Contains(rec, []byte(`certificate="`+hub[0].Subject.String()+`"`)) {
		t.Fatalf("receipt names another hub certificate:\n%s", rec)
	}

	// RSA PKCS#1 v1.5 is deterministic: the token signs exactly what the
	// same key read from PEM signs.
	pemHub := start(t)
	if pemHub.Config.Hub.Key == "" || pemHub.Config.Hub.PKCS11 != nil {
		t.Fatal("the demo config's hub key is not a PEM file")
	}
	if fromPEM := receiptFor(t, pemHub); !bytes.Equal(fromPEM, rec) {
		t.Fatalf("the receipt signed in the token differs from the one signed with the PEM key:\n%s\n---\n%s", rec, fromPEM)
	}
}

// openHSM runs the wiring like startWith and returns Run's error (closing
// the hub if it did start).
func openHSM(t *testing.T, pin string, configure func(*axis.Config)) error {
	t.Helper()
	m := demoMain(t)
	configure(m.Config)
	hsmPINIs(pin)(m)
	return runFails(m)
}

func TestHSMOpenErrors(t *testing.T) {
	module := softHSM(t)
	for _, c := range []struct {
		name, pin string
		configure func(*axis.Config)
		want      []string // each in the error
	}{
		{"wrong PIN", "4321", withHSM(module, hsmKey), []string{"wrong PIN", hsmPINEnv, "CKR_PIN_INCORRECT", hsmToken}},
		{"PIN variable empty", "", withHSM(module, hsmKey), []string{"PIN variable " + hsmPINEnv, "empty or not set"}},
		{"no pin_env", hsmPIN, func(c *axis.Config) {
			withHSM(module, hsmKey)(c)
			c.Hub.PKCS11.PINEnv = ""
		}, []string{"hub.pkcs11", "pin_env required"}},
		{"missing key label", hsmPIN, withHSM(module, "no-such-key"), []string{`no key pair labelled "no-such-key"`, hsmToken}},
		{"key not the certificate's", hsmPIN, withHSM(module, "other-key"), []string{`the key "other-key" is not the key of hub.cert's certificate`, "refusing"}},
		{"no such token", hsmPIN, func(c *axis.Config) {
			withHSM(module, hsmKey)(c)
			c.Hub.PKCS11.TokenLabel = "no-such-token"
		}, []string{`token "no-such-token"`, "could not find PKCS#11 token"}},
		{"no such module", hsmPIN, withHSM(filepath.Join(t.TempDir(), "libnothing.so"), hsmKey), []string{"libnothing.so"}},
		{"key and pkcs11", hsmPIN, func(c *axis.Config) {
			withHSM(module, hsmKey)(c)
			c.Hub.Key = "../pki/demo-hub-h40.key"
		}, []string{"hub.key and hub.pkcs11 are both set"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := openHSM(t, c.pin, c.configure)
			if err == nil {
				t.Fatal("the hub opened")
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	// After all those refusals the token still works (each failed Open
	// released it).
	m := startWith(t, hsmPINIs(hsmPIN), withHSM(module, hsmKey))
	xmlsecVerify(t, receiptFor(t, m), true)
}
