package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vigil-dev/vigil"
)

// ISAO participation (G2016 §IX): memberships with their evidence documents, the sharing log, the intelligence
// received (signals) with the cases each touches, and the assessments' citations of it. Writes other than the
// signals are audited; a document's content is kept once per SHA-256 apart from its audited row, which names the
// digest, so a content swapped in the database no longer matches the row.

const membershipCols = "m.id, m.org_id, COALESCE(m.device_id, 0), COALESCE(d.name, ''), m.name, m.since, m.until, m.contact, m.tlp, m.taxii_url, m.taxii_collection, m.taxii_user, m.taxii_secret <> '', m.created_at, m.updated_at"

func scanMembership(row interface{ Scan(...any) error }) (*vigil.ISAOMembership, error) {
	var m vigil.ISAOMembership
	var since, until, c, u sql.NullString
	if err := row.Scan(&m.ID, &m.OrgID, &m.DeviceID, &m.Device, &m.Name, &since, &until, &m.Contact, &m.TLP, &m.TAXII.URL,
		&m.TAXII.Collection, &m.TAXII.User, &m.TAXII.PasswordSet, &c, &u); err != nil {
		return nil, err
	}
	if d := parseDate(since); d != nil {
		m.Since = *d
	}
	if d := parseDate(until); d != nil {
		m.Until = *d
	}
	m.CreatedAt, m.UpdatedAt = parseTime(c), parseTime(u)
	m.Documents = []vigil.ISAODocument{}
	return &m, nil
}

const documentCols = "id, membership_id, item, kind, title, file_name, sha256, size, date, expires, added_at, added_by"

func scanDocument(row interface{ Scan(...any) error }) (vigil.ISAODocument, error) {
	var d vigil.ISAODocument
	var date, exp, at sql.NullString
	if err := row.Scan(&d.ID, &d.MembershipID, &d.Item, &d.Kind, &d.Title, &d.FileName, &d.SHA256, &d.Size, &date, &exp, &at, &d.AddedBy); err != nil {
		return d, err
	}
	if x := parseDate(date); x != nil {
		d.Date = *x
	}
	if x := parseDate(exp); x != nil {
		d.Expires = *x
	}
	d.AddedAt = parseTime(at)
	return d, nil
}

// memberships reads memberships (with their documents, without contents) matching where.
func memberships(ctx context.Context, q rowQuerier, where string, args ...any) ([]vigil.ISAOMembership, error) {
	ms, err := queryAll(ctx, q, scanMembership, "SELECT "+membershipCols+" FROM isao_memberships m LEFT JOIN devices d ON d.id = m.device_id WHERE "+where+" ORDER BY m.org_id, m.device_id IS NOT NULL, m.device_id, m.name, m.id", args...)
	if err != nil || len(ms) == 0 {
		return []vigil.ISAOMembership{}, err
	}
	byID := map[int64]*vigil.ISAOMembership{}
	for _, m := range ms {
		byID[m.ID] = m
	}
	docs, err := queryAll(ctx, q, scanDocument, "SELECT "+documentCols+" FROM isao_documents ORDER BY membership_id, item, id")
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if m := byID[d.MembershipID]; m != nil {
			m.Documents = append(m.Documents, d)
		}
	}
	out := make([]vigil.ISAOMembership, len(ms))
	for i, m := range ms {
		out[i] = *m
	}
	return out, nil
}

// attachISAOs sets each organization's memberships.
func attachISAOs(ctx context.Context, q rowQuerier, orgs ...*vigil.Organization) error {
	if len(orgs) == 0 {
		return nil
	}
	ms, err := memberships(ctx, q, "1 = 1")
	if err != nil {
		return err
	}
	for _, o := range orgs {
		o.ISAOs = []vigil.ISAOMembership{}
		for _, m := range ms {
			if m.OrgID == o.ID {
				o.ISAOs = append(o.ISAOs, m)
			}
		}
	}
	return nil
}

