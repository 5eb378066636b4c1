//! Every migration goes up, up again (no-op), down to zero and up again, on SQLite and
//! PostgreSQL; an upgrade keeps the data in place; companion relationships cascade.

use migration::{
    Migrator, MigratorTrait, SchemaManager,
    sea_orm::{ConnectionTrait, DatabaseConnection, Statement},
};

use crate::helpers::{Backend, TestDatabase, connect, count, on_both_backends};

const TABLES: &[&str] = &[
    "tenants",
    "users",
    "refresh_tokens",
    "personalities",
    "catalog_plants",
    "companion_relationships",
    "user_plants",
    "messages",
    "sms_log",
    "admin_audit_log",
    "inbound_sms",
    "idempotency_keys",
    "phone_verifications",
    "job_runs",
    "gardens",
    "plantings",
    "planting_events",
    "compliance_audit",
    "feature_flags",
    "catalog_revision",
];

async fn existing_tables(db: &DatabaseConnection) -> Vec<&'static str> {
    let manager = SchemaManager::new(db);
    let mut found = Vec::new();
    for table in TABLES {
        if manager.has_table(*table).await.expect("schema is readable") {
            found.push(*table);
        }
    }
    found
}

async fn applied(db: &DatabaseConnection) -> usize {
    Migrator::get_applied_migrations(db)
        .await
        .expect("migrations readable")
        .len()
}

on_both_backends! {
    async fn every_migration_goes_up_down_to_zero_and_up_again(backend: Backend) {
        let database = TestDatabase::empty(backend).await;
        let db = connect(&database.url).await;
        let total = Migrator::migrations().len();

        Migrator::up(&db, None).await.expect("up from empty");
        assert_eq!(existing_tables(&db).await, TABLES);
        assert_eq!(applied(&db).await, total);

        Migrator::up(&db, None).await.expect("up again is a no-op");
        assert_eq!(applied(&db).await, total);

        for remaining in (0..total).rev() {
            Migrator::down(&db, Some(1)).await.expect("each down works");
            assert_eq!(applied(&db).await, remaining);
        }
        assert!(existing_tables(&db).await.is_empty(), "down to zero leaves no table");

        Migrator::up(&db, None).await.expect("up again after down");
        assert_eq!(existing_tables(&db).await, TABLES);
    }

    async fn an_upgrade_keeps_the_data_already_in_place(backend: Backend) {
        let database = TestDatabase::empty(backend).await;
        let db = connect(&database.url).await;
        Migrator::up(&db, Some(2)).await.expect("first two migrations");
        db.execute_unprepared(
            "INSERT INTO tenants (id, slug, name, signup_open, created_at) \
             VALUES ('0193a0a4-5b7e-7c1a-9d7e-2f0c1a2b3c4d', 'acme', 'Acme', true, '2026-01-01T00:00:00Z')",
        )
        .await
        .expect("insert a tenant");

        Migrator::up(&db, None).await.expect("the rest of the migrations");

        assert_eq!(count(&db, "SELECT COUNT(*) FROM tenants WHERE slug = 'acme'").await, 1);
    }

    async fn the_outbox_upgrade_looks_up_texts_left_pending_instead_of_resending_them(backend: Backend) {
        let database = TestDatabase::empty(backend).await;
        let db = connect(&database.url).await;
        let before_outbox = Migrator::migrations()
            .iter()
            .position(|migration| migration.name() == "m20261130_000010_sms_outbox")
            .expect("the outbox migration is listed");
        Migrator::up(&db, Some(u32::try_from(before_outbox).unwrap())).await.expect("every migration before the outbox");
        for (body, status) in [("Plant Texts code: 123456", "pending"), ("hi", "queued")] {
            let sql = "INSERT INTO sms_log (id, to_number, from_number, body, status, retry_count, created_at, updated_at) \
                       VALUES (?, '+15551234567', 'demo', ?, ?, 0, ?, ?)";
            let sql = if db.get_database_backend() == migration::sea_orm::DbBackend::Postgres {
                ["$1", "$2", "$3", "$4", "$5"].iter().fold(sql.to_owned(), |sql, n| sql.replacen('?', n, 1))
            } else {
                sql.to_owned()
            };
            let now = chrono::Utc::now();
            db.execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                sql,
                [uuid::Uuid::now_v7().into(), body.into(), status.into(), now.into(), now.into()],
            ))
            .await
            .expect("an SMS of the previous release");
        }

        Migrator::up(&db, None).await.expect("the outbox migration");

        assert_eq!(count(&db, "SELECT COUNT(*) FROM sms_log WHERE status = 'unknown' AND attempted_at IS NOT NULL AND purpose = 'verification'").await, 1);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM sms_log WHERE status = 'queued' AND attempted_at IS NULL AND purpose = 'message'").await, 1);
    }

    async fn the_seed_is_complete_and_idempotent(backend: Backend) {
        let database = TestDatabase::empty(backend).await;
        let db = connect(&database.url).await;
        Migrator::up(&db, None).await.expect("migrations");

        let first = migration::seed::run(&db).await.expect("first seed");
        let second = migration::seed::run(&db).await.expect("second seed");

        assert_eq!(first.tenants, 1);
        assert!(first.catalog_plants >= 60);
        assert!(first.personalities >= 4);
        assert!(first.companion_relationships > 0);
        assert_eq!(second, migration::seed::SeedReport::default(), "nothing is inserted twice");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM catalog_plants WHERE restricted AND common_name = 'Kudzu'").await, 1);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM companion_relationships c \
                        JOIN catalog_plants a ON a.id = c.plant_id JOIN catalog_plants b ON b.id = c.companion_id \
                        WHERE a.common_name = 'Tomato' AND b.common_name = 'Basil' AND c.kind = 'beneficial'").await,
            1
        );
    }

    async fn deleting_a_catalog_plant_deletes_its_companion_relationships(backend: Backend) {
        let database = TestDatabase::migrated(backend).await;
        let db = connect(&database.url).await;
        let tomato_pairs = "SELECT COUNT(*) FROM companion_relationships c JOIN catalog_plants p \
                            ON p.id = c.plant_id OR p.id = c.companion_id WHERE p.common_name = 'Tomato'";
        let total_before = count(&db, "SELECT COUNT(*) FROM companion_relationships").await;
        let of_tomato = count(&db, tomato_pairs).await;
        assert!(of_tomato >= 3);

        db.execute_unprepared("DELETE FROM catalog_plants WHERE common_name = 'Tomato'")
            .await
            .expect("delete a catalog plant");

        assert_eq!(count(&db, tomato_pairs).await, 0);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM companion_relationships").await, total_before - of_tomato);
    }
}
