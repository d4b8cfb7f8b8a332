// Package taxiiserver is a small TAXII 2.1 server for tests, written to the OASIS TAXII 2.1 specification: server
// discovery (/taxii2/), one API root (/api1/), its collections, a collection's objects (GET with added_after,
// limit, next, match[id], match[type]; POST of an envelope), its manifest, an object by id, and the status of an
// add request; HTTP basic authentication; the application/taxii+json;version=2.1 media type enforced on requests
// (406 for an Accept without it, 415 for a body of another type) and used on every response. Every version of an
// object is kept (by id and modified), and a read returns the latest unless match[version]=all. Objects POSTed are
// checked by Check when set, so a test server can refuse what a real ISAO would refuse. No complete TAXII 2.1
// server installs from the registries reachable here (issue 14), hence this one.
package taxiiserver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MediaType is the TAXII 2.1 media type.
const MediaType = "application/taxii+json;version=2.1"

// Server is the test server's state. Create with New; mount Handler.
type Server struct {
	User, Password string
	// Check, when set, judges each POSTed object; a non-nil error fails that object in the status.
	Check func(obj json.RawMessage) error
	// Now gives the time objects are added at (each call must be later than the previous one's).
	Now func() time.Time
	// PageSize is the largest page returned (and the default limit); 2 in tests that exercise paging.
	PageSize int
	// Pending makes a new request's status read pending this many times before it reads as it is (a server that
	// takes objects in asynchronously, as TAXII 2.1 §5.4 allows).
	Pending int

	mu          sync.Mutex
	collections []*collection
	statuses    map[string]*status
	seq         int
}

type collection struct {
	ID, Title, Description string
	CanRead, CanWrite      bool
	objects                []version // in the order added
}

type version struct {
	id, typ, modified string
	added             time.Time
	raw               json.RawMessage
}

type status struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	RequestTimestamp string          `json:"request_timestamp"`
	TotalCount       int             `json:"total_count"`
	SuccessCount     int             `json:"success_count"`
	Successes        []statusDetails `json:"successes,omitempty"`
	FailureCount     int             `json:"failure_count"`
	Failures         []statusDetails `json:"failures,omitempty"`
	PendingCount     int             `json:"pending_count"`
	pendingReads     int
}

// view is the status as a client reads it now: pending, with nothing counted yet, while pendingReads last.
func (st *status) view() *status {
	if st.pendingReads == 0 {
		return st
	}
	st.pendingReads--
	return &status{ID: st.ID, Status: "pending", RequestTimestamp: st.RequestTimestamp, TotalCount: st.TotalCount, PendingCount: st.TotalCount}
}

type statusDetails struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// New returns a server with the given user, password and collections (id → title), all readable and writable.
func New(user, password string, collections map[string]string) *Server {
	s := &Server{User: user, Password: password, statuses: map[string]*status{}, PageSize: 100}
	ids := make([]string, 0, len(collections))
	for id := range collections {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s.collections = append(s.collections, &collection{ID: id, Title: collections[id], CanRead: true, CanWrite: true})
	}
	var last time.Time
	s.Now = func() time.Time {
		t := time.Now().UTC().Truncate(time.Millisecond)
		if !t.After(last) {
			t = last.Add(time.Millisecond)
		}
		last = t
		return t
	}
	return s
}