// ISAOMemberships lists every membership with its documents (not their contents).
func (db *DB) ISAOMemberships(ctx context.Context) (_ []vigil.ISAOMembership, err error) {
	defer vigil.Wrap(&err, "store.ISAOMemberships", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	return memberships(ctx, db.db, "1 = 1")
}

// SaveISAOMembership creates a membership (ID 0) or replaces one's fields (not its documents: AddISAODocument).
// secret, when not nil, replaces the stored TAXII password (already encrypted by the caller; "" clears it). The
// organization defaults to the only one.
func (db *DB) SaveISAOMembership(ctx context.Context, m *vigil.ISAOMembership, secret *string, reason string) (err error) {
	defer vigil.Wrap(&err, "store.SaveISAOMembership", m.Name)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	docs := m.Documents
	m.Documents = nil
	defer func() { m.Documents = docs }()
	if err := m.Validate(); err != nil {
		return err
	}
	if m.TLP == "" {
		m.TLP = vigil.TLPGreen
	}
	return db.transact(ctx, func(tx *Tx) error {
		if m.OrgID == 0 {
			if err := tx.QueryRowContext(ctx, "SELECT id FROM orgs ORDER BY id LIMIT 1").Scan(&m.OrgID); errors.Is(err, sql.ErrNoRows) {
				return vigil.Errorf(vigil.EINVALID, "no organization yet: run `vigil init` first")
			} else if err != nil {
				return err
			}
		}
		var old *vigil.ISAOMembership
		if m.ID != 0 {
			ms, err := memberships(ctx, tx, "m.id = $1", m.ID)
			if err != nil {
				return err
			}
			if len(ms) == 0 {
				return notFound("ISAO membership", m.ID)
			}
			old = &ms[0]
			old.Documents = nil
		}
		if err := saveMembership(ctx, tx, m, secret); err != nil {
			return err
		}
		action := "isao.create"
		if old != nil {
			action = "isao.update"
		}
		return tx.Audit(ctx, action, "isao", idText(m.ID), old, m, reason)
	})
}

func saveMembership(ctx context.Context, tx *Tx, m *vigil.ISAOMembership, secret *string) error {
	var device any
	if m.DeviceID != 0 {
		device = m.DeviceID
		if err := tx.QueryRowContext(ctx, "SELECT name FROM devices WHERE id = $1", m.DeviceID).Scan(&m.Device); errors.Is(err, sql.ErrNoRows) {
			return vigil.Errorf(vigil.EINVALID, "device_id: device %d not found", m.DeviceID)
		} else if err != nil {
			return err
		}
	}
	if m.TLP == "" {
		m.TLP = vigil.TLPGreen
	}
	if m.ID == 0 {
		sec := ""
		if secret != nil {
			sec = *secret
		}
		id, err := tx.insertID(ctx, `INSERT INTO isao_memberships (org_id, device_id, name, since, until, contact, tlp, taxii_url, taxii_collection, taxii_user, taxii_secret, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`, m.OrgID, device, m.Name, dateText(&m.Since), dateText(&m.Until), m.Contact, m.TLP,
			m.TAXII.URL, m.TAXII.Collection, m.TAXII.User, sec, tx.NowText())
		if err != nil {
			return err
		}
		m.ID, m.CreatedAt = id, tx.Now()
		m.TAXII.PasswordSet = sec != ""
	} else {
		_, err := tx.ExecContext(ctx, `UPDATE isao_memberships SET device_id=$1, name=$2, since=$3, until=$4, contact=$5, tlp=$6, taxii_url=$7, taxii_collection=$8,
			taxii_user=$9, updated_at=$10 WHERE id=$11`, device, m.Name, dateText(&m.Since), dateText(&m.Until), m.Contact, m.TLP, m.TAXII.URL, m.TAXII.Collection,
			m.TAXII.User, tx.NowText(), m.ID)
		if err = mapErr(err); err != nil {
			return err
		}
		if secret != nil {
			if _, err := tx.ExecContext(ctx, "UPDATE isao_memberships SET taxii_secret = $1 WHERE id = $2", *secret, m.ID); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, "SELECT taxii_secret <> '', created_at FROM isao_memberships WHERE id = $1", m.ID).Scan(&m.TAXII.PasswordSet, new(string)); err != nil {
			return err
		}
	}
	m.UpdatedAt = tx.Now()
	tx.wrote("isao_memberships", m.ID)
	return nil
}

// createMemberships writes the memberships an organization is created with, with their documents.
func createMemberships(ctx context.Context, tx *Tx, orgID int64, ms []vigil.ISAOMembership) error {
	actor := tx.actor.String()
	for i := range ms {
		m := &ms[i]
		m.OrgID = orgID
		if err := m.Validate(); err != nil {
			return vigil.Errorf(vigil.ErrorCode(err), "isaos[%d].%s", i, vigil.ErrorMessage(err))
		}
		docs := m.Documents
		if err := saveMembership(ctx, tx, m, nil); err != nil {
			return fmt.Errorf("isaos[%d]: %w", i, err)
		}
		for j := range docs {
			docs[j].AddedBy, docs[j].AddedAt = actor, tx.Now()
			if err := insertDocument(ctx, tx, m.ID, &docs[j], tx.NowText()); err != nil {
				return fmt.Errorf("isaos[%d].documents[%d]: %w", i, j, err)
			}
			tx.wrote("isao_documents", docs[j].ID)
		}
		m.Documents = docs
	}
	return nil
}

// AddISAODocument attaches a document to a membership as evidence of its §IX item, setting its ID, SHA-256 and
// size. The same content attached twice is kept once.
func (db *DB) AddISAODocument(ctx context.Context, d *vigil.ISAODocument, reason string) (err error) {
	defer vigil.Wrap(&err, "store.AddISAODocument", d.Title)
	actor, err := vigil.Authorize(ctx, vigil.PermPortfolio)
	if err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM isao_memberships WHERE id = $1", d.MembershipID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return notFound("ISAO membership", d.MembershipID)
		}
		d.AddedBy, d.AddedAt = actor.String(), tx.Now()
		if err := insertDocument(ctx, tx, d.MembershipID, d, tx.NowText()); err != nil {
			return err
		}
		tx.wrote("isao_documents", d.ID)
		return tx.Audit(ctx, "isao.document", "isao", idText(d.MembershipID), nil, d, reason)
	})
}

