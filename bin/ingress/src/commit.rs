//! Group commit: the webhooks that arrive while earlier ones are being committed are inserted
//! together, in one statement and one WAL flush ([`suiteflow_store::queue::enqueue_many`]).
//!
//! A request hands its event to the [`Committer`] and waits for the answer, which comes only
//! after the statement holding its row has committed: nothing is acknowledged before it is
//! durable. A few batches may be committing at once; the requests that arrive meanwhile
//! wait in the channel and form the next batch, so the busier the ingress, the larger the
//! batches and the fewer the flushes.

use std::sync::Arc;

use suiteflow_store::{Enqueued, NewEvent, Store, StoreError};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Most events in one statement.
pub const MAX_BATCH: usize = 256;
/// Batches committing at the same time (bounded by the pool size).
pub const MAX_IN_FLIGHT: usize = 4;
/// Requests waiting for a batch before new ones wait for room (back-pressure).
const QUEUE: usize = 4 * MAX_BATCH;

type Reply = oneshot::Sender<Result<Enqueued, CommitError>>;

/// Why an event was not committed. Nothing was acknowledged: the sender may retry.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// The statement failed (shared by every event of its batch).
    #[error(transparent)]
    Store(Arc<StoreError>),
    #[error("the ingress is shutting down")]
    Stopped,
}

impl From<StoreError> for CommitError {
    fn from(e: StoreError) -> Self {
        Self::Store(Arc::new(e))
    }
}

/// Hands events to the background task that commits them in batches. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Committer {
    sender: mpsc::Sender<(NewEvent, Reply)>,
}

impl Committer {
    /// Starts the batching task on the current Tokio runtime. It ends when every `Committer`
    /// is dropped, after committing what it was given.
    pub fn start(store: Store, pool_size: usize) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        // Keep a connection free for the connection cache and the health checks.
        let in_flight = MAX_IN_FLIGHT.min(pool_size.saturating_sub(1)).max(1);
        tokio::spawn(dispatch(store, receiver, in_flight));
        Self { sender }
    }

    /// Inserts `event` (or finds the event it duplicates) and returns once that is committed.
    pub async fn enqueue(&self, event: NewEvent) -> Result<Enqueued, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((event, reply))
            .await
            .map_err(|_| CommitError::Stopped)?;
        answer.await.map_err(|_| CommitError::Stopped)?
    }
}

async fn dispatch(store: Store, mut receiver: mpsc::Receiver<(NewEvent, Reply)>, in_flight: usize) {
    let slots = Arc::new(Semaphore::new(in_flight));
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // Wait for a free slot first: what arrives meanwhile joins the next batch.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let store = store.clone();
        let events = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
        tokio::spawn(async move {
            commit(&store, events).await;
            drop(slot);
        });
    }
}

async fn commit(store: &Store, batch: Vec<(NewEvent, Reply)>) {
    metrics::histogram!("ingress_commit_batch_size").record(batch.len() as f64);
    let (events, replies): (Vec<NewEvent>, Vec<Reply>) = batch.into_iter().unzip();
    let mut conn = match store.get().await {
        Ok(conn) => conn,
        Err(e) => return fail_all(replies, e),
    };
    match suiteflow_store::queue::enqueue_many(&mut conn, &events).await {
        Ok(done) => {
            for (enqueued, reply) in done.into_iter().zip(replies) {
                let _ = reply.send(Ok(enqueued));
            }
        }
        // One event the database refuses must not fail the others: commit them one by one.
        Err(e) if events.len() > 1 && !e.is_unavailable() => {
            for (event, reply) in events.iter().zip(replies) {
                let one = suiteflow_store::queue::enqueue(&mut conn, event).await;
                let _ = reply.send(one.map_err(CommitError::from));
            }
        }
        Err(e) => fail_all(replies, e),
    }
}

fn fail_all(replies: Vec<Reply>, error: StoreError) {
    let error = Arc::new(error);
    for reply in replies {
        let _ = reply.send(Err(CommitError::Store(Arc::clone(&error))));
    }
}
