//! Prometheus metrics kept in process, and the middleware that gives every request an id, a log
//! span and a place in the latency histograms.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use tracing::Instrument;

use crate::startup::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// How a sign-in ended.
#[derive(Clone, Copy, Debug)]
pub enum SignInOutcome {
    Success,
    Failure,
    Throttled,
    Disabled,
}

/// How a refresh ended.
#[derive(Clone, Copy, Debug)]
pub enum RefreshOutcome {
    Rotated,
    Grace,
    Reuse,
    Expired,
    Invalid,
}

const SIGN_IN_OUTCOMES: [&str; 4] = ["success", "failure", "throttled", "disabled"];
const REFRESH_OUTCOMES: [&str; 5] = ["rotated", "grace", "reuse", "expired", "invalid"];

/// Counters and histograms of one instance.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    sign_ins: [AtomicU64; 4],
    refreshes: [AtomicU64; 5],
}

impl Metrics {
    pub fn sign_in(&self, outcome: SignInOutcome) {
        self.sign_ins[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn refresh(&self, outcome: RefreshOutcome) {
        self.refreshes[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let histogram = requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        histogram.count += 1;
        histogram.sum += seconds;
        for (bucket, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus text exposition of everything, plus the given gauges.
    pub fn render(&self, active_sessions: i64) -> String {
        let mut out = String::new();
        out.push_str("# HELP latchkey_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE latchkey_http_requests_total counter\n");
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for ((method, route, status), h) in &requests {
            let _ = writeln!(
                out,
                "latchkey_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                h.count
            );
        }
        out.push_str(
            "# HELP latchkey_http_request_duration_seconds Time to answer, by route and status.\n",
        );
        out.push_str("# TYPE latchkey_http_request_duration_seconds histogram\n");
        for ((method, route, status), h) in &requests {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (count, bound) in h.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "latchkey_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "latchkey_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP latchkey_sign_ins_total Sign-ins by outcome.\n");
        out.push_str("# TYPE latchkey_sign_ins_total counter\n");
        for (name, counter) in SIGN_IN_OUTCOMES.iter().zip(&self.sign_ins) {
            let _ = writeln!(
                out,
                "latchkey_sign_ins_total{{outcome=\"{name}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP latchkey_refreshes_total Refreshes by outcome.\n");
        out.push_str("# TYPE latchkey_refreshes_total counter\n");
        for (name, counter) in REFRESH_OUTCOMES.iter().zip(&self.refreshes) {
            let _ = writeln!(
                out,
                "latchkey_refreshes_total{{outcome=\"{name}\"}} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP latchkey_throttled_total Sign-ins refused while throttled.\n");
        out.push_str("# TYPE latchkey_throttled_total counter\n");
        let _ = writeln!(
            out,
            "latchkey_throttled_total {}",
            self.sign_ins[SignInOutcome::Throttled as usize].load(Ordering::Relaxed)
        );
        out.push_str("# HELP latchkey_active_sessions Device sessions that can still refresh.\n");
        out.push_str("# TYPE latchkey_active_sessions gauge\n");
        let _ = writeln!(out, "latchkey_active_sessions {active_sessions}");
        out
    }
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Middleware: a request id (answered in `X-Request-Id`), a log span carrying it so every log
/// line of the request shows it, one log line per request, and the metrics.
pub async fn observe_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = uuid::Uuid::new_v4().simple().to_string();
    let method = req.method().as_str().to_owned();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let result = next.call(req).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(REQUEST_ID.clone(), value);
            }
            if let Some(state) = state {
                state.metrics.observe(&method, &route, status, seconds);
            }
            span.in_scope(|| {
                tracing::info!(status, millis = seconds * 1000.0, "answered");
            });
            Ok(response)
        }
        Err(error) => {
            span.in_scope(|| tracing::warn!(error = %error, "failed"));
            Err(error)
        }
    }
}
