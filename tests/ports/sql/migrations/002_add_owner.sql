ALTER TABLE accounts ADD COLUMN owner TEXT;
CREATE INDEX accounts_owner ON accounts (owner);
