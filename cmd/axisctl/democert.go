package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/axis-h40/axis/envelope"
	"github.com/axis-h40/axis/internal/demopki"
	"github.com/axis-h40/axis/internal/testgen"
)

// defaultDemoCA is the demo issuing CA of the repository, relative to its
// root (where make and the README run axisctl).
var defaultDemoCA = filepath.Join("testdata", "pki", testgen.IssuingCA)

// demoCA is the --ca flag of demo-cert and demo-revoke: the demo issuing
// CA, read from PATH.key and PATH.crt.
type demoCA struct {
	cmd  string // the command, for error messages
	flag *string
}

func addDemoCAFlag(fs *flag.FlagSet) demoCA {
	return demoCA{cmd: fs.Name(), flag: fs.String("ca", defaultDemoCA, "issuing CA: reads PATH.key and PATH.crt")}
}

// path is the CA's PATH: the flag's value without a .key or .crt ending.
func (c demoCA) path() string {
	return strings.TrimSuffix(strings.TrimSuffix(*c.flag, ".key"), ".crt")
}

// load reads the CA's key and certificate. done: the command returns code,
// a usage error, at once.
func (c demoCA) load(stderr io.Writer) (issuer *demopki.Cert, code int, done bool) {
	ca := c.path()
	issuer, err := demopki.Load(filepath.Dir(ca), filepath.Base(ca))
	if err != nil {
		return nil, usageError(stderr, "%s: --ca %s: %v", c.cmd, ca, err), true
	}
	return issuer, exitOK, false
}

// runDemoCert: axisctl demo-cert --organ ORGAN [--name NAME] [--ca PATH] --out DIR
//
// It issues a DEMO agency certificate, bound to the organ code by subject
// OU, from the demo issuing CA whose key is committed in testdata/pki: any
// hub that trusts the demo root accepts envelopes signed with it as coming
// from that organ. Never for production.
func runDemoCert(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo-cert", "--organ ORGAN [--name NAME] [--ca "+defaultDemoCA+"] --out DIR", stderr)
	organ := fs.String("organ", "", "organ code the certificate is bound to (subject OU), e.g. 000.03.33.H40")
	name := fs.String("name", "", "subject common name (default: the demo province's name for the organ, else \"DEMO agency ORGAN\")")
	caFlag := addDemoCAFlag(fs)
	out := fs.String("out", "", "folder for demo-agency-ORGAN.key, .crt and .chain.pem (created if missing)")
	force := fs.Bool("force", false, "overwrite existing files of the same name")
	if code, done := parseNoArgs(fs, args, stderr); done {
		return code
	}
	if code, done := requireFlags(fs, stderr, "organ", "out"); done {
		return code
	}
	id, err := envelope.ParseOrganID(*organ)
	if err != nil {
		return usageError(stderr, "demo-cert: --organ: %v", err)
	}
	cn := strings.TrimSpace(*name)
	if cn == "" {
		cn = demoName(id.String())
	}
	issuer, code, done := caFlag.load(stderr)
	if done {
		return code
	}
	if !issuer.Cert.IsCA {
		return usageError(stderr, "demo-cert: --ca %s: not a CA certificate", caFlag.path())
	}
	base := testgen.AgencyName(id.String())
	files := []string{
		filepath.Join(*out, base+".key"),
		filepath.Join(*out, base+".crt"),
		filepath.Join(*out, base+".chain.pem"),
	}
	if !*force {
		for _, f := range files {
			if _, err := os.Lstat(f); err == nil {
				return fail(stderr, fmt.Errorf("demo-cert: %s exists; use --force to replace it", f))
			}
		}
	}
	leaf, err := demopki.IssueAgency(issuer, id.String(), cn)
	if err != nil {
		return fail(stderr, fmt.Errorf("demo-cert: %w", err))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(stderr, fmt.Errorf("demo-cert: %w", err))
	}
	if err := leaf.Write(*out, base, issuer); err != nil {
		return fail(stderr, fmt.Errorf("demo-cert: %w", err))
	}
	fmt.Fprintf(stdout, "key   %s\ncert  %s\nchain %s\n", files[0], files[1], files[2])
	fmt.Fprintf(stderr, "DEMO certificate (not for production): CN=%q OU=%s, issued by %q, valid %s to %s.\n"+
		"Sign with: axisctl sign --key %s --cert %s IN.xml; the demo hub's token for it is %s\n",
		cn, id, issuer.Cert.Subject.CommonName, leaf.Cert.NotBefore.Format("2006-01-02"), leaf.Cert.NotAfter.Format("2006-01-02"),
		files[0], files[2], testgen.DemoToken(id.String()))
	return exitOK
}

// demoName is the certificate name for organ: the demo province's name for
// it, else a generic one.
func demoName(organ string) string {
	if n, ok := demoAgencyName(organ); ok {
		return n + " (DEMO)"
	}
	return "DEMO agency " + organ
}

// demoAgencyName is the demo province's name for organ.
func demoAgencyName(organ string) (string, bool) {
	for _, a := range testgen.DemoProvince() {
		if a.OrganID == organ {
			return a.Name, true
		}
	}
	return "", false
}
