//! Profile GET (every way of naming a traveler, access rules, unknown users) and POST
//! (update with merge semantics and response messages, create).

use crate::common::*;
use profile_cache::model::ProfileStatus;
use profile_cache::sandbox::generate::{self, login_for, sync_id_for};
use profile_cache::sandbox::{SandboxConfig, generate::identity};
use profile_cache::xml::{parse_profile, parse_response_messages};
use reqwest::StatusCode;

#[tokio::test]
async fn get_by_login_sync_id_and_uuid() {
    let env = Env::new(50).await;
    let login = login_for(7);
    let uuid = identity(42, 7).uuid;
    let server = env.sandbox.admin().profile(&login).unwrap();
    for query in [
        format!("userid_type=login&userid_value={login}"),
        format!("userid_type=login&userid_value={}", login.to_uppercase()),
        format!("userid_type=xmlsyncid&userid_value={}", sync_id_for(7)),
        format!("userid_type=uuid&userid_value={uuid}"),
        format!("uuid={uuid}"),
    ] {
        let r = env.get(&format!("{PROFILE}?{query}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{query}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/xml")
        );
        assert!(r.headers().contains_key("concur-correlationid"));
        let body = r.text().await.unwrap();
        assert_eq!(body, server.xml, "{query}");
        let p = parse_profile(body.as_bytes()).unwrap();
        assert_eq!(p, server.profile);
        assert_eq!(p.login_id.as_deref(), Some(login.as_str()));
        assert_eq!(p.uuid(), Some(uuid.as_str()));
    }
    assert_eq!(
        server.profile,
        generate::profile(42, 7).0,
        "served as generated"
    );
}

#[tokio::test]
async fn unknown_users_and_bad_parameters_get_400() {
    let env = Env::new(10).await;
    for (query, needle) in [
        (
            "userid_type=login&userid_value=ghost@nowhere.example",
            "Invalid User:ghost@nowhere.example",
        ),
        (
            "userid_type=xmlsyncid&userid_value=XS-9999999",
            "Invalid User:XS-9999999",
        ),
        ("uuid=00000000-0000-0000-0000-000000000000", "Invalid User:"),
        ("userid_type=email&userid_value=x", "userid_type must be"),
        ("userid_type=login", "userid_value is required"),
        ("userid_value=x", "userid_type is required"),
        ("", "userid_type and userid_value are required"),
    ] {
        let r = env.get(&format!("{PROFILE}?{query}")).await;
        let m = error_message(r, StatusCode::BAD_REQUEST).await;
        assert!(m.contains(needle), "{query}: {m}");
    }
    let gone = login_for(3);
    env.sandbox.admin().delete(&[&gone]).unwrap();
    let r = env.profile(&gone).await;
    assert_eq!(
        error_message(r, StatusCode::BAD_REQUEST).await,
        format!("Invalid User:{gone}")
    );
}

