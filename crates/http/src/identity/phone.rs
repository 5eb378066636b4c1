//! `/api/v2/me/phone/verification`: proving that the caller holds the number on their account.

use actix_web::{HttpResponse, web};
use domain::sms::verification::{CODE_LIFETIME, VerificationCode};

use super::{
    documents::{ConfirmPhoneRequest, UserDocument, VerificationSentDocument},
    extractors::Authenticated,
};
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
};

/// Text a six-digit code to the account's number (valid 10 minutes; three codes an hour per
/// account and per number).
#[utoipa::path(
    post,
    path = "/api/v2/me/phone/verification",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The code is on its way", body = VerificationSentDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The account has no phone number (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_code(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let sent = state.phone_verification.request_code(&principal).await?;
    Ok(HttpResponse::Accepted().json(VerificationSentDocument {
        sent_to: sent.sent_to,
        expires_in: CODE_LIFETIME.num_seconds(),
    }))
}

/// Confirm the number with the code texted to it.
#[utoipa::path(
    post,
    path = "/api/v2/me/phone/verification/confirm",
    tag = "me",
    security(("bearer" = [])),
    request_body = ConfirmPhoneRequest,
    responses(
        (status = 200, description = "The account, its number verified", body = UserDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not six digits (ERR_VALIDATION_001); wrong, used or expired code (ERR_PHONE_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    body: JsonBody<ConfirmPhoneRequest>,
) -> Result<HttpResponse, ApiError> {
    let code = VerificationCode::try_from(body.into_inner())?;
    let user = state.phone_verification.confirm(&principal, &code).await?;
    Ok(HttpResponse::Ok().json(UserDocument::from(&user)))
}
