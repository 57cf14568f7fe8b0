-- Accounts of the example ledger; balances in integer cents (exact on both adapters).
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    balance BIGINT NOT NULL CHECK (balance >= 0)
);
