use std::time::Duration;

use async_trait::async_trait;

/// Waiting between attempts, injected so tests can see the waits without spending them.
#[async_trait]
pub trait Pause: Send + Sync + std::fmt::Debug {
    /// Waits `duration`.
    async fn pause(&self, duration: Duration);
}

/// Waits on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioPause;

#[async_trait]
impl Pause for TokioPause {
    async fn pause(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}
