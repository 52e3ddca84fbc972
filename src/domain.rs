//! Validated input types: once constructed, a value is known to be acceptable.

mod email;
mod password;

pub use email::Email;
pub use password::Password;
