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

mod sm2_interop {
    //! The seal's SM2 signatures against OpenSSL, both ways, with the distinguishing ID passed explicitly.

    use std::process::Command;

    use oneseal_seal::seal::{public_from_pem, verify, SealKey, DIST_ID};

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("oneseal-sm2-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    fn openssl(args: &[&str]) -> std::process::Output {
        Command::new("openssl").args(args).output().expect("openssl is installed")
    }

    /// `openssl pkeyutl -verify` of an SM2/SM3 signature over raw bytes, with a distinguishing ID or OpenSSL's
    /// default (empty) one.
    fn openssl_verify(
        msg: &std::path::Path,
        public: &std::path::Path,
        sig: &std::path::Path,
        distid: Option<&str>,
    ) -> std::process::Output {
        let mut args: Vec<String> =
            ["pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-in"].map(String::from).to_vec();
        args.push(msg.display().to_string());
        args.extend(["-pubin".into(), "-inkey".into(), public.display().to_string()]);
        args.extend(["-sigfile".into(), sig.display().to_string()]);
        if let Some(id) = distid {
            args.extend(["-pkeyopt".into(), format!("distid:{id}")]);
        }
        Command::new("openssl").args(&args).output().expect("openssl is installed")
    }

    #[test]
    fn openssl_verifies_our_signatures() {
        let key = SealKey::from_random([42u8; 32]).unwrap();
        let msg =
            "1.2.156.3005.2.11100000000013338W032.11640100MB96000107.0000001.001.X 银川塞上餐饮有限公司".as_bytes();
        let (m, p, s) = (tmp("msg1"), tmp("pub1.pem"), tmp("sig1.der"));
        std::fs::write(&m, msg).unwrap();
        std::fs::write(&p, key.public_pem().unwrap()).unwrap();
        std::fs::write(&s, key.sign(msg)).unwrap();
        let out = openssl_verify(&m, &p, &s, Some(DIST_ID));
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully"),
            "{out:?}"
        );
        // With OpenSSL's default (empty) distinguishing ID the same signature must NOT verify: the ID matters.
        let out = openssl_verify(&m, &p, &s, None);
        assert!(!out.status.success(), "an empty distinguishing ID must not verify");
        // The private key exports as PKCS#8 that OpenSSL reads and derives the same public key from.
        let k = tmp("key1.pem");
        std::fs::write(&k, key.to_pkcs8_pem().unwrap()).unwrap();
        let out = openssl(&["pkey", "-in", k.to_str().unwrap(), "-pubout"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), key.public_pem().unwrap().trim());
    }

    #[test]
    fn we_verify_openssl_signatures() {
        let (k, p, m, s) = (tmp("key2.pem"), tmp("pub2.pem"), tmp("msg2"), tmp("sig2.der"));
        assert!(openssl(&["genpkey", "-algorithm", "SM2", "-out", k.to_str().unwrap()]).status.success());
        assert!(openssl(&["pkey", "-in", k.to_str().unwrap(), "-pubout", "-out", p.to_str().unwrap()])
            .status
            .success());
        let msg = "准予行政许可决定书 第 YC202603020000001 号".as_bytes();
        std::fs::write(&m, msg).unwrap();
        let distid = format!("distid:{DIST_ID}");
        let out = openssl(&[
            "pkeyutl",
            "-sign",
            "-rawin",
            "-digest",
            "sm3",
            "-in",
            m.to_str().unwrap(),
            "-inkey",
            k.to_str().unwrap(),
            "-out",
            s.to_str().unwrap(),
            "-pkeyopt",
            &distid,
        ]);
        assert!(out.status.success(), "{out:?}");
        let public = public_from_pem(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let sig = std::fs::read(&s).unwrap();
        assert!(verify(&public, msg, &sig), "OpenSSL's SM2 signature verifies with our code");
        assert!(!verify(&public, b"another message", &sig));
        // And the OpenSSL key imports as the seal.
        let seal = SealKey::from_pkcs8_pem(&std::fs::read_to_string(&k).unwrap()).unwrap();
        assert!(verify(&public, msg, &seal.sign(msg)));
    }
}
