package importer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// Fetcher downloads feed documents for the importer. Every URL must be https (http only when AllowHTTP is set, for
// tests) and name an allow-listed host; so must every redirect. The client it is given should refuse to connect to
// loopback, private and link-local addresses (NewClient with PublicAddr does): that check runs on the address
// actually dialled, after DNS resolution, so a name that resolves (or re-resolves) to an internal address is
// refused as well. Responses are bounded, and 403/429/503 answers and network errors are retried with backoff.
type Fetcher struct {
	Client    *http.Client
	Allow     []string // hosts, exact ("services.nvd.nist.gov") or a domain and its subdomains ("*.cisa.gov")
	AllowHTTP bool
	MaxBytes  int64 // one download; 0 means 2 GiB
	// MaxStaged bounds what one import keeps on disk between fetching its URLs and writing them; 0 means 4 GiB.
	MaxStaged int64
	Retries   int           // attempts after the first; 0 means 5
	Backoff   time.Duration // first retry delay (doubling each time); 0 means 2 s
	// NVDKey is the NVD API key (from $NVD_API_KEY): sent as the apiKey header, it raises NVD's rate limit.
	NVDKey string
	// NVDDelay is the pause between NVD API requests; 0 means NVD's advice (6 s, or 0.6 s with a key).
	NVDDelay  time.Duration
	UserAgent string
	TempDir   string
	// Sleep waits between attempts (tests make it instant); nil sleeps for real, ending early with ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	Clock vigil.Clock
}

// DefaultMaxDownload bounds one download.
const DefaultMaxDownload = 2 << 30

func (f *Fetcher) maxStaged() int64 {
	if f.MaxStaged > 0 {
		return f.MaxStaged
	}
	return 2 * DefaultMaxDownload
}

// PublicAddr is the SSRF guard: it refuses loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified,
// multicast and other special-purpose addresses, so a feed URL (or a redirect, or a DNS answer) cannot make Vigil
// reach into the network it runs in.
func PublicAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	bad := !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified()
	for _, p := range specialPrefixes {
		if p.Contains(ip) {
			bad = true
		}
	}
	if bad {
		return vigil.Errorf(vigil.EFORBIDDEN, "address %s is not public: refused (Vigil connects to public addresses only)", ip)
	}
	return nil
}

// AllowNets is the SSRF guard with the operator's exceptions: an address inside one of nets (an ISAO's TAXII
// server or a feed mirror reached over a VPN, an internal chat server's webhook) is admitted, any other must pass
// PublicAddr. The exceptions come from the operator's configuration (--allow-net), never from what an application
// user types, so a feed, TAXII or webhook URL cannot open the rest of the network. No nets: PublicAddr itself.
func AllowNets(nets []netip.Prefix) func(netip.Addr) error {
	if len(nets) == 0 {
		return PublicAddr
	}
	nets = slices.Clone(nets)
	return func(ip netip.Addr) error {
		for _, p := range nets {
			if p.Contains(ip.Unmap()) {
				return nil
			}
		}
		if err := PublicAddr(ip); err != nil {
			return vigil.Errorf(vigil.EFORBIDDEN, "%s, and not in --allow-net", vigil.ErrorMessage(err))
		}
		return nil
	}
}

var specialPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "2002::/16"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// NewClient returns an HTTP client whose every connection is checked by guard on the dialled address (nil means
// PublicAddr). It ignores proxy settings: a proxy would be the address dialled and defeat the check.
func NewClient(guard func(netip.Addr) error) *http.Client {
	if guard == nil {
		guard = PublicAddr
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("dial %s: not an IP address", address)
			}
			return guard(ip)
		}}
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true, MaxIdleConns: 16,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 15 * time.Second, ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second}
	return &http.Client{Transport: tr, Timeout: 2 * time.Hour}
}

// Allowed returns EFORBIDDEN unless raw is an https (or, when allowed, http) URL of an allow-listed host.
func (f *Fetcher) Allowed(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return vigil.Errorf(vigil.EINVALID, "%q is not a URL", raw)
	}
	return f.allowedURL(u)
}

func (f *Fetcher) allowedURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && f.AllowHTTP:
	default:
		return vigil.Errorf(vigil.EFORBIDDEN, "%s: only https URLs are fetched", u.Redacted())
	}
	if u.User != nil {
		return vigil.Errorf(vigil.EFORBIDDEN, "%s: URLs with credentials are refused", u.Redacted())
	}
	host := strings.ToLower(u.Hostname())
	for _, a := range f.Allow {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == host || (strings.HasPrefix(a, "*.") && (host == a[2:] || strings.HasSuffix(host, a[1:]))) {
			return nil
		}
	}
	return vigil.Errorf(vigil.EFORBIDDEN, "%s: host %s is not allow-listed (configure it as a feed: vigil feeds set)", u.Redacted(), host)
}

func (f *Fetcher) client() *http.Client {
	c := f.Client
	if c == nil {
		c = NewClient(nil)
	}
	cp := *c
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return vigil.Errorf(vigil.EINVALID, "%s: more than 5 redirects", via[0].URL.Redacted())
		}
		if err := f.allowedURL(req.URL); err != nil {
			return vigil.Errorf(vigil.EFORBIDDEN, "redirect refused: %s", vigil.ErrorMessage(err))
		}
		return nil
	}
	return &cp
}

