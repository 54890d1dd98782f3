package axis

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/axis-h40/axis/store/record"
)

// Directory is this hub's view of who is where: its own agencies, its peers
// and their routes, and who holds which token. A reload (Hub.Reload)
// builds a new one from the new config and replace swaps its contents in
// at once under mu: every lookup sees the old directory or the new one,
// never a mix. The agencies registered over VDXP (registry.go) live beside
// the configured ones and survive a reload.
type Directory struct {
	mu       sync.RWMutex
	agencies map[string]*Agency // configured, then registered ones the config does not list
	order    []string
	peers    []*Peer // never changed in place: replace puts a new slice
	byName   map[string]*Peer
	tokens   map[string]Caller // token SHA-256 → caller

	configured map[string]bool    // organ codes of the config's agencies
	registered map[string]*Agency // registered over VDXP, by organ code
	regOrder   []string
}

// Caller is an authenticated client.
type Caller struct {
	Agency string // organ code, for an agency
	Peer   string // peer name, for a peer hub
	Admin  bool   // an administrator, or a viewer (reads what an administrator reads)
	// Name is a named administrator's or viewer's name (admin.users); ""
	// for an unnamed administrator (admin.token_sha256).
	Name string
	// Viewer reads but may not change anything: no re-drive, no repair.
	Viewer bool
}

// String names the caller in logs and in the event chain: "admin",
// "admin:NAME", "viewer:NAME", "peer:NAME" or the agency's organ code.
func (c Caller) String() string {
	switch {
	case c.Admin && c.Viewer:
		return "viewer:" + c.Name
	case c.Admin && c.Name != "":
		return "admin:" + c.Name
	case c.Admin:
		return "admin"
	case c.Peer != "":
		return "peer:" + c.Peer
	}
	return c.Agency
}

// NewDirectory indexes a checked config.
func NewDirectory(c *Config) *Directory {
	d := &Directory{agencies: map[string]*Agency{}, byName: map[string]*Peer{}, tokens: map[string]Caller{},
		configured: map[string]bool{}, registered: map[string]*Agency{}}
	for i := range c.Agencies {
		a := &c.Agencies[i]
		d.agencies[a.OrganID] = a
		d.configured[a.OrganID] = true
		d.order = append(d.order, a.OrganID)
		if a.TokenSHA256 != "" {
			d.tokens[strings.ToLower(a.TokenSHA256)] = Caller{Agency: a.OrganID}
		}
	}
	for i := range c.Peers {
		p := &c.Peers[i]
		d.peers = append(d.peers, p)
		d.byName[p.Name] = p
		if p.TokenSHA256 != "" {
			d.tokens[strings.ToLower(p.TokenSHA256)] = Caller{Peer: p.Name}
		}
	}
	for _, h := range c.Admin.TokenSHA256 {
		d.tokens[strings.ToLower(h)] = Caller{Admin: true}
	}
	for _, u := range c.Admin.Users {
		d.tokens[strings.ToLower(u.TokenSHA256)] = Caller{Admin: true, Name: u.Name, Viewer: u.Role == RoleViewer}
	}
	return d
}

// replace takes nd's configured agencies, peers and tokens (nd is a
// directory NewDirectory made of a reloaded config, not in use) and keeps
// the agencies registered over VDXP that the new config does not list.
func (d *Directory) replace(nd *Directory) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, o := range d.regOrder {
		if !nd.configured[o] {
			nd.agencies[o] = d.registered[o]
			nd.order = append(nd.order, o)
		}
	}
	d.agencies, d.order, d.configured = nd.agencies, nd.order, nd.configured
	d.peers, d.byName, d.tokens = nd.peers, nd.byName, nd.tokens
}

// configuredAgency reports whether organ is one of the config's agencies
// (not one registered over VDXP).
func (d *Directory) configuredAgency(organ string) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.configured[organ]
}

// Authenticate maps a bearer token to its caller.
func (d *Directory) Authenticate(token string) (Caller, bool) {
	if token == "" {
		return Caller{}, false
	}
	h := TokenHash(token)
	d.mu.RLock()
	defer d.mu.RUnlock()
	c, ok := d.tokens[h]
	return c, ok
}

// Agency returns a local agency.
func (d *Directory) Agency(organ string) (*Agency, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.agencies[organ]
	return a, ok
}

// Agencies lists the local agencies in config order, then those registered
// over VDXP.
func (d *Directory) Agencies() []*Agency {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]*Agency, len(d.order))
	for i, o := range d.order {
		out[i] = d.agencies[o]
	}
	return out
}

// Peer returns a peer by name.
func (d *Directory) Peer(name string) (*Peer, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	p, ok := d.byName[name]
	return p, ok
}

// Peers lists the peers in config order (the caller must not change the
// slice).
func (d *Directory) Peers() []*Peer {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.peers
}

// Pins maps each agency to its registered certificate fingerprints, for the
// verifier's sender binding.
func (d *Directory) Pins() map[string][]string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := map[string][]string{}
	for o, a := range d.agencies {
		if len(a.CertSHA256) > 0 {
			out[o] = a.CertSHA256
		}
	}
	return out
}

var errRoutesBack = errors.New("routing loop")

// matchRoute reports whether organ matches a route pattern ("*" matches
// everything; otherwise shell-style, e.g. "*.H41", "000.00.*.G22").
func matchRoute(pattern, organ string) (bool, error) {
	if pattern == "*" {
		return true, nil
	}
	return path.Match(pattern, organ)
}

// Route decides where organ's copy goes: local when it is in the directory,
// else the first peer whose route matches. from is the peer an envelope came
// through: a route back to it is refused (no loops).
func (d *Directory) Route(organ, from string) (record.Route, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if _, ok := d.agencies[organ]; ok {
		return record.Route{OrganID: organ}, nil
	}
	for _, p := range d.peers {
		for _, pat := range p.Routes {
			if ok, _ := matchRoute(pat, organ); ok {
				if p.Name == from {
					return record.Route{}, fmt.Errorf("%w: %s routes back to %s, where the envelope came from", errRoutesBack, organ, from)
				}
				return record.Route{OrganID: organ, Peer: p.Name}, nil
			}
		}
	}
	return record.Route{}, fmt.Errorf("%s is not in this hub's directory and no peer route matches", organ)
}

// register adds an agency that is not in the config (registered over
// VDXP); while the config lists the same organ, the configured one stays in
// the directory.
func (d *Directory) register(a *Agency) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.registered[a.OrganID]; !ok {
		d.regOrder = append(d.regOrder, a.OrganID)
	}
	d.registered[a.OrganID] = a
	if d.configured[a.OrganID] {
		return
	}
	if _, ok := d.agencies[a.OrganID]; !ok {
		d.order = append(d.order, a.OrganID)
	}
	d.agencies[a.OrganID] = a
}

// unregister removes a registered agency (a configured one of the same code
// stays).
func (d *Directory) unregister(organ string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.registered, organ)
	d.regOrder = without(d.regOrder, organ)
	if d.configured[organ] {
		return
	}
	delete(d.agencies, organ)
	d.order = without(d.order, organ)
}

func without(list []string, s string) []string {
	for i, o := range list {
		if o == s {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}
