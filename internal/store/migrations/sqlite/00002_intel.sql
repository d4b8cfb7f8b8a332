-- +goose Up
-- The vulnerability-intelligence store: every source document as fetched, every source's advisory (with its earlier
-- revisions), the alias groups that merge them into one vulnerability, the affected-package index the matcher looks
-- up, KEV and EPSS, the configured feeds and the cybersecurity signals raised on our own devices.
-- Ids of documents, advisories and vulnerabilities are allocated by the importer (import runs are serialized), so
-- that it can write them in multi-row batches.
CREATE TABLE intel_runs (
	id INTEGER PRIMARY KEY,
	started_at TEXT NOT NULL,
	actor TEXT NOT NULL,
	summary TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE intel_documents (
	id INTEGER PRIMARY KEY,
	source TEXT NOT NULL,
	doc_id TEXT NOT NULL,
	revision TEXT NOT NULL DEFAULT '',
	name TEXT NOT NULL,
	url TEXT NOT NULL DEFAULT '',
	fetched_at TEXT NOT NULL,
	digest TEXT NOT NULL,
	blob_digest TEXT NOT NULL,
	size INTEGER NOT NULL,
	records INTEGER NOT NULL DEFAULT 0,
	rejected INTEGER NOT NULL DEFAULT 0,
	run_id INTEGER NOT NULL
);
-- The bytes as fetched, gzip-compressed, apart from the documents' metadata so that reading every digest (at the
-- start of each import) does not read every document.
CREATE TABLE intel_raw (
	doc_id INTEGER PRIMARY KEY REFERENCES intel_documents(id),
	raw BLOB NOT NULL
);
-- No index on the digests or ids of documents: an import reads the digests once (IntelWriter.LoadKnown), and every
-- index costs each of the half million rows a large import writes. intel_vulns has none on modified either: a list
-- sorts by it with a scan.
CREATE TABLE intel_vulns (
	id INTEGER PRIMARY KEY,
	preferred TEXT NOT NULL,
	modified TEXT
);
CREATE TABLE intel_aliases (
	alias TEXT PRIMARY KEY,
	vuln_id INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX intel_aliases_vuln ON intel_aliases(vuln_id);
CREATE TABLE intel_advisories (
	id INTEGER PRIMARY KEY,
	source TEXT NOT NULL,
	document TEXT NOT NULL DEFAULT '',
	adv_id TEXT NOT NULL,
	vuln_id INTEGER NOT NULL,
	modified TEXT,
	published TEXT,
	withdrawn INTEGER NOT NULL DEFAULT 0,
	digest TEXT NOT NULL,
	data TEXT NOT NULL, -- the normalized vigil.Advisory as JSON
	doc_ref INTEGER NOT NULL REFERENCES intel_documents(id),
	revision INTEGER NOT NULL DEFAULT 1,
	created_run INTEGER NOT NULL,
	updated_run INTEGER NOT NULL,
	UNIQUE (source, adv_id, document)
);
CREATE INDEX intel_advisories_vuln ON intel_advisories(vuln_id);
CREATE INDEX intel_advisories_document ON intel_advisories(document) WHERE document <> '';
CREATE TABLE intel_advisory_revisions (
	id INTEGER PRIMARY KEY,
	advisory_id INTEGER NOT NULL REFERENCES intel_advisories(id),
	revision INTEGER NOT NULL,
	modified TEXT,
	withdrawn INTEGER NOT NULL DEFAULT 0,
	digest TEXT NOT NULL,
	data TEXT NOT NULL,
	doc_ref INTEGER NOT NULL REFERENCES intel_documents(id),
	superseded_run INTEGER NOT NULL,
	UNIQUE (advisory_id, digest)
);
CREATE TABLE intel_affected (
	kind TEXT NOT NULL,
	ecosystem TEXT NOT NULL,
	name TEXT NOT NULL,
	advisory_id INTEGER NOT NULL,
	PRIMARY KEY (kind, ecosystem, name, advisory_id)
) WITHOUT ROWID;
CREATE INDEX intel_affected_advisory ON intel_affected(advisory_id);
CREATE TABLE intel_changes (
	run_id INTEGER NOT NULL,
	kind TEXT NOT NULL,
	ecosystem TEXT NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (run_id, kind, ecosystem, name)
) WITHOUT ROWID;
CREATE TABLE intel_kev (
	cve TEXT PRIMARY KEY,
	catalog_version TEXT NOT NULL,
	date_added TEXT NOT NULL,
	digest TEXT NOT NULL,
	data TEXT NOT NULL,
	removed INTEGER NOT NULL DEFAULT 0,
	updated_run INTEGER NOT NULL
);
CREATE TABLE intel_kev_history (
	id INTEGER PRIMARY KEY,
	cve TEXT NOT NULL,
	catalog_version TEXT NOT NULL,
	change TEXT NOT NULL,
	data TEXT NOT NULL,
	run_id INTEGER NOT NULL
);
CREATE INDEX intel_kev_history_cve ON intel_kev_history(cve);
CREATE TABLE intel_epss (
	cve TEXT NOT NULL,
	date TEXT NOT NULL,
	score REAL NOT NULL,
	percentile REAL NOT NULL,
	model_version TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (cve, date)
) WITHOUT ROWID;
CREATE TABLE intel_epss_latest (
	cve TEXT PRIMARY KEY,
	date TEXT NOT NULL,
	score REAL NOT NULL,
	percentile REAL NOT NULL,
	model_version TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX intel_epss_latest_score ON intel_epss_latest(score);
CREATE TABLE intel_feeds (
	name TEXT PRIMARY KEY,
	source TEXT NOT NULL,
	url TEXT NOT NULL,
	schedule_seconds INTEGER NOT NULL,
	enabled INTEGER NOT NULL DEFAULT 1,
	last_attempt TEXT,
	last_success TEXT,
	last_error TEXT NOT NULL DEFAULT '',
	failures INTEGER NOT NULL DEFAULT 0,
	next_attempt TEXT,
	cursor TEXT NOT NULL DEFAULT '',
	counts TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE intel_http_cache (
	url TEXT PRIMARY KEY,
	etag TEXT NOT NULL DEFAULT '',
	last_modified TEXT NOT NULL DEFAULT '',
	fetched_at TEXT NOT NULL
);
CREATE TABLE intel_signals (
	id INTEGER PRIMARY KEY,
	device_id INTEGER NOT NULL REFERENCES devices(id),
	advisory_id INTEGER NOT NULL REFERENCES intel_advisories(id),
	document TEXT NOT NULL,
	vuln TEXT NOT NULL,
	release_date TEXT NOT NULL,
	matched_by TEXT NOT NULL,
	matched TEXT NOT NULL,
	run_id INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (device_id, advisory_id)
);
CREATE INDEX intel_signals_device ON intel_signals(device_id, release_date);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
