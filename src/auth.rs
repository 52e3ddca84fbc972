//! Authentication: hashing, tokens, device sessions, cookies, guards and CSRF.

pub mod cookies;
pub mod csrf;
pub mod guard;
pub mod password;
pub mod revocation;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod user_cache;

/// Random bytes from the operating system's CSPRNG (through `ThreadRng`, reseeded from it),
/// base64url-encoded without padding.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
