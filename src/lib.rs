//! Latchkey: accounts, JWT access tokens, rotating per-device refresh tokens, server-rendered pages.

pub mod admin;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod models;
pub mod routes;
pub mod startup;
pub mod web;
