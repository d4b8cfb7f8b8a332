package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/regulatory"
	"github.com/vigil-dev/vigil/internal/risk"
)

var _ vigil.PortfolioService = (*DB)(nil)

func idText(id int64) string { return strconv.FormatInt(id, 10) }

func notFound(what string, id any) error {
	return vigil.Errorf(vigil.ENOTFOUND, "%s %v not found", what, id)
}

// nullJSON stores an empty list as NULL: for columns added to audited tables after rows existed, whose canonical
// encoding leaves NULLs out, so a row never given a value hashes as it did before the column.
func nullJSON[T any](vs []T) any {
	if len(vs) == 0 {
		return nil
	}
	return mustJSON(vs)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with our own marshalable types
	}
	return string(b)
}

// ---- organizations

const orgCols = "id, name, fei_number, registration_number, time_zone, cvd_ack_days, cvd_contact, policy, created_at, updated_at"

func scanOrg(row interface{ Scan(...any) error }) (*vigil.Organization, error) {
	var o vigil.Organization
	var policy string
	var c, u, regNo sql.NullString
	if err := row.Scan(&o.ID, &o.Name, &o.FEINumber, &regNo, &o.TimeZone, &o.CVDAckDays, &o.CVDContact, &policy, &c, &u); err != nil {
		return nil, err
	}
	o.RegistrationNumber = regNo.String
	if err := json.Unmarshal([]byte(policy), &o.Policy); err != nil {
		return nil, fmt.Errorf("org %d policy: %w", o.ID, err)
	}
	o.CreatedAt, o.UpdatedAt = parseTime(c), parseTime(u)
	return &o, nil
}

