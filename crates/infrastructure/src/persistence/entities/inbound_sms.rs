//! The `inbound_sms` table: provider message ids already received, and their answers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "inbound_sms")]
pub(crate) struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_sid: String,
    pub user_id: Option<Uuid>,
    pub reply: Option<String>,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub(crate) enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