func (f *Fetcher) sleep(ctx context.Context, d time.Duration) error {
	if f.Sleep != nil {
		return f.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (f *Fetcher) now() time.Time {
	if f.Clock != nil {
		return f.Clock.Now()
	}
	return vigil.SystemClock{}.Now()
}

// Conditional holds the validators of an earlier fetch, for a conditional request.
type Conditional struct {
	ETag, LastModified string
}

// Response is a fetched document: its body (for Get) or the temporary file holding it (for Download).
type Response struct {
	URL          string // after redirects
	Body         []byte
	Path         string
	Size         int64
	ETag         string
	LastModified string
	NotModified  bool
	FetchedAt    time.Time
}

// retryable reports whether a status is worth another attempt: NVD answers 403 and 429 when rate-limited and 503
// when busy.
func retryable(code int) bool {
	return code == http.StatusForbidden || code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable ||
		code == http.StatusBadGateway || code == http.StatusGatewayTimeout
}

// do performs a GET with retries; sink consumes a 200 body. It returns the final response metadata.
func (f *Fetcher) do(ctx context.Context, raw string, hdr http.Header, cond Conditional, sink func(name string, body io.Reader) (int64, error)) (*Response, error) {
	if err := f.Allowed(raw); err != nil {
		return nil, err
	}
	retries := f.Retries
	if retries <= 0 {
		retries = 5
	}
	backoff := f.Backoff
	if backoff <= 0 {
		backoff = 2 * time.Second
	}
	c := f.client()
	name := redact(raw)
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			if err := f.sleep(ctx, backoff); err != nil {
				return nil, err
			}
			backoff *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return nil, vigil.Errorf(vigil.EINVALID, "%s: %v", name, err)
		}
		for k, vs := range hdr {
			req.Header[k] = vs
		}
		if f.UserAgent != "" {
			req.Header.Set("User-Agent", f.UserAgent)
		}
		if cond.ETag != "" {
			req.Header.Set("If-None-Match", cond.ETag)
		}
		if cond.LastModified != "" {
			req.Header.Set("If-Modified-Since", cond.LastModified)
		}
		resp, err := c.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ve *vigil.Error
			if errors.As(err, &ve) { // a refused redirect or address: retrying will not help
				return nil, ve
			}
			last = vigil.Errorf(vigil.EUNAVAILABLE, "%s: %s", name, netReason(err))
			continue
		}
		out := &Response{URL: resp.Request.URL.String(), ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), FetchedAt: f.now()}
		switch {
		case resp.StatusCode == http.StatusNotModified:
			resp.Body.Close()
			out.NotModified = true
			return out, nil
		case resp.StatusCode == http.StatusOK:
			n, err := sink(name, resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			out.Size = n
			return out, nil
		case retryable(resp.StatusCode):
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			last = vigil.Errorf(vigil.EUNAVAILABLE, "%s: the server answered %s", name, resp.Status)
			if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && ra > 0 {
				backoff = min(time.Duration(ra)*time.Second, 10*time.Minute)
			}
			continue
		default:
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			return nil, vigil.Errorf(vigil.EINVALID, "%s: %s", name, resp.Status)
		}
	}
	return nil, fmt.Errorf("after %d attempts: %w", retries+1, last)
}

// netReason says why a request got no answer, in words an operator can act on and without the addresses dialled.
func netReason(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	var cert *tls.CertificateVerificationError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return "the host name does not resolve (check the URL and the server's DNS)"
	case errors.As(err, &dns):
		return "the host name could not be resolved (DNS did not answer)"
	case errors.As(err, &cert):
		return "the server's TLS certificate is not trusted"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "the connection was refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "the connection was reset"
	case errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH):
		return "the network or host is unreachable from this server"
	case os.IsTimeout(err):
		return "no answer in time (the host or the network is down, or a firewall drops the traffic)"
	case errors.As(err, &op):
		return "the connection failed (" + op.Op + ")"
	}
	return "the request failed"
}

// Get fetches a small document into memory (an NVD page, a ROLIE feed, one advisory), at most max bytes.
func (f *Fetcher) Get(ctx context.Context, raw string, hdr http.Header, cond Conditional, max int64) (*Response, error) {
	var body []byte
	res, err := f.do(ctx, raw, hdr, cond, func(name string, r io.Reader) (int64, error) {
		b, err := untrusted.ReadAll(name, r, max)
		body = b
		return int64(len(b)), err
	})
	if err != nil {
		return nil, err
	}
	res.Body = body
	return res, nil
}

// Download fetches a document into a temporary file named with the URL's extension (.zip, .gz, .json, .csv), so
// the importer reads it like a local file. The caller removes Path.
func (f *Fetcher) Download(ctx context.Context, raw string, cond Conditional) (*Response, error) {
	max := f.MaxBytes
	if max <= 0 {
		max = DefaultMaxDownload
	}
	var tmp string
	res, err := f.do(ctx, raw, nil, cond, func(name string, r io.Reader) (int64, error) {
		u, _ := url.Parse(raw)
		ext := strings.ToLower(path.Ext(u.Path))
		if len(ext) > 8 || strings.ContainsAny(ext, `/\`) {
			ext = ""
		}
		fh, err := os.CreateTemp(f.TempDir, TempPattern("fetch")+ext)
		if err != nil {
			return 0, tempError(name, err)
		}
		tmp = fh.Name()
		n, err := io.Copy(fh, untrusted.LimitReader(name, r, max, nil))
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(tmp)
			tmp = ""
			if vigil.ErrorCode(err) == vigil.EINVALID {
				return 0, err
			}
			if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
				return 0, tempError(name, err)
			}
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	res.Path = tmp
	return res, nil
}

// redact drops credentials and the query (NVD keys travel in a header, but a pasted URL may hold one) from a URL
// for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "key") || strings.Contains(strings.ToLower(k), "token") {
			q.Set(k, "REDACTED")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
