package testgen

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/axis-h40/axis/internal/demopki"
)

// A demo network: one national hub and the provinces that post to it
// (axisctl bench --network). Everything here is DEMO ONLY: a throwaway PKI
// made for the run and random tokens kept in the manifest.

// Network file names, under the network's folder.
const (
	NetworkManifest  = "network.json"         // what the load phase reads (tokens: mode 0600)
	NetworkConfig    = "axis-national.yaml"   // the national hub's axisd config
	NetworkRootCA    = "demo-network-root-ca" // pki/NAME.{key,crt,crl}
	NetworkCA        = "demo-network-issuing-ca"
	NetworkHub       = "demo-network-hub"
	MaxNetworkOrgans = 1 + 18 // the committee and its 18 departments
)

// NetworkOptions say what WriteNetwork makes.
type NetworkOptions struct {
	Provinces int    // 1..99: H01, H02, ...
	Organs    int    // signing organs per province, 1..MaxNetworkOrgans: the committee, then departments 01, 02, ...
	Listen    string // the national hub's listen address (default 127.0.0.1:0)
	// ProvinceURL is every province peer's url: the province hubs are not
	// running in the bench, so their relays queue (default
	// http://127.0.0.1:1, refused at once).
	ProvinceURL string
}

// Network is the manifest of a demo network (network.json). Paths are
// relative to its folder.
type Network struct {
	About      string            `json:"about"`
	Config     string            `json:"config"`
	Hub        string            `json:"hub"` // the national hub's name
	Roots      []string          `json:"roots"`
	AdminToken string            `json:"admin_token"`
	Central    []NetworkAgency   `json:"central"`
	Provinces  []NetworkProvince `json:"provinces"`
}

// NetworkAgency is an agency of the national hub (a central body).
type NetworkAgency struct {
	OrganID string `json:"organ_id"`
	Name    string `json:"name"`
	Token   string `json:"token"`
}

// NetworkProvince is a province: its peer name and token at the national
// hub, and the organs whose certificates sign its envelopes.
type NetworkProvince struct {
	Code  string `json:"code"` // H01...
	Name  string `json:"name"`
	Peer  string `json:"peer"`  // h01...
	Token string `json:"token"` // what its hub presents to the national hub
	// NationalToken is what the national hub presents to it (relays; the
	// bench runs no province hub).
	NationalToken string         `json:"national_token"`
	Organs        []NetworkOrgan `json:"organs"`
}

// NetworkOrgan is a province organ with a demo certificate.
type NetworkOrgan struct {
	OrganID string `json:"organ_id"`
	Name    string `json:"name"`
	Key     string `json:"key"`
	Chain   string `json:"chain"`
}

// Committee is the province's People's Committee, 000.00.00.CODE.
func (p NetworkProvince) Committee() string { return "000.00.00." + p.Code }

// ProvinceCode is the code of the i-th province (0-based): H01, H02, ...
func ProvinceCode(i int) string { return fmt.Sprintf("H%02d", i+1) }

func provinceName(code string) string {
	switch code {
	case "H40":
		return "Nam Định"
	case "H41":
		return "Nghệ An"
	}
	return "demo " + code
}

