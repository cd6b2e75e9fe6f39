//! `GET /api/travelprofile/v2.0/summary`: the change feed, in last-modified order, paged,
//! with absolute next and previous page URLs.
//!
//! `LastModifiedDate` is required (`YYYY-MM-DDThh:mm:ss`, UTC); `Page` (1-based, by
//! default the first) and `ItemsPerPage` (from 1 to 200, by default 200) must be whole
//! numbers in range; `travelConfigs` is a comma-separated list; `Status` is `Active` or
//! `Inactive`. Anything else is a 400 with an `Error` body. Parameter names match without
//! regard to case. Company tokens only (a user token gets 403).

use super::Params;
use crate::model::{Paging, SummaryPage};
use crate::sandbox::config::DateBound;
use crate::sandbox::index::Filter;
use crate::sandbox::postback::encode;
use crate::sandbox::state::{Shared, xml_response};
use crate::xml::{format_timestamp, parse_timestamp, write_summary_page};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;

/// Most items on one page (and the default).
pub(crate) const MAX_ITEMS: u32 = 200;

pub(crate) async fn summary(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let grant = match sh.authorize(&headers) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if grant.user().is_some() {
        return sh.error(
            StatusCode::FORBIDDEN,
            "The summary feed needs a company token",
        );
    }
    let q = Params::parse(query.as_deref());
    let bad = |m: &str| sh.error(StatusCode::BAD_REQUEST, m);
    let Some(date) = q.get("LastModifiedDate") else {
        return bad("LastModifiedDate is required");
    };
    let Some(from) = parse_timestamp(date.trim()) else {
        return bad("LastModifiedDate must be a UTC date and time YYYY-MM-DDThh:mm:ss");
    };
    let page: u32 = match q.get("Page").map(|p| p.trim().parse::<u32>()) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => return bad("Page must be a whole number of 1 or more"),
    };
    let per_page: u32 = match q.get("ItemsPerPage").map(|p| p.trim().parse::<u32>()) {
        None => MAX_ITEMS,
        Some(Ok(n)) if (1..=MAX_ITEMS).contains(&n) => n,
        Some(_) => return bad("ItemsPerPage must be a whole number from 1 to 200"),
    };
    let configs: Option<Vec<&str>> = q
        .get("travelConfigs")
        .map(|c| {
            c.split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty());
    let active = match q.get("Status").map(str::trim) {
        None | Some("") => None,
        Some(s) if s.eq_ignore_ascii_case("active") => Some(true),
        Some(s) if s.eq_ignore_ascii_case("inactive") => Some(false),
        Some(_) => return bad("Status must be Active or Inactive"),
    };

    let inclusive = sh.config.date_bound == DateBound::Inclusive;
    let offset = (page as usize - 1).saturating_mul(per_page as usize);
    let (total, summaries) = {
        let w = sh.read();
        let filter = Filter {
            configs: configs.as_ref().map(|c| w.config_ids(c)),
            active,
        };
        w.page(from, inclusive, &filter, offset, per_page as usize)
    };
    let total_pages = total.div_ceil(per_page as usize) as u32;
    let url = |p: u32| {
        let mut u = format!(
            "{}/api/travelprofile/v2.0/summary?Page={p}&ItemsPerPage={per_page}&LastModifiedDate={}",
            sh.base_url,
            format_timestamp(&from)
        );
        if let Some(c) = &configs {
            u.push_str("&travelConfigs=");
            u.push_str(&encode(&c.join(",")));
        }
        if let Some(a) = active {
            u.push_str(if a {
                "&Status=Active"
            } else {
                "&Status=Inactive"
            });
        }
        u
    };
    let paging = Paging {
        total_pages: Some(total_pages),
        total_items: Some(total as u32),
        page: Some(page),
        items_per_page: Some(per_page),
        previous_page_url: (page > 1).then(|| url((page - 1).min(total_pages.max(1)))),
        next_page_url: (page < total_pages).then(|| url(page + 1)),
    };
    let doc = write_summary_page(&SummaryPage {
        paging: Some(paging),
        summaries,
    });
    xml_response(StatusCode::OK, doc)
}
