package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-dev/vigil"
)

var _ vigil.ThreatModelService = (*DB)(nil)

// tmTable describes one threat-model table: its name, the object type its audit events carry, the word people use
// for it and the prefix of the refs the store assigns.
type tmTable struct {
	table, object, noun, prefix string
}

var (
	tmAssets       = tmTable{"tm_assets", "asset", "asset", "A"}
	tmThreats      = tmTable{"tm_threats", "threat", "threat", "T"}
	tmMitigations  = tmTable{"tm_controls", "control", "mitigation", "M"}
	tmCompensating = tmTable{"tm_controls", "control", "compensating control", "CC"}
)

func controlTable(kind string) tmTable {
	if kind == vigil.ControlCompensating {
		return tmCompensating
	}
	return tmMitigations
}

// tmDevice returns the device a threat-model object belongs to, as EINVALID naming device_id when it does not
// exist (the object is what is wrong, not the URL).
func (tx *Tx) tmDevice(ctx context.Context, id int64) (*vigil.Device, error) {
	d, err := scanDevice(tx.QueryRowContext(ctx, "SELECT "+deviceCols+" FROM devices WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.EINVALID, "device_id: device %d does not exist", id)
	}
	return d, err
}

// lookupRef returns the id and stored spelling of a ref on a device (case-insensitive), or 0 when there is none.
// Mitigations and compensating controls share one table, so a ref names one control of either kind.
func (tx *Tx) lookupRef(ctx context.Context, t tmTable, deviceID int64, ref string) (int64, string, error) {
	var id int64
	var stored string
	err := tx.QueryRowContext(ctx, "SELECT id, ref FROM "+t.table+" WHERE device_id = $1 AND lower(ref) = lower($2)", deviceID, ref).Scan(&id, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return id, stored, err
}

// assignRef checks a given ref is free on the device, or picks the next free PREFIX-n.
func (tx *Tx) assignRef(ctx context.Context, t tmTable, d *vigil.Device, ref string) (string, error) {
	if ref != "" {
		id, stored, err := tx.lookupRef(ctx, t, d.ID, ref)
		if err != nil {
			return "", err
		}
		if id != 0 {
			return "", vigil.Errorf(vigil.ECONFLICT, "ref: %s already names a %s of %s (refs are unique per device, whatever the case)", stored, t.object, d.Name)
		}
		return ref, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT ref FROM "+t.table+" WHERE device_id = $1", d.ID)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return "", err
		}
		if rest, ok := strings.CutPrefix(strings.ToUpper(r), t.prefix+"-"); ok {
			if k, err := strconv.Atoi(rest); err == nil && k > n {
				n = k
			}
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%d", t.prefix, n+1), nil
}

// resolveRefs turns the refs a threat or control links to into row ids and their stored spelling, dropping
// duplicates; a ref that is not the device's is EINVALID naming field[i].
func (tx *Tx) resolveRefs(ctx context.Context, t tmTable, d *vigil.Device, field string, refs []string) ([]int64, []string, error) {
	ids, names := []int64{}, []string{}
	for i, r := range refs {
		id, stored, err := tx.lookupRef(ctx, t, d.ID, r)
		if err != nil {
			return nil, nil, err
		}
		if id == 0 {
			return nil, nil, vigil.Errorf(vigil.EINVALID, "%s[%d]: %s %q is not in the threat model of %s", field, i, t.object, r, d.Name)
		}
		if !slices.Contains(ids, id) {
			ids, names = append(ids, id), append(names, stored)
		}
	}
	return ids, names, nil
}

// resolveFunctions checks the clinical functions a threat reaches are the device's, returning their names as the
// device spells them.
func resolveFunctions(d *vigil.Device, fns []string) ([]string, error) {
	out := []string{}
	for i, name := range fns {
		j := slices.IndexFunc(d.Functions, func(f vigil.ClinicalFunction) bool { return strings.EqualFold(f.Name, strings.TrimSpace(name)) })
		if j < 0 {
			have := make([]string, 0, len(d.Functions))
			for _, f := range d.Functions {
				have = append(have, f.Name)
			}
			return nil, vigil.Errorf(vigil.EINVALID, "functions[%d]: %q is not a clinical function of %s (it has: %s)", i, name, d.Name, orNoneList(have))
		}
		if !slices.Contains(out, d.Functions[j].Name) {
			out = append(out, d.Functions[j].Name)
		}
	}
	return out, nil
}

func orNoneList(s []string) string {
	if len(s) == 0 {
		return "none; add them with vigil device update --functions"
	}
	return strings.Join(s, ", ")
}

func trimAll(vals []string) []string {
	out := []string{}
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func needReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required: say why the threat model changes")
	}
	return nil
}

// ---- assets

const assetCols = "id, device_id, ref, name, kind, description, created_at, updated_at"

func scanAsset(row interface{ Scan(...any) error }) (*vigil.Asset, error) {
	var a vigil.Asset
	var c, u sql.NullString
	if err := row.Scan(&a.ID, &a.DeviceID, &a.Ref, &a.Name, &a.Kind, &a.Description, &c, &u); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = parseTime(c), parseTime(u)
	return &a, nil
}

// CreateAsset adds an asset to a device's threat model.
func (db *DB) CreateAsset(ctx context.Context, a *vigil.Asset) (err error) {
	defer vigil.Wrap(&err, "store.CreateAsset", a.Ref)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	a.Name, a.Ref = strings.TrimSpace(a.Name), strings.TrimSpace(a.Ref)
	if err := a.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		d, err := tx.tmDevice(ctx, a.DeviceID)
		if err != nil {
			return err
		}
		if a.Ref, err = tx.assignRef(ctx, tmAssets, d, a.Ref); err != nil {
			return err
		}
		a.CreatedAt, a.UpdatedAt = tx.Now(), tx.Now()
		id, err := tx.insertID(ctx, "INSERT INTO tm_assets (device_id, ref, name, kind, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
			a.DeviceID, a.Ref, a.Name, a.Kind, a.Description, tx.NowText())
		if err != nil {
			return err
		}
		a.ID = id
		tx.wrote("tm_assets", id)
		return tx.Audit(ctx, "asset.create", "asset", idText(id), nil, a, "")
	})
}