// CreateOrg creates an organization with the ISAO memberships given (and their documents). The CVD
// acknowledgement time defaults to 5 business days (policy).
func (db *DB) CreateOrg(ctx context.Context, o *vigil.Organization) (err error) {
	defer vigil.Wrap(&err, "store.CreateOrg", o.Name)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if o.CVDAckDays == 0 {
		o.CVDAckDays = 5
	}
	if o.ISAOs == nil {
		o.ISAOs = []vigil.ISAOMembership{}
	}
	if err := validateOrg(o); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		o.CreatedAt, o.UpdatedAt = tx.Now(), tx.Now()
		// registration_number is written only when given: NULL otherwise, as the column came (migration 34), so an
		// organization is created the same way into the stores the upgrade tests build at older schemas.
		cols, vals, args := "", "", []any{o.Name, o.FEINumber, o.TimeZone, o.CVDAckDays, o.CVDContact, mustJSON(o.Policy), tx.NowText()}
		if o.RegistrationNumber != "" {
			cols, vals, args = ", registration_number", ", $8", append(args, o.RegistrationNumber)
		}
		id, err := tx.insertID(ctx, `INSERT INTO orgs (name, fei_number, time_zone, cvd_ack_days, cvd_contact, policy, created_at, updated_at`+cols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7`+vals+`)`, args...)
		if err != nil {
			return err
		}
		o.ID = id
		tx.wrote("orgs", id)
		if err := createMemberships(ctx, tx, id, o.ISAOs); err != nil {
			return err
		}
		return tx.Audit(ctx, "org.create", "org", idText(id), nil, o, "")
	})
}

// UpdateOrg replaces an organization's fields (its ISAO memberships change through SaveISAOMembership and are
// left as they are); reason is recorded with the change, and required when the regulatory
// policy (OrgPolicy or the CVD acknowledgement time) changes.
func (db *DB) UpdateOrg(ctx context.Context, o *vigil.Organization, reason string) (err error) {
	defer vigil.Wrap(&err, "store.UpdateOrg", o.ID)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if err := validateOrg(o); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := queryByID(ctx, tx, scanOrg, "organization", orgCols, "orgs", o.ID)
		if err != nil {
			return err
		}
		if err := attachISAOs(ctx, tx, old); err != nil {
			return err
		}
		o.ISAOs = old.ISAOs
		if strings.TrimSpace(reason) == "" && (mustJSON(old.Policy) != mustJSON(o.Policy) || old.CVDAckDays != o.CVDAckDays) {
			return vigil.Errorf(vigil.EINVALID, "reason: required when the regulatory policy changes: it changes every finding's determination, so say why (it is recorded in the audit trail)")
		}
		o.CreatedAt, o.UpdatedAt = old.CreatedAt, tx.Now()
		_, err = tx.ExecContext(ctx, `UPDATE orgs SET name=$1, fei_number=$2, time_zone=$3, cvd_ack_days=$4, cvd_contact=$5, policy=$6, updated_at=$7, registration_number=$9 WHERE id=$8`,
			o.Name, o.FEINumber, o.TimeZone, o.CVDAckDays, o.CVDContact, mustJSON(o.Policy), tx.NowText(), o.ID, nullText(o.RegistrationNumber))
		if err = mapErr(err); err != nil {
			return err
		}
		tx.wrote("orgs", o.ID)
		return tx.Audit(ctx, "org.update", "org", idText(o.ID), old, o, reason)
	})
}

// validateOrg checks an organization's fields and its regulatory policy with the determination's own reading of it,
// so that a policy saved here is one every determination can run under. The matrix is kept in its canonical JSON,
// or not at all for the default, as a device's is.
func validateOrg(o *vigil.Organization) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if _, err := regulatory.OrgPolicy(o); err != nil {
		return err
	}
	var err error
	o.Policy.AcceptanceMatrix, err = canonicalMatrix(o.Policy.AcceptanceMatrix, "policy.acceptance_matrix")
	return err
}

// Org returns one organization.
func (db *DB) Org(ctx context.Context, id int64) (_ *vigil.Organization, err error) {
	defer vigil.Wrap(&err, "store.Org", id)
	o, err := queryByID(ctx, db.db, scanOrg, "organization", orgCols, "orgs", id)
	if err != nil {
		return nil, err
	}
	return o, attachISAOs(ctx, db.db, o)
}

// Orgs lists organizations by id.
func (db *DB) Orgs(ctx context.Context) (_ []*vigil.Organization, err error) {
	defer vigil.Wrap(&err, "store.Orgs", nil)
	orgs, err := queryAll(ctx, db.db, scanOrg, "SELECT "+orgCols+" FROM orgs ORDER BY id")
	if err != nil {
		return nil, err
	}
	return orgs, attachISAOs(ctx, db.db, orgs...)
}

// ---- devices

const deviceCols = "id, org_id, name, model, class, pathway, submission_number, cyber_device, intended_use, safety_performance, functions, udi_di, pma_anniversary, created_at, updated_at, acceptance_matrix"

func scanDevice(row interface{ Scan(...any) error }) (*vigil.Device, error) {
	var d vigil.Device
	var fns string
	var pma, c, u, matrix sql.NullString
	if err := row.Scan(&d.ID, &d.OrgID, &d.Name, &d.Model, &d.Class, &d.Pathway, &d.SubmissionNumber, &d.CyberDevice,
		&d.IntendedUse, &d.SafetyPerformance, &fns, &d.UDIDI, &pma, &c, &u, &matrix); err != nil {
		return nil, err
	}
	if matrix.Valid && matrix.String != "" {
		d.AcceptanceMatrix = json.RawMessage(matrix.String)
	}
	if err := json.Unmarshal([]byte(fns), &d.Functions); err != nil {
		return nil, fmt.Errorf("device %d functions: %w", d.ID, err)
	}
	d.PMAAnniversary, d.CreatedAt, d.UpdatedAt = parseDate(pma), parseTime(c), parseTime(u)
	return &d, nil
}

// CreateDevice creates a device. OrgID defaults to the only organization when there is exactly one.
func (db *DB) CreateDevice(ctx context.Context, d *vigil.Device) (err error) {
	defer vigil.Wrap(&err, "store.CreateDevice", d.Name)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if d.Functions == nil {
		d.Functions = []vigil.ClinicalFunction{}
	}
	if err := d.Validate(); err != nil {
		return err
	}
	matrix, err := deviceMatrix(d)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.defaultOrg(ctx, &d.OrgID); err != nil {
			return err
		}
		d.CreatedAt, d.UpdatedAt = tx.Now(), tx.Now()
		id, err := tx.insertID(ctx, `INSERT INTO devices (org_id, name, model, class, pathway, submission_number, cyber_device, intended_use, safety_performance, functions, udi_di, pma_anniversary, created_at, updated_at, acceptance_matrix)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14)`,
			d.OrgID, d.Name, d.Model, d.Class, d.Pathway, d.SubmissionNumber, d.CyberDevice, d.IntendedUse, d.SafetyPerformance,
			mustJSON(d.Functions), d.UDIDI, dateText(d.PMAAnniversary), tx.NowText(), matrix)
		if err != nil {
			return err
		}
		d.ID = id
		tx.wrote("devices", id)
		return tx.Audit(ctx, "device.create", "device", idText(id), nil, d, "")
	})
}

func (tx *Tx) defaultOrg(ctx context.Context, orgID *int64) error {
	if *orgID != 0 {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM orgs WHERE id = $1", *orgID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return vigil.Errorf(vigil.EINVALID, "org_id: organization %d does not exist", *orgID)
		}
		return nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT id FROM orgs ORDER BY id LIMIT 2")
	if err != nil {
		return err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 {
		return vigil.Errorf(vigil.EINVALID, "org_id: required (create the organization first with `vigil org create`, or name it when there are several)")
	}
	*orgID = ids[0]
	return rows.Err()
}

// deviceMatrix checks the device's acceptance matrix with the engine that will decide with it and returns the
// value to store: its canonical JSON (which d then carries too), or NULL for the default matrix.
func deviceMatrix(d *vigil.Device) (any, error) {
	m, err := canonicalMatrix(d.AcceptanceMatrix, "acceptance_matrix")
	if err != nil {
		return nil, err
	}
	if d.AcceptanceMatrix = m; m == nil {
		return nil, nil
	}
	return string(m), nil
}

// canonicalMatrix reads an acceptance matrix document (field names it in errors) and returns its canonical JSON, or
// nil when it is empty (the default matrix).
func canonicalMatrix(raw json.RawMessage, field string) (json.RawMessage, error) {
	m, err := risk.DecodeMatrix(raw, field)
	if err != nil || m.IsZero() {
		return nil, err
	}
	return json.Marshal(m)
}

// UpdateDevice replaces a device's fields.
func (db *DB) UpdateDevice(ctx context.Context, d *vigil.Device, reason string) (err error) {
	defer vigil.Wrap(&err, "store.UpdateDevice", d.ID)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	matrix, err := deviceMatrix(d)
	if err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := queryByID(ctx, tx, scanDevice, "device", deviceCols, "devices", d.ID)
		if err != nil {
			return err
		}
		d.OrgID, d.CreatedAt, d.UpdatedAt = old.OrgID, old.CreatedAt, tx.Now()
		_, err = tx.ExecContext(ctx, `UPDATE devices SET name=$1, model=$2, class=$3, pathway=$4, submission_number=$5, cyber_device=$6, intended_use=$7,
			safety_performance=$8, functions=$9, udi_di=$10, pma_anniversary=$11, updated_at=$12, acceptance_matrix=$14 WHERE id=$13`,
			d.Name, d.Model, d.Class, d.Pathway, d.SubmissionNumber, d.CyberDevice, d.IntendedUse, d.SafetyPerformance,
			mustJSON(d.Functions), d.UDIDI, dateText(d.PMAAnniversary), tx.NowText(), d.ID, matrix)
		if err = mapErr(err); err != nil {
			return err
		}
		tx.wrote("devices", d.ID)
		return tx.Audit(ctx, "device.update", "device", idText(d.ID), old, d, reason)
	})
}

// Device returns one device.
func (db *DB) Device(ctx context.Context, id int64) (_ *vigil.Device, err error) {
	defer vigil.Wrap(&err, "store.Device", id)
	return queryByID(ctx, db.db, scanDevice, "device", deviceCols, "devices", id)
}

// DeviceByName returns the device with this name, or with this id when name is a number.
func (db *DB) DeviceByName(ctx context.Context, name string) (_ *vigil.Device, err error) {
	defer vigil.Wrap(&err, "store.DeviceByName", name)
	d, err := scanDevice(db.db.QueryRowContext(ctx, "SELECT "+deviceCols+" FROM devices WHERE name = $1", name))
	if errors.Is(err, sql.ErrNoRows) {
		if id, perr := strconv.ParseInt(name, 10, 64); perr == nil {
			return db.Device(ctx, id)
		}
		return nil, notFound("device", strconv.Quote(name))
	}
	return d, err
}

// Devices lists devices by name.
func (db *DB) Devices(ctx context.Context) (_ []*vigil.Device, err error) {
	defer vigil.Wrap(&err, "store.Devices", nil)
	return queryAll(ctx, db.db, scanDevice, "SELECT "+deviceCols+" FROM devices ORDER BY name")
}

// ---- versions

const versionCols = "id, device_id, version, release_date, status, status_date, units_fielded, created_at, updated_at"

func scanVersion(row interface{ Scan(...any) error }) (*vigil.DeviceVersion, error) {
	var v vigil.DeviceVersion
	var rd, sd, c, u sql.NullString
	if err := row.Scan(&v.ID, &v.DeviceID, &v.Version, &rd, &v.Status, &sd, &v.UnitsFielded, &c, &u); err != nil {
		return nil, err
	}
	v.ReleaseDate, v.StatusDate, v.CreatedAt, v.UpdatedAt = parseDate(rd), parseDate(sd), parseTime(c), parseTime(u)
	return &v, nil
}

// CreateVersion creates a device version.
func (db *DB) CreateVersion(ctx context.Context, v *vigil.DeviceVersion) (err error) {
	defer vigil.Wrap(&err, "store.CreateVersion", v.Version)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM devices WHERE id = $1", v.DeviceID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return vigil.Errorf(vigil.EINVALID, "device_id: device %d does not exist", v.DeviceID)
		}
		v.CreatedAt, v.UpdatedAt = tx.Now(), tx.Now()
		id, err := tx.insertID(ctx, `INSERT INTO device_versions (device_id, version, release_date, status, status_date, units_fielded, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, v.DeviceID, v.Version, dateText(v.ReleaseDate), v.Status, dateText(v.StatusDate), v.UnitsFielded, tx.NowText())
		if err != nil {
			return err
		}
		v.ID = id
		tx.wrote("device_versions", id)
		return tx.Audit(ctx, "version.create", "version", idText(id), nil, v, "")
	})
}

