//! The `latchkey` binary itself: settings errors, migrate, create-admin, serve and shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::processes::{http, served_address};

fn latchkey(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    command
        .env_clear()
        .current_dir(dir)
        .env("LATCHKEY_PASSWORD_M_COST", "256")
        .env("LATCHKEY_PASSWORD_T_COST", "1")
        .env("RUST_LOG", "warn");
    command
}

/// Starts `latchkey` serving on an ephemeral port and returns it with the address it printed.
fn serving(command: &mut Command) -> (std::process::Child, String) {
    let mut child = command
        .env("LATCHKEY_ADDR", "127.0.0.1:0")
        .env("LATCHKEY_WORKERS", "1")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = served_address(&mut child);
    (child, addr)
}

fn sigterm(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_bad_setting_stops_start_up_with_a_message_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = latchkey(dir.path())
        .env("LATCHKEY_ACCESS_TTL", "soon")
        .arg("migrate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LATCHKEY_ACCESS_TTL"), "{stderr}");

    let out = latchkey(dir.path())
        .env("DATABASE_URL", "mysql://nope")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));
}

#[test]
fn migrate_creates_the_database_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = latchkey(dir.path()).arg("migrate").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    }
    assert!(dir.path().join("data/latchkey.db").exists());
}

#[test]
fn create_admin_takes_the_password_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let out = latchkey(dir.path())
        .args(["create-admin", "--email", "Root@Example.com"])
        .env("LATCHKEY_ADMIN_PASSWORD", "a long admin password")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Created admin account root@example.com"));

    let again = latchkey(dir.path())
        .args(["create-admin", "--email", "root@example.com"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("already an admin"));
}

#[test]
fn serve_prints_its_url_answers_health_and_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = serving(&mut latchkey(dir.path()));

    let answer = http(&addr, "GET", "/healthz", &[], None).expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.body);

    sigterm(&child);
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn disable_user_and_enable_user_work_by_email_and_refuse_unknown_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let made = latchkey(dir.path())
        .args(["create-admin", "--email", "ada@example.com"])
        .env("LATCHKEY_ADMIN_PASSWORD", "a long admin password")
        .output()
        .unwrap();
    assert!(made.status.success());

    let disabled = latchkey(dir.path())
        .args(["disable-user", "--email", "ADA@example.com"])
        .output()
        .unwrap();
    assert!(
        disabled.status.success(),
        "{}",
        String::from_utf8_lossy(&disabled.stderr)
    );
    assert!(String::from_utf8_lossy(&disabled.stdout).contains("ada@example.com is disabled"));

    let enabled = latchkey(dir.path())
        .args(["enable-user", "--email", "ada@example.com"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&enabled.stdout).contains("may sign in again"));

    let unknown = latchkey(dir.path())
        .args(["disable-user", "--email", "nobody@example.com"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no account has the email"));
}

#[test]
fn json_logs_carry_the_request_id_on_every_request_line() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = serving(
        latchkey(dir.path())
            .env("LATCHKEY_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped()),
    );
    let answer = http(&addr, "GET", "/api/me", &[], None).expect("an answer");
    let request_id = answer
        .headers
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("a request id header")
        .trim()
        .to_owned();
    sigterm(&child);
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    let answered: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "answered")
        .collect();
    assert_eq!(answered.len(), 1, "{logs}");
    assert_eq!(answered[0]["span"]["request_id"], request_id.as_str());
    assert_eq!(answered[0]["fields"]["status"], 401);
    assert!(
        logs.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "every line is JSON: {logs}"
    );
}