// UpdateAsset replaces an asset's name, kind and description; its ref never changes.
func (db *DB) UpdateAsset(ctx context.Context, a *vigil.Asset, reason string) (err error) {
	defer vigil.Wrap(&err, "store.UpdateAsset", a.ID)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if err := needReason(reason); err != nil {
		return err
	}
	a.Name = strings.TrimSpace(a.Name)
	if err := a.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := scanAsset(tx.QueryRowContext(ctx, "SELECT "+assetCols+" FROM tm_assets WHERE device_id = $1 AND lower(ref) = lower($2)", a.DeviceID, a.Ref))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("asset", strconv.Quote(a.Ref))
		} else if err != nil {
			return err
		}
		a.ID, a.Ref, a.CreatedAt, a.UpdatedAt = old.ID, old.Ref, old.CreatedAt, tx.Now()
		if _, err := tx.ExecContext(ctx, "UPDATE tm_assets SET name = $1, kind = $2, description = $3, updated_at = $4 WHERE id = $5",
			a.Name, a.Kind, a.Description, tx.NowText(), a.ID); err != nil {
			return err
		}
		tx.wrote("tm_assets", a.ID)
		return tx.Audit(ctx, "asset.update", "asset", idText(a.ID), old, a, reason)
	})
}

// ---- threats

const threatCols = "id, device_id, ref, title, category, description, functions, entry_points, created_at, updated_at"

func scanThreat(row interface{ Scan(...any) error }) (*vigil.Threat, error) {
	var t vigil.Threat
	var fns, eps string
	var c, u sql.NullString
	if err := row.Scan(&t.ID, &t.DeviceID, &t.Ref, &t.Title, &t.Category, &t.Description, &fns, &eps, &c, &u); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(fns), &t.Functions); err != nil {
		return nil, fmt.Errorf("threat %d functions: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(eps), &t.EntryPoints); err != nil {
		return nil, fmt.Errorf("threat %d entry_points: %w", t.ID, err)
	}
	t.Assets = []string{}
	t.CreatedAt, t.UpdatedAt = parseTime(c), parseTime(u)
	return &t, nil
}

