//! A reader of a DynamoDB stream through `aws-sdk-dynamodbstreams`: it walks the
//! stream's shards (a child after its parent, so each item's changes come in order),
//! and keeps each shard's position in a checkpoint store, so a consumer that stops
//! goes on after the last batch it committed.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodbstreams::types::{AttributeValue as StreamValue, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;

use super::{is_ttl, kind_of, Record};
use crate::backfill::{Checkpoint, CheckpointStore, Claim, MemoryCheckpoints};
use crate::{Db, Error, Item, Result};

/// A DynamoDB Streams client for DynamoDB Local at `endpoint`, with the static test
/// credentials `Db::local` uses. On AWS, build one from the usual configuration:
/// `aws_sdk_dynamodbstreams::Client::new(&aws_config::load_from_env().await)`.
pub fn local_streams_client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodbstreams::Config::builder()
        .behavior_version(aws_sdk_dynamodbstreams::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodbstreams::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodbstreams::config::Credentials::new(
            "dynorm",
            "dynorm",
            None,
            None,
            "dynorm-local",
        ))
        .endpoint_url(endpoint)
        .build();
    Client::from_conf(config)
}

/// Reads a DynamoDB stream shard by shard, from its oldest record (or from the
/// checkpoints of an earlier run), in batches: [`next_batch`](Self::next_batch), then
/// [`commit`](Self::commit) once the batch is handled.
///
/// Shards are claimed through the checkpoint store as backfill segments are, so
/// several readers of one stream under one name share its shards.
pub struct StreamReader<S: CheckpointStore = MemoryCheckpoints> {
    client: Client,
    stream_arn: String,
    name: String,
    worker: String,
    lease: Duration,
    limit: i32,
    store: S,
    shards: Vec<Shard>,
    refreshed: Option<Instant>,
}

struct Shard {
    id: String,
    parent: Option<String>,
    /// Claimed by this reader, with the checkpoint it had.
    checkpoint: Option<Checkpoint>,
    /// When the claim was last saved (the lease renewed).
    saved: Option<Instant>,
    iterator: Option<String>,
    /// Read to its end (DynamoDB closed it); done once that is committed.
    closed: bool,
    done: bool,
}

/// The records of one [`StreamReader::next_batch`], and the shard positions a
/// [`commit`](StreamReader::commit) saves.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Batch {
    /// The records, shard by shard, in order within each shard.
    pub records: Vec<Record>,
    positions: Vec<(String, Option<String>, bool)>,
}

impl Batch {
    /// Whether the batch has no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// How often the shard list is read again.
const REFRESH: Duration = Duration::from_secs(10);

impl StreamReader {
    /// A reader of the stream `stream_arn`, its checkpoints in memory.
    pub fn new(client: Client, stream_arn: impl Into<String>) -> Self {
        StreamReader {
            client,
            stream_arn: stream_arn.into(),
            name: "stream".into(),
            worker: crate::backfill::default_worker("reader"),
            lease: Duration::from_secs(60),
            limit: 1000,
            store: MemoryCheckpoints::new(),
            shards: Vec::new(),
            refreshed: None,
        }
    }

    /// A reader of the latest stream of a model's table (`DescribeTable`'s
    /// `LatestStreamArn`); fails when the table has no stream.
    pub async fn for_table<M: crate::TableDef>(db: &Db, client: Client) -> Result<Self> {
        let table = db.table_name::<M>();
        let out = db
            .client()
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .map_err(|e| Error::from_sdk(e, &table))?;
        let arn = out
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| Error::InvalidRequest(format!("table `{table}` has no stream")))?;
        let name: String = table
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        Ok(StreamReader::new(client, arn).name(name))
    }
}

impl<S: CheckpointStore> StreamReader<S> {
    /// The reader's name: its checkpoints' key (letters, digits, `-`, `_`, `.`).
    /// Readers of one stream with the same name share its shards and positions.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// This reader's name among the readers sharing the stream.
    pub fn worker(mut self, worker: impl Into<String>) -> Self {
        self.worker = worker.into();
        self
    }

    /// How long a claimed shard stays this reader's without a commit (60 s by default).
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The most records one shard gives a batch (1000 by default, DynamoDB's most).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit.clamp(1, 1000) as i32;
        self
    }

