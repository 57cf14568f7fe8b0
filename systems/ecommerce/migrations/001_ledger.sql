-- The payments ledger (Aurora's role): what needs ACID across rows.
CREATE TABLE payment_methods (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    token_sealed TEXT NOT NULL,
    last4 TEXT NOT NULL,
    exp_month INTEGER NOT NULL,
    exp_year INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX payment_methods_customer ON payment_methods (customer_id);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    provider_payment_id TEXT,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    decline_code TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (payment_id, kind)
);
