-- Migration 20, after the records moved: the finding-level tables go (their rows are in the case-level ones, with
-- the same ids), and the case-level ones take their names; the identity sequences continue after the moved ids.
DROP TABLE assessment_threats;
DROP TABLE assessments;
DROP TABLE finding_events;
ALTER TABLE assessments_next RENAME TO assessments;
ALTER TABLE assessment_threats_next RENAME TO assessment_threats;
CREATE INDEX assessments_case ON assessments(case_id, id);
CREATE INDEX case_events_case ON case_events(case_id, id);
SELECT setval(pg_get_serial_sequence('assessments', 'id'), COALESCE((SELECT MAX(id) FROM assessments), 0) + 1, false);
SELECT setval(pg_get_serial_sequence('case_events', 'id'), COALESCE((SELECT MAX(id) FROM case_events), 0) + 1, false);
-- Decisions are records: assessments, events and retractions are never changed or removed.
CREATE TRIGGER assessments_append_only BEFORE UPDATE OR DELETE ON assessments FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
CREATE TRIGGER assessment_threats_append_only BEFORE UPDATE OR DELETE ON assessment_threats FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
CREATE TRIGGER case_retractions_append_only BEFORE UPDATE OR DELETE ON case_retractions FOR EACH ROW EXECUTE FUNCTION decisions_append_only();