// prepareThreat checks the threat's links against the device and normalizes them; it returns the asset ids.
func (tx *Tx) prepareThreat(ctx context.Context, t *vigil.Threat) (*vigil.Device, []int64, error) {
	d, err := tx.tmDevice(ctx, t.DeviceID)
	if err != nil {
		return nil, nil, err
	}
	ids, refs, err := tx.resolveRefs(ctx, tmAssets, d, "assets", trimAll(t.Assets))
	if err != nil {
		return nil, nil, err
	}
	fns, err := resolveFunctions(d, trimAll(t.Functions))
	if err != nil {
		return nil, nil, err
	}
	t.Assets, t.Functions, t.EntryPoints = refs, fns, trimAll(t.EntryPoints)
	return d, ids, nil
}

func (tx *Tx) linkThreatAssets(ctx context.Context, threatID int64, assetIDs []int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM tm_threat_assets WHERE threat_id = $1", threatID); err != nil {
		return err
	}
	for _, a := range assetIDs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO tm_threat_assets (threat_id, asset_id) VALUES ($1, $2)", threatID, a); err != nil {
			return err
		}
	}
	return nil
}

// CreateThreat adds a threat to a device's threat model, linked to the assets and clinical functions it reaches.
func (db *DB) CreateThreat(ctx context.Context, t *vigil.Threat) (err error) {
	defer vigil.Wrap(&err, "store.CreateThreat", t.Ref)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	t.Title, t.Ref = strings.TrimSpace(t.Title), strings.TrimSpace(t.Ref)
	t.Assets, t.Functions, t.EntryPoints = trimAll(t.Assets), trimAll(t.Functions), trimAll(t.EntryPoints)
	if err := t.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		d, assetIDs, err := tx.prepareThreat(ctx, t)
		if err != nil {
			return err
		}
		if t.Ref, err = tx.assignRef(ctx, tmThreats, d, t.Ref); err != nil {
			return err
		}
		t.CreatedAt, t.UpdatedAt = tx.Now(), tx.Now()
		id, err := tx.insertID(ctx, `INSERT INTO tm_threats (device_id, ref, title, category, description, functions, entry_points, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, t.DeviceID, t.Ref, t.Title, t.Category, t.Description, mustJSON(t.Functions), mustJSON(t.EntryPoints), tx.NowText())
		if err != nil {
			return err
		}
		t.ID = id
		if err := tx.linkThreatAssets(ctx, id, assetIDs); err != nil {
			return err
		}
		tx.wrote("tm_threats", id)
		return tx.Audit(ctx, "threat.create", "threat", idText(id), nil, t, "")
	})
}

// UpdateThreat replaces a threat's fields and links; its ref never changes.
func (db *DB) UpdateThreat(ctx context.Context, t *vigil.Threat, reason string) (err error) {
	defer vigil.Wrap(&err, "store.UpdateThreat", t.ID)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if err := needReason(reason); err != nil {
		return err
	}
	t.Title = strings.TrimSpace(t.Title)
	t.Assets, t.Functions, t.EntryPoints = trimAll(t.Assets), trimAll(t.Functions), trimAll(t.EntryPoints)
	if err := t.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := tx.threat(ctx, t.DeviceID, t.Ref)
		if err != nil {
			return err
		}
		_, assetIDs, err := tx.prepareThreat(ctx, t)
		if err != nil {
			return err
		}
		t.ID, t.Ref, t.CreatedAt, t.UpdatedAt = old.ID, old.Ref, old.CreatedAt, tx.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE tm_threats SET title = $1, category = $2, description = $3, functions = $4, entry_points = $5, updated_at = $6 WHERE id = $7`,
			t.Title, t.Category, t.Description, mustJSON(t.Functions), mustJSON(t.EntryPoints), tx.NowText(), t.ID); err != nil {
			return err
		}
		if err := tx.linkThreatAssets(ctx, t.ID, assetIDs); err != nil {
			return err
		}
		tx.wrote("tm_threats", t.ID)
		return tx.Audit(ctx, "threat.update", "threat", idText(t.ID), old, t, reason)
	})
}

