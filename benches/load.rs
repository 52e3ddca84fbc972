//! Load benchmark: starts the release `latchkey` binary on a fresh database, drives each scenario
//! against 127.0.0.1 from a small keep-alive HTTP/1.1 load generator of our own (one thread per
//! virtual user), and prints one Markdown table. Every scenario runs for a fixed time and stops by
//! itself.
//!
//!     cargo bench --bench load                                   # SQLite in a temporary directory
//!     cargo bench --bench load -- --database-url postgres://postgres@127.0.0.1:5432/test
//!     cargo bench --bench load -- --seconds 10                  # longer runs
//!
//! With a PostgreSQL URL, a fresh database is created on that server and dropped afterwards.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";
const CONCURRENCY: usize = 16;

// ─── a minimal keep-alive HTTP/1.1 client ───────────────────────────────────────────────────────

struct Conn {
    addr: String,
    reader: BufReader<TcpStream>,
}

struct Answer {
    status: u16,
    set_cookie: Option<String>,
    body: Vec<u8>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).ok();
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        Conn {
            addr: addr.to_owned(),
            reader: BufReader::new(stream),
        }
    }

    fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Option<Answer> {
        let body = body.unwrap_or("");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        self.reader.get_mut().write_all(request.as_bytes()).ok()?;
        let mut line = String::new();
        self.reader.read_line(&mut line).ok()?;
        let status = line.split_whitespace().nth(1)?.parse().ok()?;
        let (mut length, mut set_cookie) = (0usize, None);
        loop {
            line.clear();
            self.reader.read_line(&mut line).ok()?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            } else if name.eq_ignore_ascii_case("set-cookie")
                && value.trim().starts_with("__Secure-latchkey_rt=")
            {
                set_cookie = value.trim().split(';').next().map(str::to_owned);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).ok()?;
        Some(Answer {
            status,
            set_cookie,
            body,
        })
    }
}

fn json_field(body: &[u8], name: &str) -> Option<String> {
    serde_json::from_slice::<Value>(body).ok()?[name]
        .as_str()
        .map(str::to_owned)
}

// ─── the server under test ─────────────────────────────────────────────────────────────────────

struct Server {
    child: Child,
    addr: String,
    clk_tck: f64,
}

impl Server {
    fn start(database_url: &str, dir: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .current_dir(dir)
            .env("DATABASE_URL", database_url)
            .env("LATCHKEY_DATA_DIR", dir)
            .env("LATCHKEY_ADDR", "127.0.0.1:0")
            .env("LATCHKEY_THROTTLE_IP_LIMIT", "100000000")
            .env("LATCHKEY_THROTTLE_ACCOUNT_LIMIT", "100000000")
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the release binary");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .expect("server URL")
            .to_owned();
        let clk_tck = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0);
        Server {
            child,
            addr,
            clk_tck,
        }
    }

    /// User + system CPU seconds the server has used so far.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().collect())
            .unwrap_or_default();
        let ticks: f64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
            + fields
                .get(12)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
        ticks / self.clk_tck
    }

    /// Peak resident memory since the last reset, in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// Resets the peak-RSS mark (Linux: write 5 to clear_refs), so each scenario reports its own.
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ─── scenarios ────────────────────────────────────────────────────────────────────────────────

/// What one virtual user does next; returns the latency of one request and whether it succeeded.
type Step = Box<dyn FnMut(&mut Conn) -> bool + Send>;

#[derive(Default)]
struct Outcome {
    latencies: Vec<Duration>,
    errors: u64,
    seconds: f64,
    cpu: f64,
    rss_mb: f64,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.seconds
    }
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index].as_secs_f64() * 1000.0
    }
}

/// The server's CPU time and peak memory over one scenario.
struct Measurement<'a> {
    server: &'a Server,
    cpu_before: f64,
}

impl Server {
    fn measure(&self) -> Measurement<'_> {
        self.reset_peak();
        Measurement {
            server: self,
            cpu_before: self.cpu_seconds(),
        }
    }
}

impl Measurement<'_> {
    fn finish(self, outcome: &mut Outcome) {
        outcome.cpu = self.server.cpu_seconds() - self.cpu_before;
        outcome.rss_mb = self.server.peak_rss_mb();
    }
}

