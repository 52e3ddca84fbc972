//! The `latchkey` binary as separate processes on one database: scale-out, kill -9 under load,
//! a database that goes away and comes back, a full disk. Plain HTTP/1.1 over 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{TestDatabase, ACCESS_KEY, PASSWORD, REFRESH_KEY};

/// One answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one request with `Connection: close`; `None` if the server could not be reached.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Option<Answer> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .ok()?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Some(Answer {
        status,
        headers: head.to_owned(),
        body,
    })
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// The address a starting `latchkey serve` prints on its first line of standard output (which
/// must be piped).
pub fn served_address(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut line)
        .unwrap();
    line.split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("the server did not start: {line:?}"))
        .to_owned()
}

/// A `latchkey` server process.
pub struct Server {
    pub addr: String,
    child: Child,
}

impl Server {
    pub fn start(database_url: &str, data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
        command
            .env_clear()
            .current_dir(data_dir)
            .env("DATABASE_URL", database_url)
            .env("LATCHKEY_DATA_DIR", data_dir)
            .env("LATCHKEY_ADDR", "127.0.0.1:0")
            .env("LATCHKEY_ACCESS_KEY", ACCESS_KEY)
            .env("LATCHKEY_REFRESH_KEY", REFRESH_KEY)
            .env("LATCHKEY_PASSWORD_M_COST", "256")
            .env("LATCHKEY_PASSWORD_T_COST", "1")
            .env("LATCHKEY_WORKERS", "2")
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start latchkey");
        let addr = served_address(&mut child);
        Server { addr, child }
    }

    pub fn post(&self, path: &str, body: Value) -> Option<Answer> {
        http(&self.addr, "POST", path, &[], Some(&body))
    }

    pub fn with_bearer(&self, method: &str, path: &str, token: &str) -> Option<Answer> {
        http(
            &self.addr,
            method,
            path,
            &[("Authorization", &format!("Bearer {token}"))],
            None,
        )
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_9();
    }
}

fn credentials(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD})
}

fn token(answer: &Answer, name: &str) -> String {
    answer.json()[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name}: {}", answer.body))
        .to_owned()
}

/// Waits until `check` holds, for at most `limit`.
fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn scale_out_three_instances_share_sessions_revocations_and_throttles() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, url) = TestDatabase::create(dir.path());
    let env = [
        ("LATCHKEY_REVOCATION_POLL", "200ms"),
        ("LATCHKEY_THROTTLE_ACCOUNT_LIMIT", "3"),
    ];
    let a = Server::start(&url, dir.path(), &env);
    let b = Server::start(&url, dir.path(), &env);
    let c = Server::start(&url, dir.path(), &env);

    // Sign in on A, refresh on B, refresh again on C.
    assert_eq!(
        a.post("/api/auth/signup", credentials("ada@example.com"))
            .unwrap()
            .status,
        201
    );
    let signed_in = a
        .post("/api/auth/signin", credentials("ada@example.com"))
        .unwrap();
    assert_eq!(signed_in.status, 200);
    let first = token(&signed_in, "refresh_token");
    let on_b = b.with_bearer("POST", "/api/auth/refresh", &first).unwrap();
    assert_eq!(on_b.status, 200, "{}", on_b.body);
    let second = token(&on_b, "refresh_token");
    let on_c = c.with_bearer("POST", "/api/auth/refresh", &second).unwrap();
    assert_eq!(on_c.status, 200);
    let third = token(&on_c, "refresh_token");
    let access = token(&on_c, "access_token");
    assert_eq!(
        a.with_bearer("GET", "/api/me", &access).unwrap().status,
        200
    );

    // Reusing the first token on A ends the session everywhere.
    assert_eq!(
        a.with_bearer("POST", "/api/auth/refresh", &first)
            .unwrap()
            .status,
        401
    );
    for server in [&a, &b, &c] {
        assert_eq!(
            server
                .with_bearer("POST", "/api/auth/refresh", &third)
                .unwrap()
                .status,
            401
        );
        eventually(
            Duration::from_secs(3),
            "access token refused after reuse",
            || {
                server
                    .with_bearer("GET", "/api/me", &access)
                    .unwrap()
                    .status
                    == 401
            },
        );
    }

    // A revoke on B is enforced on A within the poll interval.
    let fresh = a
        .post("/api/auth/signin", credentials("ada@example.com"))
        .unwrap();
    let fresh_access = token(&fresh, "access_token");
    assert_eq!(
        a.with_bearer("GET", "/api/me", &fresh_access)
            .unwrap()
            .status,
        200
    );
    assert_eq!(
        b.with_bearer("POST", "/api/auth/logout", &fresh_access)
            .unwrap()
            .status,
        204
    );
    let revoked_at = Instant::now();
    eventually(
        Duration::from_secs(2),
        "A refuses a session revoked on B",
        || {
            a.with_bearer("GET", "/api/me", &fresh_access)
                .unwrap()
                .status
                == 401
        },
    );
    assert!(revoked_at.elapsed() < Duration::from_millis(1500));

    // Failed sign-ins on A and B add up to one throttle.
    let wrong = json!({"email": "ada@example.com", "password": "not the password"});
    assert_eq!(
        a.post("/api/auth/signin", wrong.clone()).unwrap().status,
        401
    );
    assert_eq!(
        b.post("/api/auth/signin", wrong.clone()).unwrap().status,
        401
    );
    assert_eq!(a.post("/api/auth/signin", wrong).unwrap().status, 401);
    let throttled = c
        .post("/api/auth/signin", credentials("ada@example.com"))
        .unwrap();
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    assert!(throttled
        .headers
        .to_ascii_lowercase()
        .contains("retry-after:"));
}

