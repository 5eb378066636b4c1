//! A fixed pool of password-hashing threads: `concurrency` threads, each owning one argon2 work
//! area that is allocated once and reused for every hash, fed by a queue of at most `queue`
//! jobs. A job beyond the queue is refused at once (503 at the edge). Memory stays at
//! `concurrency` work areas whatever the load — instead of 19 MiB allocated per hash on a
//! blocking pool of up to 512 threads whose allocator keeps what they free.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
    mpsc::{self, Receiver, SyncSender, TrySendError},
};

use application::identity::ports::HasherError;

/// How much hashing may run and wait at once (`HASH_CONCURRENCY`, `HASH_QUEUE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashing threads, each running one hash at a time.
    pub concurrency: usize,
    /// Hashes waiting for a thread.
    pub queue: usize,
}

impl HashingLimits {
    /// One hashing thread per CPU, 64 waiting (SPEC §3).
    #[must_use]
    pub fn per_cpu() -> Self {
        Self {
            concurrency: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            queue: 64,
        }
    }
}

/// A hashing thread's reusable argon2 work area: a hasher that keeps its memory from one hash
/// to the next, growing it only for a hash that asks for more.
pub(crate) type WorkArea = argon2_rust::Hasher;

/// An empty work area; its memory is taken by the first hash.
pub(crate) fn new_work_area() -> WorkArea {
    argon2_rust::Argon2::new(
        argon2_rust::Algorithm::Argon2id,
        argon2_rust::Version::V0x13,
        argon2_rust::Params::DEFAULT,
    )
    .hasher()
}

type Job = Box<dyn FnOnce(&mut WorkArea) + Send>;

#[derive(Debug, Default)]
struct Counters {
    accepted: AtomicUsize,
    /// Jobs accepted and not yet finished or skipped: queued plus running.
    in_flight: AtomicUsize,
    running: AtomicUsize,
    peak_running: AtomicUsize,
}

/// Counts a job out of `in_flight` however it ends: run, skipped or panicked.
struct InFlight(Arc<Counters>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The pool. Cloning shares it; the threads end when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct HashingPool {
    jobs: SyncSender<Job>,
    /// Threads plus queue: how many jobs may be in flight at once.
    capacity: usize,
    /// Threads: beyond this many jobs in flight, a new one waits.
    concurrency: usize,
    counters: Arc<Counters>,
}

impl HashingPool {
    pub(crate) fn new(limits: HashingLimits) -> Self {
        let (jobs, receiver) = mpsc::sync_channel::<Job>(limits.queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..limits.concurrency.max(1) {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&receiver));
            if let Err(error) = spawned {
                // Fewer threads only means less hashing at once; the queue still bounds it.
                tracing::error!(%error, "a password-hashing thread could not start");
            }
        }
        Self {
            jobs,
            capacity: limits.concurrency.max(1) + limits.queue,
            concurrency: limits.concurrency.max(1),
            counters: Arc::new(Counters::default()),
        }
    }

    /// Whether a job submitted now would be accepted (racy by nature: a hint, not a promise).
    pub(crate) fn has_room(&self) -> bool {
        self.counters.in_flight.load(Ordering::SeqCst) < self.capacity
    }

    /// The most hashes that ever ran at once.
    pub(crate) fn peak_running(&self) -> usize {
        self.counters.peak_running.load(Ordering::SeqCst)
    }

    /// Runs `job` on a hashing thread with its work area, inside the caller's span.
    ///
    /// A caller that gives up (its future dropped, e.g. by the request timeout) before a thread
    /// took its job has the job skipped: no hash is started for a request nobody waits for. So
    /// does a job whose client left meanwhile ([`application::client`], told by the edge when
    /// the connection is closed): it is answered busy, which nobody reads.
    ///
    /// # Errors
    /// [`HasherError::Busy`] when every thread is busy and the queue is full; the job's own
    /// error otherwise.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut WorkArea) -> Result<T, HasherError> + Send + 'static,
    ) -> Result<T, HasherError> {
        let (answer, outcome) = tokio::sync::oneshot::channel();
        // Asked only of a job that must wait for a thread: one that starts at once is never
        // skipped, so a client that half-closes its connection is still served when idle.
        let client = application::client::current()
            .filter(|_| self.counters.in_flight.load(Ordering::SeqCst) >= self.concurrency);
        let span = tracing::Span::current();
        let counters = Arc::clone(&self.counters);
        self.counters.in_flight.fetch_add(1, Ordering::SeqCst);
        let in_flight = InFlight(Arc::clone(&self.counters));
        let queued: Job = Box::new(move |work_area| {
            let _in_flight = in_flight;
            if answer.is_closed() {
                return;
            }
            let _entered = span.enter();
            if client.is_some_and(|client| !client.is_waiting()) {
                tracing::debug!("password hash not started: the client has left");
                let _ = answer.send(Err(HasherError::Busy));
                return;
            }
            let now_running = counters.running.fetch_add(1, Ordering::SeqCst) + 1;
            counters
                .peak_running
                .fetch_max(now_running, Ordering::SeqCst);
            let result = job(work_area);
            counters.running.fetch_sub(1, Ordering::SeqCst);
            let _ = answer.send(result);
        });
        match self.jobs.try_send(queued) {
            Ok(()) => {
                self.counters.accepted.fetch_add(1, Ordering::SeqCst);
            }
            Err(TrySendError::Full(_)) => {
                tracing::warn!("password hashing at capacity; request refused");
                return Err(HasherError::Busy);
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(HasherError::Failed(
                    "the password-hashing threads have stopped".to_owned(),
                ));
            }
        }
        outcome.await.map_err(|_| {
            HasherError::Failed("a password-hashing thread dropped the job".to_owned())
        })?
    }
}

