//! Public pictures: payment QR codes sent to customers, product pictures
//! the seller uploaded, and the demo's. Slips are never here (they are the
//! seller's).

use crate::app::{AppState, demo};
use crate::slips::media;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/media/qr/{file}", get(serve_qr))
        .route("/media/products/{file}", get(serve_product_picture))
        .route("/static/demo/{file}", get(serve_demo_image))
        .route("/static/console.js", get(serve_console_script))
}

const CONSOLE_SCRIPT: &str = include_str!("../../static/console.js");

async fn serve_console_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CONSOLE_SCRIPT,
    )
        .into_response()
}

async fn serve_demo_image(Path(file): Path<String>) -> Response {
    let Some(png) = file
        .strip_suffix(".png")
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(demo::image)
    else {
        return (StatusCode::NOT_FOUND, "no such image").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        png,
    )
        .into_response()
}

async fn serve_qr(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found").into_response();
    let Some(name) = file.strip_suffix(".png") else {
        return not_found();
    };
    let Some(path) = media::public_qr_path(&state.config.media_dir, name) else {
        return not_found();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => not_found(),
    }
}

/// Named by their content, so a picture never changes under its name:
/// browsers and Meta's image proxy may keep it for a year.
async fn serve_product_picture(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "not found").into_response();
    let Some(path) = file
        .strip_suffix(".jpg")
        .and_then(|sha| media::product_picture_path(&state.config.media_dir, sha))
    else {
        return not_found();
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "image/jpeg"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => not_found(),
    }
}