    /// Keeps the shards' positions in `store`.
    pub fn checkpoints<T: CheckpointStore>(self, store: T) -> StreamReader<T> {
        StreamReader {
            client: self.client,
            stream_arn: self.stream_arn,
            name: self.name,
            worker: self.worker,
            lease: self.lease,
            limit: self.limit,
            store,
            shards: Vec::new(),
            refreshed: None,
        }
    }

    /// The stream's ARN.
    pub fn stream_arn(&self) -> &str {
        &self.stream_arn
    }

    /// This reader's claim on a shard's checkpoint (`run` from [`run_of`](Self::run_of)).
    fn claim<'c>(&'c self, run: &'c str) -> Claim<'c> {
        Claim {
            run,
            segment: 0,
            worker: &self.worker,
            lease: self.lease,
        }
    }

    fn run_of(&self, shard: &str) -> String {
        format!("{}.{}", self.name, shard)
    }

    async fn refresh(&mut self) -> Result<()> {
        let mut start: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start.take())
                .send()
                .await
                .map_err(|e| streams_error(e, &self.stream_arn))?;
            let Some(description) = out.stream_description else {
                break;
            };
            for shard in description.shards.unwrap_or_default() {
                let Some(id) = shard.shard_id else { continue };
                if !self.shards.iter().any(|s| s.id == id) {
                    self.shards.push(Shard {
                        id,
                        parent: shard.parent_shard_id,
                        checkpoint: None,
                        saved: None,
                        iterator: None,
                        closed: false,
                        done: false,
                    });
                }
            }
            match description.last_evaluated_shard_id {
                Some(id) => start = Some(id),
                None => break,
            }
        }
        self.shards.sort_by(|a, b| a.id.cmp(&b.id));
        self.refreshed = Some(Instant::now());
        Ok(())
    }

    /// Reads the next records of every shard this reader can read now: one
    /// `GetRecords` per shard whose parent is finished. An empty batch means nothing new
    /// yet. Call [`commit`](Self::commit) with it once it is handled; a batch not
    /// committed is read again by the next reader of the stream under this name. When
    /// a request fails, the shards this call read go back to their last commit, so no
    /// record is skipped.
    pub async fn next_batch(&mut self) -> Result<Batch> {
        if self.refreshed.is_none_or(|at| at.elapsed() > REFRESH) {
            self.refresh().await?;
        }
        self.renew().await?;
        let mut batch = Batch::default();
        let mut advanced = Vec::new();
        let result = self.read_shards(&mut batch, &mut advanced).await;
        if let Err(err) = result {
            for i in advanced {
                let shard = &mut self.shards[i];
                shard.iterator = None;
                shard.closed = false;
            }
            return Err(err);
        }
        Ok(batch)
    }

    /// Renews the lease of every claimed shard that has not been committed for a third
    /// of the lease; a shard another reader has claimed meanwhile is left to it.
    async fn renew(&mut self) -> Result<()> {
        for i in 0..self.shards.len() {
            let due = {
                let shard = &self.shards[i];
                shard.checkpoint.is_some() && !shard.done && shard.saved.is_none_or(|t| t.elapsed() > self.lease / 3)
            };
            if !due {
                continue;
            }
            let run = self.run_of(&self.shards[i].id);
            let checkpoint = self.shards[i].checkpoint.clone().unwrap_or_default();
            let claim = self.claim(&run);
            match self.store.save(&claim, &checkpoint).await {
                Ok(()) => self.shards[i].saved = Some(Instant::now()),
                Err(Error::LeaseLost { .. }) => self.give_up(i),
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// Forgets a shard another reader claimed.
    fn give_up(&mut self, i: usize) {
        let shard = &mut self.shards[i];
        tracing::warn!(shard = %shard.id, "dynorm: another stream reader claimed the shard; leaving it");
        shard.checkpoint = None;
        shard.saved = None;
        shard.iterator = None;
        shard.closed = false;
    }

    async fn read_shards(&mut self, batch: &mut Batch, advanced: &mut Vec<usize>) -> Result<()> {
        let done: Vec<String> = self.shards.iter().filter(|s| s.done).map(|s| s.id.clone()).collect();
        let known: Vec<String> = self.shards.iter().map(|s| s.id.clone()).collect();
        for i in 0..self.shards.len() {
            let id = self.shards[i].id.clone();
            if self.shards[i].done {
                continue;
            }
            // A child waits until its parent (if the stream still lists it) is read.
            let parent_open = self.shards[i]
                .parent
                .as_ref()
                .is_some_and(|p| known.contains(p) && !done.contains(p));
            if parent_open {
                continue;
            }
            if self.shards[i].closed {
                // Read to its end already: only the commit that finishes it is left.
                batch.positions.push((id, None, true));
                continue;
            }
            if self.shards[i].checkpoint.is_none() {
                let run = self.run_of(&id);
                let claim = self.claim(&run);
                match self.store.claim(&claim).await? {
                    None => continue,
                    Some(cp) => {
                        let shard = &mut self.shards[i];
                        shard.done = cp.done;
                        shard.checkpoint = Some(cp);
                        shard.saved = Some(Instant::now());
                        if shard.done {
                            continue;
                        }
                    }
                }
            }
            if self.shards[i].iterator.is_none() {
                let position = self.shards[i].checkpoint.as_ref().and_then(|c| c.position.clone());
                match self.iterator(&id, position.as_deref()).await? {
                    Some(iterator) => self.shards[i].iterator = Some(iterator),
                    None => {
                        // The shard is gone (trimmed after it closed): nothing more to read.
                        self.shards[i].closed = true;
                        batch.positions.push((id, None, true));
                        continue;
                    }
                }
            }
            let Some(iterator) = self.shards[i].iterator.clone() else {
                continue;
            };
            let out = match self
                .client
                .get_records()
                .shard_iterator(iterator)
                .limit(self.limit)
                .send()
                .await
            {
                Ok(out) => out,
                Err(err) => {
                    let stale = err
                        .as_service_error()
                        .is_some_and(|e| e.is_expired_iterator_exception() || e.is_trimmed_data_access_exception());
                    if stale {
                        // Read again from the checkpoint with a fresh iterator.
                        self.shards[i].iterator = None;
                        continue;
                    }
                    return Err(streams_error(err, &self.stream_arn));
                }
            };
            advanced.push(i);
            let mut last = None;
            for raw in out.records.unwrap_or_default() {
                let record = from_stream(raw)?;
                last = record.sequence_number.clone().or(last);
                batch.records.push(record);
            }
            let closed = out.next_shard_iterator.is_none();
            self.shards[i].iterator = out.next_shard_iterator;
            self.shards[i].closed = closed;
            if last.is_some() || closed {
                batch.positions.push((id, last, closed));
            }
        }
        Ok(())
    }

    /// An iterator after `position` (the oldest record without one). A position whose
    /// records have been trimmed (a reader away longer than the stream keeps records)
    /// starts at the oldest record left, with a warning; `None` when the shard is gone.
    async fn iterator(&self, shard: &str, position: Option<&str>) -> Result<Option<String>> {
        let request = |kind: ShardIteratorType| {
            self.client
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(shard)
                .shard_iterator_type(kind)
        };
        let first = match position {
            Some(sequence) => {
                request(ShardIteratorType::AfterSequenceNumber)
                    .sequence_number(sequence)
                    .send()
                    .await
            }
            None => request(ShardIteratorType::TrimHorizon).send().await,
        };
        match first {
            Ok(out) => Ok(out.shard_iterator),
            Err(err) => {
                let service = err.as_service_error();
                if service.is_some_and(|e| e.is_resource_not_found_exception()) {
                    return Ok(None);
                }
                if position.is_some() && service.is_some_and(|e| e.is_trimmed_data_access_exception()) {
                    tracing::warn!(shard, "dynorm: the stream no longer holds the records after the checkpoint; reading from the oldest it holds");
                    let out = request(ShardIteratorType::TrimHorizon)
                        .send()
                        .await
                        .map_err(|e| streams_error(e, &self.stream_arn))?;
                    return Ok(out.shard_iterator);
                }
                Err(streams_error(err, &self.stream_arn))
            }
        }
    }

    /// Saves the positions the batch reached: a reader that starts again goes on after
    /// its records. A shard read to its end is finished. A shard another reader has
    /// claimed meanwhile (this reader's lease ran out) is left to it: its records of the
    /// batch will be read again there.
    pub async fn commit(&mut self, batch: &Batch) -> Result<()> {
        for (id, last, closed) in &batch.positions {
            let run = self.run_of(id);
            let Some(i) = self.shards.iter().position(|s| &s.id == id) else {
                continue;
            };
            let Some(mut checkpoint) = self.shards[i].checkpoint.clone() else {
                continue;
            };
            checkpoint.segments = 1;
            if let Some(last) = last {
                checkpoint.position = Some(last.clone());
            }
            checkpoint.done = *closed;
            let claim = self.claim(&run);
            match self.store.save(&claim, &checkpoint).await {
                Ok(()) => {
                    let shard = &mut self.shards[i];
                    shard.done = *closed;
                    shard.checkpoint = Some(checkpoint);
                    shard.saved = Some(Instant::now());
                }
                Err(Error::LeaseLost { .. }) => self.give_up(i),
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
}

fn streams_error<E, R>(err: aws_sdk_dynamodbstreams::error::SdkError<E, R>, arn: &str) -> Error
where
    E: aws_sdk_dynamodbstreams::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    use aws_sdk_dynamodbstreams::error::ProvideErrorMetadata;
    let code = err.code().map(str::to_owned);
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| aws_smithy_types::error::display::DisplayErrorContext(&err).to_string());
    Error::Service {
        code,
        message: format!("DynamoDB Streams ({arn}): {message}"),
        source: Box::new(err),
    }
}

/// A record of the DynamoDB Streams API as a [`Record`].
fn from_stream(raw: aws_sdk_dynamodbstreams::types::Record) -> Result<Record> {
    let kind = kind_of(raw.event_name.as_ref().map(|n| n.as_str()).unwrap_or(""))?;
    let change = raw
        .dynamodb
        .unwrap_or_else(|| aws_sdk_dynamodbstreams::types::StreamRecord::builder().build());
    let image = |image: Option<std::collections::HashMap<String, StreamValue>>| -> Result<Option<Item>> {
        image.filter(|i| !i.is_empty()).map(convert_item).transpose()
    };
    let created = change.approximate_creation_date_time.and_then(|t| {
        let millis = t.to_millis().ok()?;
        (millis > 0).then(|| SystemTime::UNIX_EPOCH + Duration::from_millis(millis as u64))
    });
    Ok(Record {
        event_id: raw.event_id.unwrap_or_default(),
        kind,
        sequence_number: change.sequence_number,
        keys: image(change.keys)?.unwrap_or_default(),
        new_image: image(change.new_image)?,
        old_image: image(change.old_image)?,
        view: change
            .stream_view_type
            .as_ref()
            .and_then(|v| super::view_of(v.as_str())),
        expired: raw
            .user_identity
            .as_ref()
            .is_some_and(|u| is_ttl(u.r#type().unwrap_or(""), u.principal_id().unwrap_or(""))),
        created,
    })
}

fn convert_item(item: std::collections::HashMap<String, StreamValue>) -> Result<Item> {
    item.into_iter()
        .map(|(name, value)| convert(value, 1).map(|v| (name, v)))
        .collect()
}

/// A value of the streams SDK as a value of the DynamoDB SDK. DynamoDB nests values
/// at most 32 deep; anything deeper is refused rather than followed.
fn convert(value: StreamValue, depth: usize) -> Result<AttributeValue> {
    if depth > crate::MAX_DEPTH {
        return Err(Error::InvalidRequest(format!(
            "a stream record nests values more than {} deep",
            crate::MAX_DEPTH
        )));
    }
    Ok(match value {
        StreamValue::S(s) => AttributeValue::S(s),
        StreamValue::N(n) => AttributeValue::N(n),
        StreamValue::B(b) => AttributeValue::B(b),
        StreamValue::Ss(v) => AttributeValue::Ss(v),
        StreamValue::Ns(v) => AttributeValue::Ns(v),
        StreamValue::Bs(v) => AttributeValue::Bs(v),
        StreamValue::Bool(b) => AttributeValue::Bool(b),
        StreamValue::Null(b) => AttributeValue::Null(b),
        StreamValue::L(list) => {
            AttributeValue::L(list.into_iter().map(|v| convert(v, depth + 1)).collect::<Result<_>>()?)
        }
        StreamValue::M(map) => AttributeValue::M(
            map.into_iter()
                .map(|(k, v)| convert(v, depth + 1).map(|v| (k, v)))
                .collect::<Result<_>>()?,
        ),
        other => {
            return Err(Error::InvalidRequest(format!(
                "a stream record holds a value of a type this SDK does not know: {other:?}"
            )))
        }
    })
}
