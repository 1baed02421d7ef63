-- Schema 10: hub_schema holds exactly one row. A backup restored into the live
-- database once added a second one, and every command then failed with
-- "query returned an unexpected number of rows"; now the table refuses a second
-- row, and the hub refuses a database found in that state with a message that
-- says what happened and what to do.
ALTER TABLE hub_schema ADD COLUMN one BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE hub_schema ADD CONSTRAINT hub_schema_one_row PRIMARY KEY (one);
ALTER TABLE hub_schema ADD CONSTRAINT hub_schema_one_true CHECK (one);
