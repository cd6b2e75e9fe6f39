//! `GET` and `POST /api/travelprofile/v2.0/profile`.
//!
//! GET names its traveler with `userid_type=login|xmlsyncid|uuid&userid_value=…` (or
//! `uuid=…`), or not at all for a user token's own profile; a company token sees every
//! traveler, a user token only its own (403 otherwise). An unknown or deleted traveler is
//! a 400 with `Invalid User:{value}`.
//!
//! POST takes a `ProfileResponse` document with `Action="Update"` (applied as
//! [`update`](super::update) describes) or `Action="Create"` (company tokens only; needs
//! `LoginId`, `FirstName`, `LastName`). It answers one `TravelProfileResponseMessage`
//! (`S001`), or several wrapped in an `Error` when there are warnings; refusals are E001
//! (no access, or the login exists) and E002 (required value missing), with status 400.
//! Supplier tokens may not write profiles. A document that is not XML is a 400 `Error`.

use super::update::{Presence, apply};
use super::{Params, ServedLogin};
use crate::model::{ErrorBody, Profile, ResponseMessage};
use crate::sandbox::auth::{Grant, Role};
use crate::sandbox::state::{Shared, xml_response};
use crate::sandbox::world::UserRef;
use crate::xml::{format_timestamp, parse_profile, write_error, write_response_message};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;

/// Finds the traveler a request names (see the module docs); the error is the answer.
#[allow(clippy::result_large_err)] // the error is the early answer, not a value to inspect
pub(crate) fn target(sh: &Shared, q: &Params, grant: &Grant) -> Result<u32, Response> {
    let bad = |m: &str| sh.error(StatusCode::BAD_REQUEST, m);
    let by = match (
        q.get("userid_type"),
        q.get("userid_value").filter(|v| !v.trim().is_empty()),
    ) {
        (Some(_), None) => return Err(bad("userid_value is required with userid_type")),
        (None, Some(_)) => return Err(bad("userid_type is required with userid_value")),
        (Some(t), Some(v)) => match t.trim().to_ascii_lowercase().as_str() {
            "login" => UserRef::Login(v.trim()),
            "xmlsyncid" => UserRef::SyncId(v.trim()),
            "uuid" => UserRef::Uuid(v.trim()),
            _ => return Err(bad("userid_type must be login, xmlsyncid or uuid")),
        },
        (None, None) => match (q.get("uuid"), grant.user()) {
            (Some(u), _) => UserRef::Uuid(u.trim()),
            (None, Some(own)) => UserRef::Login(own),
            (None, None) => {
                return Err(bad(
                    "userid_type and userid_value are required with a company token",
                ));
            }
        },
    };
    find(sh, by, grant)
}

/// Finds a live traveler and checks that the token may see it.
#[allow(clippy::result_large_err)] // the error is the early answer, not a value to inspect
pub(crate) fn find(sh: &Shared, by: UserRef<'_>, grant: &Grant) -> Result<u32, Response> {
    let found = {
        let w = sh.read();
        w.find(by).map(|i| (i, w.traveler(i).login.clone()))
    };
    let Some((idx, login)) = found else {
        let value = match by {
            UserRef::Login(v) | UserRef::SyncId(v) | UserRef::Uuid(v) => v,
        };
        return Err(sh.error(StatusCode::BAD_REQUEST, &format!("Invalid User:{value}")));
    };
    match grant.user() {
        Some(own) if !own.eq_ignore_ascii_case(&login) => {
            Err(sh.error(StatusCode::FORBIDDEN, "No access to this user"))
        }
        _ => Ok(idx),
    }
}

