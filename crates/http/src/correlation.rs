//! The ids that tie a request's log lines, problem bodies and trace together, kept where any
//! code running for the request finds them: the task serving it.
//!
//! A task-local rather than fields of the request's span, because the log formatter would
//! otherwise need every request span alive and recorded into, even at a level that logs
//! nothing (a fifth of `/health/live`'s throughput, measured in docs/benchmarks.md), and
//! because a warning logged with the request span filtered out still deserves its ids.

/// The ids of the request the current task serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlation {
    /// The `X-Request-ID` answered to the caller.
    pub request_id: String,
    /// 32 lower-case hex digits: the caller's trace, the exported span's, or a new one.
    pub trace_id: String,
    /// 16 lower-case hex digits.
    pub span_id: String,
}

tokio::task_local! {
    static CURRENT: Correlation;
}

/// Runs `future` (a request's work) with `correlation` as the current ids.
pub async fn scope<F: Future>(correlation: Correlation, future: F) -> F::Output {
    CURRENT.scope(correlation, future).await
}

/// Runs `work` (a request's synchronous tail) with `correlation` as the current ids.
pub fn sync_scope<R>(correlation: Correlation, work: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(correlation, work)
}

/// What `read` makes of the current request's ids; `None` outside a request.
pub fn with_current<R>(read: impl FnOnce(&Correlation) -> R) -> Option<R> {
    CURRENT.try_with(read).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Correlation {
        Correlation {
            request_id: "req-1".to_owned(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".to_owned(),
            span_id: "b7ad6b7169203331".to_owned(),
        }
    }

    #[test]
    fn outside_a_request_there_are_no_ids() {
        assert_eq!(with_current(Clone::clone), None);
    }

    #[test]
    fn inside_a_synchronous_scope_the_ids_are_found() {
        let found = sync_scope(ids(), || with_current(|ids| ids.request_id.clone()));
        assert_eq!(found.as_deref(), Some("req-1"));
        assert_eq!(with_current(Clone::clone), None);
    }

    #[tokio::test]
    async fn inside_an_asynchronous_scope_the_ids_are_found_across_awaits() {
        let found = scope(ids(), async {
            tokio::task::yield_now().await;
            with_current(Clone::clone)
        })
        .await;
        assert_eq!(found, Some(ids()));
    }
}
