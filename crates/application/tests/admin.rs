//! The platform administration on fakes: the admin key, tenants, users of any tenant, the SMS
//! log, the audit log, feature flags, the compliance audit and the database status — and the
//! audit entry every call leaves.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use chrono::TimeDelta;
use domain::{
    catalog::CatalogPlantId,
    gardens::GardenId,
    identity::{Email, FullName, Role, Tenant, TenantId, TenantSlug, User, UserId},
    phone::PhoneNumber,
    secret::Secret,
    sms::{SmsBody, SmsLogId, SmsPurpose, SmsStatus},
};
use plant_texts_application::{
    admin::{
        AdminActor, AdminRefused, Administration, CreateTenantError, NewTenant, UpdateUserError,
        UserChanges,
        ports::{AuditEntry, SmsLogFilter},
    },
    failure::Failure,
    flags::{FeatureFlags, Flag, FlagValues},
    gardens::{ComplianceDecision, ComplianceEntry, ports::ComplianceAudit},
    identity::{
        AuthenticateError, Credentials, LoginError, RefreshError, Registration,
        ports::RefreshTokenRecord,
    },
    ops::{DatabaseStatus, PoolUsage, SchemaState, TableRows},
    paging::PageRequest,
    plants::Owner,
    store::StoreError,
    system::{Clock, IdGenerator},
    testing::{
        ADMIN_KEY, Fakes, Outage,
        admin::FakeKeyring,
        flags::{InMemoryFlagStore, StoredFlag},
        identity::FakeHasher,
        sms::SmsLogRecord,
        system::{START, SequentialIds},
    },
};
use serde_json::json;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery staple";

/// The administrator the fakes' key stands for.
async fn actor(admin: &Administration) -> AdminActor {
    admin.authorize(Some(ADMIN_KEY), "test").await.unwrap()
}

fn fingerprint() -> String {
    FakeKeyring::fingerprint_of(ADMIN_KEY)
}

/// Seeds a tenant, with the next id.
fn tenant(fakes: &Fakes, slug: &str) -> Tenant {
    let tenant = Tenant {
        id: TenantId::from_uuid(fakes.ids.new_id()),
        slug: TenantSlug::parse(slug).unwrap(),
        name: slug.to_owned(),
        signup_open: true,
        created_at: fakes.clock.now(),
    };
    fakes.identity.tenants().insert(tenant.clone());
    tenant
}

/// Seeds an active member of `tenant` whose password is [`PASSWORD`], with the next id.
fn member(fakes: &Fakes, tenant: &Tenant, email: &str) -> User {
    let user = User {
        id: UserId::from_uuid(fakes.ids.new_id()),
        tenant_id: tenant.id,
        email: Email::parse(email).unwrap(),
        full_name: FullName::parse("Ada Lovelace").unwrap(),
        phone: None,
        phone_verified: false,
        password_hash: FakeHasher::hash_of(PASSWORD),
        role: Role::Member,
        is_active: true,
        sms_opt_in: false,
        flagged: false,
        token_version: 0,
        tokens_valid_after: None,
        created_at: fakes.clock.now(),
        updated_at: fakes.clock.now(),
        last_login_at: None,
    };
    fakes.identity.users().insert(user.clone());
    user
}

fn credentials(tenant: &Tenant, user: &User) -> Credentials {
    Credentials {
        tenant: tenant.slug.as_str().to_owned(),
        email: user.email.as_str().to_owned(),
        password: Secret::new(PASSWORD),
    }
}

/// The audit log, oldest first.
fn audit(fakes: &Fakes) -> Vec<AuditEntry> {
    fakes.identity.audit_log().entries()
}

/// The latest audit entry.
fn last_entry(fakes: &Fakes) -> AuditEntry {
    audit(fakes).pop().unwrap()
}

/// What an entry says happened: actor, action, target, outcome.
fn summary(entry: &AuditEntry) -> (&str, &str, Option<&str>, &str) {
    (
        entry.actor.as_str(),
        entry.action.as_str(),
        entry.target.as_deref(),
        entry.outcome.as_str(),
    )
}

/// Fakes whose flag store fails on an outage of its own, so that the audit log (the identity
/// database) keeps working while the flags cannot be stored, or the other way round.
fn fakes_with_their_own_flag_store() -> (Fakes, Outage) {
    let mut fakes = Fakes::new();
    let flag_outage = Outage::default();
    fakes.flag_store = InMemoryFlagStore::new(flag_outage.clone());
    (fakes, flag_outage)
}