#[test]
fn kill_9_under_write_load_loses_nothing_that_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, url) = TestDatabase::create(dir.path());
    let env = [("LATCHKEY_THROTTLE_IP_LIMIT", "100000")];
    let mut server = Server::start(&url, dir.path(), &env);
    let addr = server.addr.clone();

    let signed_up = Arc::new(Mutex::new(Vec::<String>::new()));
    let chains = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let (addr, signed_up, chains, stop) = (
                addr.clone(),
                signed_up.clone(),
                chains.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let mut chain: Option<(usize, String)> = None;
                for n in 0..10_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let email = format!("w{worker}-{n}@example.com");
                    let Some(answer) = http(
                        &addr,
                        "POST",
                        "/api/auth/signup",
                        &[],
                        Some(&credentials(&email)),
                    ) else {
                        break;
                    };
                    if answer.status != 201 {
                        break;
                    }
                    signed_up.lock().unwrap().push(email.clone());
                    let refresh_token = match &chain {
                        Some((_, token)) => token.clone(),
                        None => token(&answer, "refresh_token"),
                    };
                    let Some(refreshed) = http(
                        &addr,
                        "POST",
                        "/api/auth/refresh",
                        &[("Authorization", &format!("Bearer {refresh_token}"))],
                        None,
                    ) else {
                        break;
                    };
                    if refreshed.status != 200 {
                        break;
                    }
                    let next = token(&refreshed, "refresh_token");
                    let mut chains = chains.lock().unwrap();
                    match &chain {
                        Some((slot, _)) => chains[*slot] = next.clone(),
                        None => {
                            chains.push(next.clone());
                            chain = Some((chains.len() - 1, next.clone()));
                        }
                    }
                    chain = chain.map(|(slot, _)| (slot, next));
                }
            })
        })
        .collect();

    eventually(Duration::from_secs(60), "some writes acknowledged", || {
        signed_up.lock().unwrap().len() >= 20
    });
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }

    let restarted = Server::start(&url, dir.path(), &env);
    let acknowledged = signed_up.lock().unwrap().clone();
    assert!(acknowledged.len() >= 20);
    for email in &acknowledged {
        let answer = restarted
            .post("/api/auth/signin", credentials(email))
            .unwrap();
        assert_eq!(
            answer.status, 200,
            "{email} was acknowledged but cannot sign in: {}",
            answer.body
        );
    }
    for refresh_token in chains.lock().unwrap().iter() {
        let answer = restarted
            .with_bearer("POST", "/api/auth/refresh", refresh_token)
            .unwrap();
        assert_eq!(
            answer.status, 200,
            "an acknowledged refresh token's session was lost: {}",
            answer.body
        );
    }
    assert_eq!(
        restarted
            .post("/api/auth/signin", credentials("nobody@example.com"))
            .unwrap()
            .status,
        401
    );
}

