//! Handlers of `/api/v2/plants/{id}/chat` and `/api/v2/plants/{id}/messages`.

use actix_web::{HttpResponse, web};
use application::plants::Owner;
use domain::{
    chat::{Channel, ChatText},
    plants::UserPlantId,
};
use uuid::Uuid;

use super::documents::{ChatReplyDocument, ChatRequest, MessageDocument};
use crate::json_body::JsonBody;
use crate::{
    ApiState,
    errors::{ApiError, Problem},
    identity::extractors::Authenticated,
    paging::{PageDocument, PageQuery},
};

/// Write to a plant and get its reply.
///
/// The reply comes from the chat model when it is configured and answers, else from the
/// personality's templates (`source: "fallback"`): a failing model never fails this call.
#[utoipa::path(
    post,
    path = "/api/v2/plants/{id}/chat",
    tag = "plants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Plant id")),
    request_body = ChatRequest,
    responses(
        (status = 200, description = "The plant's reply", body = ChatReplyDocument),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plants (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`message` missing, blank or over 1000 characters (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn chat(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    body: JsonBody<ChatRequest>,
) -> Result<HttpResponse, ApiError> {
    let text = ChatText::try_from(body.into_inner())?;
    let reply = state
        .conversations
        .chat(
            Owner::from(&principal),
            UserPlantId::from_uuid(id.into_inner()),
            &text,
            Channel::Web,
        )
        .await?;
    Ok(HttpResponse::Ok().json(ChatReplyDocument::from(&reply)))
}

/// The conversation with a plant, newest first.
#[utoipa::path(
    get,
    path = "/api/v2/plants/{id}/messages",
    tag = "plants",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Plant id"), PageQuery),
    responses(
        (status = 200, description = "One page of messages, newest first", body = PageDocument<MessageDocument>),
        (status = 401, description = "Missing or invalid access token (ERR_AUTH_001)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's plants (ERR_RESOURCE_001)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad `limit` or `cursor` (ERR_VALIDATION_001)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn messages(
    state: web::Data<ApiState>,
    Authenticated(principal): Authenticated,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.into_inner().try_into()?;
    let messages = state
        .conversations
        .history(
            Owner::from(&principal),
            UserPlantId::from_uuid(id.into_inner()),
            page,
        )
        .await?;
    Ok(HttpResponse::Ok().json(PageDocument::of(messages, |m| MessageDocument::from(&m))))
}
