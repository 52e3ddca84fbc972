//! End-to-end tests through actix-web's test client on a real database (SQLite by default,
//! PostgreSQL when LATCHKEY_TEST_DATABASE_URL is set), with real argon2id on a cheap profile.

mod helpers;

mod account_page;
mod admin;
mod admin_pages;
mod browser;
mod cli;
mod corpus;
mod csrf;
mod devices;
mod expiry;
mod malformed;
mod operations;
mod processes;
mod properties;
mod refresh;
mod security;
mod signin;
mod signup;
mod tokens;
mod webdriver;
