//! Staff single sign-on through OpenID Connect (authorization code flow with PKCE S256, state and nonce), as an
//! option the deployment configures (`ONESEAL_OIDC_*`, read by the binary's `config.rs`). The ID token is
//! verified here (RS256 against the provider's JWKS; issuer, audience, expiry, nonce). The sign-in is bound to the
//! browser that started it (a cookie whose hash the pending sign-in keeps), pending sign-ins are kept in the database
//! (any node may finish one, each is taken once) and bounded, and the
//! account is found by the provider's `sub` and issuer; the name claim only chooses the account at the first
//! sign-in. Applicants do not sign in this way.

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use rsa::{BoxedUint, Pkcs1v15Sign, PublicKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The configuration of the identity provider.
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_url: String,
    pub username_claim: String,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// A sign-in in flight: its PKCE verifier, nonce and the hash of the browser binding, kept for ten minutes in
/// the database (`oidc_pending`), so the browser may come back to any node; each is taken once.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    verifier: String,
    nonce: String,
    /// SHA-256 of the binding cookie, hex.
    binding_hash: String,
    created_ms: i64,
}

/// Sign-ins in flight at once (over all nodes); past it, starting another waits until some finish or expire.
pub const MAX_PENDING: i64 = 10_000;

/// A started sign-in: where to send the browser, the binding cookie's value, and what to keep under `state`.
pub struct Started {
    pub url: String,
    pub binding: String,
    pub state: String,
    pub pending: Pending,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The cookie that binds a sign-in to the browser that started it.
pub const BINDING_COOKIE: &str = "oneseal_sso";

/// Who the provider vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// The configured name claim: chooses the account at the first sign-in only.
    pub name_hint: String,
}

/// The SSO client: configuration and discovered endpoints (the pending sign-ins live in the database).
pub struct Oidc {
    pub config: OidcConfig,
    /// The discovery document and when it was fetched (kept an hour).
    discovered: Mutex<Option<(Value, i64)>>,
    agent: ureq::Agent,
}

/// Why a sign-in through the provider failed (shown as 400/401; details only in the message).
#[derive(Debug)]
pub struct OidcError(pub u16, pub String);

fn err(status: u16, m: impl Into<String>) -> OidcError {
    OidcError(status, m.into())
}

pub fn b64url(b: &[u8]) -> String {
    B64URL.encode(b)
}

fn rand_token() -> Result<String, OidcError> {
    let mut b = [0u8; 32];
    getrandom_fill(&mut b)?;
    Ok(b64url(&b))
}

fn getrandom_fill(b: &mut [u8]) -> Result<(), OidcError> {
    let hex = oneseal_app::random_hex(b.len()).map_err(|e| err(500, e.to_string()))?;
    for (i, x) in b.iter_mut().enumerate() {
        *x = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).map_err(|e| err(500, e.to_string()))?;
    }
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Arc<Oidc> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(15)))
            .build()
            .into();
        Arc::new(Oidc { config, discovered: Mutex::new(None), agent })
    }

    fn get_json(&self, url: &str) -> Result<Value, OidcError> {
        let mut r = self.agent.get(url).call().map_err(|e| err(502, format!("identity provider {url}: {e}")))?;
        if r.status().as_u16() != 200 {
            return Err(err(502, format!("identity provider {url}: status {}", r.status())));
        }
        r.body_mut().read_json().map_err(|e| err(502, format!("identity provider {url}: {e}")))
    }

    /// The provider's discovery document, fetched at most once an hour (a stranger starting sign-ins does not
    /// make this server fetch it again and again).
    fn discovery(&self, now_ms: i64) -> Result<Value, OidcError> {
        if let Some((d, at)) = self.discovered.lock().ok().and_then(|g| g.clone()) {
            if now_ms - at < 3_600_000 && now_ms >= at {
                return Ok(d);
            }
        }
        let d = self.get_json(&format!("{}/.well-known/openid-configuration", self.config.issuer))?;
        if d["issuer"].as_str() != Some(self.config.issuer.as_str()) {
            return Err(err(502, "the discovery document names another issuer"));
        }
        if let Ok(mut g) = self.discovered.lock() {
            *g = Some((d.clone(), now_ms));
        }
        Ok(d)
    }

    /// Start a sign-in: the provider's authorization URL with state, nonce and a PKCE challenge, the binding to
    /// set as a cookie in the browser that asked, and the sign-in to keep under its `state` until the provider
    /// sends the browser back.
    pub fn start(&self, now_ms: i64) -> Result<Started, OidcError> {
        let d = self.discovery(now_ms)?;
        let auth = d["authorization_endpoint"].as_str().ok_or_else(|| err(502, "no authorization_endpoint"))?;
        let (state, nonce, verifier, binding) = (rand_token()?, rand_token()?, rand_token()?, rand_token()?);
        let challenge = b64url(&Sha256::digest(verifier.as_bytes()));
        let binding_hash = hex(&Sha256::digest(binding.as_bytes()));
        let pending = Pending { verifier, nonce: nonce.clone(), binding_hash, created_ms: now_ms };
        let c = &self.config;
        let url = format!(
            "{auth}?response_type=code&client_id={}&redirect_uri={}&scope=openid%20profile&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
            urlencode(&c.client_id),
            urlencode(&c.redirect_url),
            urlencode(&state),
            urlencode(&nonce),
            urlencode(&challenge)
        );
        Ok(Started { url, binding, state, pending })
    }

    /// Finish a sign-in in the browser that started it (`binding`, from its cookie): exchange the code, verify
    /// the ID token, and return who it names.
    pub fn finish(
        &self,
        code: &str,
        pending: &Pending,
        binding: Option<&str>,
        now_ms: i64,
    ) -> Result<Identity, OidcError> {
        // A sign-in finishes only where it started: a link from someone else's sign-in does not sign this browser in.
        let bound = binding.is_some_and(|b| hex(&Sha256::digest(b.as_bytes())) == pending.binding_hash);
        if !bound {
            return Err(err(400, "this sign-in was not started in this browser; start again"));
        }
        if now_ms - pending.created_ms >= 600_000 {
            return Err(err(400, "the sign-in took longer than ten minutes; start again"));
        }
        let d = self.discovery(now_ms)?;
        let token_url = d["token_endpoint"].as_str().ok_or_else(|| err(502, "no token_endpoint"))?;
        let jwks_url = d["jwks_uri"].as_str().ok_or_else(|| err(502, "no jwks_uri"))?;
        let c = &self.config;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", c.redirect_url.as_str()),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("code_verifier", pending.verifier.as_str()),
        ];
        let mut r = self.agent.post(token_url).send_form(form).map_err(|e| err(502, format!("token endpoint: {e}")))?;
        if r.status().as_u16() != 200 {
            return Err(err(401, format!("the identity provider refused the code (status {})", r.status())));
        }
        let tok: Value = r.body_mut().read_json().map_err(|e| err(502, format!("token endpoint: {e}")))?;
        let id_token = tok["id_token"].as_str().ok_or_else(|| err(502, "no id_token"))?;
        let jwks = self.get_json(jwks_url)?;
        let claims = verify_rs256(id_token, &jwks)?;
        check_claims(&claims, c, &pending.nonce, now_ms)?;
        let subject = claims["sub"]
            .as_str()
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .ok_or_else(|| err(401, "the ID token has no sub claim"))?;
        let name_hint = claims[c.username_claim.as_str()].as_str().unwrap_or_default();
        Ok(Identity { issuer: c.issuer.clone(), subject: subject.to_string(), name_hint: name_hint.to_string() })
    }
}