// UpdateVersion replaces a version's fields (its device cannot change).
func (db *DB) UpdateVersion(ctx context.Context, v *vigil.DeviceVersion, reason string) (err error) {
	defer vigil.Wrap(&err, "store.UpdateVersion", v.ID)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := queryByID(ctx, tx, scanVersion, "version", versionCols, "device_versions", v.ID)
		if err != nil {
			return err
		}
		v.DeviceID, v.CreatedAt, v.UpdatedAt = old.DeviceID, old.CreatedAt, tx.Now()
		_, err = tx.ExecContext(ctx, `UPDATE device_versions SET version=$1, release_date=$2, status=$3, status_date=$4, units_fielded=$5, updated_at=$6 WHERE id=$7`,
			v.Version, dateText(v.ReleaseDate), v.Status, dateText(v.StatusDate), v.UnitsFielded, tx.NowText(), v.ID)
		if err = mapErr(err); err != nil {
			return err
		}
		tx.wrote("device_versions", v.ID)
		return tx.Audit(ctx, "version.update", "version", idText(v.ID), old, v, reason)
	})
}

// Version returns one version.
func (db *DB) Version(ctx context.Context, id int64) (_ *vigil.DeviceVersion, err error) {
	defer vigil.Wrap(&err, "store.Version", id)
	return queryByID(ctx, db.db, scanVersion, "version", versionCols, "device_versions", id)
}

