//! The identity use cases on fakes: sign-up, login, sessions and their refresh tokens,
//! authentication of access tokens, the caller's own profile, and the GDPR export and erasure.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::sync::{Arc, Mutex};

use chrono::TimeDelta;
use domain::{
    identity::{
        Email, FullName, Password, PasswordHash, PasswordRejected, Role, Tenant, TenantId,
        TenantSlug, User, UserId,
    },
    phone::PhoneNumber,
    secret::Secret,
};
use plant_texts_application::{
    admin::ports::{AuditEntry, AuditOutcome},
    failure::Failure,
    identity::{
        AuthenticateError, Credentials, EraseError, LoginError, Principal, ProfileChanges,
        ProfileError, RefreshError, RegisterError, Registration, Session, UpdateProfileError,
        ports::{AccessClaims, ExportTable, RefreshTokenRecord, TokenService, UserRepository},
    },
    store::StoreError,
    system::{Clock, IdGenerator},
    testing::{
        Fakes,
        identity::{FakeHasher, FakeTokens, IdentityCall},
        system::{START, SequentialIds},
    },
};
use serde_json::json;
use uuid::Uuid;

const TENANT: &str = "greenhouse";
const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "purple elephants dance at noon";

/// A registered account: its tenant and its user as registered.
struct Account {
    tenant: Tenant,
    user: User,
}

impl Account {
    fn principal(&self) -> Principal {
        Principal {
            user_id: self.user.id,
            tenant_id: self.user.tenant_id,
            role: self.user.role,
        }
    }

    fn credentials(&self, password: &str) -> Credentials {
        credentials(
            self.tenant.slug.as_str(),
            self.user.email.as_str(),
            password,
        )
    }
}

/// Seeds a tenant, with the next id.
fn tenant(fakes: &Fakes, slug: &str, signup_open: bool) -> Tenant {
    let tenant = Tenant {
        id: TenantId::from_uuid(fakes.ids.new_id()),
        slug: TenantSlug::parse(slug).unwrap(),
        name: slug.to_owned(),
        signup_open,
        created_at: fakes.clock.now(),
    };
    fakes.identity.tenants().insert(tenant.clone());
    tenant
}

/// A sign-up of `email` to `tenant` with [`PASSWORD`] and no phone.
fn registration(tenant: &str, email: &str) -> Registration {
    let email = Email::parse(email).unwrap();
    let slug = TenantSlug::parse(tenant).unwrap();
    Registration {
        password: Password::parse(PASSWORD, &email, &slug).unwrap(),
        tenant: slug,
        email,
        full_name: FullName::parse("Ada Lovelace").unwrap(),
        phone: None,
    }
}

/// `email` registered to `tenant` through the use case.
async fn registered(fakes: &Fakes, tenant: &Tenant, email: &str) -> User {
    fakes
        .use_cases()
        .identity
        .register(registration(tenant.slug.as_str(), email))
        .await
        .unwrap()
}

/// Ada, registered to the open tenant `greenhouse`.
async fn member(fakes: &Fakes) -> Account {
    let tenant = tenant(fakes, TENANT, true);
    let user = registered(fakes, &tenant, EMAIL).await;
    Account { tenant, user }
}

/// A session of `account`, logged in with [`PASSWORD`].
async fn logged_in(fakes: &Fakes, account: &Account) -> Session {
    fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await
        .unwrap()
}

fn credentials(tenant: &str, email: &str, password: &str) -> Credentials {
    Credentials {
        tenant: tenant.to_owned(),
        email: email.to_owned(),
        password: Secret::new(password),
    }
}

fn phone(number: &str) -> PhoneNumber {
    PhoneNumber::parse(number).unwrap()
}

/// The user as stored now.
fn stored(fakes: &Fakes, id: UserId) -> User {
    fakes.identity.users().get(id).unwrap()
}

/// Changes the stored user behind the use cases' back.
fn change_user(fakes: &Fakes, id: UserId, change: impl FnOnce(&mut User)) {
    let mut user = stored(fakes, id);
    change(&mut user);
    fakes.identity.users().insert(user);
}

/// The stored record of a refresh token.
fn record_of(fakes: &Fakes, token: &Secret) -> RefreshTokenRecord {
    let hash = format!("hashed:{}", token.expose());
    fakes
        .identity
        .refresh_tokens()
        .all()
        .into_iter()
        .find(|record| record.token_hash == hash)
        .unwrap()
}

/// Fakes whose refresh tokens live `ttl` (sessions still end 30 days after their login).
fn fakes_with_refresh_ttl(ttl: TimeDelta) -> Fakes {
    let mut fakes = Fakes::new();
    fakes.tokens = fakes.tokens.clone().with_refresh_ttl(ttl.to_std().unwrap());
    fakes
}

// --- Sign-up ------------------------------------------------------------------------------

#[tokio::test]
async fn a_sign_up_creates_an_active_member_with_a_hashed_password() {
    let fakes = Fakes::new();
    let greenhouse = tenant(&fakes, TENANT, true);
    fakes.clock.advance(TimeDelta::hours(1));

    let user = fakes
        .use_cases()
        .identity
        .register(registration(TENANT, "Ada@Example.com"))
        .await
        .unwrap();

    assert_eq!(user.id.as_uuid(), SequentialIds::nth(2));
    assert_eq!(user.tenant_id, greenhouse.id);
    assert_eq!(user.email.as_str(), EMAIL);
    assert_eq!(user.full_name.as_str(), "Ada Lovelace");
    assert_eq!(user.role, Role::Member);
    assert!(user.is_active);
    assert!(!user.sms_opt_in && !user.flagged && !user.phone_verified);
    assert_eq!(user.token_version, 0);
    assert_eq!(user.tokens_valid_after, None);
    assert_eq!(user.created_at, START + TimeDelta::hours(1));
    assert_eq!(user.updated_at, user.created_at);
    assert_eq!(user.last_login_at, None);
    assert_ne!(user.password_hash.as_str(), PASSWORD);
    assert_eq!(fakes.hasher.hashes(), 1);
    assert_eq!(stored(&fakes, user.id), user);
}

#[tokio::test]
async fn a_phone_given_at_sign_up_is_kept_unverified() {
    let fakes = Fakes::new();
    tenant(&fakes, TENANT, true);
    let mut sign_up = registration(TENANT, EMAIL);
    sign_up.phone = Some(phone("+14155552671"));

    let user = fakes.use_cases().identity.register(sign_up).await.unwrap();

    assert_eq!(user.phone, Some(phone("+14155552671")));
    assert!(!user.phone_verified);
}

