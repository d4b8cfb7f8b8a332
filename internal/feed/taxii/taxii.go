// Package taxii is a TAXII 2.1 client (OASIS TAXII Version 2.1, 2021): server discovery, an API root's
// information, its collections, adding objects to a collection and polling the status of that request, and reading
// a collection's objects after a date with the server's paging (added_after, limit, next). It speaks only the
// TAXII media type, application/taxii+json;version=2.1, and authenticates with HTTP basic authentication, as ISAO
// servers (Health-ISAC's, MITRE's) expect. Responses are untrusted: every body is read with a bound, and errors
// name the resource and what the server said.
package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/untrusted"
)

// MediaType is the TAXII 2.1 media type of every request and response body.
const MediaType = "application/taxii+json;version=2.1"

// MaxResponse bounds a response body (64 MiB, the size of a large ISAO page).
const MaxResponse = 64 << 20

// Client talks to one TAXII server as one user.
type Client struct {
	HTTP           *http.Client // http.DefaultClient when nil
	User, Password string
}

// Discovery is the server discovery resource.
type Discovery struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Contact     string   `json:"contact,omitempty"`
	Default     string   `json:"default,omitempty"`
	APIRoots    []string `json:"api_roots,omitempty"`
}

// APIRoot is the API root information resource.
type APIRoot struct {
	Title            string   `json:"title"`
	Description      string   `json:"description,omitempty"`
	Versions         []string `json:"versions"`
	MaxContentLength int64    `json:"max_content_length"`
}

// Collection is a collection resource.
type Collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types,omitempty"`
}

// Status is the status resource of an add-objects request.
type Status struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"` // complete or pending
	RequestTimestamp string          `json:"request_timestamp,omitempty"`
	TotalCount       int             `json:"total_count"`
	SuccessCount     int             `json:"success_count"`
	Successes        []StatusDetails `json:"successes,omitempty"`
	FailureCount     int             `json:"failure_count"`
	Failures         []StatusDetails `json:"failures,omitempty"`
	PendingCount     int             `json:"pending_count"`
	Pendings         []StatusDetails `json:"pendings,omitempty"`
}

// StatusDetails names one object of a request and, for a failure, why.
type StatusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// Envelope is a page of objects.
type Envelope struct {
	More    bool              `json:"more,omitempty"`
	Next    string            `json:"next,omitempty"`
	Objects []json.RawMessage `json:"objects,omitempty"`
}

// Page is one page of a collection's objects, with the dates the server added its first and last object
// (X-TAXII-Date-Added-First/Last): the next poll asks for objects added after Last.
type Page struct {
	Envelope
	AddedFirst, AddedLast string
}

// Error is a TAXII error message from the server.
type Error struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

func (c *Client) do(ctx context.Context, method, u string, body []byte, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "taxii %s: %v", u, err)
	}
	req.Header.Set("Accept", MediaType)
	if body != nil {
		req.Header.Set("Content-Type", MediaType)
	}
	if c.User != "" || c.Password != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, vigil.Errorf(vigil.EUNAVAILABLE, "taxii %s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := untrusted.ReadAll("taxii "+u, resp.Body, MaxResponse)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e Error
		msg := untrusted.Clip(strings.TrimSpace(string(b)))
		if json.Unmarshal(b, &e) == nil && e.Title != "" {
			msg = untrusted.Clip(strings.TrimSpace(e.Title + ": " + e.Description))
		}
		code := vigil.EUNAVAILABLE
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			code = vigil.EFORBIDDEN
		case http.StatusNotFound:
			code = vigil.ENOTFOUND
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusNotAcceptable:
			code = vigil.EINVALID
		}
		return nil, vigil.Errorf(code, "taxii %s %s: %s: %s", method, u, resp.Status, msg)
	}
	if ct := resp.Header.Get("Content-Type"); out != nil && !IsMediaType(ct) {
		return nil, vigil.Errorf(vigil.EUNAVAILABLE, "taxii %s %s: the server answered %q, not %s", method, u, ct, MediaType)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, vigil.Errorf(vigil.EUNAVAILABLE, "taxii %s %s: %s", method, u, untrusted.DescribeJSON(b, err))
		}
	}
	return resp.Header, nil
}

// IsMediaType reports whether a Content-Type or Accept value is the TAXII 2.1 media type (parameters in any
// spacing).
func IsMediaType(v string) bool {
	parts := strings.Split(v, ";")
	if strings.TrimSpace(strings.ToLower(parts[0])) != "application/taxii+json" {
		return false
	}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "version") && strings.Trim(val, `"`) == "2.1" {
			return true
		}
	}
	return false
}

