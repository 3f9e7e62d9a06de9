//! Commands about the seal, licences and the national cryptography: `oneseal license`, `oneseal seal`,
//! `oneseal crypto` (the last checks SM2/SM3/SM4 against other implementations).

use crate::*;

#[derive(Subcommand)]
pub(crate) enum LicenseCmd {
    /// Verify a licence offline from its QR text or its PDF (a file path): the seal's signature against published
    /// keys (a JSON file as served at /.well-known/oneseal/keys, or the database's keys), and the claims. Status
    /// needs the online check.
    Verify {
        /// The QR text (OS1:…), or the path of a licence PDF.
        qr: String,
        #[arg(long)]
        keys: Option<PathBuf>,
        #[arg(long, env = "ONESEAL_DATABASE")]
        database: Option<String>,
    },
    /// Show the parts of a licence QR (for third-party verifiers; see docs/qr-format.md).
    Decode { qr: String },
    /// Write a sample: a throwaway seal key's public key (PEM and keys.json), a signed QR for fixed claims, and
    /// the printed licence (licence.pdf), into a directory.
    Sample {
        #[arg(long)]
        out_dir: PathBuf,
    },
}

pub(crate) fn license_cmd(c: LicenseCmd) -> CliResult {
    use oneseal_seal::qr;
    match c {
        LicenseCmd::Verify { qr: input, keys, database } => {
            let text = if input.trim_start().starts_with(qr::PREFIX) {
                input
            } else {
                let bytes = std::fs::read(&input)
                    .map_err(|e| format!("{input}: {e} (give the QR text OS1:… or a PDF file)"))?;
                oneseal_app::licensing::qr_text_of_pdf(&bytes).map_err(app_err)?
            };
            let d = qr::decode(&text).map_err(err)?;
            let key_list: Vec<(String, String)> = match (keys, database) {
                (Some(f), _) => {
                    let v: serde_json::Value = serde_json::from_str(
                        &std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?,
                    )
                    .map_err(err)?;
                    v["keys"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .map(|k| {
                            (
                                k["key_id"].as_str().unwrap_or_default().to_string(),
                                k["public_pem"].as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                }
                (None, Some(db)) => {
                    let app = open_app(&db)?;
                    runtime()?
                        .block_on(app.published_keys())
                        .map_err(app_err)?
                        .into_iter()
                        .map(|k| (k.key_id, k.public_pem))
                        .collect()
                }
                (None, None) => return Err("give --keys FILE (from /.well-known/oneseal/keys) or --database".into()),
            };
            let Some((_, pem)) = key_list.iter().find(|(id, _)| *id == d.key_id) else {
                return Err(format!("unknown seal key {}: not among the published keys", d.key_id));
            };
            let public = oneseal_seal::seal::public_from_pem(pem).map_err(err)?;
            if !d.verify(&public) {
                return Err("bad signature: the QR was not signed by this seal or was altered".into());
            }
            let c = &d.claims;
            println!("signature valid (seal key {}); check the status online for revocation", d.key_id);
            println!(
                "identifier: {}
licence: {}
number: {}
holder: {}
issuer: {}
issued: {}
valid to: {}",
                c.identifier,
                c.type_name,
                c.number,
                c.holder,
                c.issuer,
                c.issued,
                c.valid_to.as_deref().unwrap_or("长期 permanent")
            );
            Ok(())
        }
        LicenseCmd::Decode { qr: text } => {
            let parts = qr::parts(&text).map_err(err)?;
            println!("{}", serde_json::to_string_pretty(&parts).map_err(err)?);
            Ok(())
        }
        LicenseCmd::Sample { out_dir } => {
            std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
            let mut seed = [0u8; 32];
            getrandom_fill(&mut seed)?;
            let key = oneseal_seal::seal::SealKey::from_random(seed).map_err(err)?;
            let issuer = Uscc::parse("11640100MB96000107").map_err(err)?;
            let identifier =
                oneseal_domain::license::LicenseIdentifier::new("11100000000013338W032", &issuer, "0000001", 1)
                    .map_err(err)?;
            let claims = qr::Claims {
                identifier: identifier.to_string(),
                type_name: "食品经营许可证".into(),
                holder: "银川塞上餐饮有限公司".into(),
                issuer: "银川市审批服务局".into(),
                issued: "2026-03-02".into(),
                valid_to: Some("2031-03-01".into()),
                number: "JY6401000000001".into(),
            };
            let text = qr::encode(&claims, &key);
            std::fs::write(out_dir.join("public.pem"), key.public_pem().map_err(err)?).map_err(err)?;
            std::fs::write(out_dir.join("qr.txt"), &text).map_err(err)?;
            let keys = serde_json::json!({ "keys": [{ "key_id": key.key_id(), "public_pem": key.public_pem().map_err(err)? }] });
            std::fs::write(out_dir.join("keys.json"), keys.to_string()).map_err(err)?;
            let field = |label: &str, label_en: &str, value: &str| oneseal_pdf::license::SheetField {
                label: label.into(),
                label_en: label_en.into(),
                value: value.into(),
            };
            let sheet = oneseal_pdf::license::LicenseSheet {
                title: claims.type_name.clone(),
                title_en: "Food business licence".into(),
                number: claims.number.clone(),
                identifier: claims.identifier.clone(),
                fields: vec![
                    field("许可证编号", "Licence number", &claims.number),
                    field("经营者名称", "Business operator", &claims.holder),
                    field("有效期至", "Valid until", "2031-03-01"),
                ],
                issuer: claims.issuer.clone(),
                issued: (2026, 3, 2),
                qr: text.clone(),
                verify_url: format!("{}/v/{}", oneseal_app::DEFAULT_PUBLIC_URL, claims.identifier),
                seal_text: "行政审批专用章".into(),
                file_id: [0; 16],
            };
            let pdf = oneseal_pdf::license::render(&sheet).map_err(err)?;
            std::fs::write(out_dir.join("licence.pdf"), pdf.bytes).map_err(err)?;
            println!("{text}");
            Ok(())
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum SealCmd {
    /// Create the seal (or take over a PKCS#8 PEM key with --import). Refuses when one exists; use rotate.
    Init {
        #[arg(long)]
        import: Option<PathBuf>,
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
    },
    /// A new key takes over; the old one stays valid for what it signed.
    Rotate {
        #[arg(long)]
        import: Option<PathBuf>,
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
    },
    /// Print the published keys (JSON).
    Keys {
        #[arg(long, env = "ONESEAL_DATABASE", default_value = DEFAULT_DB)]
        database: String,
    },
}

pub(crate) fn seal_cmd(c: SealCmd) -> CliResult {
    match c {
        SealCmd::Init { import, database } => install(import, &database, false),
        SealCmd::Rotate { import, database } => install(import, &database, true),
        SealCmd::Keys { database } => {
            let app = open_app(&database)?;
            let keys = runtime()?.block_on(app.published_keys()).map_err(app_err)?;
            println!("{}", serde_json::to_string_pretty(&keys).map_err(err)?);
            Ok(())
        }
    }
}

fn install(import: Option<PathBuf>, database: &str, rotate: bool) -> CliResult {
    let pass = seal_passphrase(database, true)?.ok_or("set ONESEAL_SEAL_PASSPHRASE or ONESEAL_SEAL_PASSPHRASE_FILE")?;
    let app = open_app(database)?;
    let rt = runtime()?;
    let existing = rt.block_on(app.published_keys()).map_err(app_err)?;
    if rotate == existing.is_empty() {
        return Err(if rotate {
            "no seal yet: use `oneseal seal init`".into()
        } else {
            "the seal exists: use `oneseal seal rotate` for a new key".into()
        });
    }
    let pem = import.map(|p| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))).transpose()?;
    let id = rt.block_on(app.install_seal("cli", &pass, pem.as_deref())).map_err(app_err)?;
    println!("seal key {id} is current");
    Ok(())
}

#[derive(Subcommand)]
pub(crate) enum CryptoCmd {
    /// SM4-GCM encryption: prints hex(ciphertext ‖ tag).
    Sm4GcmEncrypt {
        #[arg(long)]
        key: String,
        #[arg(long)]
        nonce: String,
        #[arg(long, default_value = "")]
        aad: String,
        /// Plaintext, hex.
        plaintext: String,
    },
    /// SM4-GCM decryption of hex(ciphertext ‖ tag): prints the plaintext hex.
    Sm4GcmDecrypt {
        #[arg(long)]
        key: String,
        #[arg(long)]
        nonce: String,
        #[arg(long, default_value = "")]
        aad: String,
        ciphertext: String,
    },
    /// The 6-digit TOTP code (RFC 6238, SHA-1, 30 s) of a base32 secret at a Unix time.
    Totp {
        #[arg(long)]
        secret: String,
        #[arg(long)]
        time: u64,
    },
    /// HMAC-SM3 of hex data: prints the hex MAC.
    HmacSm3 {
        #[arg(long)]
        key: String,
        data: String,
    },
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{s:?} is not hexadecimal"));
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(err)).collect()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn crypto(c: CryptoCmd) -> CliResult {
    use oneseal_seal::pd::{hmac_sm3_hex, sm4_gcm_decrypt, sm4_gcm_encrypt};
    let arr16 = |s: &str| -> Result<[u8; 16], String> {
        unhex(s)?.try_into().map_err(|_| "the key is 16 bytes (32 hex characters)".to_string())
    };
    let arr12 = |s: &str| -> Result<[u8; 12], String> {
        unhex(s)?.try_into().map_err(|_| "the nonce is 12 bytes (24 hex characters)".to_string())
    };
    match c {
        CryptoCmd::Sm4GcmEncrypt { key, nonce, aad, plaintext } => {
            let out =
                sm4_gcm_encrypt(&arr16(&key)?, &arr12(&nonce)?, &unhex(&aad)?, &unhex(&plaintext)?).map_err(err)?;
            println!("{}", hexs(&out));
        }
        CryptoCmd::Sm4GcmDecrypt { key, nonce, aad, ciphertext } => {
            let out =
                sm4_gcm_decrypt(&arr16(&key)?, &arr12(&nonce)?, &unhex(&aad)?, &unhex(&ciphertext)?).map_err(err)?;
            println!("{}", hexs(&out));
        }
        CryptoCmd::HmacSm3 { key, data } => println!("{}", hmac_sm3_hex(&unhex(&key)?, &unhex(&data)?)),
        CryptoCmd::Totp { secret, time } => {
            let s = oneseal_seal::totp::from_base32(&secret).ok_or("the secret is not base32")?;
            println!("{}", oneseal_seal::totp::code_at(&s, time));
        }
    }
    Ok(())
}