#[test]
fn a_full_disk_answers_503_not_500_and_the_server_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=384k", "tmpfs"])
        .arg(&disk)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        let mandatory = std::env::var("LATCHKEY_FAULT_TESTS").is_ok_and(|v| v == "1");
        assert!(
            !mandatory,
            "LATCHKEY_FAULT_TESTS=1 but a tmpfs could not be mounted (needs root)"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED full-disk test: cannot mount a tmpfs (needs root). ***"
        );
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&disk);
    let url = disk.join("latchkey.db").to_string_lossy().into_owned();
    let env = [("LATCHKEY_THROTTLE_IP_LIMIT", "100000")];
    let mut server = Server::start(&url, dir.path(), &env);

    let mut statuses = Vec::new();
    for n in 0..3000 {
        let answer = server
            .post(
                "/api/auth/signup",
                credentials(&format!("user{n}@example.com")),
            )
            .unwrap();
        statuses.push(answer.status);
        if answer.status == 503 {
            assert_eq!(answer.json()["error"], "unavailable", "{}", answer.body);
            break;
        }
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    assert_eq!(
        statuses.last(),
        Some(&503),
        "the disk never filled: {} sign-ups",
        statuses.len()
    );
    assert!(server.alive(), "no panic, no exit");
    let health = http(&server.addr, "GET", "/livez", &[], None).unwrap();
    assert_eq!(health.status, 200);
}

/// A PostgreSQL server of the test's own, in a temporary directory on a free port.
struct PrivatePostgres {
    bin: std::path::PathBuf,
    data: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    fn start() -> Option<PrivatePostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").is_file())?;
        let data = tempfile::tempdir().ok()?;
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(data.path())
            .status()
            .ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let initdb = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(data.path().join("db"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        if !initdb.success() {
            return None;
        }
        let pg = PrivatePostgres { bin, data, port };
        pg.ctl("start").then_some(pg)
    }

    fn ctl(&self, action: &str) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.data.path().display()
        );
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data.path().join("db"))
            .args(["-w", "-t", "30", "-m", "fast", "-l"])
            .arg(self.data.path().join("log"))
            .arg(action);
        if action == "start" {
            command.args(["-o", &options]);
        }
        command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.ctl("stop");
    }
}

#[test]
fn the_database_going_away_answers_503_fast_and_the_service_recovers_by_itself() {
    let Some(pg) = PrivatePostgres::start() else {
        let mandatory = std::env::var("LATCHKEY_FAULT_TESTS").is_ok_and(|v| v == "1");
        assert!(
            !mandatory,
            "LATCHKEY_FAULT_TESTS=1 but a private PostgreSQL could not be started"
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED database-outage test: no PostgreSQL server binaries (initdb) or not root. ***"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&pg.url(), dir.path(), &[("LATCHKEY_DB_TIMEOUT", "1s")]);
    let signed_up = server
        .post("/api/auth/signup", credentials("ada@example.com"))
        .unwrap();
    assert_eq!(signed_up.status, 201);
    let access = token(&signed_up, "access_token");
    assert_eq!(
        server
            .with_bearer("GET", "/api/sessions", &access)
            .unwrap()
            .status,
        200
    );

    assert_eq!(
        server
            .with_bearer("GET", "/api/me", &access)
            .unwrap()
            .status,
        200
    );

    assert!(pg.ctl("stop"), "stop the private PostgreSQL");
    for _ in 0..10 {
        let started = Instant::now();
        let sessions = server.with_bearer("GET", "/api/sessions", &access).unwrap();
        assert_eq!(sessions.status, 503, "{}", sessions.body);
        assert_eq!(sessions.json()["error"], "unavailable");
        let me = server.with_bearer("GET", "/api/me", &access).unwrap();
        assert_eq!(
            me.status, 200,
            "the guard and a cached /api/me need no database"
        );
        let page = http(&server.addr, "GET", "/login", &[], None).unwrap();
        assert!(
            page.status == 200 || page.status == 503,
            "pages without the database still answer"
        );
        let health = http(&server.addr, "GET", "/healthz", &[], None).unwrap();
        assert_eq!(health.status, 503);
        assert!(started.elapsed() < Duration::from_secs(5), "failed fast");
    }
    let signin = server
        .post("/api/auth/signin", credentials("ada@example.com"))
        .unwrap();
    assert_eq!(signin.status, 503, "{}", signin.body);
    assert!(server.alive(), "no panic");

    assert!(pg.ctl("start"), "start the private PostgreSQL again");
    eventually(
        Duration::from_secs(20),
        "recovered without a restart",
        || {
            server
                .with_bearer("GET", "/api/sessions", &access)
                .is_some_and(|a| a.status == 200)
        },
    );
    assert_eq!(
        server
            .post("/api/auth/signin", credentials("ada@example.com"))
            .unwrap()
            .status,
        200
    );
}
