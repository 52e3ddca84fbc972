//! One file per table: the row type, the insert type, and the queries on it.

pub mod audit;
pub mod session;
pub mod throttle;
pub mod user;