#[tokio::test]
async fn a_sign_up_to_an_unknown_tenant_is_refused() {
    let fakes = Fakes::new();
    tenant(&fakes, TENANT, true);

    let result = fakes
        .use_cases()
        .identity
        .register(registration("elsewhere", EMAIL))
        .await;

    assert!(
        matches!(result, Err(RegisterError::UnknownTenant)),
        "{result:?}"
    );
    assert!(fakes.identity.users().all().is_empty());
    assert_eq!(
        fakes.hasher.hashes(),
        0,
        "no password is hashed for nothing"
    );
}

#[tokio::test]
async fn a_sign_up_to_a_closed_tenant_is_refused() {
    let fakes = Fakes::new();
    tenant(&fakes, TENANT, false);

    let result = fakes
        .use_cases()
        .identity
        .register(registration(TENANT, EMAIL))
        .await;

    assert!(
        matches!(result, Err(RegisterError::SignupClosed)),
        "{result:?}"
    );
    assert!(fakes.identity.users().all().is_empty());
    assert_eq!(fakes.hasher.hashes(), 0);
}

#[tokio::test]
async fn an_email_registered_in_the_tenant_is_refused_whatever_its_case() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;

    let result = fakes
        .use_cases()
        .identity
        .register(registration(TENANT, "ADA@example.COM"))
        .await;

    assert!(
        matches!(result, Err(RegisterError::EmailTaken)),
        "{result:?}"
    );
    assert_eq!(fakes.identity.users().all(), [account.user]);
}

#[tokio::test]
async fn the_same_email_may_register_in_another_tenant() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let other = tenant(&fakes, "orchard", true);

    let again = registered(&fakes, &other, EMAIL).await;

    assert_eq!(again.tenant_id, other.id);
    assert_ne!(again.id, account.user.id);
    assert_eq!(fakes.identity.users().all().len(), 2);
}

#[tokio::test]
async fn a_phone_number_of_another_account_is_refused_in_any_tenant() {
    let fakes = Fakes::new();
    let greenhouse = tenant(&fakes, TENANT, true);
    let orchard = tenant(&fakes, "orchard", true);
    let mut first = registration(greenhouse.slug.as_str(), EMAIL);
    first.phone = Some(phone("+14155552671"));
    fakes.use_cases().identity.register(first).await.unwrap();
    let mut second = registration(orchard.slug.as_str(), "grace@example.com");
    second.phone = Some(phone("+14155552671"));

    let result = fakes.use_cases().identity.register(second).await;

    assert!(
        matches!(result, Err(RegisterError::PhoneTaken)),
        "{result:?}"
    );
    assert_eq!(fakes.identity.users().all().len(), 1);
}

#[tokio::test]
async fn a_sign_up_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    tenant(&fakes, TENANT, true);
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .register(registration(TENANT, EMAIL))
        .await;

    assert!(
        matches!(result, Err(RegisterError::Failed(Failure::Unavailable(_)))),
        "{result:?}"
    );
    assert!(fakes.identity.users().all().is_empty());
}

#[tokio::test]
async fn a_sign_up_while_hashing_is_at_capacity_fails_as_busy() {
    let fakes = Fakes::new();
    tenant(&fakes, TENANT, true);
    fakes.hasher.set_busy(true);

    let result = fakes
        .use_cases()
        .identity
        .register(registration(TENANT, EMAIL))
        .await;

    assert!(
        matches!(result, Err(RegisterError::Failed(Failure::HashingBusy))),
        "{result:?}"
    );
    assert!(fakes.identity.users().all().is_empty());
}

#[tokio::test]
async fn a_sign_up_the_store_fails_unexpectedly_is_reported_as_unexpected() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    // A row already holds the id the sign-up is about to be given: a broken constraint.
    let next_id = UserId::from_uuid(SequentialIds::nth(fakes.ids.issued() + 1));
    fakes.identity.users().insert(User {
        id: next_id,
        email: Email::parse("squatter@example.com").unwrap(),
        ..account.user
    });

    let result = fakes
        .use_cases()
        .identity
        .register(registration(TENANT, "grace@example.com"))
        .await;

    assert!(
        matches!(result, Err(RegisterError::Failed(Failure::Unexpected(_)))),
        "{result:?}"
    );
}

// --- Login --------------------------------------------------------------------------------

#[tokio::test]
async fn logging_in_starts_a_session_and_records_the_login() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.clock.advance(TimeDelta::hours(2));
    let now = fakes.clock.now();
    let identity = fakes.use_cases().identity;

    let session = identity
        .log_in(account.credentials(PASSWORD))
        .await
        .unwrap();

    assert_eq!(session.expires_in_secs, 900);
    assert_eq!(stored(&fakes, account.user.id).last_login_at, Some(now));
    let record = record_of(&fakes, &session.refresh_token);
    assert_ne!(
        record.token_hash,
        session.refresh_token.expose(),
        "stored hashed"
    );
    assert_eq!(record.user_id, account.user.id);
    assert_eq!(record.tenant_id, account.tenant.id);
    assert_eq!(record.created_at, now);
    assert_eq!(record.expires_at, now + TimeDelta::days(30));
    assert_eq!(record.revoked_at, None);
    assert_eq!(fakes.identity.refresh_tokens().all().len(), 1);
    let principal = identity
        .authenticate(session.access_token.expose())
        .await
        .unwrap();
    assert_eq!(principal, account.principal());
}

#[tokio::test]
async fn the_login_email_is_matched_whatever_its_case() {
    let fakes = Fakes::new();
    member(&fakes).await;

    let session = fakes
        .use_cases()
        .identity
        .log_in(credentials(TENANT, " ADA@Example.com ", PASSWORD))
        .await;

    assert!(session.is_ok(), "{session:?}");
}

#[tokio::test]
async fn login_with_a_wrong_password_is_refused() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials("not the right password"))
        .await;

    assert!(
        matches!(result, Err(LoginError::InvalidCredentials)),
        "{result:?}"
    );
    assert!(fakes.identity.refresh_tokens().all().is_empty());
    assert_eq!(stored(&fakes, account.user.id).last_login_at, None);
    assert_eq!(fakes.hasher.verifications(), 1);
    assert_eq!(fakes.hasher.dummy_verifications(), 0);
}

#[tokio::test]
async fn login_to_an_unknown_email_is_refused_like_a_wrong_password_after_a_dummy_check() {
    let fakes = Fakes::new();
    member(&fakes).await;

    let result = fakes
        .use_cases()
        .identity
        .log_in(credentials(TENANT, "nobody@example.com", PASSWORD))
        .await;

    assert!(
        matches!(result, Err(LoginError::InvalidCredentials)),
        "{result:?}"
    );
    assert_eq!(
        fakes.hasher.dummy_verifications(),
        1,
        "it costs a verification"
    );
    assert!(fakes.identity.refresh_tokens().all().is_empty());
}

