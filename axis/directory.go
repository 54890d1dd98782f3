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
// and their routes, and who holds which token.
type Directory struct {
	mu       sync.RWMutex // agencies and order change when agencies register over VDXP
	agencies map[string]*Agency
	order    []string
	peers    []*Peer
	byName   map[string]*Peer
	tokens   map[string]Caller // token SHA-256 → caller
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
	d := &Directory{agencies: map[string]*Agency{}, byName: map[string]*Peer{}, tokens: map[string]Caller{}}
	for i := range c.Agencies {
		a := &c.Agencies[i]
		d.agencies[a.OrganID] = a
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

// Authenticate maps a bearer token to its caller.
func (d *Directory) Authenticate(token string) (Caller, bool) {
	if token == "" {
		return Caller{}, false
	}
	c, ok := d.tokens[TokenHash(token)]
	return c, ok
}

// Agency returns a local agency.
func (d *Directory) Agency(organ string) (*Agency, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.agencies[organ]
	return a, ok
}

// Agencies lists the local agencies in config order.
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
	p, ok := d.byName[name]
	return p, ok
}

// Peers lists the peers in config order.
func (d *Directory) Peers() []*Peer { return d.peers }

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
	if _, ok := d.Agency(organ); ok {
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

// register adds an agency that is not in the config (registered over VDXP).
func (d *Directory) register(a *Agency) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.agencies[a.OrganID]; !ok {
		d.order = append(d.order, a.OrganID)
	}
	d.agencies[a.OrganID] = a
}

// unregister removes a registered agency.
func (d *Directory) unregister(organ string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.agencies, organ)
	for i, o := range d.order {
		if o == organ {
			d.order = append(d.order[:i:i], d.order[i+1:]...)
			break
		}
	}
}
