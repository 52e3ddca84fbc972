//! An email address, trimmed and lower-cased, checked for a plausible shape.

use std::fmt;

/// A normalised email address; the only way to make one is `Email::parse`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Longest address SMTP can carry (RFC 5321 path limit minus the brackets).
const MAX_LEN: usize = 254;

impl Email {
    /// Trims, lower-cases and checks `local@domain.tld`; the message is fit to show the user.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("Enter your email address.".into());
        }
        if email.chars().count() > MAX_LEN {
            return Err(format!(
                "An email address has at most {MAX_LEN} characters."
            ));
        }
        let valid = match email.rsplit_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !local.contains('@')
                    && valid_domain(domain)
                    && !email.chars().any(invisible)
                    && !email.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '\\', '"'])
            }
            None => false,
        };
        if !valid {
            return Err("Enter a valid email address, like name@example.com.".into());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that would let two addresses look alike or hide text: whitespace, controls,
/// zero-width and bidirectional formatting characters.
fn invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFF}')
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn implausible_addresses_are_refused() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada lovelace@example.com",
            "ada@-example.com",
            "ada@example..com",
            "<ada>@example.com",
            "ada@exa\u{0}mple.com",
            "ada\u{202E}moc.elpmaxe@example.com",
            "a\u{200B}da@example.com",
            "ada\u{FF20}example.com",
            "ada@example.com\u{FEFF}",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn international_addresses_are_accepted() {
        assert!(Email::parse("zoë@bücher.example").is_ok());
    }
}