/// A hashing thread: takes jobs until the pool is dropped, with one work area for its life.
fn work(receiver: &Mutex<Receiver<Job>>) {
    let mut work_area = new_work_area();
    loop {
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match next {
            Ok(job) => {
                // A job that panics drops its answer (its caller gets an error) and leaves the
                // thread working; its work area is rebuilt, whatever state it was left in.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut work_area)))
                    .is_err()
                {
                    tracing::error!("a password-hashing job panicked");
                    work_area = new_work_area();
                }
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn blocked(
        hold: &Arc<Mutex<Receiver<()>>>,
    ) -> impl FnOnce(&mut WorkArea) -> Result<(), HasherError> + Send + 'static {
        let hold = Arc::clone(hold);
        move |_| {
            let _ = hold.lock().unwrap().recv_timeout(Duration::from_secs(5));
            Ok(())
        }
    }

    /// A job that raises `started` when a thread runs it.
    fn noting_its_start(
        started: &Arc<std::sync::atomic::AtomicBool>,
    ) -> impl FnOnce(&mut WorkArea) -> Result<(), HasherError> + Send + 'static {
        let started = Arc::clone(started);
        move |_| {
            started.store(true, Ordering::SeqCst);
            Ok(())
        }
    }

    /// A pool of one thread, busy with a job that runs until `release` is sent: what is run
    /// next must wait in the queue (room for four).
    async fn one_busy_thread() -> (
        HashingPool,
        mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), HasherError>>,
    ) {
        let pool = HashingPool::new(HashingLimits {
            concurrency: 1,
            queue: 4,
        });
        let (release, hold) = mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let occupying = {
            let (pool, job) = (pool.clone(), blocked(&hold));
            tokio::spawn(async move { pool.run(job).await })
        };
        while pool.counters.running.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        (pool, release, occupying)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_queue_work_is_refused_and_never_more_runs_than_allowed() {
        let pool = HashingPool::new(HashingLimits {
            concurrency: 2,
            queue: 3,
        });
        let (release, hold) = mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (pool, job) = (pool.clone(), blocked(&hold));
            tasks.push(tokio::spawn(async move { pool.run(job).await }));
        }
        while pool.counters.running.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        for _ in 0..18 {
            let (pool, job) = (pool.clone(), blocked(&hold));
            tasks.push(tokio::spawn(async move { pool.run(job).await }));
        }
        // The refusals answer at once; the five admitted wait for the releases.
        while tasks.iter().filter(|task| task.is_finished()).count() < 15 {
            tokio::task::yield_now().await;
        }
        let room_when_full = pool.has_room();
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
        assert_eq!(pool.peak_running(), 2);
        assert!(!room_when_full);
        assert!(
            pool.has_room(),
            "every slot is free again once the work is done"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_whose_caller_gave_up_while_queued_is_never_started() {
        let (pool, release, occupying) = one_busy_thread().await;
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let abandoned = {
            let pool = pool.clone();
            let job = noting_its_start(&started);
            tokio::spawn(async move { pool.run(job).await })
        };
        // The abandoned job reaches the queue, then its caller gives up.
        while pool.counters.accepted.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        abandoned.abort();
        let _ = abandoned.await;

        release.send(()).unwrap();
        occupying.await.unwrap().unwrap();
        // One more job through the single thread: by the time it has run, the abandoned job
        // has been taken off the queue, and skipped.
        pool.run(|_| Ok(())).await.unwrap();

        assert!(!started.load(Ordering::SeqCst));
        assert_eq!(
            pool.counters.in_flight.load(Ordering::SeqCst),
            0,
            "a skipped job gives its slot back"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_whose_client_left_while_queued_is_never_started() {
        use application::client::{ClientPresence, serve};

        let (pool, release, occupying) = one_busy_thread().await;
        let still_there = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let started = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let queued = {
            let pool = pool.clone();
            let job = noting_its_start(&started);
            let still_there = Arc::clone(&still_there);
            let presence = ClientPresence::new(move || still_there.load(Ordering::SeqCst));
            tokio::spawn(serve(Some(presence), async move { pool.run(job).await }))
        };
        while pool.counters.accepted.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }

        // The client closes its connection while its hash waits; the handler lives on.
        still_there.store(false, Ordering::SeqCst);
        release.send(()).unwrap();
        occupying.await.unwrap().unwrap();

        assert!(matches!(queued.await.unwrap(), Err(HasherError::Busy)));
        assert!(!started.load(Ordering::SeqCst));
        assert!(
            pool.run(|_| Ok(())).await.is_ok(),
            "work outside any client runs"
        );

        // A job that starts at once runs, whatever its client's connection says.
        let gone = ClientPresence::new(|| false);
        assert!(serve(Some(gone), pool.run(|_| Ok(()))).await.is_ok());
    }

    #[tokio::test]
    async fn a_thread_keeps_its_work_area_from_one_job_to_the_next() {
        let pool = HashingPool::new(HashingLimits {
            concurrency: 1,
            queue: 1,
        });
        let small = argon2_rust::Params::builder()
            .memory(argon2_rust::params::Memory::kib(64))
            .passes(1)
            .build()
            .unwrap();
        pool.run(move |area| {
            area.set_argon2(argon2_rust::Argon2::new(
                argon2_rust::Algorithm::Argon2id,
                argon2_rust::Version::V0x13,
                small,
            ));
            area.hash(b"password", b"somesalt").unwrap();
            Ok(())
        })
        .await
        .unwrap();

        let kept = pool.run(|area| Ok(area.reserved_blocks())).await.unwrap();

        assert_eq!(kept, 64);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_alone_and_the_thread_goes_on() {
        let pool = HashingPool::new(HashingLimits {
            concurrency: 1,
            queue: 1,
        });

        let panicked = pool
            .run(|_| -> Result<(), HasherError> { panic!("a bug") })
            .await;

        assert!(matches!(panicked, Err(HasherError::Failed(_))));
        assert_eq!(pool.counters.in_flight.load(Ordering::SeqCst), 0);
        assert_eq!(pool.run(|_| Ok(7)).await.unwrap(), 7);
    }
}
