use std::sync::Arc;

use async_trait::async_trait;

/// Applied and known migrations compared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaState {
    /// Migrations recorded in the database that this binary knows, oldest first.
    pub applied: Vec<String>,
    /// Migrations this binary knows that the database has not applied, oldest first.
    pub pending: Vec<String>,
    /// Migrations recorded in the database that this binary does not know: the database was
    /// migrated by a newer release.
    pub unknown: Vec<String>,
}

impl SchemaState {
    /// Whether the database matches the binary exactly.
    #[must_use]
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

/// A failure of the schema port itself (the database could not be read or written).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SchemaPortError {
    /// What went wrong, without secrets.
    pub message: String,
}

/// Reads and applies the migrations of the database.
#[async_trait]
pub trait SchemaMigrator: Send + Sync {
    /// Compares the migrations recorded in the database with those this binary knows.
    ///
    /// # Errors
    /// [`SchemaPortError`] when the database cannot be read.
    async fn state(&self) -> Result<SchemaState, SchemaPortError>;

    /// Applies every pending migration, oldest first.
    ///
    /// # Errors
    /// [`SchemaPortError`] when a migration fails; the failed migration is rolled back where the
    /// database supports transactional DDL.
    async fn apply_pending(&self) -> Result<(), SchemaPortError>;
}

/// Why the service may not start on this database.
#[derive(Debug, thiserror::Error)]
pub enum SchemaCheckError {
    /// Migrations are pending and automatic migration is off.
    #[error("the database schema is behind this binary; pending migrations: {}", .0.join(", "))]
    Pending(Vec<String>),
    /// The database holds migrations this binary does not know.
    #[error("the database schema is newer than this binary; unknown migrations: {}", .0.join(", "))]
    NewerThanBinary(Vec<String>),
    /// The schema could not be read or migrated.
    #[error("the database schema could not be checked")]
    Unexpected(#[from] SchemaPortError),
}

/// Use case: at startup, make sure the database schema matches this binary.
#[derive(Clone)]
pub struct EnsureSchema {
    migrator: Arc<dyn SchemaMigrator>,
}

impl std::fmt::Debug for EnsureSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnsureSchema").finish_non_exhaustive()
    }
}

impl EnsureSchema {
    /// A check over `migrator`.
    #[must_use]
    pub fn new(migrator: Arc<dyn SchemaMigrator>) -> Self {
        Self { migrator }
    }

    /// Applies pending migrations when `auto_migrate` is on, otherwise refuses them; always
    /// refuses a database that is newer than the binary. Returns the migrations it applied.
    ///
    /// # Errors
    /// [`SchemaCheckError`] says why the service must not start.
    #[tracing::instrument(name = "schema.ensure", skip_all, fields(auto_migrate))]
    pub async fn run(&self, auto_migrate: bool) -> Result<Vec<String>, SchemaCheckError> {
        let state = self.migrator.state().await?;
        if !state.unknown.is_empty() {
            return Err(SchemaCheckError::NewerThanBinary(state.unknown));
        }
        if state.pending.is_empty() {
            return Ok(Vec::new());
        }
        if !auto_migrate {
            return Err(SchemaCheckError::Pending(state.pending));
        }
        self.migrator.apply_pending().await?;
        tracing::info!(applied = state.pending.len(), "applied pending migrations");
        Ok(state.pending)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct FakeMigrator {
        state: Mutex<SchemaState>,
    }

    #[async_trait]
    impl SchemaMigrator for FakeMigrator {
        async fn state(&self) -> Result<SchemaState, SchemaPortError> {
            Ok(self
                .state
                .lock()
                .map_err(|_| SchemaPortError {
                    message: "poisoned".into(),
                })?
                .clone())
        }

        async fn apply_pending(&self) -> Result<(), SchemaPortError> {
            let mut state = self.state.lock().map_err(|_| SchemaPortError {
                message: "poisoned".into(),
            })?;
            let pending = std::mem::take(&mut state.pending);
            state.applied.extend(pending);
            Ok(())
        }
    }

    fn migrator(pending: &[&str], unknown: &[&str]) -> Arc<FakeMigrator> {
        Arc::new(FakeMigrator {
            state: Mutex::new(SchemaState {
                applied: vec!["m1".into()],
                pending: pending.iter().map(|s| (*s).to_owned()).collect(),
                unknown: unknown.iter().map(|s| (*s).to_owned()).collect(),
            }),
        })
    }

    #[tokio::test]
    async fn pending_migrations_are_applied_when_auto_migrate_is_on() {
        let fake = migrator(&["m2", "m3"], &[]);
        let applied = EnsureSchema::new(fake.clone()).run(true).await.unwrap();
        assert_eq!(applied, ["m2", "m3"]);
        assert!(fake.state().await.unwrap().is_current());
    }

    #[tokio::test]
    async fn pending_migrations_are_refused_and_listed_when_auto_migrate_is_off() {
        let error = EnsureSchema::new(migrator(&["m2", "m3"], &[]))
            .run(false)
            .await
            .unwrap_err();
        assert!(matches!(&error, SchemaCheckError::Pending(p) if p == &["m2", "m3"]));
        assert_eq!(
            error.to_string(),
            "the database schema is behind this binary; pending migrations: m2, m3"
        );
    }

    #[tokio::test]
    async fn a_database_newer_than_the_binary_is_refused_even_with_auto_migrate() {
        let error = EnsureSchema::new(migrator(&[], &["m9"]))
            .run(true)
            .await
            .unwrap_err();
        assert!(matches!(error, SchemaCheckError::NewerThanBinary(u) if u == ["m9"]));
    }

    #[tokio::test]
    async fn a_current_schema_needs_nothing() {
        let applied = EnsureSchema::new(migrator(&[], &[]))
            .run(false)
            .await
            .unwrap();
        assert!(applied.is_empty());
    }
}
