//! Company and user `subscribe` / `unsubscribe` (`POST …?type=profile|itinerary|fop`,
//! empty body, `200 OK`). Company endpoints need a company token, user endpoints a user
//! token (403 otherwise); a missing or unknown `type` is a 400 with an `Error` body.
//! Unsubscribing from something not subscribed is fine (200).

use super::Params;
use crate::sandbox::postback::NotifyType;
use crate::sandbox::state::Shared;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

fn change(
    sh: &Shared,
    headers: &HeaderMap,
    query: Option<&str>,
    company: bool,
    subscribe: bool,
) -> Response {
    let grant = match sh.authorize(headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let kind = match Params::parse(query).get("type") {
        None => {
            return sh.error(
                StatusCode::BAD_REQUEST,
                "type is required (profile, itinerary or fop)",
            );
        }
        Some(t) => match NotifyType::parse(t.trim()) {
            Some(k) => k,
            None => {
                return sh.error(
                    StatusCode::BAD_REQUEST,
                    "Unknown type: use profile, itinerary or fop",
                );
            }
        },
    };
    let mut subs = sh.subscriptions();
    match (company, grant.user()) {
        (true, None) => {
            if subscribe {
                subs.company.insert(kind);
            } else {
                subs.company.remove(&kind);
            }
        }
        (false, Some(login)) => {
            let set = subs.users.entry(login.to_lowercase()).or_default();
            if subscribe {
                set.insert(kind);
            } else {
                set.remove(&kind);
            }
        }
        (true, Some(_)) => {
            drop(subs);
            return sh.error(
                StatusCode::FORBIDDEN,
                "Company subscriptions need a company token",
            );
        }
        (false, None) => {
            drop(subs);
            return sh.error(
                StatusCode::FORBIDDEN,
                "User subscriptions need a user token",
            );
        }
    }
    StatusCode::OK.into_response()
}

pub(crate) async fn company_subscribe(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    change(&sh, &headers, q.as_deref(), true, true)
}

pub(crate) async fn company_unsubscribe(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    change(&sh, &headers, q.as_deref(), true, false)
}

pub(crate) async fn user_subscribe(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    change(&sh, &headers, q.as_deref(), false, true)
}

pub(crate) async fn user_unsubscribe(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    change(&sh, &headers, q.as_deref(), false, false)
}