// ts formats a TAXII timestamp (millisecond precision is what the paging relies on).
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Handler serves the TAXII routes.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != s.User || p != s.Password {
			w.Header().Set("WWW-Authenticate", `Basic realm="taxii"`)
			s.fail(w, http.StatusUnauthorized, "Unauthorized", "basic authentication required")
			return
		}
		if !acceptsTAXII(r.Header.Get("Accept")) {
			s.fail(w, http.StatusNotAcceptable, "Not Acceptable", "Accept must be "+MediaType)
			return
		}
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		switch {
		case len(parts) == 1 && parts[0] == "taxii2" && r.Method == http.MethodGet:
			s.write(w, http.StatusOK, map[string]any{"title": "Vigil test TAXII server", "description": "TAXII 2.1 server for Vigil's tests",
				"contact": "psirt@vigil.example", "default": "/api1/", "api_roots": []string{"/api1/"}})
		case len(parts) == 1 && parts[0] == "api1" && r.Method == http.MethodGet:
			s.write(w, http.StatusOK, map[string]any{"title": "API root 1", "versions": []string{MediaType}, "max_content_length": 104857600})
		case len(parts) == 2 && parts[0] == "api1" && parts[1] == "collections" && r.Method == http.MethodGet:
			s.mu.Lock()
			var out []map[string]any
			for _, c := range s.collections {
				out = append(out, c.resource())
			}
			s.mu.Unlock()
			s.write(w, http.StatusOK, map[string]any{"collections": out})
		case len(parts) >= 3 && parts[0] == "api1" && parts[1] == "collections":
			s.collection(w, r, parts[2], parts[3:])
		case len(parts) == 3 && parts[0] == "api1" && parts[1] == "status" && r.Method == http.MethodGet:
			s.mu.Lock()
			st := s.statuses[parts[2]]
			if st != nil {
				st = st.view()
			}
			s.mu.Unlock()
			if st == nil {
				s.fail(w, http.StatusNotFound, "Not Found", "no status "+parts[2])
				return
			}
			s.write(w, http.StatusOK, st)
		default:
			s.fail(w, http.StatusNotFound, "Not Found", r.Method+" "+r.URL.Path)
		}
	})
}

func (c *collection) resource() map[string]any {
	return map[string]any{"id": c.ID, "title": c.Title, "description": "Collection " + c.Title, "can_read": c.CanRead, "can_write": c.CanWrite, "media_types": []string{"application/stix+json;version=2.1"}}
}

func acceptsTAXII(accept string) bool {
	for _, a := range strings.Split(accept, ",") {
		if isTAXII(a) {
			return true
		}
	}
	return false
}

func isTAXII(v string) bool {
	parts := strings.Split(v, ";")
	if strings.TrimSpace(strings.ToLower(parts[0])) != "application/taxii+json" {
		return false
	}
	for _, p := range parts[1:] {
		if k, val, _ := strings.Cut(strings.TrimSpace(p), "="); strings.EqualFold(k, "version") && val == "2.1" {
			return true
		}
	}
	return false
}

func (s *Server) collection(w http.ResponseWriter, r *http.Request, id string, rest []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.collections, func(c *collection) bool { return c.ID == id })
	if i < 0 {
		s.fail(w, http.StatusNotFound, "Not Found", "no collection "+id)
		return
	}
	c := s.collections[i]
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		s.write(w, http.StatusOK, c.resource())
	case len(rest) == 1 && rest[0] == "objects" && r.Method == http.MethodPost:
		s.add(w, r, c)
	case len(rest) == 1 && (rest[0] == "objects" || rest[0] == "manifest") && r.Method == http.MethodGet:
		s.read(w, r, c, rest[0] == "manifest", "")
	case len(rest) == 2 && rest[0] == "objects" && r.Method == http.MethodGet:
		s.read(w, r, c, false, rest[1])
	default:
		s.fail(w, http.StatusNotFound, "Not Found", r.Method+" "+r.URL.Path)
	}
}

// add takes an envelope of objects: each needs type, id, spec_version 2.1 and, for an SDO or SRO, created and
// modified (the version); a version already held is a success that changes nothing.
func (s *Server) add(w http.ResponseWriter, r *http.Request, c *collection) {
	if !isTAXII(r.Header.Get("Content-Type")) {
		s.fail(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "Content-Type must be "+MediaType)
		return
	}
	var env struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 104857600)).Decode(&env); err != nil {
		s.fail(w, http.StatusBadRequest, "Bad Request", "not an envelope: "+err.Error())
		return
	}
	now := s.Now()
	s.seq++
	st := &status{ID: fmt.Sprintf("2d086da7-4bdc-4f91-900e-%012d", s.seq), Status: "complete", RequestTimestamp: ts(now), TotalCount: len(env.Objects),
		pendingReads: s.Pending}
	for _, raw := range env.Objects {
		var h struct {
			Type, ID, Modified, Created string
			SpecVersion                 string `json:"spec_version"`
		}
		json.Unmarshal(raw, &h)
		ver := h.Modified
		if ver == "" {
			ver = h.Created
		}
		var err error
		switch {
		case h.Type == "" || !strings.HasPrefix(h.ID, h.Type+"--"):
			err = fmt.Errorf("id %q does not name its type %q", h.ID, h.Type)
		case h.SpecVersion != "2.1":
			err = fmt.Errorf("spec_version %q: want 2.1", h.SpecVersion)
		case s.Check != nil:
			err = s.Check(raw)
		}
		if err != nil {
			st.FailureCount++
			st.Failures = append(st.Failures, statusDetails{ID: h.ID, Version: ver, Message: err.Error()})
			continue
		}
		if !slices.ContainsFunc(c.objects, func(v version) bool { return v.id == h.ID && v.modified == ver }) {
			c.objects = append(c.objects, version{id: h.ID, typ: h.Type, modified: ver, added: now, raw: raw})
		}
		st.SuccessCount++
		st.Successes = append(st.Successes, statusDetails{ID: h.ID, Version: ver})
	}
	s.statuses[st.ID] = st
	s.write(w, http.StatusAccepted, st.view())
}