// VersionByName returns a device's version by its version string.
func (db *DB) VersionByName(ctx context.Context, deviceID int64, version string) (_ *vigil.DeviceVersion, err error) {
	defer vigil.Wrap(&err, "store.VersionByName", deviceID)
	v, err := scanVersion(db.db.QueryRowContext(ctx, "SELECT "+versionCols+" FROM device_versions WHERE device_id = $1 AND version = $2", deviceID, version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("version", strconv.Quote(version))
	}
	return v, err
}

// Versions lists a device's versions (all devices' when deviceID is 0) in creation order.
func (db *DB) Versions(ctx context.Context, deviceID int64) (_ []*vigil.DeviceVersion, err error) {
	defer vigil.Wrap(&err, "store.Versions", deviceID)
	q, args := "SELECT "+versionCols+" FROM device_versions ORDER BY device_id, id", []any{}
	if deviceID != 0 {
		q, args = "SELECT "+versionCols+" FROM device_versions WHERE device_id = $1 ORDER BY id", []any{deviceID}
	}
	return queryAll(ctx, db.db, scanVersion, q, args...)
}

// ---- components

// ValidateComponent checks a component's identifiers: a purl must parse, a CPE must be a CPE 2.3 formatted string
// or a 2.2 URI.
func ValidateComponent(i int, c *vigil.Component) error {
	if err := c.Validate(); err != nil {
		return vigil.Errorf(vigil.EINVALID, "components[%d].%s", i, vigil.ErrorMessage(err))
	}
	if c.Purl != "" {
		if _, err := packageurl.FromString(c.Purl); err != nil {
			return vigil.Errorf(vigil.EINVALID, "components[%d].purl: %q: %v", i, c.Purl, err)
		}
	}
	if c.CPE != "" {
		if !(strings.HasPrefix(c.CPE, "cpe:2.3:") && strings.Count(c.CPE, ":")-strings.Count(c.CPE, `\:`) == 12) && !strings.HasPrefix(c.CPE, "cpe:/") {
			return vigil.Errorf(vigil.EINVALID, "components[%d].cpe: %q is not a CPE 2.3 formatted string", i, c.CPE)
		}
	}
	return nil
}

// SetComponents replaces a version's current components with comps in one transaction, keeping the previous
// SBOM and its components as history. source names the document (a file name) for provenance.
func (db *DB) SetComponents(ctx context.Context, versionID int64, comps []vigil.Component, source string) (err error) {
	defer vigil.Wrap(&err, "store.SetComponents", versionID)
	_, err = db.ImportSBOM(ctx, versionID, comps, vigil.SBOMMeta{Source: source}, nil)
	return err
}

// ImportSBOM stores comps as the version's current SBOM and returns the previous current components (for a diff).
// check, when not nil, sees the previous components inside the transaction and refuses the import by returning an
// error, so the decision and the write see the same SBOM.
func (db *DB) ImportSBOM(ctx context.Context, versionID int64, comps []vigil.Component, meta vigil.SBOMMeta, check func(previous []vigil.Component) error) (previous []vigil.Component, err error) {
	defer vigil.Wrap(&err, "store.ImportSBOM", versionID)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return nil, err
	}
	if err := vigil.Text("source", meta.Source, vigil.MaxIdent); err != nil {
		return nil, err
	}
	for i := range comps {
		if err := ValidateComponent(i, &comps[i]); err != nil {
			return nil, err
		}
	}
	err = db.transact(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM device_versions WHERE id = $1", versionID).Scan(&n); err != nil {
			return err
		} else if n == 0 {
			return notFound("version", versionID)
		}
		prev, err := queryComponents(ctx, tx, versionID)
		if err != nil {
			return err
		}
		previous = prev
		if check != nil {
			if err := check(prev); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE sboms SET current = $1 WHERE version_id = $2", false, versionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE components SET current = $1 WHERE version_id = $2", false, versionID); err != nil {
			return err
		}
		sbomID, err := tx.insertID(ctx, "INSERT INTO sboms (version_id, source, format, digest, imported_at, current) VALUES ($1, $2, $3, $4, $5, $6)",
			versionID, meta.Source, meta.Format, meta.Digest, tx.NowText(), true)
		if err != nil {
			return err
		}
		b := newBatch("components", "sbom_id, version_id, name, grp, version, purl, cpe, supplier, hashes, support, end_of_support, support_note, type, current", "")
		for i := range comps {
			c := &comps[i]
			hashes := c.Hashes
			if hashes == nil {
				hashes = map[string]string{}
			}
			b.add(sbomID, versionID, c.Name, c.Group, c.Version, c.Purl, c.CPE, c.Supplier, mustJSON(hashes),
				c.Support, dateText(c.EndOfSupport), c.SupportNote, c.Type, true)
			c.VersionID = versionID
			if b.full() {
				if err := b.flush(ctx, tx); err != nil {
					return err
				}
			}
		}
		if err := b.flush(ctx, tx); err != nil {
			return err
		}
		// The reverse index names the components by id, which the multi-row inserts do not return in order.
		stored, err := queryComponents(ctx, tx, versionID)
		if err != nil {
			return err
		}
		if err := tx.writeComponentKeys(ctx, versionID, stored); err != nil {
			return err
		}
		summary := map[string]any{"sbom_id": sbomID, "source": meta.Source, "format": meta.Format, "digest": meta.Digest, "components": len(comps)}
		// The new SBOM, and the earlier ones it made no longer current.
		sboms, err := queryAll(ctx, tx, scanID, "SELECT id FROM sboms WHERE version_id = $1", versionID)
		if err != nil {
			return err
		}
		tx.wrote("sboms", sboms...)
		return tx.Audit(ctx, "sbom.import", "version", idText(versionID), map[string]any{"components": len(prev)}, summary, "")
	})
	return previous, err
}

