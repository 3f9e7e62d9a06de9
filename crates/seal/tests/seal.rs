//! Interoperability of the seal crate with OpenSSL: SM3 and HMAC-SM3 computed by `openssl dgst` must equal ours.
//! (SM4-GCM is checked against Python `cryptography` on OpenSSL 4 by tests/oracle/sm4_oracle.py, because
//! Debian's OpenSSL 3.0 command line has no SM4-GCM.)

use std::process::Command;

use oneseal_seal::pd::hmac_sm3_hex;

fn openssl(args: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().rsplit(' ').next().unwrap().to_string()
}

#[test]
fn hmac_sm3_matches_openssl() {
    let cases: [(&str, &[u8]); 4] =
        [("key", b"abc"), ("oneseal", b""), ("密钥", "640104200501010015".as_bytes()), ("k", &[0u8, 1, 2, 255])];
    for (key, data) in cases {
        let theirs = openssl(&["dgst", "-sm3", "-hmac", key], data);
        assert_eq!(hmac_sm3_hex(key.as_bytes(), data), theirs, "key {key:?}");
    }
    // The known answer of the standard: SM3("abc").
    assert_eq!(openssl(&["dgst", "-sm3"], b"abc"), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}
