package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/vigil-dev/vigil"
)

// Cybersecurity signals (G2016 counts CISA advisories among the sources of cybersecurity signals): a CSAF advisory
// naming one of our devices, by product name or model number, or naming our organization as the vendor, is
// recorded against those devices, dated with the advisory's release date so the regulatory clocks can start on it.

// Ways a signal matched.
const (
	MatchModel  = "model"
	MatchName   = "name"
	MatchVendor = "vendor"
)

type signalDevice struct {
	id          int64
	name, model []string // folded tokens
	orgName     []string
	tz          *time.Location
}

// words folds text for product and vendor comparison: lower case, split at anything that is not a letter or a
// digit, so "IP-3" and "ip 3" compare equal.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// corporate words dropped from organization and vendor names before they are compared.
var corporate = map[string]bool{"inc": true, "incorporated": true, "llc": true, "ltd": true, "limited": true, "plc": true,
	"corp": true, "corporation": true, "co": true, "company": true, "gmbh": true, "ag": true, "sa": true, "nv": true,
	"bv": true, "se": true, "the": true}

func orgWords(s string) []string {
	var out []string
	for _, w := range words(s) {
		if !corporate[w] {
			out = append(out, w)
		}
	}
	return out
}

// contains reports whether needle occurs in hay as a run of whole words.
func containsWords(hay, needle []string) bool {
	if len(needle) == 0 || len(needle) > len(hay) {
		return false
	}
outer:
	for i := 0; i+len(needle) <= len(hay); i++ {
		for j := range needle {
			if hay[i+j] != needle[j] {
				continue outer
			}
		}
		return true
	}
	return false
}

// sameOrg reports whether a CSAF vendor names our organization: equal names after dropping corporate words, or
// one name starting the other ("Acme" and "Acme Medical Systems").
func sameOrg(vendor, org []string) bool {
	if len(vendor) == 0 || len(org) == 0 {
		return false
	}
	short, long := vendor, org
	if len(short) > len(long) {
		short, long = long, short
	}
	for i := range short {
		if short[i] != long[i] {
			return false
		}
	}
	return true
}

// matchDevice decides whether advisory a names device d: by model number, by product name, or (when nothing names
// the device) by our organization being a product's vendor. It returns how and the text that matched.
func matchDevice(d *signalDevice, a *vigil.Advisory) (by, matched string, ok bool) {
	vendorMatch := ""
	for _, p := range a.Products {
		pn := words(p.Name)
		ours := sameOrg(orgWords(p.Vendor), d.orgName)
		if len(d.model) > 0 {
			for _, m := range p.ModelNumbers {
				if mw := words(m); len(mw) > 0 && (equalWords(mw, d.model) || containsWords(mw, d.model)) {
					return MatchModel, m, true
				}
			}
			// Inside a product name a model must look like one ("554CM", "IP 3") unless the product is ours: a
			// bare "100" would match every "Series 100" of every vendor.
			if containsWords(pn, d.model) && (ours || distinctive(d.model)) {
				return MatchModel, p.Name, true
			}
		}
		// A product name matches the device's name when either contains the other as whole words; a one-word
		// product name ("Pump") must equal the device's name, or every "pump" advisory would land on it.
		if len(pn) > 0 && (equalWords(pn, d.name) || (len(pn) >= 2 && containsWords(d.name, pn)) || (len(d.name) >= 2 && containsWords(pn, d.name))) {
			return MatchName, p.Name, true
		}
		if vendorMatch == "" && ours {
			vendorMatch = p.Vendor
		}
	}
	if vendorMatch != "" {
		return MatchVendor, vendorMatch, true
	}
	return "", "", false
}

// distinctive reports whether model words look like a model number: several words, or a word of three or more
// characters mixing letters and digits.
func distinctive(model []string) bool {
	if len(model) > 1 {
		return true
	}
	w := model[0]
	letters := strings.IndexFunc(w, unicode.IsLetter) >= 0
	digits := strings.IndexFunc(w, unicode.IsDigit) >= 0
	return len(w) >= 3 && letters && digits
}

func equalWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (w *IntelWriter) loadDevices() error {
	if w.devLoad {
		return nil
	}
	w.devLoad = true
	rows, err := w.tx.QueryContext(w.ctx, "SELECT d.id, d.name, d.model, o.name, o.time_zone FROM devices d JOIN orgs o ON o.id = d.org_id ORDER BY d.id")
	if err != nil {
		return fmt.Errorf("intel: devices for signals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name, model, org, tz string
		if err := rows.Scan(&id, &name, &model, &org, &tz); err != nil {
			return err
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			loc = time.UTC
		}
		w.devices = append(w.devices, &signalDevice{id: id, name: words(name), model: words(model), orgName: orgWords(org), tz: loc})
	}
	return rows.Err()
}

// signal records the signals a CSAF advisory raises on our devices.
func (w *IntelWriter) signal(pa *pendingAdv, advID int64, revised bool) error {
	a := pa.p.Advisory
	if a.Source != vigil.SourceCSAF || len(a.Products) == 0 || a.IsWithdrawn() {
		return nil
	}
	if err := w.loadDevices(); err != nil {
		return err
	}
	if len(w.devices) == 0 {
		return nil
	}
	have := map[int64]bool{}
	if revised { // a revised advisory may have raised its signals already (perhaps still buffered)
		if err := w.flushInserts(); err != nil {
			return err
		}
		rows, err := w.tx.QueryContext(w.ctx, "SELECT device_id FROM intel_signals WHERE advisory_id = $1", advID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			have[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	released := w.released[pa.doc]
	if released.IsZero() {
		released = a.Published
	}
	if released.IsZero() {
		released = w.tx.Now()
	}
	for _, d := range w.devices {
		if have[d.id] {
			continue
		}
		by, matched, ok := matchDevice(d, a)
		if !ok {
			continue
		}
		w.ins.signals.add(d.id, advID, a.Document, a.ID, vigil.DateOf(released, d.tz).String(), by, dbText(bound(matched, 512)), w.run, w.tx.NowText())
		w.signals++
	}
	return nil
}

// Signals lists the cybersecurity signals raised on a device (all devices when deviceID is 0), newest release
// first.
func (db *DB) Signals(ctx context.Context, deviceID int64) ([]*vigil.Signal, error) {
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	q := `SELECT s.id, s.device_id, d.name, s.document, s.vuln, s.release_date, s.matched_by, s.matched, s.run_id, s.created_at
		FROM intel_signals s JOIN devices d ON d.id = s.device_id`
	var args []any
	if deviceID != 0 {
		q += " WHERE s.device_id = $1"
		args = append(args, deviceID)
	}
	q += " ORDER BY s.release_date DESC, s.id DESC"
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*vigil.Signal{}
	for rows.Next() {
		var s vigil.Signal
		var rel string
		var at sql.NullString
		if err := rows.Scan(&s.ID, &s.DeviceID, &s.Device, &s.Document, &s.Vuln, &rel, &s.MatchedBy, &s.Matched, &s.Run, &at); err != nil {
			return nil, err
		}
		s.ReleaseDate, _ = vigil.ParseDate(rel)
		s.CreatedAt = parseTime(at)
		out = append(out, &s)
	}
	return out, rows.Err()
}
