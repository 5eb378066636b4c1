//! Background workers: reminders every minute; every 30 seconds the outbox (pending texts
//! nobody holds, due retries, unknown outcomes looked up); the daily retention job looked at
//! every hour (one instance a day runs it). Each runs until told to stop; a run in progress
//! ends after its current item.

use std::{future::Future, time::Duration};

use application::{
    ops::Retention,
    sms::{Reminders, SmsOutbox},
    system::StopSignal,
};
use tokio::{sync::watch, task::JoinHandle, time::MissedTickBehavior};
use tracing::Instrument as _;

/// How often due reminders are sent.
pub const REMINDER_PERIOD: Duration = Duration::from_secs(60);
/// How often the outbox is worked: pending texts, retries and unknown outcomes.
pub const RETRY_PERIOD: Duration = Duration::from_secs(30);
/// How often an instance checks whether today's retention has run.
pub const RETENTION_PERIOD: Duration = Duration::from_secs(3600);

/// The running workers.
#[derive(Debug)]
pub struct Workers {
    stop: watch::Sender<bool>,
    stop_items: StopSignal,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts the reminder, outbox and retention workers; `stop_items` is the signal their use
    /// cases look at between two items.
    #[must_use]
    pub fn start(
        reminders: Reminders,
        outbox: SmsOutbox,
        retention: Retention,
        stop_items: StopSignal,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let handles = vec![
            tokio::spawn(every(
                REMINDER_PERIOD,
                stopped.clone(),
                "reminders",
                move || {
                    let reminders = reminders.clone();
                    async move {
                        if let Err(error) = reminders.send_due().await {
                            tracing::error!(error = %error, "reminder run failed");
                        }
                    }
                },
            )),
            tokio::spawn(every(
                RETRY_PERIOD,
                stopped.clone(),
                "sms_retries",
                move || {
                    let outbox = outbox.clone();
                    async move {
                        if let Err(error) = outbox.send_pending().await {
                            tracing::error!(error = %error, "outbox run failed");
                        }
                        if let Err(error) = outbox.retry_due().await {
                            tracing::error!(error = %error, "SMS retry run failed");
                        }
                        if let Err(error) = outbox.settle_unknown().await {
                            tracing::error!(error = %error, "SMS lookup run failed");
                        }
                    }
                },
            )),
            tokio::spawn(every(RETENTION_PERIOD, stopped, "retention", move || {
                let retention = retention.clone();
                async move {
                    if let Err(error) = retention.run_daily().await {
                        tracing::error!(error = %error, "retention run failed");
                    }
                }
            })),
        ];
        Self {
            stop,
            stop_items,
            handles,
        }
    }

    /// Tells every worker to stop and waits until each has finished its current run.
    pub async fn stop(self) {
        self.stop_items.raise();
        // Every receiver may be gone already (a worker ended); nothing is left to tell then.
        let _ = self.stop.send(true);
        for handle in self.handles {
            if let Err(error) = handle.await {
                tracing::error!(error = %error, "a worker ended abnormally");
            }
        }
    }
}

/// Runs `run` at once and then every `period` until `stopped` turns true.
async fn every<F, Fut>(
    period: Duration,
    mut stopped: watch::Receiver<bool>,
    name: &'static str,
    run: F,
) where
    F: Fn() -> Fut + Send,
    Fut: Future<Output = ()> + Send,
{
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopped.wait_for(|stop| *stop) => break,
        }
        // Each run is a trace of its own (each SMS it sends is one more, see the outbox).
        run()
            .instrument(tracing::info_span!(parent: None, "worker.run", worker = name))
            .await;
    }
    tracing::info!(worker = name, "worker stopped");
}
