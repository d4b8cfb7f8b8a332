-- +goose Up
-- An import looks up each batch of documents by digest (IntelWriter.Known) instead of reading every stored digest
-- before it starts: half a million rows read, and held in memory, for a delta of a thousand documents. Only
-- documents imported whole are ever looked up.
CREATE INDEX intel_documents_digest ON intel_documents(digest) WHERE rejected = 0;
CREATE INDEX intel_documents_blob ON intel_documents(blob_digest) WHERE rejected = 0;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup';
