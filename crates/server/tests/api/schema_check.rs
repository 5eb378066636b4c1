//! The startup schema check refuses a database behind the binary (without AUTO_MIGRATE) and a
//! database ahead of it (always).

use application::ops::SchemaCheckError;
use migration::{Migrator, MigratorTrait, sea_orm::ConnectionTrait};
use plant_texts_server::startup::{Application, StartupError};

use crate::helpers::{
    Backend, TestDatabase, connect, on_both_backends, spawn_app_on, test_settings,
};

on_both_backends! {
    async fn pending_migrations_are_refused_and_listed_without_auto_migrate(backend: Backend) {
        let database = TestDatabase::empty(backend).await;
        let db = connect(&database.url).await;
        Migrator::up(&db, Some(1)).await.expect("first migration only");

        let error = Application::build(&test_settings(&database, &[("AUTO_MIGRATE", "false")]))
            .await
            .expect_err("startup is refused");

        let StartupError::Schema(SchemaCheckError::Pending(pending)) = error else {
            panic!("unexpected error: {error:?}");
        };
        let expected: Vec<String> = Migrator::migrations().iter().skip(1).map(|m| m.name().to_owned()).collect();
        assert_eq!(pending, expected);
    }

    async fn pending_migrations_are_applied_with_auto_migrate(backend: Backend) {
        let database = TestDatabase::empty(backend).await;

        let app = spawn_app_on(database, &[("AUTO_MIGRATE", "true")]).await;

        let db = connect(&app.database.url).await;
        assert!(Migrator::get_pending_migrations(&db).await.expect("readable").is_empty());
    }

    async fn a_database_newer_than_the_binary_is_refused_even_with_auto_migrate(backend: Backend) {
        let database = TestDatabase::migrated(backend).await;
        let db = connect(&database.url).await;
        db.execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_from_the_future', 0)",
        )
        .await
        .expect("record a migration this binary does not know");

        let error = Application::build(&test_settings(&database, &[("AUTO_MIGRATE", "true")]))
            .await
            .expect_err("startup is refused");

        let StartupError::Schema(SchemaCheckError::NewerThanBinary(unknown)) = error else {
            panic!("unexpected error: {error:?}");
        };
        assert_eq!(unknown, ["m20991231_000001_from_the_future"]);
    }
}
