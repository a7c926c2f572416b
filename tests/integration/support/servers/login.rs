//! A service behind a login, for flows: `POST /login` with the right JSON credentials answers a
//! token (body, header and cookie); `GET /api/orders` answers 401 without `Bearer TOKEN`, and
//! `POST /api/orders` without `{"token": TOKEN}` in a JSON body.

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

/// The user and password the login accepts.
pub const LOGIN_USER: &str = "ci-bot";
pub const LOGIN_PASSWORD: &str = "pw-7f3e-correct-horse";

/// Serves the login and the protected API; `token` is what a good login hands out.
pub fn login_server(token: &'static str) -> super::AppServer {
    let app = Router::new()
        .route(
            "/login",
            post(move |body: String| async move {
                let ok = serde_json::from_str::<serde_json::Value>(&body)
                    .is_ok_and(|v| v["user"] == LOGIN_USER && v["password"] == LOGIN_PASSWORD);
                if !ok {
                    return (StatusCode::UNAUTHORIZED, "{\"error\":\"bad credentials\"}")
                        .into_response();
                }
                (
                    StatusCode::OK,
                    [
                        (header::CONTENT_TYPE, "application/json".to_string()),
                        (header::SET_COOKIE, format!("sid={token}; HttpOnly; Secure")),
                        (
                            header::HeaderName::from_static("x-session"),
                            token.to_string(),
                        ),
                    ],
                    serde_json::json!({ "token": token, "expires_in": 3600 }).to_string(),
                )
                    .into_response()
            }),
        )
        .route(
            "/api/orders",
            get(move |headers: HeaderMap| async move {
                let want = format!("Bearer {token}");
                let auth = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if auth == Some(want.as_str()) {
                    (StatusCode::OK, "{\"orders\":[{\"id\":1}]}").into_response()
                } else {
                    (StatusCode::UNAUTHORIZED, "{\"error\":\"no token\"}").into_response()
                }
            })
            .post(move |body: String| async move {
                // The token in a JSON body: `{"token": "..."}`.
                let sent = serde_json::from_str::<serde_json::Value>(&body)
                    .is_ok_and(|v| v["token"] == token);
                if sent {
                    (StatusCode::OK, "{\"orders\":[{\"id\":1}]}").into_response()
                } else {
                    (StatusCode::UNAUTHORIZED, "{\"error\":\"no token\"}").into_response()
                }
            }),
        );
    super::AppServer::start(app)
}
