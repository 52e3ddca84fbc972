//! Headless Chromium through chromedriver (WebDriver), for the browser tests.
//!
//! The tests need the Debian packages `chromium` and `chromium-driver`. Without chromedriver they
//! print a loud SKIPPED line and pass, unless LATCHKEY_BROWSER_TESTS=1 (set by CI), which makes
//! them mandatory: then a missing driver fails the test.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1200,900",
];

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// A running chromedriver; killed when dropped.
pub struct Driver {
    url: String,
    child: Child,
    chromium: PathBuf,
    profiles: Vec<tempfile::TempDir>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts chromedriver, or returns `None` (after saying so loudly) when the browser tests are
    /// not mandatory and the driver or browser is missing.
    pub async fn start(test: &str) -> Option<Driver> {
        let mandatory = std::env::var("LATCHKEY_BROWSER_TESTS").is_ok_and(|v| v == "1");
        let (driver, chromium) = match (
            find(&["chromedriver"]),
            find(&["chromium", "chromium-browser", "google-chrome"]),
        ) {
            (Some(driver), Some(chromium)) => (driver, chromium),
            _ if mandatory => panic!(
                "LATCHKEY_BROWSER_TESTS=1 but chromedriver or chromium is missing \
                 (apt-get install chromium chromium-driver)"
            ),
            _ => {
                // Written to the real stderr, past the test harness's capture, so a plain
                // `cargo test` shows it even though the test passes.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED browser test {test}: chromedriver/chromium not found. \
                     Install the Debian packages chromium and chromium-driver, or set \
                     LATCHKEY_BROWSER_TESTS=1 to make this a failure. ***"
                );
                return None;
            }
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Driver {
            url,
            child,
            chromium,
            profiles: Vec::new(),
        })
    }

    /// A new browser profile (its own Chromium with a fresh user-data-dir: its own cookies).
    pub async fn profile(&mut self) -> Client {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", dir.path().display()));
        self.profiles.push(dir);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": self.chromium, "args": args }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a WebDriver session")
    }
}

/// Waits up to 15 s for `css` to be present and contain `text`.
pub async fn wait_for_text(client: &Client, css: &str, text: &str) {
    let started = Instant::now();
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(found) = element.text().await {
                if found.contains(text) {
                    return;
                }
            }
        }
        if started.elapsed() > Duration::from_secs(15) {
            let url = client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let body = client.source().await.unwrap_or_default();
            panic!("{css:?} never contained {text:?} (at {url}):\n{body}");
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits up to 15 s for the page's path to become `path`.
pub async fn wait_for_path(client: &Client, path: &str) {
    let started = Instant::now();
    loop {
        if let Ok(url) = client.current_url().await {
            if url.path() == path {
                return;
            }
            if started.elapsed() > Duration::from_secs(15) {
                panic!("expected to land on {path}, still at {url}");
            }
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves a PNG of the current page under `target/screenshots/`.
pub async fn screenshot(client: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

pub async fn fill(client: &Client, css: &str, value: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(value)
        .await
        .unwrap();
}

pub async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}
