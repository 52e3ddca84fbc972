//! A password as the user typed it: length-checked in characters, never trimmed or truncated.

use std::fmt;

/// A candidate password; its `Debug` never shows the value.
#[derive(Clone)]
pub struct Password(String);

/// Fewest characters accepted (NIST SP 800-63B, ASVS 2.1.1).
pub const MIN_CHARS: usize = 8;
/// Most characters accepted: long enough for passphrases, short enough to bound hashing input.
pub const MAX_CHARS: usize = 128;

impl Password {
    /// Checks the length of a new password; any Unicode is allowed and no composition rule applies.
    pub fn new_for_signup(raw: String) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(format!(
                "Choose a password of at least {MIN_CHARS} characters."
            ));
        }
        if chars > MAX_CHARS {
            return Err(format!("A password has at most {MAX_CHARS} characters."));
        }
        Ok(Password(raw))
    }

    /// Wraps a password typed at sign-in. Length rules are not applied here, so a password that
    /// predates a rule still signs in; only absurd sizes are refused before hashing.
    pub fn for_signin(raw: String) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("Enter your password.".into());
        }
        if raw.chars().count() > MAX_CHARS {
            return Err(format!("A password has at most {MAX_CHARS} characters."));
        }
        Ok(Password(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert!(Password::new_for_signup("ééééééé".into()).is_err()); // 7 chars, 14 bytes
        assert!(Password::new_for_signup("éééééééé".into()).is_ok());
        assert!(Password::new_for_signup("🔑".repeat(MAX_CHARS)).is_ok());
        assert!(Password::new_for_signup("a".repeat(MAX_CHARS + 1)).is_err());
    }

    #[test]
    fn passwords_are_kept_exactly_as_typed() {
        let p = Password::new_for_signup("  spaces count  ".into()).unwrap();
        assert_eq!(p.expose(), "  spaces count  ");
        assert_eq!(format!("{p:?}"), "Password([redacted])");
    }
}
