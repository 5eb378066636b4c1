//! Request and response bodies of the plant routes, and their parsing into commands.

use application::{
    chat::ChatReply,
    plants::{CatalogSummary, NewPlant, OwnedPlant, PlantChanges},
};
use chrono::{DateTime, Utc};
use domain::{
    catalog::{CatalogPlantId, PersonalityKey},
    chat::{ChatText, Message},
    plants::Nickname,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{errors::ApiError, fields::FieldErrors};

/// POST /api/v2/plants
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreatePlantRequest {
    /// The species, from the catalog.
    pub catalog_plant_id: Option<Uuid>,
    /// 1-50 characters after trimming, no control characters; stored verbatim.
    #[schema(example = "Fernando")]
    pub nickname: Option<String>,
    /// A personality key; the species' default when absent.
    #[schema(example = "drama_queen")]
    pub personality: Option<String>,
}

impl TryFrom<CreatePlantRequest> for NewPlant {
    type Error = ApiError;

    fn try_from(request: CreatePlantRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let catalog_plant_id = request.catalog_plant_id.map(CatalogPlantId::from_uuid);
        if catalog_plant_id.is_none() {
            errors.add("catalog_plant_id", "is required");
        }
        let nickname = match request.nickname.as_deref() {
            None => {
                errors.add("nickname", "is required");
                None
            }
            Some(text) => Nickname::parse(text)
                .map_err(|error| errors.add("nickname", error))
                .ok(),
        };
        let personality = match request.personality.as_deref() {
            None => Some(None),
            Some(text) => PersonalityKey::parse(text)
                .map(Some)
                .map_err(|error| errors.add("personality", error))
                .ok(),
        };
        let plant = (|| {
            Some(Self {
                catalog_plant_id: catalog_plant_id?,
                nickname: nickname?,
                personality: personality?,
            })
        })();
        errors.finish(plant)
    }
}

/// PATCH /api/v2/plants/{id}: every field optional.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdatePlantRequest {
    /// A new nickname.
    pub nickname: Option<String>,
    /// A new personality key.
    pub personality: Option<String>,
    /// When to send the next watering reminder (RFC 3339).
    pub next_reminder_at: Option<DateTime<Utc>>,
}

impl TryFrom<UpdatePlantRequest> for PlantChanges {
    type Error = ApiError;

    fn try_from(request: UpdatePlantRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let nickname = request.nickname.as_deref().and_then(|text| {
            Nickname::parse(text)
                .map_err(|e| errors.add("nickname", e))
                .ok()
        });
        let personality = request.personality.as_deref().and_then(|text| {
            PersonalityKey::parse(text)
                .map_err(|e| errors.add("personality", e))
                .ok()
        });
        errors.finish(Some(Self {
            nickname,
            personality,
            next_reminder_at: request.next_reminder_at,
        }))
    }
}

/// The species of a plant.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlantCatalogDocument {
    /// Catalog id.
    pub id: Uuid,
    /// English name.
    #[schema(example = "Boston Fern")]
    pub common_name: String,
    /// Botanical name.
    pub scientific_name: String,
    /// Days between waterings.
    pub watering_interval_days: u32,
    /// Light it wants.
    pub light: String,
}

impl From<&CatalogSummary> for PlantCatalogDocument {
    fn from(summary: &CatalogSummary) -> Self {
        Self {
            id: summary.id.as_uuid(),
            common_name: summary.common_name.clone(),
            scientific_name: summary.scientific_name.clone(),
            watering_interval_days: summary.watering_interval_days,
            light: summary.light.as_str().to_owned(),
        }
    }
}

/// One of the caller's plants.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlantDocument {
    pub id: Uuid,
    /// What the owner calls it, exactly as stored.
    pub nickname: String,
    /// Its personality key.
    pub personality: String,
    /// Its species.
    pub catalog: PlantCatalogDocument,
    /// When it was last watered.
    pub last_watered_at: Option<DateTime<Utc>>,
    /// When the next watering reminder is due.
    pub next_reminder_at: Option<DateTime<Utc>>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&OwnedPlant> for PlantDocument {
    fn from(owned: &OwnedPlant) -> Self {
        let plant = &owned.plant;
        Self {
            id: plant.id.as_uuid(),
            nickname: plant.nickname.as_str().to_owned(),
            personality: plant.personality.as_str().to_owned(),
            catalog: PlantCatalogDocument::from(&owned.catalog),
            last_watered_at: plant.last_watered_at,
            next_reminder_at: plant.next_reminder_at,
            created_at: plant.created_at,
            updated_at: plant.updated_at,
        }
    }
}

/// POST /api/v2/plants/{id}/chat
#[derive(Debug, Deserialize, ToSchema)]
pub struct ChatRequest {
    /// 1-1000 characters.
    #[schema(example = "Do you need water?")]
    pub message: Option<String>,
}

impl TryFrom<ChatRequest> for ChatText {
    type Error = ApiError;

    fn try_from(request: ChatRequest) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::default();
        let text = errors.parse("message", request.message.as_deref(), ChatText::parse);
        errors.finish(text)
    }
}

/// The plant's reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatReplyDocument {
    /// What the plant says.
    pub reply: String,
    /// `ai` (the chat model) or `fallback` (the personality's templates).
    #[schema(example = "ai")]
    pub source: String,
    /// The id of the stored reply.
    pub message_id: Uuid,
}

impl From<&ChatReply> for ChatReplyDocument {
    fn from(reply: &ChatReply) -> Self {
        Self {
            reply: reply.reply.clone(),
            source: reply.source.as_str().to_owned(),
            message_id: reply.message_id.as_uuid(),
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDocument {
    pub id: Uuid,
    /// `inbound` (to the plant) or `outbound` (from the plant).
    pub direction: String,
    /// `web` or `sms`.
    pub channel: String,
    /// The text.
    pub body: String,
    /// For the plant's replies: `ai` or `fallback`.
    pub source: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

impl From<&Message> for MessageDocument {
    fn from(message: &Message) -> Self {
        Self {
            id: message.id.as_uuid(),
            direction: message.direction.as_str().to_owned(),
            channel: message.channel.as_str().to_owned(),
            body: message.body.clone(),
            source: message.source.map(|source| source.as_str().to_owned()),
            created_at: message.created_at,
        }
    }
}
