-- Migration 20, after the records moved: the finding-level tables go (their rows are in the case-level ones, with
-- the same ids), and the case-level ones take their names. Dropping a table drops its append-only triggers.
DROP TABLE assessment_threats;
DROP TABLE assessments;
DROP TABLE finding_events;
ALTER TABLE assessments_next RENAME TO assessments;
ALTER TABLE assessment_threats_next RENAME TO assessment_threats;
CREATE INDEX assessments_case ON assessments(case_id, id);
CREATE INDEX case_events_case ON case_events(case_id, id);
-- Decisions are records: assessments, events and retractions are never changed or removed.
CREATE TRIGGER assessments_no_update BEFORE UPDATE ON assessments BEGIN SELECT RAISE(ABORT, 'assessments are append-only'); END;
CREATE TRIGGER assessments_no_delete BEFORE DELETE ON assessments BEGIN SELECT RAISE(ABORT, 'assessments are append-only'); END;
CREATE TRIGGER assessment_threats_no_update BEFORE UPDATE ON assessment_threats BEGIN SELECT RAISE(ABORT, 'assessment threats are append-only'); END;
CREATE TRIGGER assessment_threats_no_delete BEFORE DELETE ON assessment_threats BEGIN SELECT RAISE(ABORT, 'assessment threats are append-only'); END;
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events BEGIN SELECT RAISE(ABORT, 'case events are append-only'); END;
CREATE TRIGGER case_retractions_no_update BEFORE UPDATE ON case_retractions BEGIN SELECT RAISE(ABORT, 'case retractions are append-only'); END;
CREATE TRIGGER case_retractions_no_delete BEFORE DELETE ON case_retractions BEGIN SELECT RAISE(ABORT, 'case retractions are append-only'); END;