const componentCols = "id, version_id, name, grp, version, purl, cpe, supplier, hashes, support, end_of_support, support_note, type"

func scanComponent(row interface{ Scan(...any) error }) (vigil.Component, error) {
	var c vigil.Component
	var hashes string
	var eos sql.NullString
	if err := row.Scan(&c.ID, &c.VersionID, &c.Name, &c.Group, &c.Version, &c.Purl, &c.CPE, &c.Supplier, &hashes, &c.Support, &eos, &c.SupportNote, &c.Type); err != nil {
		return c, err
	}
	if hashes != "{}" {
		_ = json.Unmarshal([]byte(hashes), &c.Hashes) // written by us from a map: cannot fail
	}
	c.EndOfSupport = parseDate(eos)
	return c, nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func queryComponents(ctx context.Context, q querier, versionID int64) ([]vigil.Component, error) {
	return queryAll(ctx, q, scanComponent, "SELECT "+componentCols+" FROM components WHERE version_id = $1 AND current = $2 ORDER BY id", versionID, true)
}

// Components returns a version's current components.
func (db *DB) Components(ctx context.Context, versionID int64) (_ []vigil.Component, err error) {
	defer vigil.Wrap(&err, "store.Components", versionID)
	return queryComponents(ctx, db.db, versionID)
}

// ---- consignees

func (db *DB) loadUnits(ctx context.Context, q querier, c *vigil.Consignee) error {
	rows, err := q.QueryContext(ctx, "SELECT version_id, units, lots, shipped FROM consignee_units WHERE consignee_id = $1 ORDER BY version_id", c.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	c.Units = []vigil.ConsigneeUnit{}
	for rows.Next() {
		var u vigil.ConsigneeUnit
		var lots string
		var shipped sql.NullString
		if err := rows.Scan(&u.VersionID, &u.Units, &lots, &shipped); err != nil {
			return err
		}
		u.Shipped = parseDate(shipped)
		_ = json.Unmarshal([]byte(lots), &u.Lots)
		c.Units = append(c.Units, u)
	}
	return rows.Err()
}

const consigneeCols = "id, org_id, name, contact, address, emails, created_at, updated_at"

func scanConsignee(row interface{ Scan(...any) error }) (*vigil.Consignee, error) {
	var c vigil.Consignee
	var cr, up, emails sql.NullString
	if err := row.Scan(&c.ID, &c.OrgID, &c.Name, &c.Contact, &c.Address, &emails, &cr, &up); err != nil {
		return nil, err
	}
	c.Emails = []string{}
	if emails.Valid {
		if err := json.Unmarshal([]byte(emails.String), &c.Emails); err != nil {
			return nil, fmt.Errorf("consignee %d emails: %w", c.ID, err)
		}
	}
	c.CreatedAt, c.UpdatedAt = parseTime(cr), parseTime(up)
	return &c, nil
}

func (tx *Tx) writeUnits(ctx context.Context, c *vigil.Consignee) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM consignee_units WHERE consignee_id = $1", c.ID); err != nil {
		return err
	}
	for i, u := range c.Units {
		lots := u.Lots
		if lots == nil {
			lots = []string{}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO consignee_units (consignee_id, version_id, units, lots, shipped) VALUES ($1, $2, $3, $4, $5)",
			c.ID, u.VersionID, u.Units, mustJSON(lots), dateText(u.Shipped)); err != nil {
			if strings.Contains(err.Error(), "FOREIGN KEY") || strings.Contains(err.Error(), "23503") {
				return vigil.Errorf(vigil.EINVALID, "units[%d].version_id: version %d does not exist", i, u.VersionID)
			}
			if err := mapErr(err); vigil.ErrorCode(err) == vigil.ECONFLICT {
				return vigil.Errorf(vigil.EINVALID, "units[%d].version_id: version %d listed twice", i, u.VersionID)
			}
			return err
		}
	}
	return nil
}

