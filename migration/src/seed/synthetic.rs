//! A synthetic data set for capacity planning and load tests: users with gardens, plantings and
//! planting events, generated from a seed so that the same arguments give the same rows.
//!
//! Rows go in batches of a few hundred per statement, inside one transaction, into a tenant of
//! their own (`synthetic`), so a run never mixes with real accounts and is refused when the
//! tenant exists already.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbErr, TransactionSession, TransactionTrait, Value},
};
use uuid::Uuid;

/// The slug of the tenant synthetic accounts belong to.
pub const SYNTHETIC_TENANT: &str = "synthetic";

/// The password of every synthetic account, for load tests that log in.
pub const SYNTHETIC_PASSWORD: &str = "synthetic gardener of the load test";

/// The argon2id hash (OWASP parameters) of [`SYNTHETIC_PASSWORD`].
const SYNTHETIC_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3ludGhldGljLXNlZWQtc2FsdA$SpSTlF6hYzvRCbGuqYrS8kvCeOnqbZQUk9cl8Y5JKR4";

/// Rows per INSERT statement: well under both databases' limits on bound parameters.
const BATCH: usize = 500;

/// How much to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticSize {
    /// Accounts.
    pub users: u64,
    /// Gardens, spread over the accounts.
    pub gardens: u64,
    /// Plantings, spread over the gardens.
    pub plantings: u64,
    /// Planting events, spread over the plantings.
    pub events: u64,
    /// The seed of the generator: the same seed gives the same data.
    pub seed: u64,
}

impl Default for SyntheticSize {
    fn default() -> Self {
        Self {
            users: 100,
            gardens: 1_000,
            plantings: 10_000,
            events: 10_000,
            seed: 42,
        }
    }
}

/// SplitMix64: small, fast and reproducible; quality enough for test data.
#[derive(Debug)]
struct Generator(u64);

impl Generator {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % std::cmp::max(bound, 1)
    }

    /// A UUID v7 for the `n`th row of a table: time-ordered like real ids, and reproducible.
    fn id(&mut self, base_ms: u64, n: u64) -> Uuid {
        let random = (u128::from(self.next()) << 64) | u128::from(self.next());
        uuid::Builder::from_unix_timestamp_millis(
            base_ms + n,
            &random.to_le_bytes()[..10].try_into().unwrap_or([0; 10]),
        )
        .into_uuid()
    }
}

