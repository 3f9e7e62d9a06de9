//! National cryptography for OneSeal, with no IO: SM4-GCM encryption of personal data at rest with envelope keys,
//! and SM3-HMAC blind indexes for finding encrypted values. Randomness (keys, nonces) comes in as parameters.

pub mod merkle;
pub mod pd;
pub mod qr;
pub mod seal;
pub mod totp;
pub mod webhook;
