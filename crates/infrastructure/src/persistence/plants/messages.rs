use application::{
    chat::MessageRepository,
    paging::{Page, PageRequest},
    store::StoreError,
};
use async_trait::async_trait;
use domain::{
    chat::{Message, MessageId},
    identity::TenantId,
    plants::UserPlantId,
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::persistence::{
    Database,
    entities::messages,
    store_error::{corrupt, store_error},
};

/// Conversation messages, scoped by tenant and plant.
#[derive(Debug, Clone)]
pub struct SeaOrmMessageRepository {
    db: Database,
}

impl SeaOrmMessageRepository {
    /// A repository over `db`.
    #[must_use]
    pub const fn new(db: Database) -> Self {
        Self { db }
    }
}

/// A stored message row as the domain's message.
pub(super) fn to_domain(row: messages::Model) -> Result<Message, StoreError> {
    Ok(Message {
        id: MessageId::from_uuid(row.id),
        plant_id: UserPlantId::from_uuid(row.user_plant_id),
        direction: row.direction.parse().map_err(corrupt)?,
        channel: row.channel.parse().map_err(corrupt)?,
        body: row.body,
        source: row
            .source
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(corrupt)?,
        created_at: row.created_at,
    })
}

fn to_row(tenant_id: TenantId, message: &Message) -> messages::ActiveModel {
    messages::ActiveModel {
        id: Set(message.id.as_uuid()),
        tenant_id: Set(tenant_id.as_uuid()),
        user_plant_id: Set(message.plant_id.as_uuid()),
        direction: Set(message.direction.as_str().to_owned()),
        channel: Set(message.channel.as_str().to_owned()),
        body: Set(message.body.clone()),
        source: Set(message.source.map(|source| source.as_str().to_owned())),
        created_at: Set(message.created_at),
    }
}

/// Newest first: ids are UUID v7, so they order messages by creation, ties included.
fn of_plant(tenant_id: TenantId, plant_id: UserPlantId) -> sea_orm::Select<messages::Entity> {
    messages::Entity::find()
        .filter(messages::Column::TenantId.eq(tenant_id.as_uuid()))
        .filter(messages::Column::UserPlantId.eq(plant_id.as_uuid()))
        .order_by_desc(messages::Column::Id)
}

#[async_trait]
impl MessageRepository for SeaOrmMessageRepository {
    #[tracing::instrument(name = "db.messages.recent", skip_all, fields(count))]
    async fn recent(
        &self,
        tenant_id: TenantId,
        plant_id: UserPlantId,
        count: u64,
    ) -> Result<Vec<Message>, StoreError> {
        of_plant(tenant_id, plant_id)
            .limit(count)
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(to_domain)
            .collect()
    }

    #[tracing::instrument(name = "db.messages.append_exchange", skip_all)]
    async fn append_exchange(
        &self,
        tenant_id: TenantId,
        message: &Message,
        reply: &Message,
    ) -> Result<(), StoreError> {
        // One multi-row INSERT: a statement is atomic on its own, so both rows or neither are
        // written without the two round trips of BEGIN and COMMIT.
        messages::Entity::insert_many([to_row(tenant_id, message), to_row(tenant_id, reply)])
            .exec_without_returning(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.messages.append", skip_all)]
    async fn append(&self, tenant_id: TenantId, message: &Message) -> Result<(), StoreError> {
        messages::Entity::insert(to_row(tenant_id, message))
            .exec_without_returning(self.db.connection())
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(name = "db.messages.history", skip_all, fields(limit = page.limit))]
    async fn history(
        &self,
        tenant_id: TenantId,
        plant_id: UserPlantId,
        page: PageRequest,
    ) -> Result<Page<Message>, StoreError> {
        let mut query = of_plant(tenant_id, plant_id);
        if let Some(after) = page.after {
            query = query.filter(messages::Column::Id.lt(after));
        }
        let messages = query
            .limit(page.limit + 1)
            .all(self.db.connection())
            .await
            .map_err(store_error)?
            .into_iter()
            .map(to_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetched(messages, page.limit, |m| {
            m.id.as_uuid()
        }))
    }
}
