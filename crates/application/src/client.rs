//! Whether the client that asked for the operation being run is still waiting for its answer,
//! so that costly work nobody will read (a queued password hash) need not start. The edge tells
//! it per request ([`serve`]); the adapters doing such work ask ([`current`]).

use std::{fmt, future::Future, sync::Arc};

tokio::task_local! {
    static CLIENT: Option<ClientPresence>;
}

/// A check of whether the client is still there. Cheap, and never blocks.
#[derive(Clone)]
pub struct ClientPresence(Arc<dyn Fn() -> bool + Send + Sync>);

impl ClientPresence {
    /// A presence answered by `is_waiting`.
    pub fn new(is_waiting: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Self(Arc::new(is_waiting))
    }

    /// Whether the client still waits for the answer.
    #[must_use]
    pub fn is_waiting(&self) -> bool {
        (self.0)()
    }
}

impl fmt::Debug for ClientPresence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientPresence").finish_non_exhaustive()
    }
}

/// Runs `operation` on behalf of a client whose presence `presence` tells (`None`: the edge
/// cannot tell, and the client counts as waiting).
pub async fn serve<F: Future>(presence: Option<ClientPresence>, operation: F) -> F::Output {
    CLIENT.scope(presence, operation).await
}

/// The presence of the client the running operation serves, when the edge told one.
#[must_use]
pub fn current() -> Option<ClientPresence> {
    CLIENT.try_with(Clone::clone).ok().flatten()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn an_operation_sees_the_presence_it_was_served_with_and_no_other() {
        let here = Arc::new(AtomicBool::new(true));
        let seen = Arc::clone(&here);
        let presence = ClientPresence::new(move || seen.load(Ordering::SeqCst));

        let inside = serve(Some(presence), async {
            let before = current().map(|client| client.is_waiting());
            here.store(false, Ordering::SeqCst);
            (before, current().map(|client| client.is_waiting()))
        })
        .await;

        assert_eq!(inside, (Some(true), Some(false)));
        assert!(current().is_none(), "nothing outside");
        assert!(
            serve(None, async { current().is_none() }).await,
            "nothing told"
        );
    }
}