fn b64_json(part: &str) -> Result<Value, OidcError> {
    let raw = B64URL.decode(part.trim_end_matches('=')).map_err(|_| err(401, "malformed ID token"))?;
    serde_json::from_slice(&raw).map_err(|_| err(401, "malformed ID token"))
}

/// Verify an RS256 JWT against a JWKS; returns its claims.
pub fn verify_rs256(jwt: &str, jwks: &Value) -> Result<Value, OidcError> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err(err(401, "malformed ID token"));
    }
    let header = b64_json(parts[0])?;
    if header["alg"].as_str() != Some("RS256") {
        return Err(err(401, "the ID token must be signed with RS256"));
    }
    let kid = header["kid"].as_str();
    let keys = jwks["keys"].as_array().ok_or_else(|| err(502, "no keys in the JWKS"))?;
    let key = keys
        .iter()
        .find(|k| k["kty"] == "RSA" && (kid.is_none() || k["kid"].as_str() == kid))
        .ok_or_else(|| err(401, "no provider key for the ID token"))?;
    let n = B64URL.decode(key["n"].as_str().unwrap_or_default()).map_err(|_| err(502, "bad JWKS key"))?;
    let e = B64URL.decode(key["e"].as_str().unwrap_or_default()).map_err(|_| err(502, "bad JWKS key"))?;
    // Public values: variable-time decoding is fine.
    let public = PublicKey::new(BoxedUint::from_be_slice_vartime(&n), BoxedUint::from_be_slice_vartime(&e))
        .map_err(|_| err(502, "bad JWKS key"))?;
    let sig = B64URL.decode(parts[2]).map_err(|_| err(401, "malformed ID token"))?;
    let hashed = Sha256::digest(format!("{}.{}", parts[0], parts[1]).as_bytes());
    public
        .verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, &sig)
        .map_err(|_| err(401, "the ID token's signature does not verify"))?;
    b64_json(parts[1])
}

fn check_claims(c: &Value, cfg: &OidcConfig, nonce: &str, now_ms: i64) -> Result<(), OidcError> {
    if c["iss"].as_str() != Some(cfg.issuer.as_str()) {
        return Err(err(401, "the ID token is from another issuer"));
    }
    let aud_ok = match &c["aud"] {
        Value::String(a) => a == &cfg.client_id,
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some(cfg.client_id.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Err(err(401, "the ID token is for another client"));
    }
    let exp = c["exp"].as_i64().ok_or_else(|| err(401, "the ID token has no expiry"))?;
    if exp * 1000 <= now_ms {
        return Err(err(401, "the ID token has expired"));
    }
    if c["nonce"].as_str() != Some(nonce) {
        return Err(err(401, "the ID token's nonce does not match this sign-in"));
    }
    Ok(())
}
