//! Handlers of Twilio's webhooks. Both check the signature before reading anything else.

use actix_web::{HttpRequest, HttpResponse, web};
use application::sms::{IncomingSms, SignedRequest};
use domain::{
    phone::PhoneNumber,
    sms::{SmsLogId, SmsStatus},
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::twiml::twiml_response;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    middleware::rate_limit::limit_webhook_number,
};

/// The fields of an inbound-message webhook we read (Twilio sends more; all are signed).
#[derive(Debug, Deserialize, ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form for OpenAPI; handlers read the raw pairs"
)]
#[serde(rename_all = "PascalCase")]
pub struct InboundSmsForm {
    /// Twilio's id of the message.
    message_sid: String,
    /// The Twilio account.
    account_sid: String,
    /// The sender, E.164.
    from: String,
    /// Our number.
    to: String,
    /// The text.
    body: String,
}

/// The fields of a delivery-status webhook we read.
#[derive(Debug, Deserialize, ToSchema)]
#[expect(
    dead_code,
    reason = "documents the form for OpenAPI; handlers read the raw pairs"
)]
#[serde(rename_all = "PascalCase")]
pub struct StatusCallbackForm {
    /// Twilio's id of the message.
    message_sid: String,
    /// The Twilio account.
    account_sid: String,
    /// `queued`, `sent`, `delivered`, `undelivered`, `failed`, ...
    message_status: String,
    /// Twilio's error code, for `undelivered` and `failed`.
    error_code: Option<String>,
}

/// Receive a text from an owner.
///
/// Verifies `X-Twilio-Signature`, then answers STOP/START/HELP, or passes the text to the plant
/// it names ("Fern: how are you?") or else the one the owner talked to last, and answers with the
/// plant's reply as TwiML. A message Twilio delivers again gets the same answer without being
/// processed twice.
#[utoipa::path(
    post,
    path = "/api/v2/webhooks/twilio/sms",
    tag = "webhooks",
    request_body(content = InboundSmsForm, content_type = "application/x-www-form-urlencoded"),
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's signature of the URL and parameters")),
    responses(
        (status = 200, description = "TwiML with the reply", body = String, content_type = "text/xml"),
        (status = 403, description = "Missing or wrong signature, or another account (ERR_WEBHOOK_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn inbound_sms(
    state: web::Data<ApiState>,
    request: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let params = signed_params(&state, &request, form)?;
    let (Some(message_sid), Some(from)) = (param(&params, "MessageSid"), param(&params, "From"))
    else {
        return Ok(twiml_response(None));
    };
    let Ok(from) = PhoneNumber::parse(from) else {
        // Not a phone number we could have on file (a short code, another channel).
        return Ok(twiml_response(None));
    };
    limit_webhook_number(&state, from.as_str()).await?;
    let sms = IncomingSms {
        message_sid: message_sid.to_owned(),
        from,
        body: param(&params, "Body").unwrap_or_default().to_owned(),
    };
    let reply = state.sms.inbound.receive(&sms).await?;
    Ok(twiml_response(reply.as_deref()))
}

/// The query of the status callback address the outbox gives Twilio.
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    sms_id: Option<uuid::Uuid>,
}

/// Receive a delivery report.
///
/// Verifies `X-Twilio-Signature`, then moves the message's SMS-log entry forward (queued -> sent
/// -> delivered, undelivered or failed); a late or repeated report changes nothing. Answers 204,
/// also for a message we do not know.
#[utoipa::path(
    post,
    path = "/api/v2/webhooks/twilio/status",
    tag = "webhooks",
    request_body(content = StatusCallbackForm, content_type = "application/x-www-form-urlencoded"),
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's signature of the URL and parameters")),
    responses(
        (status = 204, description = "Report taken"),
        (status = 403, description = "Missing or wrong signature, or another account (ERR_WEBHOOK_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delivery_status(
    state: web::Data<ApiState>,
    request: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let params = signed_params(&state, &request, form)?;
    if let Some(recipient) = param(&params, "To") {
        limit_webhook_number(&state, recipient).await?;
    }
    let message_sid = param(&params, "MessageSid").or_else(|| param(&params, "SmsSid"));
    let status = param(&params, "MessageStatus")
        .or_else(|| param(&params, "SmsStatus"))
        .and_then(SmsStatus::from_provider);
    if let (Some(message_sid), Some(status)) = (message_sid, status) {
        let error_code = param(&params, "ErrorCode").map(str::to_owned);
        // Our callback address names the entry, so a report settles a send whose answer was
        // lost (the signature covers the query, so nobody else can name one).
        let entry = web::Query::<CallbackQuery>::from_query(request.query_string())
            .ok()
            .and_then(|query| query.sms_id)
            .map(SmsLogId::from_uuid);
        state
            .sms
            .outbox
            .apply_delivery_report(message_sid, entry, status, error_code)
            .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The form's parameters, once Twilio's signature of exactly this URL and these parameters is
/// checked; refused otherwise.
fn signed_params(
    state: &ApiState,
    request: &HttpRequest,
    form: web::Form<Vec<(String, String)>>,
) -> Result<Vec<(String, String)>, ApiError> {
    let params = form.into_inner();
    let url = signed_url(state, request);
    let signature = request
        .headers()
        .get("X-Twilio-Signature")
        .and_then(|value| value.to_str().ok());
    state
        .sms
        .gate
        .check(&SignedRequest {
            url: &url,
            params: &params,
            signature,
        })
        .map_err(|refused| {
            tracing::warn!(reason = %refused, "webhook refused");
            ApiError::from(refused)
        })?;
    Ok(params)
}

/// The URL Twilio called: PUBLIC_BASE_URL (what Twilio sees, in front of any proxy) with this
/// request's path and query; without it, the address the request came to.
fn signed_url(state: &ApiState, request: &HttpRequest) -> String {
    let path_and_query = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.path(), |pq| pq.as_str());
    match &state.settings.public_base_url {
        Some(base) => format!("{base}{path_and_query}"),
        None => {
            let connection = request.connection_info();
            format!(
                "{}://{}{path_and_query}",
                connection.scheme(),
                connection.host()
            )
        }
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}
