//! A bounded pool for password hashing: at most `concurrency` hashes run at once and at most
//! `queue` wait; a request beyond that is refused at once (503 at the edge) instead of piling up
//! argon2's 19 MiB per hash on the shared blocking pool.

use std::sync::{
    Arc, Weak,
    atomic::{AtomicUsize, Ordering},
};

use application::identity::ports::HasherError;
use tokio::sync::Semaphore;

/// How much hashing may run and wait at once (`HASH_CONCURRENCY`, `HASH_QUEUE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes running at once.
    pub concurrency: usize,
    /// Hashes waiting for a slot.
    pub queue: usize,
}

impl HashingLimits {
    /// One hash per CPU, 64 waiting (SPEC §3).
    #[must_use]
    pub fn per_cpu() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            queue: 64,
        }
    }
}

/// The pool. Cloning shares it.
#[derive(Debug, Clone)]
pub(crate) struct HashingPool {
    slots: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    running: Arc<AtomicUsize>,
    peak_running: Arc<AtomicUsize>,
    queue: usize,
}

/// Leaves the queue when dropped, however the wait ends.
struct InQueue(Arc<AtomicUsize>);

impl Drop for InQueue {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashingPool {
    pub(crate) fn new(limits: HashingLimits) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(limits.concurrency.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            running: Arc::new(AtomicUsize::new(0)),
            peak_running: Arc::new(AtomicUsize::new(0)),
            queue: limits.queue,
        }
    }

    /// The most hashes that ever ran at once.
    pub(crate) fn peak_running(&self) -> usize {
        self.peak_running.load(Ordering::SeqCst)
    }

    /// Runs `work` on the blocking pool once a slot is free, inside the caller's span.
    ///
    /// A caller that gives up (its future dropped, e.g. by the request timeout) while waiting
    /// leaves the queue, and one that gives up before its work started on the blocking pool
    /// has it skipped: no hash is started for a request nobody waits for.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HasherError> + Send + 'static,
    ) -> Result<T, HasherError> {
        let slot = if let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() {
            slot
        } else {
            if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                tracing::warn!("password hashing at capacity; request refused");
                return Err(HasherError::Busy);
            }
            let _in_queue = InQueue(Arc::clone(&self.waiting));
            Arc::clone(&self.slots)
                .acquire_owned()
                .await
                .map_err(|error| HasherError::Failed(error.to_string()))?
        };
        let caller: Arc<()> = Arc::new(());
        let still_waiting: Weak<()> = Arc::downgrade(&caller);
        let span = tracing::Span::current();
        let running = Arc::clone(&self.running);
        let peak = Arc::clone(&self.peak_running);
        let outcome = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let _entered = span.enter();
            if still_waiting.upgrade().is_none() {
                return Err(HasherError::Failed(
                    "the caller gave up before hashing started".to_owned(),
                ));
            }
            let now_running = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now_running, Ordering::SeqCst);
            let result = work();
            running.fetch_sub(1, Ordering::SeqCst);
            result
        })
        .await
        .map_err(|error| HasherError::Failed(error.to_string()))?;
        drop(caller);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_queue_work_is_refused_and_never_more_runs_than_allowed() {
        let pool = HashingPool::new(HashingLimits {
            concurrency: 2,
            queue: 3,
        });
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(std::sync::Mutex::new(hold));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let pool = pool.clone();
            let hold = Arc::clone(&hold);
            tasks.push(tokio::spawn(async move {
                pool.run(move || {
                    // Each job waits for a release, so the first two hold their slots.
                    let _ = hold.lock().unwrap().recv_timeout(Duration::from_secs(5));
                    Ok(())
                })
                .await
            }));
        }
        // The refusals answer at once; the five admitted wait for the releases.
        while tasks.iter().filter(|task| task.is_finished()).count() < 15
            || pool.waiting.load(Ordering::SeqCst) < 3
        {
            tokio::task::yield_now().await;
        }
        for _ in 0..20 {
            let _ = release.send(());
        }
        let mut refused = 0;
        for task in tasks {
            if matches!(task.await.unwrap(), Err(HasherError::Busy)) {
                refused += 1;
            }
        }

        assert_eq!(
            refused, 15,
            "2 running + 3 waiting admitted, the rest refused"
        );
        assert!(pool.peak_running() <= 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_whose_caller_gave_up_while_queued_is_never_started() {
        let pool = HashingPool::new(HashingLimits {
            concurrency: 1,
            queue: 4,
        });
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let occupying = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = hold.recv_timeout(Duration::from_secs(5));
                    Ok(())
                })
                .await
            })
        };
        while pool.running.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let abandoned = {
            let pool = pool.clone();
            let started = Arc::clone(&started);
            tokio::spawn(async move {
                pool.run(move || {
                    started.store(true, Ordering::SeqCst);
                    Ok(())
                })
                .await
            })
        };
        while pool.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }

        abandoned.abort();
        let _ = abandoned.await;
        assert_eq!(pool.waiting.load(Ordering::SeqCst), 0, "it left the queue");
        release.send(()).unwrap();
        occupying.await.unwrap().unwrap();
        // One more job through the single slot: by the time it has run, any start of the
        // abandoned job would have happened.
        pool.run(|| Ok(())).await.unwrap();

        assert!(!started.load(Ordering::SeqCst));
    }
}
