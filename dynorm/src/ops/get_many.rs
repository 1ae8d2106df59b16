use std::marker::PhantomData;
use std::time::Duration;

use super::into_future;
use crate::batch::BatchGet;
use crate::{Db, Model, Result};

/// Reads many items by key with `BatchGetItem`. Made by
/// [`Manager::get_many`](crate::Manager::get_many).
///
/// A [`BatchGet`] of one model: keys are checked first, duplicates are read once,
/// requests of 100 keys run a few at a time, and unprocessed keys are retried with
/// exponential backoff and jitter until the deadline; keys still not read then are
/// listed in [`Error::BatchIncomplete`](crate::Error::BatchIncomplete).
///
/// Resolves to the items found, **in the order of the keys given**; keys with no item
/// are skipped.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct GetMany<'a, M: Model> {
    db: &'a Db,
    keys: Vec<M::Key>,
    consistent_read: bool,
    concurrency: Option<usize>,
    deadline: Option<Duration>,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: Model> GetMany<'a, M> {
    pub(crate) fn new(db: &'a Db, keys: Vec<M::Key>) -> Self {
        GetMany {
            db,
            keys,
            consistent_read: false,
            concurrency: None,
            deadline: None,
            _model: PhantomData,
        }
    }

    /// Asks for strongly consistent reads.
    pub fn consistent_read(mut self, consistent: bool) -> Self {
        self.consistent_read = consistent;
        self
    }

    /// Requests in flight at once (default 4; at least 1).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = Some(requests);
        self
    }

    /// How long the reads may take, retries included (default 60 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sends the requests.
    pub async fn send(self) -> Result<Vec<M>> {
        let mut batch = BatchGet::new(self.db).consistent_read(self.consistent_read);
        if let Some(n) = self.concurrency {
            batch = batch.concurrency(n);
        }
        if let Some(d) = self.deadline {
            batch = batch.deadline(d);
        }
        for key in self.keys {
            batch = batch.get_key::<M>(key);
        }
        batch.send().await?.models()
    }
}

into_future!(GetMany, Vec<M>);
