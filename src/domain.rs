//! Validated input types: once constructed, a value is known to be acceptable.

mod device;
mod email;
pub mod password;

pub use device::Device;
pub use email::Email;
pub use password::Password;
