//! A password as the user typed it: length-checked in characters, never trimmed or truncated,
//! and not one of the most common passwords.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

/// A candidate password; its `Debug` never shows the value.
#[derive(Clone)]
pub struct Password(String);

/// Fewest characters accepted (NIST SP 800-63B, ASVS 2.1.1).
pub const MIN_CHARS: usize = 8;
/// Most characters accepted: long enough for passphrases, short enough to bound hashing input.
pub const MAX_CHARS: usize = 128;

/// The 10,000 most common passwords, most common first, lower-cased: the first 10,000 lines of
/// the list Django ships (`django/contrib/auth/common-passwords.txt.gz`, BSD-3-Clause), compiled
/// by Royce Williams from leaked-password corpora.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// Whether the password (compared case-insensitively) is on the bundled common list.
pub fn is_common(raw: &str) -> bool {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| COMMON_PASSWORDS.lines().collect())
        .contains(raw.to_lowercase().as_str())
}

impl Password {
    /// Checks a new password: at least `min_chars` and at most 128 characters, not a common
    /// password. Any Unicode is allowed and no composition rule applies.
    pub fn new_for_signup(raw: String, min_chars: usize) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < min_chars {
            return Err(format!(
                "Choose a password of at least {min_chars} characters."
            ));
        }
        if chars > MAX_CHARS {
            return Err(format!("A password has at most {MAX_CHARS} characters."));
        }
        if is_common(&raw) {
            return Err(
                "This password is one of the 10,000 most common and easily guessed. Choose another."
                    .into(),
            );
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
        assert!(Password::new_for_signup("ééééééé".into(), MIN_CHARS).is_err()); // 7 chars, 14 bytes
        assert!(Password::new_for_signup("éàüöéàüö".into(), MIN_CHARS).is_ok());
        assert!(Password::new_for_signup("🔑".repeat(MAX_CHARS), MIN_CHARS).is_ok());
        assert!(Password::new_for_signup("a".repeat(MAX_CHARS + 1), MIN_CHARS).is_err());
        assert!(Password::new_for_signup("elevenchars".into(), 12).is_err());
        assert!(Password::new_for_signup("twelve chars".into(), 12).is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(COMMON_PASSWORDS.lines().count(), 10_000);
        for common in ["password", "PASSWORD1", "12345678", "iloveyou", "Sunshine"] {
            let err = Password::new_for_signup(common.into(), MIN_CHARS);
            assert!(
                err.is_err_and(|e| e.contains("most common")) || common.chars().count() < 8,
                "{common}"
            );
        }
        assert!(Password::new_for_signup("qwertyuiop".into(), MIN_CHARS).is_err());
        assert!(Password::new_for_signup("correct horse battery staple".into(), MIN_CHARS).is_ok());
    }

    #[test]
    fn passwords_are_kept_exactly_as_typed() {
        let p = Password::new_for_signup("  spaces count  ".into(), MIN_CHARS).unwrap();
        assert_eq!(p.expose(), "  spaces count  ");
        assert_eq!(format!("{p:?}"), "Password([redacted])");
    }
}
