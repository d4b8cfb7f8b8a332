-- +goose Up
-- What the regulatory documents need that the portfolio did not hold (issue 15). Each column is NULL until set, so
-- every earlier record's audited state (its hash leaves NULL columns out) is unchanged.
-- The FDA establishment registration number (21 CFR 807), which an 806 report number starts with; it is not the
-- FEI (FDA Establishment Identifier), a different number kept in fei_number.
ALTER TABLE orgs ADD COLUMN registration_number TEXT;
-- The day the consignee's units of a version were shipped (first distribution to it): the 806 report's consignee
-- dates (806.10(c)(10)–(11)).
ALTER TABLE consignee_units ADD COLUMN shipped TEXT;
