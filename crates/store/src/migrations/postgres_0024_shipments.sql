-- Postal delivery (邮政寄送): a result delivered by post is a shipment, an event stream (`shipment-{case_no}-{attempt}`)
-- of its request, waybill, carrier tracking, and — when returned — its collection at the window or its re-sending.
-- This is its projection. The address and the phone are sealed (never in clear); `tracking` is the JSON list of
-- the carrier's reports as recorded.
CREATE TABLE shipments (
    id TEXT PRIMARY KEY,
    case_no TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    department TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT,
    postage TEXT NOT NULL,
    status TEXT NOT NULL,
    carrier TEXT,
    waybill TEXT,
    shipped_at_ms BIGINT,
    tracking TEXT NOT NULL,
    resends TEXT,
    next TEXT,
    collected_window TEXT,
    requested_by TEXT NOT NULL,
    requested_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX shipments_case ON shipments (case_no, attempt);
CREATE INDEX shipments_status ON shipments (status, updated_at_ms);
CREATE INDEX shipments_postage ON shipments (postage, requested_at_ms);