// Discover reads a server's discovery resource.
func (c *Client) Discover(ctx context.Context, u string) (*Discovery, error) {
	var d Discovery
	if _, err := c.do(ctx, http.MethodGet, slash(u), nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// APIRoot reads an API root's information.
func (c *Client) APIRoot(ctx context.Context, root string) (*APIRoot, error) {
	var r APIRoot
	if _, err := c.do(ctx, http.MethodGet, slash(root), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ResolveRoot turns the URL an ISAO gives (its discovery endpoint or an API root) into an API root URL: a
// discovery resource's default root, else its only one.
func (c *Client) ResolveRoot(ctx context.Context, u string) (string, error) {
	var probe struct {
		APIRoots []string `json:"api_roots"`
		Default  string   `json:"default"`
		Versions []string `json:"versions"`
	}
	if _, err := c.do(ctx, http.MethodGet, slash(u), nil, &probe); err != nil {
		return "", err
	}
	if len(probe.Versions) > 0 {
		return slash(u), nil
	}
	root := probe.Default
	if root == "" && len(probe.APIRoots) == 1 {
		root = probe.APIRoots[0]
	}
	if root == "" {
		return "", vigil.Errorf(vigil.EINVALID, "taxii %s: the discovery resource names %d API roots and no default: give the API root's URL", u, len(probe.APIRoots))
	}
	ref, err := url.Parse(root)
	if err != nil {
		return "", vigil.Errorf(vigil.EUNAVAILABLE, "taxii %s: API root %q: %v", u, untrusted.Clip(root), err)
	}
	base, _ := url.Parse(slash(u))
	return slash(base.ResolveReference(ref).String()), nil
}

// Collections lists an API root's collections.
func (c *Client) Collections(ctx context.Context, root string) ([]Collection, error) {
	var r struct {
		Collections []Collection `json:"collections"`
	}
	if _, err := c.do(ctx, http.MethodGet, slash(root)+"collections/", nil, &r); err != nil {
		return nil, err
	}
	return r.Collections, nil
}

// Collection reads one collection.
func (c *Client) Collection(ctx context.Context, root, id string) (*Collection, error) {
	var col Collection
	if _, err := c.do(ctx, http.MethodGet, slash(root)+"collections/"+url.PathEscape(id)+"/", nil, &col); err != nil {
		return nil, err
	}
	return &col, nil
}

// AddObjects posts objects (an envelope) to a collection and returns the request's status.
func (c *Client) AddObjects(ctx context.Context, root, collection string, objects []json.RawMessage) (*Status, error) {
	body, err := json.Marshal(Envelope{Objects: objects})
	if err != nil {
		return nil, err
	}
	var st Status
	if _, err := c.do(ctx, http.MethodPost, slash(root)+"collections/"+url.PathEscape(collection)+"/objects/", body, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Status reads the status of an add-objects request.
func (c *Client) Status(ctx context.Context, root, id string) (*Status, error) {
	var st Status
	if _, err := c.do(ctx, http.MethodGet, slash(root)+"status/"+url.PathEscape(id)+"/", nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// WaitStatus polls a pending request's status until it is complete, the attempts run out or ctx ends, waiting
// between polls by the after function (time.After in production).
func (c *Client) WaitStatus(ctx context.Context, root string, st *Status, attempts int, after func(time.Duration) <-chan time.Time) (*Status, error) {
	for i := 0; st.Status != "complete" && i < attempts; i++ {
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-after(time.Duration(1<<min(i, 5)) * time.Second):
		}
		next, err := c.Status(ctx, root, st.ID)
		if err != nil {
			return st, err
		}
		st = next
	}
	return st, nil
}

// Objects reads one page of a collection's objects added after addedAfter (a TAXII timestamp; "" for all),
// continuing from next ("" for the first page), at most limit objects (0 for the server's default).
func (c *Client) Objects(ctx context.Context, root, collection, addedAfter, next string, limit int) (*Page, error) {
	q := url.Values{}
	if addedAfter != "" {
		q.Set("added_after", addedAfter)
	}
	if next != "" {
		q.Set("next", next)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	u := slash(root) + "collections/" + url.PathEscape(collection) + "/objects/"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var p Page
	h, err := c.do(ctx, http.MethodGet, u, nil, &p.Envelope)
	if err != nil {
		return nil, err
	}
	p.AddedFirst, p.AddedLast = h.Get("X-TAXII-Date-Added-First"), h.Get("X-TAXII-Date-Added-Last")
	return &p, nil
}

func slash(u string) string {
	if strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}

// CollectionURL is the URL of a collection under an API root, the name a feed polls it by.
func CollectionURL(root, collection string) string {
	return slash(root) + "collections/" + url.PathEscape(collection) + "/"
}

// ErrorText formats a status's failures for a person.
func (st *Status) ErrorText() string {
	var parts []string
	for _, f := range st.Failures {
		parts = append(parts, fmt.Sprintf("%s: %s", f.ID, f.Message))
	}
	return strings.Join(parts, "; ")
}