// CreateConsignee creates a consignee with its units.
func (db *DB) CreateConsignee(ctx context.Context, c *vigil.Consignee) (err error) {
	defer vigil.Wrap(&err, "store.CreateConsignee", c.Name)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		if err := tx.defaultOrg(ctx, &c.OrgID); err != nil {
			return err
		}
		c.CreatedAt, c.UpdatedAt = tx.Now(), tx.Now()
		id, err := tx.insertID(ctx, "INSERT INTO consignees (org_id, name, contact, address, emails, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
			c.OrgID, c.Name, c.Contact, c.Address, nullJSON(c.Emails), tx.NowText())
		if err != nil {
			return err
		}
		c.ID = id
		if c.Units == nil {
			c.Units = []vigil.ConsigneeUnit{}
		}
		if err := tx.writeUnits(ctx, c); err != nil {
			return err
		}
		tx.wrote("consignees", id)
		return tx.Audit(ctx, "consignee.create", "consignee", idText(id), nil, c, "")
	})
}

// UpdateConsignee replaces a consignee's fields and units.
func (db *DB) UpdateConsignee(ctx context.Context, c *vigil.Consignee, reason string) (err error) {
	defer vigil.Wrap(&err, "store.UpdateConsignee", c.ID)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := queryByID(ctx, tx, scanConsignee, "consignee", consigneeCols, "consignees", c.ID)
		if err != nil {
			return err
		}
		if err := db.loadUnits(ctx, tx, old); err != nil {
			return err
		}
		c.OrgID, c.CreatedAt, c.UpdatedAt = old.OrgID, old.CreatedAt, tx.Now()
		if _, err := tx.ExecContext(ctx, "UPDATE consignees SET name=$1, contact=$2, address=$3, emails=$4, updated_at=$5 WHERE id=$6",
			c.Name, c.Contact, c.Address, nullJSON(c.Emails), tx.NowText(), c.ID); mapErr(err) != nil {
			return mapErr(err)
		}
		if c.Units == nil {
			c.Units = []vigil.ConsigneeUnit{}
		}
		if err := tx.writeUnits(ctx, c); err != nil {
			return err
		}
		tx.wrote("consignees", c.ID)
		return tx.Audit(ctx, "consignee.update", "consignee", idText(c.ID), old, c, reason)
	})
}