// tmQuerier is what both *sql.DB and *Tx offer for reads.
type tmQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func loadThreat(ctx context.Context, q tmQuerier, deviceID int64, ref string) (*vigil.Threat, error) {
	t, err := scanThreat(q.QueryRowContext(ctx, "SELECT "+threatCols+" FROM tm_threats WHERE device_id = $1 AND lower(ref) = lower($2)", deviceID, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("threat", strconv.Quote(ref))
	} else if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, "SELECT a.ref FROM tm_threat_assets l JOIN tm_assets a ON a.id = l.asset_id WHERE l.threat_id = $1 ORDER BY a.id", t.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		t.Assets = append(t.Assets, r)
	}
	return t, rows.Err()
}

func (tx *Tx) threat(ctx context.Context, deviceID int64, ref string) (*vigil.Threat, error) {
	return loadThreat(ctx, tx, deviceID, ref)
}

// Threat returns one threat of a device by ref (case-insensitive).
func (db *DB) Threat(ctx context.Context, deviceID int64, ref string) (_ *vigil.Threat, err error) {
	defer vigil.Wrap(&err, "store.Threat", deviceID)
	return loadThreat(ctx, db.db, deviceID, ref)
}

// ---- controls

const controlCols = "id, device_id, ref, kind, name, description, reference, created_at, updated_at"

func scanControl(row interface{ Scan(...any) error }) (*vigil.Control, error) {
	var c vigil.Control
	var cr, u sql.NullString
	if err := row.Scan(&c.ID, &c.DeviceID, &c.Ref, &c.Kind, &c.Name, &c.Description, &c.Reference, &cr, &u); err != nil {
		return nil, err
	}
	c.Threats = []string{}
	c.CreatedAt, c.UpdatedAt = parseTime(cr), parseTime(u)
	return &c, nil
}

func (tx *Tx) linkControlThreats(ctx context.Context, controlID int64, threatIDs []int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM tm_control_threats WHERE control_id = $1", controlID); err != nil {
		return err
	}
	for _, t := range threatIDs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO tm_control_threats (control_id, threat_id) VALUES ($1, $2)", controlID, t); err != nil {
			return err
		}
	}
	return nil
}