// ISAODocument returns one document with its content.
func (db *DB) ISAODocument(ctx context.Context, id int64) (_ *vigil.ISAODocument, err error) {
	defer vigil.Wrap(&err, "store.ISAODocument", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	d, err := queryByID(ctx, db.db, scanDocument, "ISAO document", documentCols, "isao_documents", id)
	if err != nil {
		return nil, err
	}
	if err := db.db.QueryRowContext(ctx, "SELECT content FROM isao_document_contents WHERE sha256 = $1", d.SHA256).Scan(&d.Content); err != nil {
		return nil, fmt.Errorf("content %s: %w", d.SHA256, err)
	}
	return &d, nil
}

// ISAOSecret returns a membership's stored (encrypted) TAXII password, "" when none is stored. Only the ISAO
// service calls it, to decrypt the password for a TAXII request.
func (db *DB) ISAOSecret(ctx context.Context, membershipID int64) (_ string, err error) {
	defer vigil.Wrap(&err, "store.ISAOSecret", membershipID)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return "", err
	}
	var s string
	err = db.db.QueryRowContext(ctx, "SELECT taxii_secret FROM isao_memberships WHERE id = $1", membershipID).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("ISAO membership", membershipID)
	}
	return s, err
}

// ---- the sharing log

const shareCols = `s.id, s.membership_id, m.name, s.case_id, c.vuln_id, d.name, s.method, s.bundle_id, s.sha256, s.objects, s.tlp, s.notice_id, s.status_id,
	s.status, s.status_text, s.date, s.event_id, s.shared_at, s.shared_by, s.checked_at`

const shareFrom = ` FROM isao_shares s JOIN isao_memberships m ON m.id = s.membership_id JOIN cases c ON c.id = s.case_id JOIN devices d ON d.id = c.device_id`

func scanShare(row interface{ Scan(...any) error }) (*vigil.ISAOShare, error) {
	var s vigil.ISAOShare
	var date, at, checked sql.NullString
	var notice sql.NullInt64
	if err := row.Scan(&s.ID, &s.MembershipID, &s.ISAO, &s.CaseID, &s.Vulnerability, &s.Device, &s.Method, &s.BundleID, &s.SHA256, &s.Objects, &s.TLP,
		&notice, &s.StatusID, &s.Status, &s.StatusText, &date, &s.EventID, &at, &s.SharedBy, &checked); err != nil {
		return nil, err
	}
	if d := parseDate(date); d != nil {
		s.Date = *d
	}
	s.NoticeID = notice.Int64
	s.SharedAt, s.CheckedAt = parseTime(at), parseTime(checked)
	return &s, nil
}