fn index(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Inserts `rows` into `table` in batches, reporting progress after each.
async fn insert_batched<C: ConnectionTrait>(
    db: &C,
    table: &'static str,
    columns: &[&'static str],
    rows: Vec<Vec<Value>>,
    progress: &mut impl FnMut(&str, u64, u64),
) -> Result<(), DbErr> {
    let total = rows.len() as u64;
    let mut done = 0;
    for chunk in rows.chunks(BATCH) {
        let mut insert = Query::insert();
        insert.into_table(table).columns(columns.iter().copied());
        for row in chunk {
            insert
                .values(row.iter().cloned().map(SimpleExpr::from))
                .map_err(|error| DbErr::Custom(error.to_string()))?;
        }
        db.execute(&insert).await?;
        done += chunk.len() as u64;
        progress(table, done, total);
    }
    Ok(())
}

/// What a synthetic run inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticReport {
    /// The size asked for.
    pub size: SyntheticSize,
}

/// Generates the data set `size` describes, in one transaction; `progress(table, done, total)`
/// is called after each batch.
///
/// # Errors
/// The `synthetic` tenant exists already, the catalog is empty, or a statement failed; nothing
/// is then inserted.
pub async fn run<C>(
    db: &C,
    size: SyntheticSize,
    mut progress: impl FnMut(&str, u64, u64),
) -> Result<SyntheticReport, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut generator = Generator(size.seed);
    // 2026-01-01T00:00:00Z: every timestamp derives from it, so a run is reproducible.
    let base_ms: u64 = 1_767_225_600_000;
    let at = |offset_ms: u64| {
        chrono::DateTime::from_timestamp_millis(
            <i64 as TryFrom<u64>>::try_from(base_ms + offset_ms).unwrap_or(0),
        )
        .unwrap_or_default()
    };
    let txn = db.begin().await?;
    let existing = txn
        .query_one(
            &Query::select()
                .column("id")
                .from("tenants")
                .and_where(Expr::col("slug").eq(SYNTHETIC_TENANT))
                .to_owned(),
        )
        .await?;
    if existing.is_some() {
        return Err(DbErr::Custom(format!(
            "the `{SYNTHETIC_TENANT}` tenant exists: the synthetic data is there already \
             (`cargo xtask db reset` starts over)"
        )));
    }
    let species: Vec<Uuid> = txn
        .query_all(
            &Query::select()
                .column("id")
                .from("catalog_plants")
                .and_where(Expr::col("restricted").eq(false))
                .order_by("common_name", Order::Asc)
                .to_owned(),
        )
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect::<Result<_, _>>()?;
    if species.is_empty() {
        return Err(DbErr::Custom(
            "the catalog is empty: run `cargo xtask db seed` first".to_owned(),
        ));
    }

    let tenant = generator.id(base_ms, 0);
    txn.execute(
        &Query::insert()
            .into_table("tenants")
            .columns(["id", "slug", "name", "signup_open", "created_at"])
            .values_panic([
                tenant.into(),
                SYNTHETIC_TENANT.into(),
                "Synthetic load-test data".into(),
                false.into(),
                at(0).into(),
            ])
            .to_owned(),
    )
    .await?;

    let users: Vec<Uuid> = (0..size.users).map(|n| generator.id(base_ms, n)).collect();
    let rows = users
        .iter()
        .enumerate()
        .map(|(n, id)| {
            vec![
                (*id).into(),
                tenant.into(),
                format!("gardener-{n}@synthetic.example").into(),
                format!("Synthetic Gardener {n}").into(),
                SYNTHETIC_PASSWORD_HASH.into(),
                "member".into(),
                at(n as u64).into(),
                at(n as u64).into(),
            ]
        })
        .collect();
    let user_columns = [
        "id",
        "tenant_id",
        "email",
        "full_name",
        "password_hash",
        "role",
        "created_at",
        "updated_at",
    ];
    insert_batched(&txn, "users", &user_columns, rows, &mut progress).await?;

    // (id, owner, width, length)
    let gardens: Vec<(Uuid, Uuid, u64, u64)> = (0..size.gardens)
        .map(|n| {
            let owner = users[index(generator.below(size.users))];
            let width = 5 + generator.below(46);
            let length = 5 + generator.below(46);
            (generator.id(base_ms, n), owner, width, length)
        })
        .collect();
    let rows = gardens
        .iter()
        .enumerate()
        .map(|(n, (id, owner, width, length))| {
            vec![
                (*id).into(),
                tenant.into(),
                (*owner).into(),
                format!("Plot {n}").into(),
                <i32 as TryFrom<u64>>::try_from(*width).unwrap_or(1).into(),
                <i32 as TryFrom<u64>>::try_from(*length).unwrap_or(1).into(),
                at(n as u64).into(),
                at(n as u64).into(),
            ]
        })
        .collect();
    let garden_columns = [
        "id",
        "tenant_id",
        "user_id",
        "name",
        "width",
        "length",
        "created_at",
        "updated_at",
    ];
    if !gardens.is_empty() {
        insert_batched(&txn, "gardens", &garden_columns, rows, &mut progress).await?;
    }

    // (id, owner)
    let mut plantings: Vec<(Uuid, Uuid)> = Vec::new();
    let mut rows = Vec::new();
    for n in 0..if gardens.is_empty() {
        0
    } else {
        size.plantings
    } {
        let (garden, owner, width, length) = gardens[index(generator.below(size.gardens))];
        let status = match generator.below(20) {
            0..=11 => "active",
            12..=16 => "planned",
            17..=18 => "harvested",
            _ => "removed",
        };
        let id = generator.id(base_ms, n);
        rows.push(vec![
            id.into(),
            tenant.into(),
            owner.into(),
            garden.into(),
            species[index(generator.below(species.len() as u64))].into(),
            <i32 as TryFrom<u64>>::try_from(generator.below(width))
                .unwrap_or(0)
                .into(),
            <i32 as TryFrom<u64>>::try_from(generator.below(length))
                .unwrap_or(0)
                .into(),
            status.into(),
            at(n).into(),
            at(n).into(),
        ]);
        plantings.push((id, owner));
    }
    let planting_columns = [
        "id",
        "tenant_id",
        "user_id",
        "garden_id",
        "catalog_plant_id",
        "x",
        "y",
        "status",
        "created_at",
        "updated_at",
    ];
    if !rows.is_empty() {
        insert_batched(&txn, "plantings", &planting_columns, rows, &mut progress).await?;
    }

    const KINDS: [&str; 6] = [
        "sown",
        "watered",
        "fertilized",
        "pruned",
        "harvested",
        "note",
    ];
    let mut rows = Vec::new();
    for n in 0..if plantings.is_empty() { 0 } else { size.events } {
        let (planting, owner) = plantings[index(generator.below(plantings.len() as u64))];
        rows.push(vec![
            generator.id(base_ms, n).into(),
            tenant.into(),
            owner.into(),
            planting.into(),
            KINDS[index(generator.below(KINDS.len() as u64))].into(),
            at(n * 1_000).into(),
            at(n * 1_000).into(),
        ]);
    }
    let event_columns = [
        "id",
        "tenant_id",
        "user_id",
        "planting_id",
        "kind",
        "occurred_at",
        "created_at",
    ];
    if !rows.is_empty() {
        insert_batched(&txn, "planting_events", &event_columns, rows, &mut progress).await?;
    }
    txn.commit().await?;
    Ok(SyntheticReport { size })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_generates_the_same_ids_and_another_seed_others() {
        let ids = |seed| {
            let mut generator = Generator(seed);
            (0..3).map(|n| generator.id(0, n)).collect::<Vec<_>>()
        };
        assert_eq!(ids(7), ids(7));
        assert_ne!(ids(7), ids(8));
        assert!(
            ids(7).windows(2).all(|pair| pair[0] < pair[1]),
            "time-ordered"
        );
        assert_eq!(ids(7)[0].get_version_num(), 7);
    }
}
