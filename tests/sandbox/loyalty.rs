//! Loyalty program updates (v1): validation, effect on the profile and its last-modified
//! time, supplier restrictions.

use crate::common::*;
use profile_cache::model::{
    LoyaltyMembership, LoyaltyStatus, LoyaltyUpdate, LoyaltyVendorType, Total,
};
use profile_cache::sandbox::SandboxConfig;
use profile_cache::sandbox::generate::login_for;
use profile_cache::xml::{parse_loyalty_response, write_loyalty_update};
use reqwest::StatusCode;

fn membership(
    kind: Option<LoyaltyVendorType>,
    code: Option<&str>,
    account: Option<&str>,
) -> LoyaltyMembership {
    LoyaltyMembership {
        unique_id: Some("Frequent Flyer".into()),
        vendor_code: code.map(str::to_owned),
        vendor_type: kind,
        account_no: account.map(str::to_owned),
        status: Some("Senator".into()),
        point_total: Some(Total::Number(120_500)),
        segment_total: Some(Total::Number(61)),
        ..Default::default()
    }
}

fn doc(ms: Vec<LoyaltyMembership>) -> String {
    write_loyalty_update(&LoyaltyUpdate { memberships: ms })
}

async fn send(
    env: &Env,
    token: &str,
    query: &str,
    body: String,
) -> (LoyaltyStatus, Option<String>) {
    let r = env
        .post_with(token, &format!("{LOYALTY}{query}"), body)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let resp = parse_loyalty_response(&r.bytes().await.unwrap()).unwrap();
    (resp.status, resp.error_description)
}

#[tokio::test]
async fn a_tmc_update_sets_the_membership_and_bumps_last_modified() {
    let env = Env::new(20).await;
    let login = login_for(5);
    let admin = env.sandbox.admin();
    let before = admin.profile(&login).unwrap();
    let q = format!("?userid_type=login&userid_value={login}");
    let update = doc(vec![
        membership(
            Some(LoyaltyVendorType::Air),
            Some("LH"),
            Some("992211334455"),
        ),
        membership(Some(LoyaltyVendorType::Hotel), Some("MC"), Some("555")),
    ]);
    assert_eq!(
        send(&env, &env.token, &q, update.clone()).await,
        (LoyaltyStatus::Ok, None)
    );
    let after = admin.profile(&login).unwrap();
    assert!(after.last_modified > before.last_modified);
    let air = after.profile.air.as_ref().unwrap();
    let lh = air
        .memberships
        .iter()
        .find(|m| m.vendor_code.as_deref() == Some("LH"))
        .unwrap();
    assert_eq!(lh.account_no.as_deref(), Some("992211334455"));
    assert_eq!(lh.point_total, Some(Total::Number(120_500)));
    assert_eq!(lh.status.as_deref(), Some("Senator"));
    let other_before = before
        .profile
        .air
        .as_ref()
        .unwrap()
        .memberships
        .iter()
        .filter(|m| m.vendor_code.as_deref() != Some("LH"))
        .count();
    let other_after = air
        .memberships
        .iter()
        .filter(|m| m.vendor_code.as_deref() != Some("LH"))
        .count();
    assert_eq!(other_before, other_after, "other memberships untouched");
    assert!(
        after
            .profile
            .hotel
            .as_ref()
            .unwrap()
            .memberships
            .iter()
            .any(|m| m.vendor_code.as_deref() == Some("MC")
                && m.account_no.as_deref() == Some("555"))
    );
    // The served document shows it too.
    let served =
        profile_cache::xml::parse_profile(&env.profile(&login).await.bytes().await.unwrap())
            .unwrap();
    assert_eq!(served, after.profile);

    // Sending the same update again is harmless and changes nothing.
    assert_eq!(
        send(&env, &env.token, &q, update).await.0,
        LoyaltyStatus::Ok
    );
    let again = admin.profile(&login).unwrap();
    assert_eq!(
        (again.profile, again.last_modified),
        (after.profile, after.last_modified)
    );
}