#[tokio::test]
async fn login_to_an_unknown_tenant_is_refused_like_a_wrong_password() {
    let fakes = Fakes::new();
    member(&fakes).await;

    let result = fakes
        .use_cases()
        .identity
        .log_in(credentials("orchard", EMAIL, PASSWORD))
        .await;

    assert!(
        matches!(result, Err(LoginError::InvalidCredentials)),
        "{result:?}"
    );
    assert_eq!(fakes.hasher.dummy_verifications(), 1);
}

#[tokio::test]
async fn login_with_a_malformed_tenant_or_email_is_refused_like_a_wrong_password() {
    let fakes = Fakes::new();
    member(&fakes).await;
    let identity = fakes.use_cases().identity;

    let bad_tenant = identity
        .log_in(credentials("Not A Slug!", EMAIL, PASSWORD))
        .await;
    let bad_email = identity
        .log_in(credentials(TENANT, "not-an-email", PASSWORD))
        .await;

    assert!(
        matches!(bad_tenant, Err(LoginError::InvalidCredentials)),
        "{bad_tenant:?}"
    );
    assert!(
        matches!(bad_email, Err(LoginError::InvalidCredentials)),
        "{bad_email:?}"
    );
    assert_eq!(fakes.hasher.dummy_verifications(), 2);
}

#[tokio::test]
async fn login_to_a_deactivated_account_with_the_right_password_is_refused_as_inactive() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| user.is_active = false);

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await;

    assert!(matches!(result, Err(LoginError::Inactive)), "{result:?}");
    assert!(fakes.identity.refresh_tokens().all().is_empty());
}

#[tokio::test]
async fn login_to_a_deactivated_account_with_a_wrong_password_does_not_reveal_the_deactivation() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| user.is_active = false);

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials("not the right password"))
        .await;

    assert!(
        matches!(result, Err(LoginError::InvalidCredentials)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_password_hashed_with_older_parameters_is_rehashed_at_login() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| {
        user.password_hash = FakeHasher::outdated_hash_of(PASSWORD);
    });
    let hashes_before = fakes.hasher.hashes();
    let identity = fakes.use_cases().identity;

    identity
        .log_in(account.credentials(PASSWORD))
        .await
        .unwrap();

    let rehashed = stored(&fakes, account.user.id).password_hash;
    assert_ne!(rehashed, FakeHasher::outdated_hash_of(PASSWORD));
    assert_eq!(fakes.hasher.hashes(), hashes_before + 1);
    identity
        .log_in(account.credentials(PASSWORD))
        .await
        .unwrap();
    assert_eq!(
        fakes.hasher.hashes(),
        hashes_before + 1,
        "a current hash is not made again"
    );
    assert_eq!(stored(&fakes, account.user.id).password_hash, rehashed);
}

#[tokio::test]
async fn an_account_deactivated_while_its_password_was_checked_gets_no_session() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let users = fakes.identity.users();
    let mut deactivated = account.user.clone();
    deactivated.is_active = false;
    fakes
        .hasher
        .during_next_verify(move || users.insert(deactivated));

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await;

    assert!(matches!(result, Err(LoginError::Revoked)), "{result:?}");
    assert!(fakes.identity.refresh_tokens().all().is_empty());
    assert_eq!(stored(&fakes, account.user.id).last_login_at, None);
}

#[tokio::test]
async fn a_password_change_racing_a_rehashing_login_is_never_undone() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| {
        user.password_hash = FakeHasher::outdated_hash_of(PASSWORD);
    });
    // While the login checks the old password, the user changes it (and so revokes their tokens).
    let users = fakes.identity.users();
    let mut changed = stored(&fakes, account.user.id);
    changed.password_hash = FakeHasher::hash_of(NEW_PASSWORD);
    changed.token_version += 1;
    changed.tokens_valid_after = Some(START);
    fakes
        .hasher
        .during_next_verify(move || users.insert(changed));

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await;

    assert!(matches!(result, Err(LoginError::Revoked)), "{result:?}");
    assert_eq!(
        stored(&fakes, account.user.id).password_hash,
        FakeHasher::hash_of(NEW_PASSWORD)
    );
    assert!(fakes.identity.refresh_tokens().all().is_empty());
}

#[tokio::test]
async fn login_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await;

    assert!(
        matches!(result, Err(LoginError::Failed(Failure::Unavailable(_)))),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_while_hashing_is_at_capacity_fails_as_busy_for_known_and_unknown_accounts() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.hasher.set_busy(true);
    let identity = fakes.use_cases().identity;

    let known = identity.log_in(account.credentials(PASSWORD)).await;
    let unknown = identity
        .log_in(credentials(TENANT, "nobody@example.com", PASSWORD))
        .await;

    assert!(
        matches!(known, Err(LoginError::Failed(Failure::HashingBusy))),
        "{known:?}"
    );
    assert!(
        matches!(unknown, Err(LoginError::Failed(Failure::HashingBusy))),
        "{unknown:?}"
    );
    assert!(fakes.identity.refresh_tokens().all().is_empty());
}

#[tokio::test]
async fn login_while_hashing_is_at_capacity_is_refused_before_the_account_is_read() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.hasher.set_busy(true);
    // Reading the account would now fail as unavailable: busy proves it was never read.
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await;

    assert!(
        matches!(result, Err(LoginError::Failed(Failure::HashingBusy))),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_against_an_unreadable_stored_hash_fails_as_unexpected() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| {
        user.password_hash = PasswordHash::new("$argon2id$truncated");
    });

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await;

    assert!(
        matches!(result, Err(LoginError::Failed(Failure::Unexpected(_)))),
        "{result:?}"
    );
}

#[tokio::test]
async fn login_whose_access_token_cannot_be_signed_fails_as_unexpected_and_starts_nothing() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.tokens.set_signing_fails(true);

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await;

    assert!(
        matches!(result, Err(LoginError::Failed(Failure::Unexpected(_)))),
        "{result:?}"
    );
    assert!(fakes.identity.refresh_tokens().all().is_empty());
    assert_eq!(stored(&fakes, account.user.id).last_login_at, None);
}

#[tokio::test]
async fn login_whose_transaction_fails_to_commit_starts_nothing() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.identity.fail_commits(true);

    let result = fakes
        .use_cases()
        .identity
        .log_in(account.credentials(PASSWORD))
        .await;

    assert!(
        matches!(result, Err(LoginError::Failed(Failure::Unexpected(_)))),
        "{result:?}"
    );
    assert!(fakes.identity.refresh_tokens().all().is_empty());
    assert_eq!(stored(&fakes, account.user.id).last_login_at, None);
}

// --- Refresh ------------------------------------------------------------------------------