// DeleteConsignee removes a consignee and its units; the reason is required, and the event keeps the consignee as
// it was. A consignee other records still name (a foreign key) is refused with ECONFLICT.
func (db *DB) DeleteConsignee(ctx context.Context, id int64, reason string) (err error) {
	defer vigil.Wrap(&err, "store.DeleteConsignee", id)
	if _, err := vigil.Authorize(ctx, vigil.PermPortfolio); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return vigil.Errorf(vigil.EINVALID, "reason: required to delete a consignee")
	}
	if err := vigil.Text("reason", reason, vigil.MaxText); err != nil {
		return err
	}
	return db.transact(ctx, func(tx *Tx) error {
		old, err := queryByID(ctx, tx, scanConsignee, "consignee", consigneeCols, "consignees", id)
		if err != nil {
			return err
		}
		if err := db.loadUnits(ctx, tx, old); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM consignee_units WHERE consignee_id = $1", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM consignees WHERE id = $1", id); err != nil {
			if strings.Contains(err.Error(), "FOREIGN KEY") || strings.Contains(err.Error(), "23503") {
				return vigil.Errorf(vigil.ECONFLICT, "consignee %d: other records name it (notices, deployments): it is kept", id)
			}
			return err
		}
		tx.wrote("consignees", id)
		return tx.Audit(ctx, "consignee.delete", "consignee", idText(id), old, nil, reason)
	})
}