/// An SMS log entry `n` (the larger, the newer) to `to`, with a body.
fn sms(n: u128, owner: Option<Owner>, to: &str, status: SmsStatus, at_minute: i64) -> SmsLogRecord {
    SmsLogRecord {
        owner,
        status,
        body: Some(SmsBody::parse("Fernando is thirsty").unwrap()),
        ..SmsLogRecord::pending(
            SmsLogId::from_uuid(Uuid::from_u128(n)),
            PhoneNumber::parse(to).unwrap(),
            SmsPurpose::Message,
            START + TimeDelta::minutes(at_minute),
        )
    }
}

fn owner(user: &User) -> Owner {
    Owner {
        tenant_id: user.tenant_id,
        user_id: user.id,
    }
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> Uuid) -> Vec<Uuid> {
    items.iter().map(id).collect()
}

// --- The admin key ------------------------------------------------------------------------

#[tokio::test]
async fn a_configured_key_is_accepted_with_its_fingerprint_and_nothing_is_audited() {
    let fakes = Fakes::new();

    let actor = fakes
        .use_cases()
        .admin
        .authorize(Some(ADMIN_KEY), "tenants.list")
        .await
        .unwrap();

    assert_eq!(actor.fingerprint, fingerprint());
    assert_eq!(
        format!("{:?}", fakes.use_cases().admin),
        "Administration { .. }"
    );
    assert!(
        !actor.fingerprint.contains(ADMIN_KEY),
        "the key is not revealed"
    );
    assert!(audit(&fakes).is_empty(), "the call itself is audited");
}

#[tokio::test]
async fn a_missing_key_is_refused_and_the_refusal_is_audited_as_unknown() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;

    let absent = admin.authorize(None, "tenants.list").await;
    let empty = admin.authorize(Some(""), "tenants.create").await;

    assert!(
        matches!(absent, Err(AdminRefused::InvalidKey)),
        "{absent:?}"
    );
    assert!(matches!(empty, Err(AdminRefused::InvalidKey)), "{empty:?}");
    let entries = audit(&fakes);
    assert_eq!(
        entries.iter().map(summary).collect::<Vec<_>>(),
        [
            ("unknown", "tenants.list", None, "refused"),
            ("unknown", "tenants.create", None, "refused"),
        ]
    );
    assert_eq!(entries[0].created_at, START);
    assert_eq!(
        (entries[0].old.clone(), entries[0].new.clone()),
        (None, None)
    );
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_the_refusal_is_audited() {
    let fakes = Fakes::new();

    let result = fakes
        .use_cases()
        .admin
        .authorize(Some("a guessed key"), "users.update")
        .await;

    assert!(
        matches!(result, Err(AdminRefused::InvalidKey)),
        "{result:?}"
    );
    assert_eq!(
        summary(&last_entry(&fakes)),
        ("unknown", "users.update", None, "refused")
    );
}

#[tokio::test]
async fn without_a_configured_key_the_admin_api_is_disabled() {
    let mut fakes = Fakes::new();
    fakes.keyring = FakeKeyring::default();

    let result = fakes
        .use_cases()
        .admin
        .authorize(Some(ADMIN_KEY), "tenants.list")
        .await;

    assert!(matches!(result, Err(AdminRefused::Disabled)), "{result:?}");
    assert_eq!(
        summary(&last_entry(&fakes)),
        ("unknown", "tenants.list", None, "refused")
    );
}

#[tokio::test]
async fn a_refusal_that_cannot_be_audited_fails_as_a_store_error() {
    let fakes = Fakes::new();
    fakes.outage.begin();
    let admin = fakes.use_cases().admin;

    let refused = admin.authorize(Some("a guessed key"), "tenants.list").await;
    let accepted = admin.authorize(Some(ADMIN_KEY), "tenants.list").await;

    assert!(
        matches!(
            refused,
            Err(AdminRefused::Store(StoreError::Unavailable(_)))
        ),
        "{refused:?}"
    );
    assert!(
        accepted.is_ok(),
        "checking a key needs no store: {accepted:?}"
    );
}

// --- Tenants ------------------------------------------------------------------------------