#[tokio::test]
async fn refreshing_rotates_the_refresh_token_and_issues_a_new_pair() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let first = logged_in(&fakes, &account).await;
    fakes.clock.advance(TimeDelta::minutes(20));
    let now = fakes.clock.now();
    let identity = fakes.use_cases().identity;

    let second = identity.refresh(&first.refresh_token).await.unwrap();

    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(second.expires_in_secs, 900);
    let old = record_of(&fakes, &first.refresh_token);
    let new = record_of(&fakes, &second.refresh_token);
    assert_eq!(old.revoked_at, Some(now));
    assert_eq!(old.replaced_by, Some(new.id));
    assert_eq!(new.family_id, old.family_id);
    assert_eq!(new.created_at, now);
    assert_eq!(new.revoked_at, None);
    assert_eq!(
        identity
            .authenticate(second.access_token.expose())
            .await
            .unwrap(),
        account.principal()
    );
    assert!(identity.refresh(&second.refresh_token).await.is_ok());
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    logged_in(&fakes, &account).await;

    let result = fakes
        .use_cases()
        .identity
        .refresh(&Secret::new("refresh-made-up"))
        .await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_its_whole_family() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let first = logged_in(&fakes, &account).await;
    let other_session = logged_in(&fakes, &account).await;
    let identity = fakes.use_cases().identity;
    let second = identity.refresh(&first.refresh_token).await.unwrap();
    fakes.clock.advance(TimeDelta::minutes(5));

    let reuse = identity.refresh(&first.refresh_token).await;

    assert!(
        matches!(reuse, Err(RefreshError::InvalidToken)),
        "{reuse:?}"
    );
    assert_eq!(
        record_of(&fakes, &second.refresh_token).revoked_at,
        Some(fakes.clock.now()),
        "the thief's or the owner's newest token dies with its family"
    );
    let newest = identity.refresh(&second.refresh_token).await;
    assert!(
        matches!(newest, Err(RefreshError::InvalidToken)),
        "{newest:?}"
    );
    assert!(
        identity.refresh(&other_session.refresh_token).await.is_ok(),
        "another session of the user is another family"
    );
}

#[tokio::test]
async fn a_refresh_token_of_a_logged_out_session_is_refused() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    let identity = fakes.use_cases().identity;
    identity
        .log_out(&account.principal(), &session.refresh_token)
        .await
        .unwrap();
    fakes.clock.advance(TimeDelta::minutes(5));

    let result = identity.refresh(&session.refresh_token).await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
    assert_eq!(
        record_of(&fakes, &session.refresh_token).revoked_at,
        Some(START),
        "a revoked token that was never rotated is no reuse"
    );
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let fakes = fakes_with_refresh_ttl(TimeDelta::days(7));
    let account = member(&fakes).await;
    let early = logged_in(&fakes, &account).await;
    let late = logged_in(&fakes, &account).await;
    let identity = fakes.use_cases().identity;

    fakes
        .clock
        .advance(TimeDelta::days(7) - TimeDelta::seconds(1));
    assert!(identity.refresh(&early.refresh_token).await.is_ok());
    fakes.clock.advance(TimeDelta::seconds(1));
    let result = identity.refresh(&late.refresh_token).await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_session_ends_thirty_days_after_its_login_whatever_its_rotations() {
    let fakes = fakes_with_refresh_ttl(TimeDelta::days(7));
    let account = member(&fakes).await;
    let mut session = logged_in(&fakes, &account).await;
    let identity = fakes.use_cases().identity;
    for _ in 0..4 {
        fakes.clock.advance(TimeDelta::days(6));
        session = identity.refresh(&session.refresh_token).await.unwrap();
    }
    assert_eq!(
        record_of(&fakes, &session.refresh_token).expires_at,
        START + TimeDelta::days(30),
        "the last token expires with its session, not a full TTL after it was issued"
    );

    fakes.clock.advance(TimeDelta::days(6));
    let result = identity.refresh(&session.refresh_token).await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_session_longer_than_its_lifetime_is_over_even_with_a_live_token() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    // A token left live in a family that started 31 days ago (a shorter lifetime since).
    let record = record_of(&fakes, &session.refresh_token);
    fakes
        .identity
        .refresh_tokens()
        .insert_record(RefreshTokenRecord {
            expires_at: START + TimeDelta::days(60),
            ..record
        });
    fakes.clock.advance(TimeDelta::days(31));

    let result = fakes
        .use_cases()
        .identity
        .refresh(&session.refresh_token)
        .await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn refreshing_for_a_deactivated_account_is_refused_and_ends_the_session() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    change_user(&fakes, account.user.id, |user| user.is_active = false);
    fakes.clock.advance(TimeDelta::minutes(1));

    let result = fakes
        .use_cases()
        .identity
        .refresh(&session.refresh_token)
        .await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
    assert_eq!(
        record_of(&fakes, &session.refresh_token).revoked_at,
        Some(fakes.clock.now())
    );
}

#[tokio::test]
async fn refreshing_for_an_account_gone_from_the_store_is_refused_and_ends_the_session() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.identity.users().remove(account.user.id);

    let result = fakes
        .use_cases()
        .identity
        .refresh(&session.refresh_token)
        .await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
    assert_eq!(
        record_of(&fakes, &session.refresh_token).revoked_at,
        Some(START)
    );
}

#[tokio::test]
async fn a_session_started_before_a_revocation_is_over_even_with_a_live_token() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    // A revocation whose refresh-token half a racing rotation escaped.
    fakes.clock.advance(TimeDelta::minutes(1));
    let revoked_at = fakes.clock.now();
    change_user(&fakes, account.user.id, |user| {
        user.token_version += 1;
        user.tokens_valid_after = Some(revoked_at);
    });

    let result = fakes
        .use_cases()
        .identity
        .refresh(&session.refresh_token)
        .await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
    assert_eq!(
        record_of(&fakes, &session.refresh_token).revoked_at,
        Some(revoked_at)
    );
}

#[tokio::test]
async fn a_session_started_in_the_instant_of_a_revocation_refreshes() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let identity = fakes.use_cases().identity;
    identity
        .log_out_everywhere(&account.principal())
        .await
        .unwrap();
    let session = logged_in(&fakes, &account).await;

    let result = identity.refresh(&session.refresh_token).await;

    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn a_refresh_token_used_twice_at_once_revokes_its_family() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.clock.advance(TimeDelta::minutes(1));
    let now = fakes.clock.now();
    // Another request rotates the same token just before this one does.
    let old = record_of(&fakes, &session.refresh_token);
    let winner = RefreshTokenRecord {
        id: Uuid::from_u128(42),
        token_hash: "hashed:the-other-request".to_owned(),
        created_at: now,
        ..old.clone()
    };
    let tokens = fakes.identity.refresh_tokens();
    let winner_id = winner.id;
    fakes
        .identity
        .before_next(IdentityCall::RotateRefreshToken, move || {
            tokens.insert_record(RefreshTokenRecord {
                revoked_at: Some(now),
                replaced_by: Some(winner.id),
                ..old
            });
            tokens.insert_record(winner);
        });

    let result = fakes
        .use_cases()
        .identity
        .refresh(&session.refresh_token)
        .await;

    assert!(
        matches!(result, Err(RefreshError::InvalidToken)),
        "{result:?}"
    );
    let winner = fakes.identity.refresh_tokens().get(winner_id).unwrap();
    assert_eq!(
        winner.revoked_at,
        Some(now),
        "the other request's token dies too"
    );
    assert_eq!(fakes.identity.refresh_tokens().all().len(), 2);
}