// CreateControl adds a designed-in mitigation or a compensating control, linked to the threats it addresses.
func (db *DB) CreateControl(ctx context.Context, c *vigil.Control) (err error) {
	defer vigil.Wrap(&err, "store.CreateControl", c.Ref)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	c.Name, c.Ref, c.Reference = strings.TrimSpace(c.Name), strings.TrimSpace(c.Ref), strings.TrimSpace(c.Reference)
	c.Threats = trimAll(c.Threats)
	if err := c.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		d, err := tx.tmDevice(ctx, c.DeviceID)
		if err != nil {
			return err
		}
		ids, refs, err := tx.resolveRefs(ctx, tmThreats, d, "threats", trimAll(c.Threats))
		if err != nil {
			return err
		}
		c.Threats = refs
		if c.Ref, err = tx.assignRef(ctx, controlTable(c.Kind), d, c.Ref); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = tx.Now(), tx.Now()
		id, err := tx.insertID(ctx, `INSERT INTO tm_controls (device_id, ref, kind, name, description, reference, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, c.DeviceID, c.Ref, c.Kind, c.Name, c.Description, c.Reference, tx.NowText())
		if err != nil {
			return err
		}
		c.ID = id
		if err := tx.linkControlThreats(ctx, id, ids); err != nil {
			return err
		}
		tx.wrote("tm_controls", id)
		return tx.Audit(ctx, "control.create", "control", idText(id), nil, c, "")
	})
}

// UpdateControl replaces a control's fields and links; its ref and kind never change (a mitigation that becomes a
// compensating control is a different safeguard: add it).
func (db *DB) UpdateControl(ctx context.Context, c *vigil.Control, reason string) (err error) {
	defer vigil.Wrap(&err, "store.UpdateControl", c.ID)
	if _, err := vigil.Authorize(ctx, vigil.PermAssess); err != nil {
		return err
	}
	if err := needReason(reason); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := loadControl(ctx, tx, c.DeviceID, c.Ref)
		if err != nil {
			return err
		}
		if c.Kind == "" {
			c.Kind = old.Kind
		}
		if c.Kind != old.Kind {
			return vigil.Errorf(vigil.EINVALID, "kind: %s is a %s; the kind of a control cannot change (add a new one)", old.Ref, old.Kind)
		}
		c.Name, c.Reference, c.Threats = strings.TrimSpace(c.Name), strings.TrimSpace(c.Reference), trimAll(c.Threats)
		if err := c.Validate(); err != nil {
			return err
		}
		d, err := tx.tmDevice(ctx, c.DeviceID)
		if err != nil {
			return err
		}
		ids, refs, err := tx.resolveRefs(ctx, tmThreats, d, "threats", trimAll(c.Threats))
		if err != nil {
			return err
		}
		c.Threats, c.ID, c.Ref, c.CreatedAt, c.UpdatedAt = refs, old.ID, old.Ref, old.CreatedAt, tx.Now()
		if _, err := tx.ExecContext(ctx, "UPDATE tm_controls SET name = $1, description = $2, reference = $3, updated_at = $4 WHERE id = $5",
			c.Name, c.Description, c.Reference, tx.NowText(), c.ID); err != nil {
			return err
		}
		if err := tx.linkControlThreats(ctx, c.ID, ids); err != nil {
			return err
		}
		tx.wrote("tm_controls", c.ID)
		return tx.Audit(ctx, "control.update", "control", idText(c.ID), old, c, reason)
	})
}

func loadControl(ctx context.Context, q tmQuerier, deviceID int64, ref string) (*vigil.Control, error) {
	c, err := scanControl(q.QueryRowContext(ctx, "SELECT "+controlCols+" FROM tm_controls WHERE device_id = $1 AND lower(ref) = lower($2)", deviceID, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("control", strconv.Quote(ref))
	} else if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, "SELECT t.ref FROM tm_control_threats l JOIN tm_threats t ON t.id = l.threat_id WHERE l.control_id = $1 ORDER BY t.id", c.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		c.Threats = append(c.Threats, r)
	}
	return c, rows.Err()
}

// ---- the whole model

// ThreatModel returns a device's threat model: assets, threats and controls, each in order of creation, with
// their links as refs.
func (db *DB) ThreatModel(ctx context.Context, deviceID int64) (_ *vigil.ThreatModel, err error) {
	defer vigil.Wrap(&err, "store.ThreatModel", deviceID)
	d, err := db.Device(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	m := &vigil.ThreatModel{DeviceID: d.ID, Device: d.Name, Assets: []*vigil.Asset{}, Threats: []*vigil.Threat{}, Controls: []*vigil.Control{}}
	assets, err := queryAll(ctx, db.db, scanAsset, "SELECT "+assetCols+" FROM tm_assets WHERE device_id = $1 ORDER BY id", deviceID)
	if err != nil {
		return nil, err
	}
	m.Assets = append(m.Assets, assets...)
	threats, err := queryAll(ctx, db.db, scanThreat, "SELECT "+threatCols+" FROM tm_threats WHERE device_id = $1 ORDER BY id", deviceID)
	if err != nil {
		return nil, err
	}
	m.Threats = append(m.Threats, threats...)
	controls, err := queryAll(ctx, db.db, scanControl, "SELECT "+controlCols+" FROM tm_controls WHERE device_id = $1 ORDER BY id", deviceID)
	if err != nil {
		return nil, err
	}
	m.Controls = append(m.Controls, controls...)
	threatAssets := map[int64]*[]string{}
	for _, t := range m.Threats {
		threatAssets[t.ID] = &t.Assets
	}
	controlThreats := map[int64]*[]string{}
	for _, c := range m.Controls {
		controlThreats[c.ID] = &c.Threats
	}
	if err := linkRefs(ctx, db.db, threatAssets, `SELECT l.threat_id, a.ref FROM tm_threat_assets l JOIN tm_assets a ON a.id = l.asset_id
		WHERE a.device_id = $1 ORDER BY l.threat_id, a.id`, deviceID); err != nil {
		return nil, err
	}
	if err := linkRefs(ctx, db.db, controlThreats, `SELECT l.control_id, t.ref FROM tm_control_threats l JOIN tm_threats t ON t.id = l.threat_id
		WHERE t.device_id = $1 ORDER BY l.control_id, t.id`, deviceID); err != nil {
		return nil, err
	}
	return m, nil
}

// linkRefs appends each (owner id, ref) row of query to the owner's list of references: the threat model's links
// (a threat's assets, a control's threats) are rows of their own.
func linkRefs(ctx context.Context, q querier, lists map[int64]*[]string, query string, args ...any) error {
	return eachRow(ctx, q, query, args, func(r *sql.Rows) error {
		var id int64
		var ref string
		if err := r.Scan(&id, &ref); err != nil {
			return err
		}
		if l := lists[id]; l != nil {
			*l = append(*l, ref)
		}
		return nil
	})
}

// queryAll runs query and returns its rows as scan reads them: the one loop of the store's list reads.
func queryAll[T any](ctx context.Context, q querier, scan func(row interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	var out []T
	err := eachRow(ctx, q, query, args, func(rows *sql.Rows) error {
		v, err := scan(rows)
		out = append(out, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryByID reads the row of table whose id is id through scan, from the pool or in a transaction; a missing row
// is ENOTFOUND naming it as what.
func queryByID[T any](ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}, scan func(row interface{ Scan(...any) error }) (T, error), what, cols, table string, id int64) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, "SELECT "+cols+" FROM "+table+" WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound(what, id)
	}
	return v, err
}

// eachRow runs query and calls fn on each row: the one row loop of reads that are not plain lists.
func eachRow(ctx context.Context, q querier, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ---- assessments traced to the model

// AssessTraced appends an assessment of a case with the threats it names, in one transaction (Assess is it with
// none). Each threat must be in the threat model of the case's device.
func (db *DB) AssessTraced(ctx context.Context, a *vigil.Assessment, threats []string) (err error) {
	defer vigil.Wrap(&err, "store.AssessTraced", a.CaseID)
	actor, err := vigil.Authorize(ctx, vigil.PermAssess)
	if err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		var deviceID int64
		err := tx.QueryRowContext(ctx, "SELECT device_id FROM cases WHERE id = $1", a.CaseID).Scan(&deviceID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("case", a.CaseID)
		} else if err != nil {
			return err
		}
		var ids []int64
		refs := []string{}
		if len(threats) > 0 {
			d, err := tx.tmDevice(ctx, deviceID)
			if err != nil {
				return err
			}
			if ids, refs, err = tx.resolveRefs(ctx, tmThreats, d, "threats", trimAll(threats)); err != nil {
				return err
			}
		}
		if err := tx.insertAssessment(ctx, a, actor); err != nil {
			return err
		}
		for _, t := range ids {
			if _, err := tx.ExecContext(ctx, "INSERT INTO assessment_threats (assessment_id, threat_id) VALUES ($1, $2)", a.ID, t); err != nil {
				return err
			}
		}
		if _, err := tx.citeSignals(ctx, a.ID, a.Signals); err != nil {
			return err
		}
		audited := struct {
			*vigil.Assessment
			Threats []string `json:"threats"`
		}{a, refs}
		tx.wrote("assessments", a.ID)
		if err := tx.Audit(ctx, "case.assess", "case", idText(a.CaseID), nil, audited, a.Rationale); err != nil {
			return err
		}
		_, err = tx.signAct(ctx, "assessment", a.ID)
		return err
	})
}

// AssessmentThreats returns, for each assessment of the case that named threats, their refs in model order.
func (db *DB) AssessmentThreats(ctx context.Context, caseID int64) (_ map[int64][]string, err error) {
	defer vigil.Wrap(&err, "store.AssessmentThreats", caseID)
	out := map[int64][]string{}
	err = eachRow(ctx, db.db, `SELECT l.assessment_id, t.ref FROM assessment_threats l
		JOIN assessments a ON a.id = l.assessment_id JOIN tm_threats t ON t.id = l.threat_id
		WHERE `+caseAndMerged("a.case_id", "$1")+` ORDER BY l.assessment_id, t.id`, []any{caseID}, func(r *sql.Rows) error {
		var id int64
		var ref string
		if err := r.Scan(&id, &ref); err != nil {
			return err
		}
		out[id] = append(out[id], ref)
		return nil
	})
	return out, err
}
