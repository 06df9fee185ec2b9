//! Notifications on dedicated connections (diesel-async cannot LISTEN).
//!
//! - [`Listener`]: wake-ups for waiting workers, `LISTEN suiteflow_events`.
//!   [`crate::queue::enqueue`] and [`crate::queue::enqueue_many`] notify the channel (pipelined
//!   behind the insert; inside a transaction, on its commit). Polling stays the fallback: when
//!   the connection is lost, the next [`Listener::wait`] reconnects and reports a wake-up, or
//!   returns the connection error.
//! - [`follow_connection_changes`]: the ids of connections whose status, webhook secret or
//!   SmartSuite webhook changed (`suiteflow_connections`, notified by a trigger), for caches
//!   of connections to drop their copy at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::queue::EVENTS_CHANNEL;
use crate::{ConnectionId, StoreError};

/// The channel a trigger notifies with a connection's id when what a cache of it holds changed.
pub const CONNECTIONS_CHANNEL: &str = "suiteflow_connections";
/// How long [`follow_connection_changes`] waits before connecting again.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// What [`follow_connection_changes`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionChange {
    /// This connection changed.
    Changed(ConnectionId),
    /// Changes may have been missed (the listening connection was lost and is back, or the
    /// notification could not be read): drop every cached connection.
    Unknown,
}

/// Follows connection changes on a connection of its own to `database_url`, for as long as
/// the receiver is kept; reconnects every second when the connection is lost, and reports
/// [`ConnectionChange::Unknown`] when it is back. The task ends when the receiver is dropped.
pub fn follow_connection_changes(database_url: &str) -> mpsc::UnboundedReceiver<ConnectionChange> {
    let (tx, rx) = mpsc::unbounded_channel();
    let url = database_url.to_owned();
    tokio::spawn(async move {
        let mut lost = false;
        while !tx.is_closed() {
            match connect_listening(&url, CONNECTIONS_CHANNEL).await {
                Ok((_client, mut connection)) => {
                    if lost {
                        let _ = tx.send(ConnectionChange::Unknown);
                    }
                    lost = true;
                    loop {
                        let message = tokio::select! {
                            m = std::future::poll_fn(|cx| connection.poll_message(cx)) => m,
                            () = tx.closed() => return,
                        };
                        match message {
                            Some(Ok(AsyncMessage::Notification(n))) => {
                                let change = n
                                    .payload()
                                    .parse::<ConnectionId>()
                                    .map_or(ConnectionChange::Unknown, ConnectionChange::Changed);
                                if tx.send(change).is_err() {
                                    return;
                                }
                            }
                            Some(Ok(_)) => {}
                            Some(Err(e)) => {
                                tracing::warn!(error = %e, "connection-change listener lost its connection");
                                break;
                            }
                            None => break,
                        }
                    }
                }
                Err(e) => {
                    if !lost {
                        tracing::warn!(error = %e, "cannot listen for connection changes yet; retrying");
                    }
                    lost = true;
                }
            }
            tokio::time::sleep(RECONNECT_EVERY).await;
        }
    });
    rx
}

/// A connection to `url` listening on `channel`; the caller drives its messages.
async fn connect_listening(
    url: &str,
    channel: &str,
) -> Result<
    (
        tokio_postgres::Client,
        tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
    ),
    StoreError,
> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| StoreError::Connect(e.into()))?;
    // The LISTEN's answer arrives through the connection, which must be driven meanwhile.
    let statement = format!("LISTEN {channel}");
    let listened = {
        let listen = client.batch_execute(&statement);
        tokio::pin!(listen);
        loop {
            tokio::select! {
                done = &mut listen => break done,
                message = std::future::poll_fn(|cx| connection.poll_message(cx)) => match message {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(StoreError::Connect(e.into())),
                    None => return Err(StoreError::Connect("the connection closed".into())),
                },
            }
        }
    };
    listened.map_err(|e| StoreError::Connect(e.into()))?;
    Ok((client, connection))
}

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