#[tokio::test]
async fn refreshing_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .refresh(&session.refresh_token)
        .await;

    assert!(
        matches!(result, Err(RefreshError::Failed(Failure::Unavailable(_)))),
        "{result:?}"
    );
    assert_eq!(record_of(&fakes, &session.refresh_token).revoked_at, None);
}

#[tokio::test]
async fn refreshing_when_the_access_token_cannot_be_signed_fails_as_unexpected() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.tokens.set_signing_fails(true);

    let result = fakes
        .use_cases()
        .identity
        .refresh(&session.refresh_token)
        .await;

    assert!(
        matches!(result, Err(RefreshError::Failed(Failure::Unexpected(_)))),
        "{result:?}"
    );
}

// --- Logout -------------------------------------------------------------------------------

#[tokio::test]
async fn logging_out_ends_only_that_session() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let phone_session = logged_in(&fakes, &account).await;
    let laptop_session = logged_in(&fakes, &account).await;
    let identity = fakes.use_cases().identity;
    let rotated = identity
        .refresh(&phone_session.refresh_token)
        .await
        .unwrap();

    identity
        .log_out(&account.principal(), &rotated.refresh_token)
        .await
        .unwrap();

    let ended = identity.refresh(&rotated.refresh_token).await;
    assert!(
        matches!(ended, Err(RefreshError::InvalidToken)),
        "{ended:?}"
    );
    assert!(
        identity
            .refresh(&laptop_session.refresh_token)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn logging_out_with_an_unknown_token_changes_nothing() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    let identity = fakes.use_cases().identity;

    identity
        .log_out(&account.principal(), &Secret::new("refresh-made-up"))
        .await
        .unwrap();

    assert_eq!(record_of(&fakes, &session.refresh_token).revoked_at, None);
}

#[tokio::test]
async fn logging_out_with_someone_elses_token_changes_nothing() {
    let fakes = Fakes::new();
    let ada = member(&fakes).await;
    let grace = Account {
        user: registered(&fakes, &ada.tenant, "grace@example.com").await,
        tenant: ada.tenant.clone(),
    };
    let graces_session = logged_in(&fakes, &grace).await;

    fakes
        .use_cases()
        .identity
        .log_out(&ada.principal(), &graces_session.refresh_token)
        .await
        .unwrap();

    assert_eq!(
        record_of(&fakes, &graces_session.refresh_token).revoked_at,
        None
    );
}

#[tokio::test]
async fn logging_out_during_an_outage_fails() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .log_out(&account.principal(), &session.refresh_token)
        .await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn logging_out_everywhere_ends_every_session_and_access_token() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let first = logged_in(&fakes, &account).await;
    let second = logged_in(&fakes, &account).await;
    fakes.clock.advance(TimeDelta::minutes(3));
    let now = fakes.clock.now();
    let identity = fakes.use_cases().identity;

    identity
        .log_out_everywhere(&account.principal())
        .await
        .unwrap();

    for session in [&first, &second] {
        let refreshed = identity.refresh(&session.refresh_token).await;
        assert!(
            matches!(refreshed, Err(RefreshError::InvalidToken)),
            "{refreshed:?}"
        );
        let authenticated = identity.authenticate(session.access_token.expose()).await;
        assert!(
            matches!(authenticated, Err(AuthenticateError::InvalidToken)),
            "{authenticated:?}"
        );
    }
    let user = stored(&fakes, account.user.id);
    assert_eq!(user.token_version, 1);
    assert_eq!(user.tokens_valid_after, Some(now));
    let fresh = logged_in(&fakes, &account).await;
    assert_eq!(
        identity
            .authenticate(fresh.access_token.expose())
            .await
            .unwrap(),
        account.principal(),
        "a token issued after the revocation works"
    );
}

#[tokio::test]
async fn logging_out_everywhere_during_an_outage_fails_and_revokes_nothing() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .log_out_everywhere(&account.principal())
        .await;

    assert!(
        matches!(result, Err(StoreError::Unavailable(_))),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id).token_version, 0);
    assert_eq!(record_of(&fakes, &session.refresh_token).revoked_at, None);
}

// --- Authentication -----------------------------------------------------------------------

#[tokio::test]
async fn an_access_token_authenticates_its_bearer_with_their_role() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| user.role = Role::Admin);
    let session = logged_in(&fakes, &account).await;

    let principal = fakes
        .use_cases()
        .identity
        .authenticate(session.access_token.expose())
        .await
        .unwrap();

    assert_eq!(principal.user_id, account.user.id);
    assert_eq!(principal.tenant_id, account.tenant.id);
    assert_eq!(principal.role, Role::Admin);
    assert!(principal.is_tenant_admin());
    assert!(!account.principal().is_tenant_admin(), "a member is not");
}