#[tokio::test]
async fn creating_a_tenant_stores_it_audits_it_and_opens_its_sign_up() {
    let fakes = Fakes::new();
    fakes.clock.advance(TimeDelta::hours(1));
    let use_cases = fakes.use_cases();
    let actor = actor(&use_cases.admin).await;

    let tenant = use_cases
        .admin
        .create_tenant(
            &actor,
            NewTenant {
                slug: TenantSlug::parse("orchard").unwrap(),
                name: "The Orchard".to_owned(),
                signup_open: true,
            },
        )
        .await
        .unwrap();

    assert_eq!(tenant.id.as_uuid(), SequentialIds::nth(1));
    assert_eq!(tenant.slug.as_str(), "orchard");
    assert_eq!(tenant.name, "The Orchard");
    assert!(tenant.signup_open);
    assert_eq!(tenant.created_at, START + TimeDelta::hours(1));
    assert_eq!(
        fakes.identity.tenants().all(),
        std::slice::from_ref(&tenant)
    );
    let entry = last_entry(&fakes);
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "tenants.create",
            Some("tenant:orchard"),
            "success"
        )
    );
    assert_eq!(entry.old, None);
    assert_eq!(
        entry.new,
        Some(json!({"slug": "orchard", "name": "The Orchard", "signup_open": true}))
    );
    assert_eq!(entry.created_at, START + TimeDelta::hours(1));
    let email = Email::parse("ada@example.com").unwrap();
    let signed_up = use_cases
        .identity
        .register(Registration {
            password: domain::identity::Password::parse(PASSWORD, &email, &tenant.slug).unwrap(),
            tenant: tenant.slug.clone(),
            email,
            full_name: FullName::parse("Ada Lovelace").unwrap(),
            phone: None,
        })
        .await;
    assert!(signed_up.is_ok(), "{signed_up:?}");
}

#[tokio::test]
async fn a_tenant_with_a_taken_slug_is_refused_and_audited_as_failed() {
    let fakes = Fakes::new();
    let existing = tenant(&fakes, "orchard");
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let result = admin
        .create_tenant(
            &actor,
            NewTenant {
                slug: TenantSlug::parse("orchard").unwrap(),
                name: "Another Orchard".to_owned(),
                signup_open: false,
            },
        )
        .await;

    assert!(
        matches!(result, Err(CreateTenantError::SlugTaken)),
        "{result:?}"
    );
    assert_eq!(fakes.identity.tenants().all(), [existing]);
    let entry = last_entry(&fakes);
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "tenants.create",
            Some("tenant:orchard"),
            "failed"
        )
    );
    assert_eq!(
        entry.new,
        Some(json!({"slug": "orchard", "name": "Another Orchard", "signup_open": false}))
    );
}

#[tokio::test]
async fn a_tenant_the_store_fails_to_create_is_audited_as_failed_and_reported() {
    let fakes = Fakes::new();
    // A tenant already holds the id the new one is about to be given: a broken constraint.
    fakes.identity.tenants().insert(Tenant {
        id: TenantId::from_uuid(SequentialIds::nth(1)),
        slug: TenantSlug::parse("squatter").unwrap(),
        name: "Squatter".to_owned(),
        signup_open: true,
        created_at: START,
    });
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let result = admin
        .create_tenant(
            &actor,
            NewTenant {
                slug: TenantSlug::parse("orchard").unwrap(),
                name: "The Orchard".to_owned(),
                signup_open: true,
            },
        )
        .await;

    assert!(
        matches!(
            result,
            Err(CreateTenantError::Store(StoreError::Unexpected(_)))
        ),
        "{result:?}"
    );
    assert_eq!(last_entry(&fakes).outcome.as_str(), "failed");
    assert_eq!(fakes.identity.tenants().all().len(), 1);
}

#[tokio::test]
async fn creating_a_tenant_during_an_outage_fails_as_a_store_error() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin
        .create_tenant(
            &actor,
            NewTenant {
                slug: TenantSlug::parse("orchard").unwrap(),
                name: "The Orchard".to_owned(),
                signup_open: true,
            },
        )
        .await;

    assert!(
        matches!(
            result,
            Err(CreateTenantError::Store(StoreError::Unavailable(_)))
        ),
        "{result:?}"
    );
    assert!(fakes.identity.tenants().all().is_empty());
}