// Consignee returns one consignee with its units.
func (db *DB) Consignee(ctx context.Context, id int64) (_ *vigil.Consignee, err error) {
	defer vigil.Wrap(&err, "store.Consignee", id)
	c, err := queryByID(ctx, db.db, scanConsignee, "consignee", consigneeCols, "consignees", id)
	if err != nil {
		return nil, err
	}
	return c, db.loadUnits(ctx, db.db, c)
}

// Consignees lists consignees by name.
func (db *DB) Consignees(ctx context.Context) (_ []*vigil.Consignee, err error) {
	defer vigil.Wrap(&err, "store.Consignees", nil)
	out, err := queryAll(ctx, db.db, scanConsignee, "SELECT "+consigneeCols+" FROM consignees ORDER BY name")
	if err != nil {
		return nil, err
	}
	for _, c := range out {
		if err := db.loadUnits(ctx, db.db, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Where lists the device versions whose current SBOM contains a component. ref is NAME, NAME@VERSION or a purl
// (with or without its version); names compare case-insensitively.
func (db *DB) Where(ctx context.Context, ref string) (_ []vigil.Where, err error) {
	defer vigil.Wrap(&err, "store.Where", ref)
	q := `SELECT d.id, d.name, v.id, v.version, v.status, v.units_fielded, ` + prefixCols("c.", componentCols) + `
		FROM components c JOIN device_versions v ON v.id = c.version_id JOIN devices d ON d.id = v.device_id
		WHERE c.current = $1 AND `
	args := []any{true}
	if strings.HasPrefix(ref, "pkg:") {
		base, ver, hasVer := strings.Cut(ref, "@")
		args = append(args, base, base+"@%")
		q += "(c.purl = $2 OR c.purl LIKE $3)"
		if hasVer {
			args = append(args, "%@"+ver)
			q += " AND (c.purl LIKE $4 OR c.version = $5)"
			args = append(args, ver)
		}
	} else {
		name, ver, hasVer := strings.Cut(ref, "@")
		args = append(args, strings.ToLower(name))
		q += "LOWER(c.name) = $2"
		if hasVer {
			args = append(args, ver)
			q += " AND c.version = $3"
		}
	}
	rows, err := db.db.QueryContext(ctx, q+" ORDER BY d.name, v.id, c.id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vigil.Where
	for rows.Next() {
		var w vigil.Where
		var hashes string
		var eos sql.NullString
		c := &w.Component
		if err := rows.Scan(&w.DeviceID, &w.Device, &w.VersionID, &w.Version, &w.Status, &w.Units,
			&c.ID, &c.VersionID, &c.Name, &c.Group, &c.Version, &c.Purl, &c.CPE, &c.Supplier, &hashes, &c.Support, &eos, &c.SupportNote, &c.Type); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(hashes), &c.Hashes)
		c.EndOfSupport = parseDate(eos)
		out = append(out, w)
	}
	return out, rows.Err()
}

func prefixCols(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