#[tokio::test]
async fn a_forged_or_malformed_access_token_is_refused() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    let forger = FakeTokens::new(Arc::new(fakes.clock.clone())).with_key("a stolen laptop's key");
    let forged = forger
        .issue_access(
            &AccessClaims {
                user_id: account.user.id,
                tenant_id: account.tenant.id,
                role: Role::Admin,
                token_version: 0,
            },
            fakes.clock.now(),
        )
        .unwrap();
    let tampered = session
        .access_token
        .expose()
        .replacen(".member.", ".admin.", 1);
    let identity = fakes.use_cases().identity;

    for token in ["", "not a token", forged.token.expose(), tampered.as_str()] {
        let result = identity.authenticate(token).await;
        assert!(
            matches!(result, Err(AuthenticateError::InvalidToken)),
            "{token}: {result:?}"
        );
    }
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.clock.advance(TimeDelta::minutes(20));

    let result = fakes
        .use_cases()
        .identity
        .authenticate(session.access_token.expose())
        .await;

    assert!(
        matches!(result, Err(AuthenticateError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_access_token_of_a_deactivated_account_is_refused_from_the_next_request_on() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    change_user(&fakes, account.user.id, |user| user.is_active = false);

    let result = fakes
        .use_cases()
        .identity
        .authenticate(session.access_token.expose())
        .await;

    assert!(
        matches!(result, Err(AuthenticateError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_access_token_of_an_erased_account_is_refused() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.identity.users().remove(account.user.id);

    let result = fakes
        .use_cases()
        .identity
        .authenticate(session.access_token.expose())
        .await;

    assert!(
        matches!(result, Err(AuthenticateError::InvalidToken)),
        "{result:?}"
    );
}

#[tokio::test]
async fn authenticating_during_an_outage_fails_as_a_store_error() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .authenticate(session.access_token.expose())
        .await;

    assert!(
        matches!(
            result,
            Err(AuthenticateError::Store(StoreError::Unavailable(_)))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_token_subject_is_read_from_the_token_alone() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    let identity = fakes.use_cases().identity;
    fakes.outage.begin();

    assert_eq!(
        identity.token_subject(session.access_token.expose()),
        Some(account.user.id),
        "no database read"
    );
    assert_eq!(identity.token_subject("fake.forged.token"), None);
    assert_eq!(format!("{identity:?}"), "Identity { .. }");
    fakes.clock.advance(TimeDelta::hours(1));
    assert_eq!(identity.token_subject(session.access_token.expose()), None);
}

// --- Profile ------------------------------------------------------------------------------

#[tokio::test]
async fn the_profile_is_the_callers_own_account() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let grace = registered(&fakes, &account.tenant, "grace@example.com").await;

    let profile = fakes
        .use_cases()
        .identity
        .profile(&account.principal())
        .await
        .unwrap();

    assert_eq!(profile, account.user);
    assert_ne!(profile.id, grace.id);
}

#[tokio::test]
async fn the_profile_of_an_erased_account_is_not_found() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.identity.users().remove(account.user.id);

    let result = fakes
        .use_cases()
        .identity
        .profile(&account.principal())
        .await;

    assert!(matches!(result, Err(ProfileError::NotFound)), "{result:?}");
}

#[tokio::test]
async fn the_profile_is_not_found_from_another_tenant() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let other = tenant(&fakes, "orchard", true);
    let principal = Principal {
        tenant_id: other.id,
        ..account.principal()
    };

    let result = fakes.use_cases().identity.profile(&principal).await;

    assert!(matches!(result, Err(ProfileError::NotFound)), "{result:?}");
}

#[tokio::test]
async fn reading_the_profile_during_an_outage_fails_as_a_store_error() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .profile(&account.principal())
        .await;

    assert!(
        matches!(result, Err(ProfileError::Store(StoreError::Unavailable(_)))),
        "{result:?}"
    );
}

// --- Profile changes ----------------------------------------------------------------------

#[tokio::test]
async fn changing_the_name_and_sms_consent_leaves_the_rest_alone() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.clock.advance(TimeDelta::hours(1));
    let before = stored(&fakes, account.user.id);

    let user = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                full_name: Some(FullName::parse("Augusta Ada King").unwrap()),
                sms_opt_in: Some(true),
                ..ProfileChanges::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(user.full_name.as_str(), "Augusta Ada King");
    assert!(user.sms_opt_in);
    assert_eq!(user.updated_at, fakes.clock.now());
    assert_eq!(
        user,
        User {
            full_name: user.full_name.clone(),
            sms_opt_in: true,
            updated_at: user.updated_at,
            ..before
        },
        "nothing else changed"
    );
    assert_eq!(stored(&fakes, account.user.id), user);
    assert_eq!(record_of(&fakes, &session.refresh_token).revoked_at, None);
}

#[tokio::test]
async fn a_new_phone_number_is_unverified() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| {
        user.phone = Some(phone("+14155552671"));
        user.phone_verified = true;
    });

    let user = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                phone: Some(Some(phone("+442071838750"))),
                ..ProfileChanges::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(user.phone, Some(phone("+442071838750")));
    assert!(!user.phone_verified);
}

#[tokio::test]
async fn giving_the_same_phone_number_again_keeps_its_verification() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| {
        user.phone = Some(phone("+14155552671"));
        user.phone_verified = true;
    });

    let user = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                phone: Some(Some(phone("+14155552671"))),
                ..ProfileChanges::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(user.phone, Some(phone("+14155552671")));
    assert!(user.phone_verified);
}

#[tokio::test]
async fn removing_the_phone_number_clears_it() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    change_user(&fakes, account.user.id, |user| {
        user.phone = Some(phone("+14155552671"));
        user.phone_verified = true;
    });

    let user = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                phone: Some(None),
                ..ProfileChanges::default()
            },
        )
        .await
        .unwrap();

    assert_eq!(user.phone, None);
    assert!(!user.phone_verified);
}

#[tokio::test]
async fn a_phone_number_of_another_account_is_refused_and_nothing_changes() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let grace = registered(&fakes, &account.tenant, "grace@example.com").await;
    change_user(&fakes, grace.id, |user| {
        user.phone = Some(phone("+14155552671"));
    });

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                full_name: Some(FullName::parse("Someone Else").unwrap()),
                phone: Some(Some(phone("+14155552671"))),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::PhoneTaken)),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn a_phone_number_of_another_account_is_refused_with_a_password_change_too() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let grace = registered(&fakes, &account.tenant, "grace@example.com").await;
    change_user(&fakes, grace.id, |user| {
        user.phone = Some(phone("+14155552671"));
    });

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                phone: Some(Some(phone("+14155552671"))),
                password: Some(Secret::new(NEW_PASSWORD)),
                current_password: Some(Secret::new(PASSWORD)),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::PhoneTaken)),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn changing_the_password_ends_every_session() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.clock.advance(TimeDelta::minutes(10));
    let now = fakes.clock.now();
    let identity = fakes.use_cases().identity;

    let user = identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                password: Some(Secret::new(NEW_PASSWORD)),
                current_password: Some(Secret::new(PASSWORD)),
                ..ProfileChanges::default()
            },
        )
        .await
        .unwrap();

    assert_ne!(user.password_hash, account.user.password_hash);
    assert_eq!(user.token_version, 1);
    assert_eq!(user.tokens_valid_after, Some(now));
    assert_eq!(user.updated_at, now);
    assert_eq!(
        record_of(&fakes, &session.refresh_token).revoked_at,
        Some(now)
    );
    let authenticated = identity.authenticate(session.access_token.expose()).await;
    assert!(
        matches!(authenticated, Err(AuthenticateError::InvalidToken)),
        "{authenticated:?}"
    );
    let old = identity.log_in(account.credentials(PASSWORD)).await;
    assert!(
        matches!(old, Err(LoginError::InvalidCredentials)),
        "{old:?}"
    );
    assert!(
        identity
            .log_in(account.credentials(NEW_PASSWORD))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_new_password_without_the_current_one_is_refused() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                password: Some(Secret::new(NEW_PASSWORD)),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::CurrentPasswordMissing)),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn a_wrong_current_password_is_refused() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                full_name: Some(FullName::parse("Someone Else").unwrap()),
                password: Some(Secret::new(NEW_PASSWORD)),
                current_password: Some(Secret::new("not the right password")),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::WrongCurrentPassword)),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn a_new_password_breaking_the_policy_is_refused_with_the_rule_it_breaks() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let identity = fakes.use_cases().identity;

    for (new_password, rule) in [
        ("too short", PasswordRejected::TooShort),
        ("ada's secret garden party", PasswordRejected::ContainsEmail),
        (
            "my GreenHouse is lovely",
            PasswordRejected::ContainsTenantSlug,
        ),
    ] {
        let result = identity
            .update_profile(
                &account.principal(),
                ProfileChanges {
                    password: Some(Secret::new(new_password)),
                    current_password: Some(Secret::new(PASSWORD)),
                    ..ProfileChanges::default()
                },
            )
            .await;
        assert!(
            matches!(result, Err(UpdateProfileError::PasswordRejected(refused)) if refused == rule),
            "{new_password}: {result:?}"
        );
    }
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn a_password_changed_meanwhile_makes_the_current_password_wrong() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    // Another request changes the password while this one checks the old one.
    let users = fakes.identity.users();
    let mut changed = account.user.clone();
    changed.password_hash = FakeHasher::hash_of("changed by another request");
    fakes
        .hasher
        .during_next_verify(move || users.insert(changed));

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                password: Some(Secret::new(NEW_PASSWORD)),
                current_password: Some(Secret::new(PASSWORD)),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::WrongCurrentPassword)),
        "{result:?}"
    );
    assert_eq!(
        stored(&fakes, account.user.id).password_hash,
        FakeHasher::hash_of("changed by another request")
    );
}