#[tokio::test]
async fn tenants_are_listed_oldest_first_a_page_at_a_time_and_each_reading_is_audited() {
    let fakes = Fakes::new();
    let tenants = [
        tenant(&fakes, "greenhouse"),
        tenant(&fakes, "orchard"),
        tenant(&fakes, "allotment"),
    ];
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let first = admin
        .list_tenants(
            &actor,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    let rest = admin
        .list_tenants(
            &actor,
            PageRequest {
                limit: 2,
                after: first.next_after,
            },
        )
        .await
        .unwrap();

    assert_eq!(first.items, tenants[..2]);
    assert_eq!(first.next_after, Some(tenants[1].id.as_uuid()));
    assert_eq!(rest.items, tenants[2..]);
    assert_eq!(rest.next_after, None);
    assert_eq!(
        audit(&fakes).iter().map(summary).collect::<Vec<_>>(),
        [
            (fingerprint().as_str(), "tenants.list", None, "success"),
            (fingerprint().as_str(), "tenants.list", None, "success"),
        ]
    );
}

#[tokio::test]
async fn listing_tenants_during_an_outage_fails() {
    let fakes = Fakes::new();
    tenant(&fakes, "greenhouse");
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin.list_tenants(&actor, PageRequest::default()).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_tenant_is_read_by_id_and_the_reading_is_audited() {
    let fakes = Fakes::new();
    let orchard = tenant(&fakes, "orchard");
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let found = admin.tenant(&actor, orchard.id).await.unwrap();

    assert_eq!(found, Some(orchard.clone()));
    let target = format!("tenant:{}", orchard.id);
    assert_eq!(
        summary(&last_entry(&fakes)),
        (
            fingerprint().as_str(),
            "tenants.get",
            Some(target.as_str()),
            "success"
        )
    );
}

#[tokio::test]
async fn an_unknown_tenant_is_none_and_the_reading_is_audited_as_failed() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    let unknown = TenantId::from_uuid(Uuid::from_u128(9));

    let found = admin.tenant(&actor, unknown).await.unwrap();

    assert_eq!(found, None);
    let target = format!("tenant:{unknown}");
    assert_eq!(
        summary(&last_entry(&fakes)),
        (
            fingerprint().as_str(),
            "tenants.get",
            Some(target.as_str()),
            "failed"
        )
    );
}

#[tokio::test]
async fn reading_a_tenant_during_an_outage_fails() {
    let fakes = Fakes::new();
    let orchard = tenant(&fakes, "orchard");
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin.tenant(&actor, orchard.id).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

// --- Invalid requests ---------------------------------------------------------------------

#[tokio::test]
async fn a_request_refused_for_its_body_is_audited_as_invalid() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    admin
        .record_invalid_request(&actor, "users.update", Some("user:not-a-uuid".to_owned()))
        .await
        .unwrap();

    let entry = last_entry(&fakes);
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "users.update",
            Some("user:not-a-uuid"),
            "invalid"
        )
    );
    assert_eq!((entry.old, entry.new), (None, None));
}

#[tokio::test]
async fn recording_an_invalid_request_during_an_outage_fails() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin
        .record_invalid_request(&actor, "tenants.create", None)
        .await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

// --- Users --------------------------------------------------------------------------------

#[tokio::test]
async fn deactivating_a_user_ends_every_session_at_once_and_is_audited_with_old_and_new() {
    let fakes = Fakes::new();
    let greenhouse = tenant(&fakes, "greenhouse");
    let ada = member(&fakes, &greenhouse, "ada@example.com");
    let use_cases = fakes.use_cases();
    let session = use_cases
        .identity
        .log_in(credentials(&greenhouse, &ada))
        .await
        .unwrap();
    let actor = actor(&use_cases.admin).await;
    fakes.clock.advance(TimeDelta::minutes(5));
    let now = fakes.clock.now();

    let user = use_cases
        .admin
        .update_user(
            &actor,
            ada.id,
            UserChanges {
                is_active: Some(false),
                role: None,
            },
        )
        .await
        .unwrap();

    assert!(!user.is_active);
    assert_eq!(user.role, Role::Member);
    assert_eq!(user.updated_at, now);
    assert_eq!(user.token_version, 1);
    assert_eq!(user.tokens_valid_after, Some(now));
    assert_eq!(fakes.identity.users().get(ada.id), Some(user));
    let tokens: Vec<RefreshTokenRecord> = fakes.identity.refresh_tokens().all();
    assert!(tokens.iter().all(|token| token.revoked_at == Some(now)));
    let authenticated = use_cases
        .identity
        .authenticate(session.access_token.expose())
        .await;
    assert!(
        matches!(authenticated, Err(AuthenticateError::InvalidToken)),
        "{authenticated:?}"
    );
    let refreshed = use_cases.identity.refresh(&session.refresh_token).await;
    assert!(
        matches!(refreshed, Err(RefreshError::InvalidToken)),
        "{refreshed:?}"
    );
    let login = use_cases
        .identity
        .log_in(credentials(&greenhouse, &ada))
        .await;
    assert!(matches!(login, Err(LoginError::Inactive)), "{login:?}");
    let entry = last_entry(&fakes);
    let target = format!("user:{}", ada.id);
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "users.update",
            Some(target.as_str()),
            "success"
        )
    );
    assert_eq!(
        entry.old,
        Some(json!({"is_active": true, "role": "member"}))
    );
    assert_eq!(
        entry.new,
        Some(json!({"is_active": false, "role": "member"}))
    );
    assert_eq!(entry.created_at, now);
}