/// Runs one virtual user per step function for `seconds` against `addr`, each with its own
/// connection; with `measured`, records that server's CPU and peak memory over the run.
fn run(addr: &str, measured: Option<&Server>, seconds: f64, steps: Vec<Step>) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(steps.len() + 1));
    let handles: Vec<_> = steps
        .into_iter()
        .map(|mut step| {
            let (stop, barrier, addr) = (stop.clone(), barrier.clone(), addr.to_owned());
            std::thread::spawn(move || {
                let mut conn = Conn::open(&addr);
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                barrier.wait();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let ok = step(&mut conn);
                    if ok {
                        latencies.push(started.elapsed());
                    } else {
                        errors += 1;
                        conn = Conn::open(&addr);
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let measurement = measured.map(Server::measure);
    barrier.wait();
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut outcome = Outcome::default();
    for handle in handles {
        let (latencies, errors) = handle.join().unwrap();
        outcome.latencies.extend(latencies);
        outcome.errors += errors;
    }
    outcome.seconds = started.elapsed().as_secs_f64();
    if let Some(measurement) = measurement {
        measurement.finish(&mut outcome);
    }
    outcome
}

fn expect(status: u16) -> impl Fn(Option<Answer>) -> bool {
    move |answer| answer.is_some_and(|a| a.status == status)
}

fn get(path: &'static str, token: Option<String>, status: u16) -> Step {
    let ok = expect(status);
    Box::new(move |conn| {
        let auth = token.as_ref().map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        ok(conn.send("GET", path, &headers, None))
    })
}

fn sign_in_step() -> Step {
    let body = json!({"email": "bench@example.com", "password": PASSWORD}).to_string();
    Box::new(move |conn| expect(200)(conn.send("POST", "/api/auth/signin", &[], Some(&body))))
}

fn new_session(addr: &str) -> (String, String) {
    let mut conn = Conn::open(addr);
    let body = json!({"email": "bench@example.com", "password": PASSWORD}).to_string();
    let answer = conn
        .send("POST", "/api/auth/signin", &[], Some(&body))
        .expect("sign in");
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    (
        json_field(&answer.body, "access_token").unwrap(),
        json_field(&answer.body, "refresh_token").unwrap(),
    )
}

fn api_refresh_chain(mut token: String) -> Step {
    Box::new(move |conn| {
        let auth = format!("Bearer {token}");
        match conn.send(
            "POST",
            "/api/auth/refresh",
            &[("Authorization", &auth)],
            None,
        ) {
            Some(answer) if answer.status == 200 => match json_field(&answer.body, "refresh_token")
            {
                Some(next) => {
                    token = next;
                    true
                }
                None => false,
            },
            _ => false,
        }
    })
}

fn cookie_refresh_chain(mut cookie: String) -> Step {
    Box::new(move |conn| {
        let headers = [("Cookie", cookie.as_str()), ("X-Latchkey-Refresh", "1")];
        match conn.send("POST", "/auth/refresh", &headers, None) {
            Some(answer) if answer.status == 200 => match answer.set_cookie {
                Some(next) => {
                    cookie = next;
                    true
                }
                None => false,
            },
            _ => false,
        }
    })
}

fn sign_up_step(user: usize) -> Step {
    let mut n = 0u64;
    Box::new(move |conn| {
        n += 1;
        let body = json!({"email": format!("bench-{user}-{n}-{}@example.com", std::process::id()), "password": PASSWORD}).to_string();
        expect(201)(conn.send("POST", "/api/auth/signup", &[], Some(&body)))
    })
}

/// Seconds one password hash takes here with the default parameters (the argon2 bound's unit),
/// measured as the server hashes: every core hashing at once, each reusing its working memory.
fn one_hash_seconds(cores: usize) -> f64 {
    let per_thread: Vec<f64> = (0..cores)
        .map(|_| {
            std::thread::spawn(|| {
                let params = argon2::Params::new(19456, 2, 1, None).unwrap();
                let mut blocks = vec![argon2::Block::default(); params.block_count()];
                let argon = argon2::Argon2::new(
                    argon2::Algorithm::Argon2id,
                    argon2::Version::V0x13,
                    params,
                );
                let mut out = [0u8; 32];
                let mut hash = || {
                    argon
                        .hash_password_into_with_memory(
                            PASSWORD.as_bytes(),
                            b"benchmark-salt16",
                            &mut out,
                            &mut blocks[..],
                        )
                        .unwrap()
                };
                hash();
                let rounds = 30;
                let started = Instant::now();
                for _ in 0..rounds {
                    hash();
                }
                started.elapsed().as_secs_f64() / rounds as f64
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    per_thread.iter().sum::<f64>() / per_thread.len() as f64
}

struct Row {
    name: String,
    outcome: Outcome,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: f64 = value("--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let postgres = value("--database-url");

    let dir = tempfile::tempdir().unwrap();
    let (database_url, cleanup) = match &postgres {
        Some(admin) => {
            let name = format!("latchkey_bench_{}", std::process::id());
            let mut conn = diesel::PgConnection::establish(admin).expect("connect to PostgreSQL");
            conn.batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            (format!("{base}/{name}"), Some((admin.clone(), name)))
        }
        None => (
            dir.path().join("bench.db").to_string_lossy().into_owned(),
            None,
        ),
    };
    let backend = if cleanup.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    eprintln!(
        "benchmark: {backend}, {cores} cores, {seconds} s per scenario, concurrency {CONCURRENCY}"
    );

    let server = Server::start(&database_url, dir.path());
    let mut setup = Conn::open(&server.addr);
    let body = json!({"email": "bench@example.com", "password": PASSWORD}).to_string();
    assert_eq!(
        setup
            .send("POST", "/api/auth/signup", &[], Some(&body))
            .unwrap()
            .status,
        201
    );
    let (access, _) = new_session(&server.addr);

    let mut rows = Vec::new();
    let mut scenario = |name: &str, steps: Vec<Step>| {
        eprintln!("  running: {name}");
        let outcome = run(&server.addr, Some(&server), seconds, steps);
        rows.push(Row {
            name: name.to_owned(),
            outcome,
        });
    };
    scenario(
        "1 floor: GET /livez",
        (0..CONCURRENCY).map(|_| get("/livez", None, 200)).collect(),
    );
    scenario(
        "2 guarded: GET /api/me",
        (0..CONCURRENCY)
            .map(|_| get("/api/me", Some(access.clone()), 200))
            .collect(),
    );
    scenario(
        "3 no token: GET /api/me → 401",
        (0..CONCURRENCY)
            .map(|_| get("/api/me", None, 401))
            .collect(),
    );
    let chains: Vec<Step> = (0..CONCURRENCY)
        .map(|_| api_refresh_chain(new_session(&server.addr).1))
        .collect();
    scenario("4 refresh (JSON API, own chains)", chains);
    let cookies: Vec<Step> = (0..CONCURRENCY)
        .map(|_| {
            cookie_refresh_chain(format!(
                "__Secure-latchkey_rt={}",
                new_session(&server.addr).1
            ))
        })
        .collect();
    scenario("5 refresh (browser cookie)", cookies);
    scenario(
        "6 sign-in",
        (0..CONCURRENCY).map(|_| sign_in_step()).collect(),
    );
    scenario("7 sign-up", (0..CONCURRENCY).map(sign_up_step).collect());

    // 8: guarded requests while sign-ins saturate argon2 on every core.
    eprintln!("  running: 8 guarded during a sign-in storm");
    let storm: Vec<Step> = (0..CONCURRENCY).map(|_| sign_in_step()).collect();
    let guarded: Vec<Step> = (0..4)
        .map(|_| get("/api/me", Some(access.clone()), 200))
        .collect();
    let during = std::thread::scope(|scope| {
        scope.spawn(|| run(&server.addr, None, seconds + 1.0, storm));
        std::thread::sleep(Duration::from_millis(500));
        run(&server.addr, Some(&server), seconds, guarded)
    });
    rows.push(Row {
        name: "8 guarded during sign-in storm (4 users)".into(),
        outcome: during,
    });

    // 9: 500 sign-ins at once; peak memory.
    eprintln!("  running: 9 500 simultaneous sign-ins");
    let measurement = server.measure();
    let barrier = Arc::new(Barrier::new(500));
    let started = Instant::now();
    let handles: Vec<_> = (0..500)
        .map(|_| {
            let (barrier, addr) = (barrier.clone(), server.addr.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::open(&addr);
                barrier.wait();
                let started = Instant::now();
                let ok = sign_in_step()(&mut conn);
                (ok, started.elapsed())
            })
        })
        .collect();
    let mut burst = Outcome::default();
    for handle in handles {
        let (ok, latency) = handle.join().unwrap();
        if ok {
            burst.latencies.push(latency);
        } else {
            burst.errors += 1;
        }
    }
    burst.seconds = started.elapsed().as_secs_f64();
    measurement.finish(&mut burst);
    rows.push(Row {
        name: "9 500 sign-ins at once".into(),
        outcome: burst,
    });

    let hash = one_hash_seconds(cores);
    let bound = cores as f64 / hash;
    let rate = |prefix: &str| {
        rows.iter()
            .find(|r| r.name.starts_with(prefix))
            .map_or(0.0, |r| r.outcome.rate())
    };

    println!("\n### {backend}, {cores} cores, {seconds} s per scenario, concurrency {CONCURRENCY} unless stated\n");
    println!("| scenario | req/s | p50 ms | p99 ms | errors | server CPU ms/req | peak RSS MB |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        let o = &row.outcome;
        let cpu_per = if o.latencies.is_empty() {
            f64::NAN
        } else {
            o.cpu * 1000.0 / o.latencies.len() as f64
        };
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {} | {:.3} | {:.1} |",
            row.name,
            o.rate(),
            o.percentile(0.50),
            o.percentile(0.99),
            o.errors,
            cpu_per,
            o.rss_mb
        );
    }
    println!(
        "\nOne password hash (m=19456 KiB, t=2, p=1, all {cores} cores hashing at once): {:.1} ms; argon2 bound = {cores} cores ÷ that = {bound:.0} sign-ins/s.\n",
        hash * 1000.0
    );
    println!("| ratio | value |");
    println!("|---|---:|");
    println!(
        "| guarded / floor | {:.0} % |",
        100.0 * rate("2 ") / rate("1 ")
    );
    println!(
        "| refresh (JSON) / floor | {:.0} % |",
        100.0 * rate("4 ") / rate("1 ")
    );
    println!(
        "| refresh (cookie) / floor | {:.0} % |",
        100.0 * rate("5 ") / rate("1 ")
    );
    println!(
        "| sign-in / argon2 bound | {:.0} % |",
        100.0 * rate("6 ") / bound
    );

    drop(server);
    if let Some((admin, name)) = cleanup {
        if let Ok(mut conn) = diesel::PgConnection::establish(&admin) {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}