#[tokio::test]
async fn changing_an_erased_profile_is_not_found() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.identity.users().remove(account.user.id);

    let result = fakes
        .use_cases()
        .identity
        .update_profile(&account.principal(), ProfileChanges::default())
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::NotFound)),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_password_change_of_an_account_whose_tenant_is_gone_is_not_found() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let orphan = TenantId::from_uuid(Uuid::from_u128(7));
    change_user(&fakes, account.user.id, |user| user.tenant_id = orphan);
    let principal = Principal {
        tenant_id: orphan,
        ..account.principal()
    };

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &principal,
            ProfileChanges {
                password: Some(Secret::new(NEW_PASSWORD)),
                current_password: Some(Secret::new(PASSWORD)),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::NotFound)),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_account_erased_in_the_middle_of_a_profile_change_is_not_found() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let users = fakes.identity.users();
    let id = account.user.id;
    fakes
        .identity
        .before_next(IdentityCall::UpdateProfile, move || {
            users.remove(id);
        });

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                sms_opt_in: Some(true),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::NotFound)),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_account_erased_right_after_its_profile_change_is_not_found() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let identity_db = fakes.identity.clone();
    let id = account.user.id;
    // Once the change is written, the account is erased before it is read back.
    fakes
        .identity
        .before_next(IdentityCall::UpdateProfile, move || {
            let users = identity_db.users();
            identity_db.before_next(IdentityCall::FindUser, move || {
                users.remove(id);
            });
        });

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                sms_opt_in: Some(true),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(result, Err(UpdateProfileError::NotFound)),
        "{result:?}"
    );
}

#[tokio::test]
async fn changing_the_profile_during_an_outage_fails_as_unavailable() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                sms_opt_in: Some(true),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(
            result,
            Err(UpdateProfileError::Failed(Failure::Unavailable(_)))
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_store_failing_in_the_middle_of_a_profile_change_fails_as_unavailable() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let outage = fakes.outage.clone();
    fakes
        .identity
        .before_next(IdentityCall::UpdateProfile, move || outage.begin());

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                sms_opt_in: Some(true),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(
            result,
            Err(UpdateProfileError::Failed(Failure::Unavailable(_)))
        ),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn changing_the_password_while_hashing_is_at_capacity_fails_as_busy() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.hasher.set_busy(true);

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                password: Some(Secret::new(NEW_PASSWORD)),
                current_password: Some(Secret::new(PASSWORD)),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(
            result,
            Err(UpdateProfileError::Failed(Failure::HashingBusy))
        ),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn a_password_change_whose_transaction_fails_to_commit_changes_nothing() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    let before = stored(&fakes, account.user.id);
    fakes.identity.fail_commits(true);

    let result = fakes
        .use_cases()
        .identity
        .update_profile(
            &account.principal(),
            ProfileChanges {
                password: Some(Secret::new(NEW_PASSWORD)),
                current_password: Some(Secret::new(PASSWORD)),
                ..ProfileChanges::default()
            },
        )
        .await;

    assert!(
        matches!(
            result,
            Err(UpdateProfileError::Failed(Failure::Unexpected(_)))
        ),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), before);
    assert_eq!(record_of(&fakes, &session.refresh_token).revoked_at, None);
}

// --- Export -------------------------------------------------------------------------------

#[tokio::test]
async fn the_export_holds_the_account_its_sessions_and_every_table_in_order() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    logged_in(&fakes, &account).await;
    let grace = registered(&fakes, &account.tenant, "grace@example.com").await;
    let plant = Uuid::from_u128(1).to_string();
    fakes.identity.add_export_row(
        account.user.id,
        ExportTable::UserPlants,
        plant.clone(),
        json!({"id": plant, "nickname": "Fernando"}),
    );
    fakes.identity.add_export_row(
        grace.id,
        ExportTable::UserPlants,
        Uuid::from_u128(2).to_string(),
        json!({"nickname": "Grace's fern"}),
    );
    fakes.identity.audit_log().insert(AuditEntry {
        id: Uuid::from_u128(3),
        actor: "key:0123456789ab".to_owned(),
        action: "users.update".to_owned(),
        target: Some(format!("user:{}", account.user.id)),
        old: None,
        new: None,
        outcome: AuditOutcome::Success,
        created_at: START,
    });

    let mut export = fakes
        .use_cases()
        .identity
        .export_account(&account.principal())
        .await
        .unwrap();

    assert_eq!(export.exported_at, fakes.clock.now());
    assert_eq!(export.user, stored(&fakes, account.user.id));
    assert_eq!(export.sessions.len(), 1);
    assert_eq!(export.sessions[0].user_id, account.user.id);
    let mut pages = Vec::new();
    while let Some(page) = export.records.next_page().await.unwrap() {
        pages.push(page);
    }
    let tables: Vec<&str> = pages.iter().map(|(table, _, _)| table.as_str()).collect();
    assert_eq!(
        tables,
        [
            "account",
            "user_plants",
            "messages",
            "sms_log",
            "inbound_sms",
            "phone_verifications",
            "admin_audit_log",
            "gardens",
            "plantings",
            "planting_events",
            "compliance_audit",
        ],
        "every table once, in order"
    );
    assert!(pages.iter().all(|(_, first, _)| *first));
    let rows = |wanted: ExportTable| {
        pages
            .iter()
            .find(|(table, _, _)| *table == wanted)
            .map(|(_, _, rows)| rows.clone())
            .unwrap()
    };
    let account_rows = rows(ExportTable::Account);
    assert_eq!(account_rows.len(), 1);
    assert_eq!(account_rows[0]["email"], EMAIL);
    assert!(account_rows[0].get("password_hash").is_none());
    assert_eq!(
        rows(ExportTable::UserPlants),
        [json!({"id": plant, "nickname": "Fernando"})],
        "only the caller's own rows"
    );
    assert_eq!(rows(ExportTable::AdminAuditLog).len(), 1);
    assert!(rows(ExportTable::Messages).is_empty());
    assert!(export.records.next_page().await.unwrap().is_none());
    let shown = format!("{export:?}");
    assert!(
        !shown.contains("Fernando"),
        "the rows are not dumped: {shown}"
    );
}