// read serves objects, an object's versions, or the manifest: filtered by added_after, match[id], match[type] and
// match[version] (last by default, or all, first, or a version), paged by limit and next (the index to continue
// at, opaque to clients).
func (s *Server) read(w http.ResponseWriter, r *http.Request, c *collection, manifest bool, objectID string) {
	q := r.URL.Query()
	var after time.Time
	if a := q.Get("added_after"); a != "" {
		t, err := time.Parse(time.RFC3339Nano, a)
		if err != nil {
			s.fail(w, http.StatusBadRequest, "Bad Request", "added_after: "+err.Error())
			return
		}
		after = t
	}
	ids := splitMatch(q.Get("match[id]"))
	if objectID != "" {
		ids = []string{objectID}
	}
	types := splitMatch(q.Get("match[type]"))
	which := q.Get("match[version]")
	if which == "" {
		which = "last"
	}
	latest := map[string]string{}
	first := map[string]string{}
	for _, v := range c.objects {
		if v.modified > latest[v.id] {
			latest[v.id] = v.modified
		}
		if f, ok := first[v.id]; !ok || v.modified < f {
			first[v.id] = v.modified
		}
	}
	var sel []version
	for _, v := range c.objects {
		switch {
		case !after.IsZero() && !v.added.After(after):
		case len(ids) > 0 && !slices.Contains(ids, v.id):
		case len(types) > 0 && !slices.Contains(types, v.typ):
		case which == "last" && v.modified != latest[v.id]:
		case which == "first" && v.modified != first[v.id]:
		case which != "all" && which != "last" && which != "first" && !slices.Contains(splitMatch(which), v.modified):
		default:
			sel = append(sel, v)
		}
	}
	if objectID != "" && len(sel) == 0 {
		s.fail(w, http.StatusNotFound, "Not Found", "no object "+objectID)
		return
	}
	start := 0
	if n := q.Get("next"); n != "" {
		b, err := base64.RawURLEncoding.DecodeString(n)
		i, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || i < 0 || i > len(sel) {
			s.fail(w, http.StatusBadRequest, "Bad Request", "next: not a value this server gave")
			return
		}
		start = i
	}
	limit := s.PageSize
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && l < limit {
		limit = l
	}
	end := min(start+limit, len(sel))
	page := sel[start:end]
	out := map[string]any{}
	if end < len(sel) {
		out["more"] = true
		out["next"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	if len(page) > 0 {
		w.Header().Set("X-TAXII-Date-Added-First", ts(page[0].added))
		w.Header().Set("X-TAXII-Date-Added-Last", ts(page[len(page)-1].added))
	}
	if manifest {
		var recs []map[string]any
		for _, v := range page {
			recs = append(recs, map[string]any{"id": v.id, "date_added": ts(v.added), "version": v.modified, "media_type": "application/stix+json;version=2.1"})
		}
		if recs != nil {
			out["objects"] = recs
		}
	} else if len(page) > 0 {
		objs := make([]json.RawMessage, len(page))
		for i, v := range page {
			objs[i] = v.raw
		}
		out["objects"] = objs
	}
	s.write(w, http.StatusOK, out)
}

func splitMatch(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func (s *Server) write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", MediaType)
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func (s *Server) fail(w http.ResponseWriter, code int, title, desc string) {
	s.write(w, code, map[string]any{"title": title, "description": desc, "http_status": strconv.Itoa(code)})
}

// Objects returns the objects a collection holds, every version, in the order added (for a test's assertions).
func (s *Server) Objects(collection string) []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.collections {
		if c.ID == collection {
			var out []json.RawMessage
			for _, v := range c.objects {
				out = append(out, v.raw)
			}
			return out
		}
	}
	return nil
}
