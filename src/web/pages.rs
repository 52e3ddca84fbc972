//! Pages that need no account: the landing redirect, health, static files, 404.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use super::HtmlError;
use crate::db;
use crate::error::AppError;
use crate::startup::AppState;

/// `/` sends people to their account (which sends them to sign in if need be).
pub async fn home() -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/account"))
        .finish()
}

/// 200 when the database answers, 503 otherwise.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    use diesel::connection::SimpleConnection;
    let answered = db::run(&state.pool, |conn| {
        conn.batch_execute("SELECT 1").map_err(AppError::from)
    })
    .await;
    match answered {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok"})),
        Err(e) => {
            e.log();
            HttpResponse::ServiceUnavailable().json(serde_json::json!({"status": "unavailable"}))
        }
    }
}

/// `GET /livez`: 200 while the process serves, with no database work (the framework floor).
pub async fn live() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok")
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let active = db::run(&state.pool, move |conn| {
        Ok(crate::models::session::SessionRow::count_active(
            conn, now, None,
        )?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(active)))
}

/// Files under `static/`, embedded in the binary so it runs from anywhere.
const STATIC_FILES: &[(&str, &str, &str, &str)] = &[
    (
        "css",
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/css/app.css"),
    ),
    (
        "js",
        "latchkey.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/js/latchkey.js"),
    ),
];

pub async fn static_file(path: web::Path<(String, String)>) -> Result<HttpResponse, HtmlError> {
    let (dir, file) = path.into_inner();
    let (_, _, content_type, body) = STATIC_FILES
        .iter()
        .find(|(d, f, _, _)| *d == dir && *f == file)
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(*body))
}

/// Unknown paths: JSON under `/api`, a page elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") || req.path() == "/api" {
        AppError::NotFound.error_response()
    } else {
        HtmlError(AppError::NotFound).error_response()
    }
}