#[tokio::test]
async fn a_user_token_sees_only_its_own_profile() {
    let env = Env::new(10).await;
    let (at, _) = env.user_tokens(&login_for(4)).await;
    let own = env
        .get_with(
            &at,
            &format!("{PROFILE}?userid_type=login&userid_value={}", login_for(4)),
        )
        .await;
    assert_eq!(own.status(), StatusCode::OK);
    let other = env
        .get_with(
            &at,
            &format!("{PROFILE}?userid_type=login&userid_value={}", login_for(5)),
        )
        .await;
    error_message(other, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn generated_documents_carry_quirks_and_unknown_elements() {
    let env = Env::new(300).await;
    let (mut quirky, mut unknown, mut inactive) = (0, 0, 0);
    for i in 0..300 {
        let body = text(env.profile(&login_for(i)).await).await;
        assert!(body.starts_with("<?xml"), "XML declaration");
        let p = parse_profile(body.as_bytes()).unwrap();
        quirky += usize::from(
            body.contains("PreferRestaraunt")
                || body.contains("<SearchID>")
                || body.contains(">True<"),
        );
        unknown += usize::from(body.contains("<Wellness>"));
        inactive += usize::from(p.status == Some(ProfileStatus::Inactive));
    }
    assert!(quirky >= 10, "{quirky} quirky documents");
    assert!(unknown >= 2, "{unknown} with unknown elements");
    assert!(inactive >= 5, "{inactive} inactive");
}

fn update_doc(login: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<ProfileResponse xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" Action="Update" LoginId="{login}">
  <General><JobTitle>Chief Wanderer</JobTitle><CostCenter /></General>
  <Hotel><PreferPool>true</PreferPool></Hotel>
</ProfileResponse>"#
    )
}

#[tokio::test]
async fn update_applies_given_sections_and_bumps_last_modified() {
    let env = Env::new(30).await;
    let login = login_for(9);
    let admin = env.sandbox.admin();
    let before = admin.profile(&login).unwrap();
    let r = env.post(PROFILE, update_doc(&login)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let msgs = parse_response_messages(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].code.as_deref(), Some("S001"));
    assert!(msgs[0].is_success());

    let p = parse_profile(&env.profile(&login).await.bytes().await.unwrap()).unwrap();
    let g = p.general.as_ref().unwrap();
    assert_eq!(g.job_title.as_deref(), Some("Chief Wanderer"));
    assert_eq!(g.cost_center, None, "an empty element clears");
    assert_eq!(
        g.first_name,
        before.profile.general.as_ref().unwrap().first_name,
        "omitted: left alone"
    );
    assert_eq!(p.hotel.as_ref().unwrap().prefer_pool, Some(true));
    assert_eq!(p.passports, before.profile.passports);
    let after = admin.profile(&login).unwrap();
    assert!(after.last_modified > before.last_modified);
    assert_eq!(
        admin.summaries().last().unwrap().login_id.as_deref(),
        Some(login.as_str())
    );
}

#[tokio::test]
async fn update_warnings_errors_and_bad_documents() {
    let env = Env::new(10).await;
    let login = login_for(2);
    let warn = format!(
        r#"<ProfileResponse Action="Update" LoginId="{login}"><General><FirstName /></General>
        <Air><AirMemberships><AirMembership><VendorCode>TOOLONG</VendorCode><AccountNo>1</AccountNo></AirMembership></AirMemberships></Air>
        </ProfileResponse>"#
    );
    let r = env.post(PROFILE, warn).await;
    assert_eq!(r.status(), StatusCode::OK);
    let codes: Vec<_> = parse_response_messages(&r.bytes().await.unwrap())
        .unwrap()
        .into_iter()
        .map(|m| (m.code.unwrap(), m.field))
        .collect();
    assert_eq!(codes[0].0, "S001");
    assert!(
        codes
            .iter()
            .any(|(c, f)| c == "W007" && f.as_deref() == Some("General/FirstName"))
    );
    assert!(codes.iter().any(|(c, _)| c == "W010"));
    assert!(
        env.sandbox
            .admin()
            .profile(&login)
            .unwrap()
            .profile
            .general
            .unwrap()
            .first_name
            .is_some()
    );

    let no_action = format!(
        r#"<ProfileResponse LoginId="{login}"><General><JobTitle>x</JobTitle></General></ProfileResponse>"#
    );
    let r = env.post(PROFILE, no_action).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let m = parse_response_messages(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(m[0].code.as_deref(), Some("E002"));

    let r = env.post(PROFILE, "<ProfileResponse><General>".into()).await;
    error_message(r, StatusCode::BAD_REQUEST).await;
    let r = env.post(PROFILE, update_doc("ghost@nowhere.example")).await;
    assert!(
        error_message(r, StatusCode::BAD_REQUEST)
            .await
            .starts_with("Invalid User:")
    );

    let (at, _) = env.user_tokens(&login_for(3)).await;
    let r = env.post_with(&at, PROFILE, update_doc(&login)).await;
    error_message(r, StatusCode::FORBIDDEN).await;
    let r = env.post_with(&at, PROFILE, update_doc(&login_for(3))).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a user updates their own profile"
    );
}

#[tokio::test]
async fn suppliers_cannot_write_profiles() {
    let cfg = SandboxConfig::new(5, 1)
        .with_supplier("lh", "lh-secret", "A", "LH")
        .unwrap();
    let env = Env::with(cfg).await;
    let j = env
        .token_json(&[
            ("grant_type", "client_credentials"),
            ("client_id", "lh"),
            ("client_secret", "lh-secret"),
        ])
        .await;
    let r = env
        .post_with(
            j["access_token"].as_str().unwrap(),
            PROFILE,
            update_doc(&login_for(1)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let m = parse_response_messages(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(m[0].code.as_deref(), Some("E001"));
}

#[tokio::test]
async fn create_adds_a_traveler_to_the_feed() {
    let env = Env::new(5).await;
    let doc = r#"<ProfileResponse Action="Create" LoginId="new.person@acme.example">
        <General><FirstName>Zoë</FirstName><LastName>Ångström</LastName><TravelConfigID>100</TravelConfigID></General>
        <Password>secret</Password></ProfileResponse>"#;
    let r = env.post(PROFILE, doc.into()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let p = parse_profile(
        &env.profile("new.person@acme.example")
            .await
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(p.general.unwrap().first_name.as_deref(), Some("Zoë"));
    assert_eq!(env.sandbox.admin().summaries().len(), 6);
    let r = env.post(PROFILE, doc.into()).await;
    let m = parse_response_messages(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(m[0].code.as_deref(), Some("E001"), "login exists");
    let r = env.post(PROFILE, r#"<ProfileResponse Action="Create" LoginId="x@y.example"><General><FirstName>A</FirstName></General></ProfileResponse>"#.into()).await;
    let m = parse_response_messages(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (m[0].code.as_deref(), m[0].field.as_deref()),
        (Some("E002"), Some("General/LastName"))
    );
}