#[tokio::test]
async fn a_user_of_any_tenant_can_be_made_a_tenant_admin_without_ending_their_sessions() {
    let fakes = Fakes::new();
    tenant(&fakes, "greenhouse");
    let orchard = tenant(&fakes, "orchard");
    let grace = member(&fakes, &orchard, "grace@example.com");
    let use_cases = fakes.use_cases();
    let session = use_cases
        .identity
        .log_in(credentials(&orchard, &grace))
        .await
        .unwrap();
    let actor = actor(&use_cases.admin).await;

    let user = use_cases
        .admin
        .update_user(
            &actor,
            grace.id,
            UserChanges {
                is_active: None,
                role: Some(Role::Admin),
            },
        )
        .await
        .unwrap();

    assert_eq!(user.role, Role::Admin);
    assert!(user.is_active);
    assert_eq!(user.token_version, 0);
    let principal = use_cases
        .identity
        .authenticate(session.access_token.expose())
        .await
        .unwrap();
    assert!(
        principal.is_tenant_admin(),
        "the role is read from the account"
    );
    assert!(
        use_cases
            .identity
            .refresh(&session.refresh_token)
            .await
            .is_ok()
    );
    let entry = last_entry(&fakes);
    assert_eq!(
        entry.old,
        Some(json!({"is_active": true, "role": "member"}))
    );
    assert_eq!(entry.new, Some(json!({"is_active": true, "role": "admin"})));
}

#[tokio::test]
async fn a_reactivated_user_can_log_in_again() {
    let fakes = Fakes::new();
    let greenhouse = tenant(&fakes, "greenhouse");
    let ada = member(&fakes, &greenhouse, "ada@example.com");
    let use_cases = fakes.use_cases();
    let actor = actor(&use_cases.admin).await;
    let deactivate = UserChanges {
        is_active: Some(false),
        role: None,
    };
    use_cases
        .admin
        .update_user(&actor, ada.id, deactivate)
        .await
        .unwrap();

    let user = use_cases
        .admin
        .update_user(
            &actor,
            ada.id,
            UserChanges {
                is_active: Some(true),
                role: None,
            },
        )
        .await
        .unwrap();

    assert!(user.is_active);
    assert_eq!(user.token_version, 1, "reactivation revokes nothing more");
    let login = use_cases
        .identity
        .log_in(credentials(&greenhouse, &ada))
        .await;
    assert!(login.is_ok(), "{login:?}");
}

#[tokio::test]
async fn changing_an_unknown_user_is_not_found_and_audited_as_failed() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    let unknown = UserId::from_uuid(Uuid::from_u128(9));

    let result = admin
        .update_user(
            &actor,
            unknown,
            UserChanges {
                is_active: Some(false),
                role: None,
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateUserError::NotFound)),
        "{result:?}"
    );
    let entry = last_entry(&fakes);
    let target = format!("user:{unknown}");
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "users.update",
            Some(target.as_str()),
            "failed"
        )
    );
    assert_eq!((entry.old, entry.new), (None, None));
    assert_eq!(fakes.identity.commits(), 0);
}

#[tokio::test]
async fn changing_a_user_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let greenhouse = tenant(&fakes, "greenhouse");
    let ada = member(&fakes, &greenhouse, "ada@example.com");
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin
        .update_user(
            &actor,
            ada.id,
            UserChanges {
                is_active: Some(false),
                role: None,
            },
        )
        .await;

    assert!(
        matches!(
            result,
            Err(UpdateUserError::Failed(Failure::Unavailable(_)))
        ),
        "{result:?}"
    );
    assert_eq!(fakes.identity.users().get(ada.id), Some(ada));
}

#[tokio::test]
async fn a_deactivation_whose_transaction_fails_to_commit_changes_nothing_and_audits_nothing() {
    let fakes = Fakes::new();
    let greenhouse = tenant(&fakes, "greenhouse");
    let ada = member(&fakes, &greenhouse, "ada@example.com");
    let use_cases = fakes.use_cases();
    let session = use_cases
        .identity
        .log_in(credentials(&greenhouse, &ada))
        .await
        .unwrap();
    let actor = actor(&use_cases.admin).await;
    let before = fakes.identity.users().get(ada.id);
    fakes.identity.fail_commits(true);

    let result = use_cases
        .admin
        .update_user(
            &actor,
            ada.id,
            UserChanges {
                is_active: Some(false),
                role: Some(Role::Admin),
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateUserError::Failed(Failure::Unexpected(_)))),
        "{result:?}"
    );
    assert_eq!(fakes.identity.users().get(ada.id), before);
    assert!(audit(&fakes).is_empty());
    fakes.identity.fail_commits(false);
    assert!(
        use_cases
            .identity
            .refresh(&session.refresh_token)
            .await
            .is_ok()
    );
}

// --- The SMS log --------------------------------------------------------------------------

