-- Electronic licences (电子证照): one row per version; the lineage groups the versions of one licence.
CREATE TABLE licenses (
    identifier TEXT PRIMARY KEY,
    lineage TEXT NOT NULL,
    version INTEGER NOT NULL,
    number TEXT NOT NULL,
    license_type TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    holder_index TEXT,
    case_no TEXT,
    status TEXT NOT NULL,
    issued TEXT NOT NULL,
    valid_to TEXT,
    status_index INTEGER NOT NULL,
    body TEXT NOT NULL,
    signed_payload TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    qr TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX licenses_case ON licenses (case_no);
CREATE INDEX licenses_holder ON licenses (holder_index);
CREATE INDEX licenses_number ON licenses (number);
CREATE INDEX licenses_lineage ON licenses (lineage, version);
