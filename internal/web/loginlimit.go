package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil"
)

// Sign-in limits. Each is keyed so that an attacker can only slow down the attacker's own attempts:
//   - per client address, every attempt (a spray of names from one place);
//   - per (name, address), failures beyond pairFreeFailures each make the pair wait, 1 s, 2 s, 4 s, ... up to
//     pairMaxBackoff (guessing one account from one place); the pair's wait never reaches another address;
//   - per name, failures across all addresses (guessing one account from many places). Running out does not
//     refuse anyone: it only takes away the free failures of every pair of that name, so each new address gets one
//     guess before its backoff starts, while the real user's correct password still signs in at once.
const (
	pairFreeFailures = 4
	pairMaxBackoff   = 15 * time.Minute
	nameFailures     = 10 // per minute, before every address's backoff starts at its first failure
)

// loginGate holds the sign-in limits' state, in memory: a restart forgets it, which costs an attacker nothing they
// could not get by waiting.
type loginGate struct {
	addr  *limiter
	name  *limiter
	clock vigil.Clock
	mu    sync.Mutex
	pairs map[string]*pairState
}

type pairState struct {
	failures int
	until    time.Time // no attempt before this
}

func newLoginGate(perAddr int, clock vigil.Clock) *loginGate {
	return &loginGate{addr: newLimiter(perAddr, time.Minute, clock), name: newLimiter(nameFailures, time.Minute, clock), clock: clock,
		pairs: map[string]*pairState{}}
}

func pairKey(name, addr string) string { return strings.ToLower(name) + "\x00" + addr }

// admit says whether an attempt for name from addr may check its password now, and if not how long to wait.
func (g *loginGate) admit(name, addr string) (bool, time.Duration) {
	if !g.addr.allow(addr) {
		return false, time.Minute
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if p, ok := g.pairs[pairKey(name, addr)]; ok {
		if wait := p.until.Sub(g.clock.Now()); wait > 0 {
			return false, wait
		}
	}
	return true, 0
}

// failed records a wrong password (or unknown name) for name from addr and starts or lengthens the pair's wait.
func (g *loginGate) failed(name, addr string) {
	free := pairFreeFailures
	if !g.name.allow(strings.ToLower(name)) {
		free = 0 // many addresses are guessing this name
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock.Now()
	if len(g.pairs) > 100000 { // bound memory under a spray of names and addresses
		for k, p := range g.pairs {
			if now.Sub(p.until) > pairMaxBackoff {
				delete(g.pairs, k)
			}
		}
	}
	k := pairKey(name, addr)
	p, ok := g.pairs[k]
	if !ok {
		p = &pairState{}
		g.pairs[k] = p
	}
	p.failures++
	if over := p.failures - free; over > 0 { // the first failure beyond the free ones waits a second
		p.until = now.Add(min(pairMaxBackoff, time.Second<<min(over-1, 20)))
	}
}

// succeeded forgets the pair's failures: the user is in.
func (g *loginGate) succeeded(name, addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pairs, pairKey(name, addr))
}

// clientAddr is the address a request comes from. X-Forwarded-For is read only when the connection comes from a
// trusted proxy, right to left, skipping the trusted proxies in the chain: the first address that is not one is the
// client (anything to its left was written by the client and proves nothing). Without trusted proxies every client
// behind a proxy would share the proxy's address, and so its sign-in limit.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !s.trusted(ip) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: the last trusted proxy is the best we know
		}
		ip = hop.Unmap()
		if !s.trusted(ip) {
			break
		}
	}
	return ip.String()
}

func (s *Server) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.opt.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