// AddISAOShare appends an entry to the sharing log (the isao_shared event it names is recorded first, through the
// case service).
func (db *DB) AddISAOShare(ctx context.Context, s *vigil.ISAOShare) (err error) {
	defer vigil.Wrap(&err, "store.AddISAOShare", s.CaseID)
	actor, err := vigil.Authorize(ctx, vigil.PermEvent)
	if err != nil {
		return err
	}
	if err := vigil.OneOf("method", s.Method, []string{vigil.ShareTAXII, vigil.ShareExported}); err != nil {
		return err
	}
	if err := vigil.OneOf("status", s.Status, []string{vigil.SharePending, vigil.ShareComplete, vigil.ShareFailed, vigil.ShareExported}); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		s.SharedAt, s.SharedBy = tx.Now(), actor.String()
		var checked any
		if s.Method == vigil.ShareTAXII {
			s.CheckedAt, checked = s.SharedAt, tx.NowText()
		}
		var notice any
		if s.NoticeID != 0 {
			notice = s.NoticeID
		}
		id, err := tx.insertID(ctx, `INSERT INTO isao_shares (membership_id, case_id, method, bundle_id, sha256, objects, tlp, notice_id, status_id, status, status_text,
			date, event_id, shared_at, shared_by, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			s.MembershipID, s.CaseID, s.Method, s.BundleID, s.SHA256, s.Objects, s.TLP, notice, s.StatusID, s.Status, s.StatusText, s.Date.String(), s.EventID,
			tx.NowText(), s.SharedBy, checked)
		if err != nil {
			return err
		}
		s.ID = id
		tx.wrote("isao_shares", id)
		return tx.Audit(ctx, "isao.share", "case", idText(s.CaseID), nil, s, fmt.Sprintf("shared with %s (%s)", s.ISAO, s.Method))
	})
}

// ISAOShare returns one entry of the sharing log.
func (db *DB) ISAOShare(ctx context.Context, id int64) (_ *vigil.ISAOShare, err error) {
	defer vigil.Wrap(&err, "store.ISAOShare", id)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	s, err := scanShare(db.db.QueryRowContext(ctx, "SELECT "+shareCols+shareFrom+" WHERE s.id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("share", id)
	}
	return s, err
}

// SetISAOShareStatus records what the TAXII server now says of a share that was pending: its status (pending
// again, complete or failed) and, when it refused objects, its words. Every status asked for is recorded as
// checked; a change of status is audited.
func (db *DB) SetISAOShareStatus(ctx context.Context, id int64, status, text string) (err error) {
	defer vigil.Wrap(&err, "store.SetISAOShareStatus", id)
	if _, err := vigil.Authorize(ctx, vigil.PermEvent); err != nil {
		return err
	}
	if err := vigil.OneOf("status", status, []string{vigil.SharePending, vigil.ShareComplete, vigil.ShareFailed}); err != nil {
		return err
	}
	text = vigil.Clip(vigil.MaxText, text)
	return db.transact(ctx, func(tx *Tx) error {
		old, err := scanShare(tx.QueryRowContext(ctx, "SELECT "+shareCols+shareFrom+" WHERE s.id = $1", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("share", id)
		} else if err != nil {
			return err
		}
		if old.Method != vigil.ShareTAXII {
			return vigil.Errorf(vigil.EINVALID, "share %d was %s: it has no TAXII status", id, old.Method)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE isao_shares SET status = $1, status_text = $2, checked_at = $3 WHERE id = $4", status, text, tx.NowText(), id); err != nil {
			return err
		}
		tx.wrote("isao_shares", id)
		now := *old
		now.Status, now.StatusText, now.CheckedAt = status, text, tx.Now()
		return tx.Audit(ctx, "isao.share.status", "case", idText(old.CaseID), old, &now, fmt.Sprintf("TAXII status %s of the share with %s: %s", old.StatusID, old.ISAO, status))
	})
}

// ISAOShares lists the sharing log, newest first, as the filter selects.
func (db *DB) ISAOShares(ctx context.Context, f vigil.ISAOShareFilter) (_ []*vigil.ISAOShare, err error) {
	defer vigil.Wrap(&err, "store.ISAOShares", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.MembershipID != 0 {
		add("s.membership_id = $%d", f.MembershipID)
	}
	if f.CaseID != 0 {
		add("s.case_id = $%d", f.CaseID)
	}
	if f.NoticeID != 0 {
		add("s.notice_id = $%d", f.NoticeID)
	}
	if !f.From.IsZero() {
		add("s.date >= $%d", f.From.String())
	}
	if !f.To.IsZero() {
		add("s.date <= $%d", f.To.String())
	}
	if f.Status != "" {
		add("s.status = $%d", f.Status)
	}
	return queryAll(ctx, db.db, scanShare, "SELECT "+shareCols+shareFrom+" WHERE "+strings.Join(where, " AND ")+" ORDER BY s.id DESC", args...)
}

// ---- intelligence received

// SaveISAOSignals records intelligence received: a STIX object seen for the first time is added, a newer version
// of one (a later modified time) replaces it, an older or equal one is left alone. Each new or changed signal is
// linked to the cases it touches: the live cases of a vulnerability it names (by id or alias), of a component it
// names (the cases of the findings on that component), and the open cases of a device it names (by name or
// model). It returns how many signals were added or changed.
func (db *DB) SaveISAOSignals(ctx context.Context, sigs []*vigil.ISAOSignal) (changed int, err error) {
	defer vigil.Wrap(&err, "store.SaveISAOSignals", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermImport); err != nil {
		return 0, err
	}
	err = db.transact(ctx, func(tx *Tx) error {
		changed = 0
		targets, err := signalTargets(ctx, tx)
		if err != nil {
			return err
		}
		for _, s := range sigs {
			var id int64
			var modified string
			err := tx.QueryRowContext(ctx, "SELECT id, modified FROM isao_signals WHERE stix_id = $1", s.STIXID).Scan(&id, &modified)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			case !parseTime(sql.NullString{String: modified, Valid: true}).Before(s.Modified):
				s.ID = id
				continue
			}
			s.Received = tx.Now()
			cases := targets.link(s)
			var mid any
			if s.MembershipID != 0 {
				mid = s.MembershipID
			}
			if id == 0 {
				id, err = tx.insertID(ctx, `INSERT INTO isao_signals (membership_id, source, stix_id, type, name, description, modified, cves, named, received)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, mid, s.Source, s.STIXID, s.Type, s.Name, s.Description, timeText(s.Modified),
					mustJSON(orEmpty(s.CVEs)), mustJSON(orEmpty(s.Named)), tx.NowText())
			} else {
				_, err = tx.ExecContext(ctx, `UPDATE isao_signals SET membership_id=$1, source=$2, type=$3, name=$4, description=$5, modified=$6, cves=$7, named=$8,
					received=$9 WHERE id=$10`, mid, s.Source, s.Type, s.Name, s.Description, timeText(s.Modified), mustJSON(orEmpty(s.CVEs)),
					mustJSON(orEmpty(s.Named)), tx.NowText(), id)
			}
			if err != nil {
				return err
			}
			s.ID = id
			for _, c := range cases {
				if _, err := tx.ExecContext(ctx, "INSERT INTO isao_signal_cases (signal_id, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", id, c); err != nil {
					return err
				}
			}
			s.Cases = cases
			changed++
		}
		return nil
	})
	return changed, err
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// targets is what a signal can name of ours: vulnerability ids (folded) → cases, component names → cases, devices
// (their name and model as folded words) → open cases.
type targets struct {
	vulns      map[string][]int64
	components map[string][]int64
	devices    []deviceTarget
}