#[tokio::test]
async fn the_sms_log_is_listed_newest_first_filtered_with_masked_numbers_and_audited() {
    let fakes = Fakes::new();
    let greenhouse = tenant(&fakes, "greenhouse");
    let ada = member(&fakes, &greenhouse, "ada@example.com");
    let grace = member(&fakes, &greenhouse, "grace@example.com");
    fakes.sms_log.insert(sms(
        1,
        Some(owner(&ada)),
        "+14155552671",
        SmsStatus::Delivered,
        0,
    ));
    fakes.sms_log.insert(sms(
        2,
        Some(owner(&grace)),
        "+442071838750",
        SmsStatus::Failed,
        10,
    ));
    fakes.sms_log.insert(sms(
        3,
        Some(owner(&ada)),
        "+14155552671",
        SmsStatus::Sent,
        20,
    ));
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    let list = |filter: SmsLogFilter, page: PageRequest| {
        let admin = admin.clone();
        let actor = actor.clone();
        async move { admin.sms_log(&actor, &filter, page).await.unwrap() }
    };

    let everything = list(SmsLogFilter::default(), PageRequest::default()).await;
    let failed = list(
        SmsLogFilter {
            status: Some(SmsStatus::Failed),
            ..SmsLogFilter::default()
        },
        PageRequest::default(),
    )
    .await;
    let adas = list(
        SmsLogFilter {
            user_id: Some(ada.id),
            ..SmsLogFilter::default()
        },
        PageRequest::default(),
    )
    .await;
    let recent = list(
        SmsLogFilter {
            since: Some(START + TimeDelta::minutes(10)),
            ..SmsLogFilter::default()
        },
        PageRequest::default(),
    )
    .await;
    let first_page = list(
        SmsLogFilter::default(),
        PageRequest {
            limit: 2,
            after: None,
        },
    )
    .await;

    let n = Uuid::from_u128;
    assert_eq!(ids(&everything.items, |entry| entry.id), [n(3), n(2), n(1)]);
    assert_eq!(everything.items[0].to_masked, "+1415***2671");
    assert_eq!(everything.items[1].to_masked, "+4420***8750");
    assert_eq!(everything.items[0].user_id, Some(ada.id));
    assert_eq!(
        everything.items[0].body.as_deref(),
        Some("Fernando is thirsty")
    );
    assert_eq!(ids(&failed.items, |entry| entry.id), [n(2)]);
    assert_eq!(ids(&adas.items, |entry| entry.id), [n(3), n(1)]);
    assert_eq!(ids(&recent.items, |entry| entry.id), [n(3), n(2)]);
    assert_eq!(ids(&first_page.items, |entry| entry.id), [n(3), n(2)]);
    assert_eq!(first_page.next_after, Some(n(2)));
    let reads: Vec<_> = audit(&fakes)
        .iter()
        .map(|entry| (entry.action.clone(), entry.outcome.as_str().to_owned()))
        .collect();
    assert_eq!(
        reads,
        vec![("sms_log.list".to_owned(), "success".to_owned()); 5]
    );
}

#[tokio::test]
async fn reading_the_sms_log_during_an_outage_fails() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin
        .sms_log(&actor, &SmsLogFilter::default(), PageRequest::default())
        .await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

// --- The audit log ------------------------------------------------------------------------

#[tokio::test]
async fn the_audit_log_is_listed_newest_first_and_reading_it_is_audited_too() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    admin.authorize(None, "tenants.list").await.unwrap_err();
    admin
        .record_invalid_request(&actor, "tenants.create", None)
        .await
        .unwrap();
    admin
        .list_tenants(&actor, PageRequest::default())
        .await
        .unwrap();

    let first = admin
        .audit_log(
            &actor,
            PageRequest {
                limit: 2,
                after: None,
            },
        )
        .await
        .unwrap();
    let rest = admin
        .audit_log(
            &actor,
            PageRequest {
                limit: 2,
                after: first.next_after,
            },
        )
        .await
        .unwrap();

    let actions = |entries: &[AuditEntry]| -> Vec<String> {
        entries.iter().map(|entry| entry.action.clone()).collect()
    };
    assert_eq!(actions(&first.items), ["tenants.list", "tenants.create"]);
    assert_eq!(
        actions(&rest.items),
        ["tenants.list"],
        "keyset paging: the reading audited meanwhile is newer, not on a later page"
    );
    assert_eq!(rest.items[0].outcome.as_str(), "refused");
    assert_eq!(rest.next_after, None);
    assert_eq!(
        summary(&last_entry(&fakes)),
        (fingerprint().as_str(), "audit_log.list", None, "success")
    );
    let readings = audit(&fakes)
        .iter()
        .filter(|entry| entry.action == "audit_log.list")
        .count();
    assert_eq!(readings, 2, "each reading is audited");
}

#[tokio::test]
async fn reading_the_audit_log_during_an_outage_fails() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin.audit_log(&actor, PageRequest::default()).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

// --- Feature flags ------------------------------------------------------------------------