#[tokio::test]
async fn a_large_table_is_exported_a_page_of_two_hundred_rows_at_a_time() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    for n in 1..=201 {
        let key = Uuid::from_u128(n).to_string();
        fakes.identity.add_export_row(
            account.user.id,
            ExportTable::Messages,
            key.clone(),
            json!({"id": key}),
        );
    }

    let mut export = fakes
        .use_cases()
        .identity
        .export_account(&account.principal())
        .await
        .unwrap();

    let mut messages = Vec::new();
    while let Some((table, first, rows)) = export.records.next_page().await.unwrap() {
        if table == ExportTable::Messages {
            messages.push((first, rows.len()));
        }
    }
    assert_eq!(messages, [(true, 200), (false, 1)]);
}

#[tokio::test]
async fn exporting_an_erased_account_is_not_found() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.identity.users().remove(account.user.id);

    let result = fakes
        .use_cases()
        .identity
        .export_account(&account.principal())
        .await;

    assert!(matches!(result, Err(ProfileError::NotFound)), "{result:?}");
}

#[tokio::test]
async fn exporting_during_an_outage_fails() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let identity = fakes.use_cases().identity;
    let mut started = identity.export_account(&account.principal()).await.unwrap();
    fakes.outage.begin();

    let result = identity.export_account(&account.principal()).await;
    let page = started.records.next_page().await;

    assert!(
        matches!(result, Err(ProfileError::Store(StoreError::Unavailable(_)))),
        "{result:?}"
    );
    assert!(matches!(page, Err(Failure::Unavailable(_))), "{page:?}");
}

// --- Erasure ------------------------------------------------------------------------------

#[tokio::test]
async fn erasing_the_account_removes_it_its_sessions_and_its_rows() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    let grace = registered(&fakes, &account.tenant, "grace@example.com").await;
    fakes.identity.add_export_row(
        account.user.id,
        ExportTable::UserPlants,
        Uuid::from_u128(1).to_string(),
        json!({"nickname": "Fernando"}),
    );
    let erased = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&erased);
    fakes
        .identity
        .on_erase(move |_, user| seen.lock().unwrap().push(user));
    let identity = fakes.use_cases().identity;

    identity
        .erase_account(&account.principal(), &Secret::new(PASSWORD))
        .await
        .unwrap();

    assert_eq!(fakes.identity.users().all(), [grace]);
    assert!(fakes.identity.refresh_tokens().all().is_empty());
    let plants = fakes
        .identity
        .users()
        .export_page(
            account.tenant.id,
            account.user.id,
            ExportTable::UserPlants,
            None,
            10,
        )
        .await
        .unwrap();
    assert!(plants.rows.is_empty(), "their plants went with them");
    assert_eq!(*erased.lock().unwrap(), [account.user.id]);
    let authenticated = identity.authenticate(session.access_token.expose()).await;
    assert!(
        matches!(authenticated, Err(AuthenticateError::InvalidToken)),
        "{authenticated:?}"
    );
    let login = identity.log_in(account.credentials(PASSWORD)).await;
    assert!(
        matches!(login, Err(LoginError::InvalidCredentials)),
        "{login:?}"
    );
}

#[tokio::test]
async fn erasing_with_a_wrong_password_is_refused_and_erases_nothing() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;

    let result = fakes
        .use_cases()
        .identity
        .erase_account(&account.principal(), &Secret::new("not the right password"))
        .await;

    assert!(
        matches!(result, Err(EraseError::WrongPassword)),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn erasing_an_account_already_gone_is_not_found() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let identity = fakes.use_cases().identity;
    identity
        .erase_account(&account.principal(), &Secret::new(PASSWORD))
        .await
        .unwrap();

    let again = identity
        .erase_account(&account.principal(), &Secret::new(PASSWORD))
        .await;

    assert!(matches!(again, Err(EraseError::NotFound)), "{again:?}");
}

#[tokio::test]
async fn an_account_erased_while_its_password_was_checked_is_not_found() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let users = fakes.identity.users();
    let id = account.user.id;
    fakes.hasher.during_next_verify(move || {
        users.remove(id);
    });

    let result = fakes
        .use_cases()
        .identity
        .erase_account(&account.principal(), &Secret::new(PASSWORD))
        .await;

    assert!(matches!(result, Err(EraseError::NotFound)), "{result:?}");
    assert_eq!(fakes.identity.commits(), 0, "nothing was committed");
}

#[tokio::test]
async fn erasing_during_an_outage_fails_and_erases_nothing() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.outage.begin();

    let result = fakes
        .use_cases()
        .identity
        .erase_account(&account.principal(), &Secret::new(PASSWORD))
        .await;

    assert!(
        matches!(result, Err(EraseError::Failed(Failure::Unavailable(_)))),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn erasing_while_hashing_is_at_capacity_fails_as_busy() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    fakes.hasher.set_busy(true);

    let result = fakes
        .use_cases()
        .identity
        .erase_account(&account.principal(), &Secret::new(PASSWORD))
        .await;

    assert!(
        matches!(result, Err(EraseError::Failed(Failure::HashingBusy))),
        "{result:?}"
    );
    assert_eq!(stored(&fakes, account.user.id), account.user);
}

#[tokio::test]
async fn an_erasure_whose_transaction_fails_to_commit_erases_nothing() {
    let fakes = Fakes::new();
    let account = member(&fakes).await;
    let session = logged_in(&fakes, &account).await;
    fakes.identity.fail_commits(true);

    let result = fakes
        .use_cases()
        .identity
        .erase_account(&account.principal(), &Secret::new(PASSWORD))
        .await;

    assert!(
        matches!(result, Err(EraseError::Failed(Failure::Unexpected(_)))),
        "{result:?}"
    );
    assert!(fakes.identity.users().get(account.user.id).is_some());
    assert_eq!(record_of(&fakes, &session.refresh_token).revoked_at, None);
}