type deviceTarget struct {
	name        string
	words       [][]string
	cases       []int64
	openCases   []int64
	componentOf map[string]bool
}

func signalTargets(ctx context.Context, tx *Tx) (*targets, error) {
	t := &targets{vulns: map[string][]int64{}, components: map[string][]int64{}}
	devs := map[int64]*deviceTarget{}
	err := eachRow(ctx, tx, "SELECT id, name, model FROM devices ORDER BY id", nil, func(rows *sql.Rows) error {
		var id int64
		var name, model string
		if err := rows.Scan(&id, &name, &model); err != nil {
			return err
		}
		d := &deviceTarget{name: name, words: [][]string{words(name)}}
		if w := words(model); len(w) > 0 {
			d.words = append(d.words, w)
		}
		devs[id] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, tx, "SELECT id, device_id, vuln_id, aliases, state FROM cases WHERE merged_into IS NULL ORDER BY id", nil, func(rows *sql.Rows) error {
		var id, dev int64
		var vuln, aliases, state string
		if err := rows.Scan(&id, &dev, &vuln, &aliases, &state); err != nil {
			return err
		}
		var as []string
		if err := json.Unmarshal([]byte(aliases), &as); err != nil {
			return fmt.Errorf("case %d aliases: %w", id, err)
		}
		for _, v := range append(as, vuln) {
			t.vulns[strings.ToUpper(v)] = append(t.vulns[strings.ToUpper(v)], id)
		}
		if d := devs[dev]; d != nil && state != string(vigil.CaseClosed) {
			d.openCases = append(d.openCases, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, tx, "SELECT DISTINCT case_id, component FROM findings WHERE case_id IS NOT NULL ORDER BY case_id", nil,
		func(rows *sql.Rows) error {
			var id int64
			var raw string
			if err := rows.Scan(&id, &raw); err != nil {
				return err
			}
			var c vigil.Component
			if err := json.Unmarshal([]byte(raw), &c); err != nil {
				return fmt.Errorf("finding of case %d component: %w", id, err)
			}
			// Names of one or two letters ("c", "js") would match ordinary words in any text.
			if k := strings.ToLower(c.Name); len(k) >= 3 && !slices.Contains(t.components[k], id) {
				t.components[k] = append(t.components[k], id)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, id := range slices.Sorted(maps.Keys(devs)) {
		t.devices = append(t.devices, *devs[id])
	}
	return t, nil
}

// link sets the signal's Named (our devices and components it names) and returns the cases it touches, sorted.
func (t *targets) link(s *vigil.ISAOSignal) []int64 {
	seen := map[int64]bool{}
	var out []int64
	add := func(ids []int64) {
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	for _, c := range s.CVEs {
		add(t.vulns[strings.ToUpper(c)])
	}
	text := words(s.Name + " " + s.Description)
	s.Named = nil
	for _, d := range t.devices {
		for _, w := range d.words {
			if containsWords(text, w) {
				s.Named = append(s.Named, "device:"+d.name)
				add(d.openCases)
				break
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.components)) {
		if containsWords(text, words(name)) {
			s.Named = append(s.Named, "component:"+name)
			add(t.components[name])
		}
	}
	slices.Sort(out)
	return out
}

const signalCols = "s.id, COALESCE(s.membership_id, 0), COALESCE(m.name, ''), s.source, s.stix_id, s.type, s.name, s.description, s.modified, s.cves, s.named, s.received"

func scanSignal(row interface{ Scan(...any) error }) (*vigil.ISAOSignal, error) {
	var s vigil.ISAOSignal
	var modified, received sql.NullString
	var cves, named string
	if err := row.Scan(&s.ID, &s.MembershipID, &s.ISAO, &s.Source, &s.STIXID, &s.Type, &s.Name, &s.Description, &modified, &cves, &named, &received); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cves), &s.CVEs); err != nil {
		return nil, fmt.Errorf("signal %d cves: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(named), &s.Named); err != nil {
		return nil, fmt.Errorf("signal %d named: %w", s.ID, err)
	}
	s.Modified, s.Received = parseTime(modified), parseTime(received)
	return &s, nil
}

// ISAOSignals lists intelligence received, newest first, each with its cases and the assessments citing it.
func (db *DB) ISAOSignals(ctx context.Context, f vigil.ISAOSignalFilter) (_ []*vigil.ISAOSignal, err error) {
	defer vigil.Wrap(&err, "store.ISAOSignals", nil)
	if _, err := vigil.Authorize(ctx, vigil.PermRead); err != nil {
		return nil, err
	}
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.CaseID != 0 {
		add("s.id IN (SELECT signal_id FROM isao_signal_cases WHERE case_id = $%d)", f.CaseID)
	}
	if f.MembershipID != 0 {
		add("s.membership_id = $%d", f.MembershipID)
	}
	if !f.From.IsZero() {
		add("s.received >= $%d", timeText(f.From))
	}
	if !f.To.IsZero() {
		add("s.received < $%d", timeText(f.To))
	}
	sigs, err := queryAll(ctx, db.db, scanSignal, "SELECT "+signalCols+" FROM isao_signals s LEFT JOIN isao_memberships m ON m.id = s.membership_id WHERE "+
		strings.Join(where, " AND ")+" ORDER BY s.received DESC, s.id DESC", args...)
	if err != nil || len(sigs) == 0 {
		return sigs, err
	}
	byID := map[int64]*vigil.ISAOSignal{}
	for _, s := range sigs {
		byID[s.ID] = s
	}
	err = eachRow(ctx, db.db, "SELECT signal_id, case_id FROM isao_signal_cases ORDER BY signal_id, case_id", nil, func(rows *sql.Rows) error {
		var sid, cid int64
		if err := rows.Scan(&sid, &cid); err != nil {
			return err
		}
		if s := byID[sid]; s != nil {
			s.Cases = append(s.Cases, cid)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachRow(ctx, db.db, "SELECT signal_id, assessment_id FROM isao_citations ORDER BY signal_id, assessment_id", nil, func(rows *sql.Rows) error {
		var sid, aid int64
		if err := rows.Scan(&sid, &aid); err != nil {
			return err
		}
		if s := byID[sid]; s != nil {
			s.Assessments = append(s.Assessments, aid)
		}
		return nil
	})
	return sigs, err
}

// CiteISAOSignals records that an assessment considered these signals (G2016 §IX item 4: ISAO intelligence
// traceable to the risk assessments it prompted). A signal already cited by the assessment is left as it is.
func (db *DB) CiteISAOSignals(ctx context.Context, assessmentID int64, signalIDs []int64, reason string) (err error) {
	defer vigil.Wrap(&err, "store.CiteISAOSignals", assessmentID)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if len(signalIDs) == 0 {
		return vigil.Errorf(vigil.EINVALID, "signals: name at least one")
	}
	return db.transact(ctx, func(tx *Tx) error {
		var caseID int64
		if err := tx.QueryRowContext(ctx, "SELECT case_id FROM assessments WHERE id = $1", assessmentID).Scan(&caseID); errors.Is(err, sql.ErrNoRows) {
			return notFound("assessment", assessmentID)
		} else if err != nil {
			return err
		}
		cited, err := tx.citeSignals(ctx, assessmentID, signalIDs)
		if err != nil || len(cited) == 0 {
			return err
		}
		return tx.Audit(ctx, "isao.cite", "case", idText(caseID), nil, map[string]any{"assessment": assessmentID, "signals": cited}, reason)
	})
}

// citeSignals links the signals to the assessment, each once, and returns those newly cited (the caller audits).
func (tx *Tx) citeSignals(ctx context.Context, assessmentID int64, signalIDs []int64) ([]int64, error) {
	var cited []int64
	for i, sid := range signalIDs {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM isao_signals WHERE id = $1", sid).Scan(&n); err != nil {
			return nil, err
		} else if n == 0 {
			return nil, vigil.Errorf(vigil.ENOTFOUND, "signals[%d]: signal %d not found (vigil isao signals)", i, sid)
		}
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM isao_citations WHERE signal_id = $1 AND assessment_id = $2", sid, assessmentID).Scan(&exists); err != nil {
			return nil, err
		} else if exists > 0 {
			continue
		}
		id, err := tx.insertID(ctx, "INSERT INTO isao_citations (signal_id, assessment_id, cited_at, cited_by) VALUES ($1, $2, $3, $4)",
			sid, assessmentID, tx.NowText(), tx.actor.String())
		if err != nil {
			return nil, err
		}
		tx.wrote("isao_citations", id)
		cited = append(cited, sid)
	}
	return cited, nil
}