#[tokio::test]
async fn the_feature_flags_are_this_instances_values_and_reading_them_is_audited() {
    let fakes = Fakes::new();
    fakes.flags.set(Flag::AiChat, false);
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let values = admin.feature_flags(&actor).await.unwrap();

    assert_eq!(
        values,
        FlagValues::from([
            (Flag::RuleEngine, true),
            (Flag::ComplianceEnforcement, true),
            (Flag::AiChat, false),
            (Flag::SmsReminders, true),
        ])
    );
    assert_eq!(
        summary(&last_entry(&fakes)),
        (
            fingerprint().as_str(),
            "feature_flags.list",
            None,
            "success"
        )
    );
}

#[tokio::test]
async fn reading_the_feature_flags_fails_when_the_reading_cannot_be_audited() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin.feature_flags(&actor).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn changing_flags_stores_and_applies_them_at_once_and_audits_old_and_new() {
    let fakes = Fakes::new();
    fakes.flag_store.insert(Flag::AiChat, true, START);
    fakes.clock.advance(TimeDelta::minutes(1));
    let now = fakes.clock.now();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let after = admin
        .change_feature_flags(
            &actor,
            &FlagValues::from([(Flag::AiChat, false), (Flag::RuleEngine, false)]),
        )
        .await
        .unwrap();

    assert_eq!(
        after,
        FlagValues::from([
            (Flag::RuleEngine, false),
            (Flag::ComplianceEnforcement, true),
            (Flag::AiChat, false),
            (Flag::SmsReminders, true),
        ])
    );
    assert!(
        !fakes.flags.is_enabled(Flag::AiChat),
        "applied here at once"
    );
    assert!(!fakes.flags.is_enabled(Flag::RuleEngine));
    assert_eq!(
        fakes.flag_store.rows()[&Flag::AiChat],
        StoredFlag {
            enabled: false,
            updated_at: now
        }
    );
    let entry = last_entry(&fakes);
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "feature_flags.update",
            Some("feature_flags"),
            "success"
        )
    );
    assert_eq!(
        entry.old,
        Some(json!({"ai_chat": true})),
        "a flag never stored has no old value"
    );
    assert_eq!(
        entry.new,
        Some(json!({"ai_chat": false, "rule_engine": false}))
    );
}

#[tokio::test]
async fn an_empty_flag_change_changes_nothing_and_is_audited() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let after = admin
        .change_feature_flags(&actor, &FlagValues::new())
        .await
        .unwrap();

    assert_eq!(after, fakes.flags.values());
    assert!(fakes.flag_store.rows().is_empty(), "nothing was stored");
    let entry = last_entry(&fakes);
    assert_eq!(entry.outcome.as_str(), "success");
    assert_eq!((entry.old, entry.new), (Some(json!({})), Some(json!({}))));
}

#[tokio::test]
async fn a_flag_change_the_store_refuses_changes_nothing_and_is_audited_as_failed() {
    let (fakes, flag_outage) = fakes_with_their_own_flag_store();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    flag_outage.begin();

    let result = admin
        .change_feature_flags(&actor, &FlagValues::from([(Flag::SmsReminders, false)]))
        .await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(fakes.flags.is_enabled(Flag::SmsReminders));
    assert!(fakes.flag_store.rows().is_empty());
    let entry = last_entry(&fakes);
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "feature_flags.update",
            Some("feature_flags"),
            "failed"
        )
    );
    assert_eq!(entry.old, None);
    assert_eq!(entry.new, Some(json!({"sms_reminders": false})));
}

#[tokio::test]
async fn a_flag_change_reported_as_failed_has_changed_nothing() {
    let (fakes, _flag_outage) = fakes_with_their_own_flag_store();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin(); // the audit log is down, the flag store is up

    let result = admin
        .change_feature_flags(&actor, &FlagValues::from([(Flag::AiChat, false)]))
        .await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(
        fakes.flags.is_enabled(Flag::AiChat),
        "applied without audit"
    );
    assert!(
        fakes
            .flag_store
            .rows()
            .iter()
            .all(|(_, stored)| stored.enabled),
        "stored for every instance without audit: {:?}",
        fakes.flag_store.rows()
    );
}

#[tokio::test]
async fn changing_flags_during_an_outage_fails_and_changes_nothing() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin
        .change_feature_flags(&actor, &FlagValues::from([(Flag::AiChat, false)]))
        .await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(fakes.flags.is_enabled(Flag::AiChat));
}

