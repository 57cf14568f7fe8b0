-- Refunds: a captured payment may be refunded in parts, never more than was captured.
-- payments.refunded is what refunds have taken (pending or done), raised by a conditional
-- UPDATE so two concurrent refunds cannot both pass the cap; each refund has its own row,
-- unique by its request key (an Idempotency-Key, or "cancel-<order>" for a cancellation).
ALTER TABLE payments ADD COLUMN refunded BIGINT NOT NULL DEFAULT 0;

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    order_id TEXT NOT NULL,
    request_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    amount BIGINT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_refund_id TEXT,
    failure TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id);
