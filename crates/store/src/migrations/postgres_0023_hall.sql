-- The hall (issue 17): the service network (one versioned document), appointments, slot counts and queue numbers.
-- All four are projections of the `network`, `appt-…` and `queue-…` streams; `rebuild` refills them.
CREATE TABLE service_network (
    version INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    published_at_ms BIGINT NOT NULL,
    published_by TEXT NOT NULL
);
CREATE TABLE appointments (
    code TEXT PRIMARY KEY,
    point TEXT NOT NULL,
    item TEXT NOT NULL,
    date TEXT NOT NULL,
    slot TEXT NOT NULL,
    status TEXT NOT NULL,
    channel TEXT NOT NULL,
    account TEXT,
    holder_index TEXT NOT NULL,
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    booked_at_ms BIGINT NOT NULL,
    booked_by TEXT NOT NULL,
    reminded INTEGER NOT NULL,
    number TEXT,
    changed_at_ms BIGINT NOT NULL
);
CREATE INDEX appointments_slot ON appointments (point, date, slot);
CREATE INDEX appointments_holder ON appointments (holder_index, status);
CREATE INDEX appointments_account ON appointments (account, date);
CREATE INDEX appointments_due ON appointments (status, date);
-- Places taken per slot and item: the guard that no slot is overbooked (a row lock on PostgreSQL).
CREATE TABLE appointment_slots (
    point TEXT NOT NULL,
    date TEXT NOT NULL,
    slot TEXT NOT NULL,
    item TEXT NOT NULL,
    taken INTEGER NOT NULL,
    PRIMARY KEY (point, date, slot, item)
);
CREATE TABLE queue_numbers (
    stream_id TEXT PRIMARY KEY,
    point TEXT NOT NULL,
    date TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    window_no TEXT,
    changed_at_ms BIGINT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX queue_numbers_point ON queue_numbers (point, date, status);
CREATE INDEX queue_numbers_changed ON queue_numbers (point, changed_at_ms);