#[tokio::test]
async fn reloading_applies_the_stored_flags_and_audits_the_values_before_and_after() {
    let fakes = Fakes::new();
    // Another instance switched reminders off.
    fakes.flag_store.insert(Flag::SmsReminders, false, START);
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let after = admin.reload_feature_flags(&actor).await.unwrap();

    assert!(!after[&Flag::SmsReminders]);
    assert!(after[&Flag::AiChat], "a flag not stored is kept");
    assert!(!fakes.flags.is_enabled(Flag::SmsReminders));
    let entry = last_entry(&fakes);
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "feature_flags.reload",
            Some("feature_flags"),
            "success"
        )
    );
    let all_on = json!({
        "rule_engine": true,
        "compliance_enforcement": true,
        "ai_chat": true,
        "sms_reminders": true,
    });
    assert_eq!(entry.old, Some(all_on));
    assert_eq!(
        entry.new,
        Some(json!({
            "rule_engine": true,
            "compliance_enforcement": true,
            "ai_chat": true,
            "sms_reminders": false,
        }))
    );
}

#[tokio::test]
async fn a_reload_the_store_refuses_keeps_the_values_in_memory_and_is_audited_as_failed() {
    let (fakes, flag_outage) = fakes_with_their_own_flag_store();
    fakes.flag_store.insert(Flag::SmsReminders, false, START);
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    flag_outage.begin();

    let result = admin.reload_feature_flags(&actor).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(fakes.flags.is_enabled(Flag::SmsReminders), "kept");
    let entry = last_entry(&fakes);
    assert_eq!(
        summary(&entry),
        (
            fingerprint().as_str(),
            "feature_flags.reload",
            Some("feature_flags"),
            "failed"
        )
    );
    assert!(entry.old.is_some());
    assert_eq!(entry.new, None);
}

#[tokio::test]
async fn reloading_flags_during_an_outage_fails() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin.reload_feature_flags(&actor).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

// --- The compliance audit -----------------------------------------------------------------

#[tokio::test]
async fn the_compliance_audit_of_every_tenant_is_listed_newest_first_and_the_reading_is_audited() {
    let fakes = Fakes::new();
    let greenhouse = tenant(&fakes, "greenhouse");
    let orchard = tenant(&fakes, "orchard");
    let ada = member(&fakes, &greenhouse, "ada@example.com");
    let grace = member(&fakes, &orchard, "grace@example.com");
    let entry = |n: u128, user: &User| ComplianceEntry {
        id: Uuid::from_u128(n),
        tenant_id: user.tenant_id,
        user_id: user.id,
        garden_id: GardenId::from_uuid(Uuid::from_u128(100 + n)),
        catalog_plant_id: CatalogPlantId::from_uuid(Uuid::from_u128(200)),
        planting_id: None,
        decision: ComplianceDecision::Blocked,
        reason: "invasive".to_owned(),
        created_at: START,
    };
    fakes
        .compliance
        .record(&entry(1, &ada), None)
        .await
        .unwrap();
    fakes
        .compliance
        .record(&entry(2, &grace), None)
        .await
        .unwrap();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let page = admin
        .compliance_audit(&actor, PageRequest::default())
        .await
        .unwrap();

    assert_eq!(page.items, [entry(2, &grace), entry(1, &ada)]);
    assert_eq!(page.next_after, None);
    assert_eq!(
        summary(&last_entry(&fakes)),
        (
            fingerprint().as_str(),
            "compliance_audit.list",
            None,
            "success"
        )
    );
}

#[tokio::test]
async fn reading_the_compliance_audit_during_an_outage_fails() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin.compliance_audit(&actor, PageRequest::default()).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

// --- The database -------------------------------------------------------------------------

#[tokio::test]
async fn the_database_status_is_read_and_the_reading_is_audited() {
    let fakes = Fakes::new();
    let status = DatabaseStatus {
        backend: "postgres",
        schema: SchemaState {
            applied: vec!["m0001_initial".to_owned()],
            pending: vec!["m0002_gardens".to_owned()],
            unknown: Vec::new(),
        },
        pools: vec![PoolUsage {
            pool: "primary",
            max: 20,
            idle: 15,
            in_use: 5,
        }],
        tables: vec![TableRows {
            table: "users".to_owned(),
            rows: 3,
        }],
        row_counts_estimated: true,
        replica_lag_seconds: Some(0.5),
    };
    fakes.database.set_status(status.clone());
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;

    let read = admin.database_status(&actor).await.unwrap();

    assert_eq!(read, status);
    assert_eq!(
        summary(&last_entry(&fakes)),
        (
            fingerprint().as_str(),
            "database_status.read",
            None,
            "success"
        )
    );
}

#[tokio::test]
async fn reading_the_database_status_during_an_outage_fails_and_is_not_audited() {
    let fakes = Fakes::new();
    let admin = fakes.use_cases().admin;
    let actor = actor(&admin).await;
    fakes.outage.begin();

    let result = admin.database_status(&actor).await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert!(audit(&fakes).is_empty());
}