pub(crate) async fn get_profile(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let grant = match sh.authorize(&headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let idx = match target(&sh, &Params::parse(query.as_deref()), &grant) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let xml = sh.profile_xml(idx);
    let login = sh.read().traveler(idx).login.clone();
    let mut resp = xml_response(StatusCode::OK, xml);
    resp.extensions_mut().insert(ServedLogin(login));
    resp
}

fn msg(code: &str, text: &str, field: Option<&str>) -> ResponseMessage {
    ResponseMessage {
        code: Some(code.into()),
        message: Some(text.into()),
        field: field.map(str::to_owned),
    }
}

/// One message alone, or several wrapped in an `Error`; 400 when any is an error.
fn respond(sh: &Shared, mut msgs: Vec<ResponseMessage>) -> Response {
    let refused = msgs
        .iter()
        .any(|m| m.code.as_deref().is_some_and(|c| c.starts_with('E')));
    let status = if refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    if msgs.len() == 1 {
        return xml_response(status, write_response_message(&msgs[0]));
    }
    let body = ErrorBody {
        message: Some(
            if refused {
                "The profile was not saved"
            } else {
                "The profile was saved with warnings"
            }
            .into(),
        ),
        server_time: Some(format_timestamp(&sh.read().now())),
        id: Some(sh.new_id()),
        messages: std::mem::take(&mut msgs),
    };
    xml_response(status, write_error(&body))
}

pub(crate) async fn post_profile(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let grant = match sh.authorize(&headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let doc = match parse_profile(&body) {
        Ok(d) => d,
        Err(e) => {
            return sh.error(
                StatusCode::BAD_REQUEST,
                &format!("The request body is not a profile document: {e}"),
            );
        }
    };
    if matches!(grant.role, Role::Supplier { .. }) {
        return respond(
            &sh,
            vec![msg("E001", "Suppliers may not write profiles", None)],
        );
    }
    match doc
        .action
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("update") => {}
        Some("create") => return create(&sh, &grant, doc),
        None => {
            return respond(
                &sh,
                vec![msg(
                    "E002",
                    "Action is required",
                    Some("ProfileResponse/@Action"),
                )],
            );
        }
        Some(_) => {
            return respond(
                &sh,
                vec![msg(
                    "E002",
                    "Action must be Create or Update",
                    Some("ProfileResponse/@Action"),
                )],
            );
        }
    }
    let found = match doc.login_id.as_deref() {
        Some(login) => find(&sh, UserRef::Login(login), &grant),
        None => target(&sh, &Params::parse(query.as_deref()), &grant),
    };
    let idx = match found {
        Ok(i) => i,
        Err(r) => return r,
    };
    let presence = Presence::of(&body);
    let mut warnings = Vec::new();
    let (changed, login) = {
        let mut w = sh.write();
        let changed = w.modify(idx, |p| {
            let before = p.clone();
            warnings = apply(p, &doc, &presence);
            *p != before
        });
        (changed, w.traveler(idx).login.clone())
    };
    if changed {
        sh.profiles_changed(&[login]);
    }
    let mut msgs = vec![msg("S001", "Success", None)];
    msgs.extend(warnings);
    respond(&sh, msgs)
}

fn create(sh: &Shared, grant: &Grant, doc: Profile) -> Response {
    if grant.user().is_some() {
        return respond(
            sh,
            vec![msg("E001", "Creating profiles needs a company token", None)],
        );
    }
    let general = doc.general.as_ref();
    let missing = if doc.login_id.is_none() {
        Some("ProfileResponse/@LoginId")
    } else if general.and_then(|g| g.first_name.as_ref()).is_none() {
        Some("General/FirstName")
    } else if general.and_then(|g| g.last_name.as_ref()).is_none() {
        Some("General/LastName")
    } else {
        None
    };
    if let Some(field) = missing {
        return respond(sh, vec![msg("E002", "Required field missing", Some(field))]);
    }
    let created = sh.write().create(doc);
    match created {
        Some(idx) => {
            let login = sh.read().traveler(idx).login.clone();
            sh.profiles_changed(&[login]);
            respond(sh, vec![msg("S001", "Success", None)])
        }
        None => respond(
            sh,
            vec![msg(
                "E001",
                "A traveler with this LoginId exists",
                Some("ProfileResponse/@LoginId"),
            )],
        ),
    }
}
