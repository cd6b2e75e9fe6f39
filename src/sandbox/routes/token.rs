//! `POST /oauth2/v0/token`: the `password`, `refresh_token` and `client_credentials`
//! grants, answered in JSON as SAP Concur does.
//!
//! Errors are JSON `{error, error_description, code}`. The public docs name only code 108
//! (bad or expired refresh token); the others are the sandbox's own: 100 unknown client
//! or wrong secret (401 `invalid_client`), 101 unsupported grant type, 102 a required
//! parameter missing (`invalid_request`), 104 wrong username or password, 106 wrong company
//! request token, 108 bad, expired, used or foreign refresh token (400 `invalid_grant`).
//!
//! Who gets what: the `password` grant with a traveler's login and the configured user
//! password gives a *user* token (refreshable); with `credtype=authtoken` and the company
//! request token, a *company* token (refreshable); `client_credentials` gives a company
//! token without refresh token. A supplier app's tokens are bound to its vendor.

use super::Params;
use crate::sandbox::auth::{Grant, Role, Subject};
use crate::sandbox::config::ExpiresIn;
use crate::sandbox::state::Shared;
use crate::sandbox::world::UserRef;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;

fn error(status: StatusCode, error: &str, description: &str, code: u32) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description, "code": code })),
    )
        .into_response()
}

fn seconds(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

pub(crate) async fn token(State(sh): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = Params::parse(std::str::from_utf8(&body).ok());
    let cfg = &sh.config;
    let (Some(client_id), Some(secret)) = (form.get("client_id"), form.get("client_secret")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and client_secret are required",
            102,
        );
    };
    let role = if client_id == cfg.client_id && secret == cfg.client_secret {
        Role::Tmc
    } else if let Some(s) = cfg
        .suppliers
        .iter()
        .find(|s| s.client_id == client_id && s.client_secret == secret)
    {
        Role::Supplier {
            vendor_code: s.vendor_code.clone(),
            vendor_type: s.vendor_type.clone(),
        }
    } else {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
            100,
        );
    };
    let grant_type = form.get("grant_type").unwrap_or("");
    let (grant, refreshable) = match grant_type {
        "password" => {
            let (Some(username), Some(password)) = (form.get("username"), form.get("password"))
            else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "username and password are required",
                    102,
                );
            };
            if form
                .get("credtype")
                .is_some_and(|c| c.eq_ignore_ascii_case("authtoken"))
            {
                if password != cfg.company_auth_token {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "invalid company request token",
                        106,
                    );
                }
                (
                    Grant {
                        subject: Subject::Company,
                        role,
                    },
                    true,
                )
            } else {
                let login = {
                    let w = sh.read();
                    w.find(UserRef::Login(username))
                        .map(|i| w.traveler(i).login.clone())
                };
                match login {
                    Some(login) if password == cfg.user_password => (
                        Grant {
                            subject: Subject::User(login),
                            role,
                        },
                        true,
                    ),
                    _ => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            "wrong username or password",
                            104,
                        );
                    }
                }
            }
        }
        "refresh_token" => {
            let Some(rt) = form.get("refresh_token") else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                    102,
                );
            };
            match sh.tokens().redeem(rt, client_id) {
                Some(g) => (g, true),
                None => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "refresh token not found or expired",
                        108,
                    );
                }
            }
        }
        "client_credentials" => (
            Grant {
                subject: Subject::Company,
                role,
            },
            false,
        ),
        "" => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
                102,
            );
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "unsupported grant type",
                101,
            );
        }
    };
    let user = grant.user().map(str::to_owned);
    let (issued, lifetime, refresh_lifetime) = {
        let mut t = sh.tokens();
        (
            t.issue(grant, client_id, refreshable),
            t.lifetime(),
            t.refresh_lifetime(),
        )
    };
    let expires_in = seconds(lifetime);
    let mut body = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": match cfg.expires_in {
            ExpiresIn::Number => Value::from(expires_in),
            ExpiresIn::String => Value::from(expires_in.to_string()),
        },
        "scope": "openid travel.profile.read travel.profile.write travel.loyalty.write notifications",
        "geolocation": sh.base_url,
    });
    if let Some(rt) = issued.refresh_token {
        body["refresh_token"] = Value::from(rt);
        body["refresh_expires_in"] = Value::from(seconds(refresh_lifetime));
    }
    body["id_token"] = Value::from(format!(
        "sandbox.{}.{}",
        if user.is_some() { "user" } else { "company" },
        sh.new_id()
    ));
    Json(body).into_response()
}