#[tokio::test]
async fn invalid_memberships_are_rejected_with_a_description_and_change_nothing() {
    let env = Env::new(10).await;
    let login = login_for(1);
    let q = format!("?userid_type=login&userid_value={login}");
    let before = env.sandbox.admin().profile(&login).unwrap();
    let air = Some(LoyaltyVendorType::Air);
    for (ms, needle) in [
        (
            vec![membership(air.clone(), Some("LHX"), Some("1"))],
            "2 characters",
        ),
        (
            vec![membership(air.clone(), Some("QQ"), Some("1"))],
            "unknown vendor",
        ),
        (
            vec![membership(air.clone(), None, Some("1"))],
            "VendorCode is required",
        ),
        (
            vec![membership(None, Some("LH"), Some("1"))],
            "VendorType is required",
        ),
        (
            vec![membership(
                Some(LoyaltyVendorType::Unrecognized("X".into())),
                Some("LH"),
                Some("1"),
            )],
            "VendorType must be",
        ),
        (
            vec![membership(air.clone(), Some("LH"), None)],
            "AccountNo is required",
        ),
        (
            vec![
                membership(air.clone(), Some("LH"), Some("1")),
                membership(air.clone(), Some("UA"), Some(" ")),
            ],
            "Membership 2",
        ),
        (vec![], "No Membership"),
    ] {
        let (status, description) = send(&env, &env.token, &q, doc(ms)).await;
        assert_eq!(status, LoyaltyStatus::Error);
        let d = description.unwrap();
        assert!(d.contains(needle), "{d}");
    }
    let after = env.sandbox.admin().profile(&login).unwrap();
    assert_eq!(
        (after.profile, after.last_modified),
        (before.profile, before.last_modified)
    );
}

#[tokio::test]
async fn suppliers_may_only_touch_their_own_program() {
    let cfg = SandboxConfig::new(10, 1)
        .with_supplier("lh-app", "lh-secret", "A", "LH")
        .unwrap();
    let env = Env::with(cfg).await;
    let login = login_for(2);
    let form = [
        ("grant_type", "password"),
        ("client_id", "lh-app"),
        ("client_secret", "lh-secret"),
        ("username", login.as_str()),
        ("password", "sandbox-password"),
    ];
    let j = env.token_json(&form).await;
    let supplier = j["access_token"].as_str().unwrap();
    // Vendor code and type are the supplier's own when left out.
    let (status, _) = send(
        &env,
        supplier,
        "",
        doc(vec![membership(None, None, Some("LH-777"))]),
    )
    .await;
    assert_eq!(status, LoyaltyStatus::Ok);
    let p = env.sandbox.admin().profile(&login).unwrap().profile;
    assert!(p.air.unwrap().memberships.iter().any(
        |m| m.vendor_code.as_deref() == Some("LH") && m.account_no.as_deref() == Some("LH-777")
    ));
    let (status, d) = send(
        &env,
        supplier,
        "",
        doc(vec![membership(
            Some(LoyaltyVendorType::Air),
            Some("UA"),
            Some("1"),
        )]),
    )
    .await;
    assert_eq!(status, LoyaltyStatus::Error);
    assert!(d.unwrap().contains("own loyalty program"));
    let (status, _) = send(
        &env,
        supplier,
        "",
        doc(vec![membership(
            Some(LoyaltyVendorType::Hotel),
            None,
            Some("1"),
        )]),
    )
    .await;
    assert_eq!(
        status,
        LoyaltyStatus::Error,
        "another program type is not its own either"
    );
}

#[tokio::test]
async fn the_user_comes_from_the_token_or_the_query() {
    let env = Env::new(10).await;
    let login = login_for(3);
    let (at, _) = env.user_tokens(&login).await;
    let body = doc(vec![membership(
        Some(LoyaltyVendorType::Car),
        Some("ZE"),
        Some("C-1"),
    )]);
    assert_eq!(send(&env, &at, "", body.clone()).await.0, LoyaltyStatus::Ok);
    let p = env.sandbox.admin().profile(&login).unwrap().profile;
    assert!(
        p.car
            .unwrap()
            .memberships
            .iter()
            .any(|m| m.account_no.as_deref() == Some("C-1"))
    );
    // A company token must name the user.
    let r = env.post(LOYALTY, body.clone()).await;
    error_message(r, StatusCode::BAD_REQUEST).await;
    let r = env
        .post(
            &format!("{LOYALTY}?userid_type=login&userid_value=ghost@x.example"),
            body,
        )
        .await;
    assert!(
        error_message(r, StatusCode::BAD_REQUEST)
            .await
            .starts_with("Invalid User:")
    );
    let r = env
        .post(
            &format!("{LOYALTY}?userid_type=login&userid_value={login}"),
            "<Nope/>".into(),
        )
        .await;
    error_message(r, StatusCode::BAD_REQUEST).await;
}
