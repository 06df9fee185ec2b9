//! Wake-ups for waiting workers: `LISTEN suiteflow_events` on a dedicated connection
//! (diesel-async cannot LISTEN). [`crate::queue::enqueue`] and [`crate::queue::enqueue_many`]
//! notify the channel (pipelined behind the insert; inside a transaction, on its commit).
//! Polling stays the fallback: when the connection is lost, the next
//! [`Listener::wait`] reconnects and reports a wake-up, or returns the connection error.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::StoreError;
use crate::queue::EVENTS_CHANNEL;

/// Why [`Listener::wait`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wakeup {
    /// At least one notification arrived (since the previous `wait`, or during this one).
    Notified,
    /// The timeout passed without a notification.
    TimedOut,
}

/// A connection listening on the events channel.
pub struct Listener {
    url: String,
    inner: Option<Inner>,
}

struct Inner {
    notify: Arc<Notify>,
    alive: Arc<std::sync::atomic::AtomicBool>,
    // Keeps the connection (and so the LISTEN) open; dropping it closes it.
    _client: tokio_postgres::Client,
    driver: JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("connected", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// Connects to `database_url` (the same `DATABASE_URL` as the pool) and starts listening.
    pub async fn connect(database_url: &str) -> Result<Self, StoreError> {
        let mut listener = Self {
            url: database_url.to_owned(),
            inner: None,
        };
        listener.inner = Some(listen(&listener.url).await?);
        Ok(listener)
    }

    /// Waits until a notification arrives or `timeout` passes. A notification that arrived
    /// since the previous call returns at once, so none is lost between two waits. When the
    /// connection was lost, reconnects first and reports a notification (anything may have
    /// been missed), or returns the connection error.
    pub async fn wait(&mut self, timeout: Duration) -> Result<Wakeup, StoreError> {
        let alive = self
            .inner
            .as_ref()
            .is_some_and(|i| i.alive.load(std::sync::atomic::Ordering::Acquire));
        if !alive {
            self.inner = None;
            self.inner = Some(listen(&self.url).await?);
            return Ok(Wakeup::Notified);
        }
        let Some(inner) = self.inner.as_ref() else {
            return Err(StoreError::Connect("listener not connected".into()));
        };
        match tokio::time::timeout(timeout, inner.notify.notified()).await {
            Ok(()) => Ok(Wakeup::Notified),
            Err(_) => Ok(Wakeup::TimedOut),
        }
    }
}

async fn listen(url: &str) -> Result<Inner, StoreError> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| StoreError::Connect(e.into()))?;
    let notify = Arc::new(Notify::new());
    let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let driver = {
        let notify = Arc::clone(&notify);
        let alive = Arc::clone(&alive);
        tokio::spawn(async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(_))) => notify.notify_one(),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "event listener connection failed");
                        break;
                    }
                    None => break,
                }
            }
            alive.store(false, std::sync::atomic::Ordering::Release);
            // Wake a waiter so it notices and reconnects.
            notify.notify_one();
        })
    };
    client
        .batch_execute(&format!("LISTEN {EVENTS_CHANNEL}"))
        .await
        .map_err(|e| StoreError::Connect(e.into()))?;
    Ok(Inner {
        notify,
        alive,
        _client: client,
        driver,
    })
}
