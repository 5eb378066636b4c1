//! The account export, one page of one table at a time (SPEC §6.1): every row about a user, in
//! id order, so that an export's memory is one page whatever the account's size.

use application::{
    identity::ports::{ExportPage, ExportTable},
    store::StoreError,
};
use domain::{
    identity::{TenantId, UserId},
    sms::verification::redact_verification_code,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::Query,
};
use uuid::Uuid;

use crate::persistence::{
    entities::{
        admin_audit_log, compliance_audit, gardens, inbound_sms, messages, phone_verifications,
        planting_events, plantings, sms_log, user_plants, users,
    },
    store_error::{corrupt, store_error},
};

/// One page of `table` about the user `id` of `tenant`.
pub(super) async fn export_page<C: ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    id: UserId,
    table: ExportTable,
    after: Option<String>,
    limit: u64,
) -> Result<ExportPage, StoreError> {
    let (tenant, user) = (tenant.as_uuid(), id.as_uuid());
    let after_id = || {
        after
            .as_deref()
            .map(Uuid::parse_str)
            .transpose()
            .map_err(corrupt)
    };
    match table {
        ExportTable::Account => {
            let query = users::Entity::find()
                .filter(users::Column::TenantId.eq(tenant))
                .filter(users::Column::Id.eq(user));
            page(db, query, users::Column::Id, after_id()?, limit, |row| {
                row.id.to_string()
            })
            .await
            .map(|page| without(page, "password_hash"))
        }
        ExportTable::UserPlants => {
            let query = user_plants::Entity::find()
                .filter(user_plants::Column::TenantId.eq(tenant))
                .filter(user_plants::Column::UserId.eq(user));
            page(
                db,
                query,
                user_plants::Column::Id,
                after_id()?,
                limit,
                |row| row.id.to_string(),
            )
            .await
        }
        ExportTable::Messages => {
            let plants = Query::select()
                .column(user_plants::Column::Id)
                .from(user_plants::Entity)
                .and_where(user_plants::Column::TenantId.eq(tenant))
                .and_where(user_plants::Column::UserId.eq(user))
                .to_owned();
            let query = messages::Entity::find()
                .filter(messages::Column::TenantId.eq(tenant))
                .filter(messages::Column::UserPlantId.in_subquery(plants));
            page(db, query, messages::Column::Id, after_id()?, limit, |row| {
                row.id.to_string()
            })
            .await
        }
        ExportTable::SmsLog => {
            let query = sms_log::Entity::find()
                .filter(sms_log::Column::TenantId.eq(tenant))
                .filter(sms_log::Column::UserId.eq(user));
            let mut page = page(db, query, sms_log::Column::Id, after_id()?, limit, |row| {
                row.id.to_string()
            })
            .await?;
            // A code texted to a number proves its holder only if the account cannot read it
            // here.
            for row in &mut page.rows {
                if let Some(body) = row.get_mut("body")
                    && let Some(text) = body.as_str()
                {
                    *body = redact_verification_code(text).into();
                }
            }
            Ok(page)
        }
        ExportTable::InboundSms => {
            let mut query = inbound_sms::Entity::find()
                .filter(inbound_sms::Column::UserId.eq(user))
                .order_by_asc(inbound_sms::Column::MessageSid);
            if let Some(after) = after {
                query = query.filter(inbound_sms::Column::MessageSid.gt(after));
            }
            rows_to_page(
                query.limit(limit + 1).all(db).await.map_err(store_error)?,
                limit,
                |row| row.message_sid.clone(),
            )
        }
        ExportTable::PhoneVerifications => {
            let query = phone_verifications::Entity::find()
                .filter(phone_verifications::Column::UserId.eq(user));
            page(
                db,
                query,
                phone_verifications::Column::Id,
                after_id()?,
                limit,
                |row| row.id.to_string(),
            )
            .await
        }
        ExportTable::AdminAuditLog => {
            let query = admin_audit_log::Entity::find()
                .filter(admin_audit_log::Column::Target.eq(format!("user:{user}")));
            page(
                db,
                query,
                admin_audit_log::Column::Id,
                after_id()?,
                limit,
                |row| row.id.to_string(),
            )
            .await
        }
        ExportTable::Gardens => {
            let query = gardens::Entity::find()
                .filter(gardens::Column::TenantId.eq(tenant))
                .filter(gardens::Column::UserId.eq(user));
            page(db, query, gardens::Column::Id, after_id()?, limit, |row| {
                row.id.to_string()
            })
            .await
        }
        ExportTable::Plantings => {
            let query = plantings::Entity::find()
                .filter(plantings::Column::TenantId.eq(tenant))
                .filter(plantings::Column::UserId.eq(user));
            page(
                db,
                query,
                plantings::Column::Id,
                after_id()?,
                limit,
                |row| row.id.to_string(),
            )
            .await
        }
        ExportTable::PlantingEvents => {
            let query = planting_events::Entity::find()
                .filter(planting_events::Column::TenantId.eq(tenant))
                .filter(planting_events::Column::UserId.eq(user));
            page(
                db,
                query,
                planting_events::Column::Id,
                after_id()?,
                limit,
                |row| row.id.to_string(),
            )
            .await
        }
        ExportTable::ComplianceAudit => {
            let query = compliance_audit::Entity::find()
                .filter(compliance_audit::Column::TenantId.eq(tenant))
                .filter(compliance_audit::Column::UserId.eq(user));
            page(
                db,
                query,
                compliance_audit::Column::Id,
                after_id()?,
                limit,
                |row| row.id.to_string(),
            )
            .await
        }
    }
}

/// The page of `query` after `after` in `id` order.
async fn page<C, E>(
    db: &C,
    query: Select<E>,
    id: E::Column,
    after: Option<Uuid>,
    limit: u64,
    key: impl Fn(&E::Model) -> String,
) -> Result<ExportPage, StoreError>
where
    C: ConnectionTrait,
    E: EntityTrait,
    E::Model: serde::Serialize,
{
    let mut query = query.order_by_asc(id);
    if let Some(after) = after {
        query = query.filter(id.gt(after));
    }
    let rows = query.limit(limit + 1).all(db).await.map_err(store_error)?;
    rows_to_page(rows, limit, key)
}

/// A page of at most `limit` of `rows` (read one more, to know whether another page follows).
fn rows_to_page<M: serde::Serialize>(
    mut rows: Vec<M>,
    limit: u64,
    key: impl Fn(&M) -> String,
) -> Result<ExportPage, StoreError> {
    let limit = usize::try_from(limit).map_err(corrupt)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_after = if more { rows.last().map(&key) } else { None };
    let rows = rows
        .iter()
        .map(|row| serde_json::to_value(row).map_err(corrupt))
        .collect::<Result<_, _>>()?;
    Ok(ExportPage { rows, next_after })
}

/// The page without the column `name` (a secret the export never shows).
fn without(mut page: ExportPage, name: &str) -> ExportPage {
    for row in &mut page.rows {
        if let Some(object) = row.as_object_mut() {
            object.remove(name);
        }
    }
    page
}