// WriteNetwork makes a demo network in dir: a throwaway PKI (pki/: a root
// and an issuing CA, their empty CRLs, the national hub's certificate and
// one certificate per signing organ, bound by subject OU), the national
// hub's config (axis-national.yaml: the central bodies as agencies, one
// kind axis peer per province with route *.CODE and its inbound token, the
// demo root trusted, revocation hold on the CRLs, data in dir/data) and the
// manifest (network.json).
func WriteNetwork(dir string, o NetworkOptions) (*Network, error) {
	switch {
	case o.Provinces < 1 || o.Provinces > 99:
		return nil, fmt.Errorf("testgen: %d provinces: want 1..99", o.Provinces)
	case o.Organs < 1 || o.Organs > MaxNetworkOrgans:
		return nil, fmt.Errorf("testgen: %d organs per province: want 1..%d", o.Organs, MaxNetworkOrgans)
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.ProvinceURL == "" {
		o.ProvinceURL = "http://127.0.0.1:1"
	}
	pki := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pki, 0o755); err != nil {
		return nil, err
	}
	root, err := demopki.Issue(nil, demopki.Spec{CommonName: "DEMO axis network Root CA", CA: true, NotBefore: demopki.RootFrom, NotAfter: demopki.RootUntil})
	if err != nil {
		return nil, err
	}
	ca, err := demopki.Issue(root, demopki.Spec{CommonName: "DEMO axis network Issuing CA", CA: true, NotBefore: demopki.RootFrom, NotAfter: demopki.CAUntil})
	if err != nil {
		return nil, err
	}
	hub, err := demopki.Issue(ca, demopki.Spec{CommonName: "DEMO axis national hub (axis-national)", OU: CentralBodies[0].OrganID, NotBefore: demopki.LeafFrom, NotAfter: demopki.LeafUntil})
	if err != nil {
		return nil, err
	}
	for _, w := range []struct {
		c     *demopki.Cert
		name  string
		chain []*demopki.Cert
	}{{root, NetworkRootCA, nil}, {ca, NetworkCA, []*demopki.Cert{root}}, {hub, NetworkHub, []*demopki.Cert{ca}}} {
		if err := w.c.Write(pki, w.name, w.chain...); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		ca   *demopki.Cert
		name string
	}{{root, NetworkRootCA}, {ca, NetworkCA}} {
		b, err := DemoCRL(c.ca, big.NewInt(1), demopki.LeafFrom, nil)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(pki, c.name+".crl"), b, 0o644); err != nil {
			return nil, err
		}
	}

	n := &Network{
		About:  "DEMO ONLY: a throwaway national hub for axisctl bench --network; the PKI in pki/ and these tokens are for the bench, never production",
		Config: NetworkConfig, Hub: "axis-national", Roots: []string{"pki/" + NetworkRootCA + ".crt"},
	}
	if n.AdminToken, err = randomToken("demo-admin-"); err != nil {
		return nil, err
	}
	for _, a := range CentralBodies {
		t, err := randomToken("demo-agency-")
		if err != nil {
			return nil, err
		}
		n.Central = append(n.Central, NetworkAgency{OrganID: a.OrganID, Name: a.Name, Token: t})
	}
	type job struct{ p, o int }
	var jobs []job
	for i := range o.Provinces {
		code := ProvinceCode(i)
		p := NetworkProvince{Code: code, Name: provinceName(code), Peer: strings.ToLower(code)}
		if p.Token, err = randomToken("demo-peer-" + p.Peer + "-"); err != nil {
			return nil, err
		}
		if p.NationalToken, err = randomToken("demo-peer-national-"); err != nil {
			return nil, err
		}
		for j := range o.Organs {
			org := NetworkOrgan{OrganID: p.Committee(), Name: "UBND tỉnh " + p.Name}
			if j > 0 {
				org.OrganID = fmt.Sprintf("000.00.%02d.%s", j, code)
				org.Name = departments[j-1] + " tỉnh " + p.Name
			}
			org.Key = "pki/" + AgencyName(org.OrganID) + ".key"
			org.Chain = "pki/" + AgencyName(org.OrganID) + ".chain.pem"
			p.Organs = append(p.Organs, org)
			jobs = append(jobs, job{i, j})
		}
		n.Provinces = append(n.Provinces, p)
	}

	// One RSA key per organ: on every core.
	var mu sync.Mutex
	var errs []error
	next := make(chan job)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				org := n.Provinces[j.p].Organs[j.o]
				c, err := demopki.IssueAgency(ca, org.OrganID, org.Name+" (DEMO)")
				if err == nil {
					err = c.Write(pki, AgencyName(org.OrganID), ca)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	if err := os.WriteFile(filepath.Join(dir, NetworkConfig), []byte(networkConfig(n, o)), 0o644); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, NetworkManifest), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return n, nil
}

// networkConfig is the national hub's axisd config.
func networkConfig(n *Network, o NetworkOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# axisd config of a DEMO national axis with %d provinces as peers: axisctl bench --network --init.
# DEMO ONLY: the PKI in pki/ is throwaway, the tokens are in network.json (the bench reads them).
listen: %s
data_dir: data
hub:
  name: %s
  key: pki/%s.key
  cert: pki/%s.chain.pem
trust:
  roots: [%s]
  revocation:
    mode: hold
    crl_files: [pki/%s.crl, pki/%s.crl]
admin:
  token_sha256: [%s]
# The province hubs are not running in the bench: relays to them are refused
# and queue (store-and-forward). A first retry after 30s keeps the failed
# attempts out of the intake measurement.
relay: {retry_min: 30s, retry_max: 5m}
agencies:
`, len(n.Provinces), o.Listen, n.Hub, NetworkHub, NetworkHub, n.Roots[0], NetworkRootCA, NetworkCA, sha(n.AdminToken))
	for _, a := range n.Central {
		fmt.Fprintf(&b, "  - {organ_id: %s, name: %q, token_sha256: %s}\n", a.OrganID, a.Name, sha(a.Token))
	}
	b.WriteString("peers:\n")
	for _, p := range n.Provinces {
		fmt.Fprintf(&b, "  - {name: %s, display_name: %q, url: %q, kind: axis, routes: [\"*.%s\"],\n     token: %s, token_sha256: %s}\n",
			p.Peer, "Trục tỉnh "+p.Name, o.ProvinceURL, p.Code, p.NationalToken, sha(p.Token))
	}
	return b.String()
}

// LoadNetwork reads dir's manifest.
func LoadNetwork(dir string) (*Network, error) {
	b, err := os.ReadFile(filepath.Join(dir, NetworkManifest))
	if err != nil {
		return nil, err
	}
	var n Network
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, NetworkManifest), err)
	}
	if len(n.Provinces) == 0 {
		return nil, fmt.Errorf("%s: no provinces", filepath.Join(dir, NetworkManifest))
	}
	return &n, nil
}

func randomToken(prefix string) (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b[:]), nil
}
