-- The seal's SM2 keys: the public key in clear, the private key sealed under a passphrase-derived key.
CREATE TABLE seal_keys (
    key_id TEXT PRIMARY KEY,
    public_pem TEXT NOT NULL,
    private_sealed TEXT NOT NULL,
    salt TEXT NOT NULL,
    valid_from_ms INTEGER NOT NULL,
    valid_to_ms INTEGER,
    current INTEGER NOT NULL
);
