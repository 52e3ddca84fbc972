//! Property tests: the validated newtypes and token parsing hold up for any input.

use latchkey::auth::tokens::TokenKeys;
use latchkey::clock::Clock;
use latchkey::config::{Config, SettingsArgs};
use latchkey::domain::password::{is_common, MAX_CHARS, MIN_CHARS};
use latchkey::domain::{Email, Password};
use proptest::prelude::*;

fn keys() -> TokenKeys {
    let config = Config::from_args(&SettingsArgs::default()).unwrap();
    TokenKeys::new(
        b"property-access-key-0123456789abcdef",
        b"property-refresh-key-0123456789abcde",
        config.tokens,
    )
    .unwrap()
}

fn any_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..300).prop_map(|chars| chars.into_iter().collect())
}

fn address_like() -> impl Strategy<Value = String> {
    let part = prop::collection::vec(
        prop::sample::select(vec![
            'a', 'Z', '0', '.', '-', '_', '+', 'é', ' ', '@', '\u{200B}',
        ]),
        0..20,
    );
    (part.clone(), part.clone(), part).prop_map(|(a, b, c)| {
        format!(
            "{}@{}.{}",
            a.into_iter().collect::<String>(),
            b.into_iter().collect::<String>(),
            c.into_iter().collect::<String>()
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn an_accepted_email_is_normalised_bounded_and_stable(raw in prop_oneof![any_text(), address_like()]) {
        if let Ok(email) = Email::parse(&raw) {
            let text = email.as_str();
            prop_assert_eq!(text, text.trim());
            prop_assert_eq!(text.to_lowercase(), text);
            prop_assert!(text.chars().count() <= 254);
            prop_assert_eq!(text.matches('@').count(), 1);
            prop_assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()));
            let again = Email::parse(text).unwrap();
            prop_assert_eq!(again.as_str(), text, "parsing is idempotent");
        }
    }

    #[test]
    fn a_new_password_is_accepted_exactly_when_its_length_fits_and_it_is_not_common(raw in any_text()) {
        let chars = raw.chars().count();
        let expected = (MIN_CHARS..=MAX_CHARS).contains(&chars) && !is_common(&raw);
        match Password::new_for_signup(raw.clone(), MIN_CHARS) {
            Ok(password) => {
                prop_assert!(expected);
                prop_assert_eq!(password.expose(), raw.as_str(), "kept exactly, never trimmed or truncated");
            }
            Err(message) => {
                prop_assert!(!expected);
                // One of a few fixed messages, so the password is never echoed back.
                let known = [
                    format!("Choose a password of at least {MIN_CHARS} characters."),
                    format!("A password has at most {MAX_CHARS} characters."),
                    "This password is one of the 10,000 most common and easily guessed. Choose another.".to_owned(),
                ];
                prop_assert!(known.contains(&message), "unexpected message {:?}", message);
            }
        }
    }

    #[test]
    fn arbitrary_strings_are_never_accepted_as_tokens(raw in any_text()) {
        let keys = keys();
        let now = Clock::system().now();
        prop_assert!(keys.verify_access(&raw, now).is_err());
        prop_assert!(keys.verify_refresh(&raw, now).is_err());
    }

    #[test]
    fn any_change_to_a_valid_token_is_refused(position in any::<prop::sample::Index>(), replacement in any::<u8>()) {
        let keys = keys();
        let now = Clock::system().now();
        let (token, _) = keys.issue_access("user", "session", "user", now).unwrap();
        prop_assert!(keys.verify_access(&token, now).is_ok());
        let mut bytes = token.clone().into_bytes();
        let at = position.index(bytes.len());
        prop_assume!(bytes[at] != replacement);
        bytes[at] = replacement;
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert!(keys.verify_access(&changed, now).is_err(), "accepted {}", changed);
        prop_assert!(keys.verify_refresh(&token, now).is_err(), "an access token is never a refresh token");
    }
}
