//! The read stream (DynamORM's ReadIterator): a lazy `Stream` of items read by a query or
//! a scan, on the table or one of its indexes.

mod attributes;
pub(crate) mod cursor;
mod index;

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_dynamodb::operation::query::builders::QueryInputBuilder;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::scan::builders::ScanInputBuilder;
use aws_sdk_dynamodb::operation::scan::ScanInput;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use futures::future::BoxFuture;
use futures::{Stream, TryStreamExt};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::observe::op_span;

pub use attributes::{AttributeList, Attributes};
pub use index::{ConsistentRead, Index, KeyCondition, NoRange, PrefixKey, RangeKey, RangeKeyType, Table};

use crate::error::build_error;
use crate::error::{CursorProblem, KeyProblem};
use crate::expr::render::Placeholders;
use crate::expr::Condition;
use crate::item::{check_key_attr, from_item};
use crate::schema::Projection;
use crate::value::{MAX_HASH_KEY_SIZE, MAX_RANGE_KEY_SIZE};
use crate::{Db, Error, Item, Model, Result};
use cursor::{Fingerprint, Position};
use index::RangeOp;

/// Marks a [`ReadStream`] made by a query.
#[derive(Debug, Clone, Copy)]
pub enum QueryOp {}

/// Marks a [`ReadStream`] made by a scan.
#[derive(Debug, Clone, Copy)]
pub enum ScanOp {}

/// A query: items of one hash key, in range key order. See [`ReadStream`].
pub type Query<'a, I, T = <I as Index>::Model> = ReadStream<'a, I, QueryOp, T>;

/// A scan: every item of the table or index. See [`ReadStream`].
pub type Scan<'a, I, T = <I as Index>::Model> = ReadStream<'a, I, ScanOp, T>;

mod sealed {
    pub trait Op: Send + Sync + 'static {
        const QUERY: bool;
    }
    impl Op for super::QueryOp {
        const QUERY: bool = true;
    }
    impl Op for super::ScanOp {
        const QUERY: bool = false;
    }
}
use sealed::Op;

/// Reads that return items in key order, and so can be reversed: queries.
#[diagnostic::on_unimplemented(
    message = "a scan cannot be reversed",
    label = "`reverse` needs a query",
    note = "only a query reads in range key order; a scan's order is unspecified"
)]
pub trait KeyOrdered: Op {}
impl KeyOrdered for QueryOp {}

/// Reads that can be split into parallel segments: scans.
#[diagnostic::on_unimplemented(
    message = "a query cannot be split into segments",
    label = "`segments` needs a scan",
    note = "parallel segments are a scan option"
)]
pub trait Segmented: Op {}
impl Segmented for ScanOp {}

/// Requests in flight at once, across the segments of a parallel scan.
const MAX_IN_FLIGHT: usize = 16;

/// One page as the stream needs it.
struct Page {
    items: Vec<Item>,
    last: Option<Item>,
    scanned: usize,
    count: usize,
}

impl From<aws_sdk_dynamodb::operation::query::QueryOutput> for Page {
    fn from(out: aws_sdk_dynamodb::operation::query::QueryOutput) -> Self {
        Page {
            scanned: out.scanned_count.max(0) as usize,
            count: out.count.max(0) as usize,
            items: out.items.unwrap_or_default(),
            last: out.last_evaluated_key,
        }
    }
}

impl From<aws_sdk_dynamodb::operation::scan::ScanOutput> for Page {
    fn from(out: aws_sdk_dynamodb::operation::scan::ScanOutput) -> Self {
        Page {
            scanned: out.scanned_count.max(0) as usize,
            count: out.count.max(0) as usize,
            items: out.items.unwrap_or_default(),
            last: out.last_evaluated_key,
        }
    }
}

/// One sequence of pages: the read itself, or one segment of a parallel scan.
struct Lane<'a> {
    /// Where the next request starts.
    position: Position,
    /// Where a resumed read starts: after the last item yielded.
    resume: Position,
    /// This lane's items in the buffer.
    buffered: usize,
    /// Items DynamoDB evaluated in this run, against `limit`.
    evaluated: usize,
    /// Whether this run made a request.
    requested: bool,
    pending: Option<BoxFuture<'a, Result<Page>>>,
}

impl Lane<'_> {
    fn at(position: Position) -> Self {
        Lane {
            resume: position.clone(),
            position,
            buffered: 0,
            evaluated: 0,
            requested: false,
            pending: None,
        }
    }
}

/// A lazy stream of items read by a query or a scan; nothing is sent until it is polled.
///
/// Made by `DynaModel::query`, `DynaModel::scan`, an index's [`Index::query`] and
/// [`Index::scan`], and the manager's `list`. `I` is what is read (the table or an
/// index), `Op` whether it is a query or a scan, and `T` what items decode into (the
/// model, unless changed with [`read_as`](ReadStream::read_as)).
///
/// As in DynamORM, a read makes **one request** unless it is
/// [`recursive`](ReadStream::recursive), which follows pages to the end. The stream
/// holds at most one page per lane, so memory stays flat whatever the item count.
///
/// * Options: [`limit`](Self::limit) (items evaluated, as DynamoDB counts them),
///   [`page_size`](Self::page_size), [`start`](Self::start), [`reverse`](Self::reverse)
///   (queries), [`recursive`](Self::recursive), [`consistent`](Self::consistent) (not on
///   global indexes), [`specific_attributes`](Self::specific_attributes),
///   [`filter`](Self::filter), [`segments`](Self::segments) (scans), and
///   [`range`](Self::range) for a query's range key condition.
/// * Results: the stream itself (`Item = Result<T>`), [`collect_all`](Self::collect_all),
///   [`count`](Self::count), [`last`](Self::last), [`again`](Self::again), and
///   [`cursor`](Self::cursor) / [`resume`](Self::resume) for APIs.
///
/// Misuse does not compile: `reverse` on a scan, `consistent` on a global index,
/// `segments` on a query, a range condition on a table or index without a range key.
///
/// After a request error the stream yields that error, then the items it had already
/// read, then ends; its position is kept, so [`again`](Self::again) retries from there.
/// An item that cannot be decoded fails alone, and the stream goes on.
///
/// Options that change what is read (`range`, `filter`, `specific_attributes`,
/// `reverse`, `start`, `segments`, `resume`) start the read afresh when set on a stream
/// already polled. The position (`last`, `cursor`, `again`) is after the last item the
/// stream yielded: adapters that read ahead, such as `peekable`, move it past items not
/// yet seen.
#[must_use = "a read sends nothing until the stream is polled"]
#[doc(alias = "ReadIterator")]
pub struct ReadStream<'a, I: Index, Op, T> {
    db: &'a Db,
    hash: Option<AttributeValue>,
    range: Option<RangeOp>,
    filter: Option<Condition<I::Model>>,
    attributes: Option<AttributeList>,
    limit: Option<usize>,
    page_size: Option<usize>,
    start: Option<Item>,
    reverse: bool,
    recursive: bool,
    consistent: bool,
    segments: Option<u32>,
    resume: Option<String>,
    lanes: Vec<Lane<'a>>,
    buffer: VecDeque<(usize, Item)>,
    halted: bool,
    /// The key attributes of an item, to resume after it.
    key_names: Vec<&'static str>,
    /// Decodes an item: with the model's load hooks, or into a projection type.
    decode_item: fn(Item) -> Result<T>,
    /// Why the hash key value was refused before the stream was made (a relationship's
    /// key template): the stream yields [`Error::InvalidKey`] and sends nothing.
    refused_hash: Option<KeyProblem>,
    _types: Types<I, Op, T>,
}

/// The stream's type parameters, owned by nothing: it is `Send` and `Sync` whatever they are.
type Types<I, Op, T> = PhantomData<fn() -> (I, Op, T)>;

impl<I: Index, O, T> Unpin for ReadStream<'_, I, O, T> {}

impl<I: Index, O: Op, T> fmt::Debug for ReadStream<'_, I, O, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(if O::QUERY { "Query" } else { "Scan" })
            .field("table", &I::Model::SCHEMA.name)
            .field("index", &I::schema().map(|i| i.name))
            .field("limit", &self.limit)
            .field("recursive", &self.recursive)
            .finish_non_exhaustive()
    }
}

impl<'a, I: Index> ReadStream<'a, I, QueryOp, I::Model> {
    pub(crate) fn new_query(db: &'a Db, hash: AttributeValue) -> Self {
        Self::new(db, Some(hash), crate::hooks::load::<I::Model>)
    }

    /// A query whose hash key value was refused with `problem`: polled, counted or
    /// turned into an input, it fails with [`Error::InvalidKey`] on the index's hash key
    /// attribute, and sends nothing.
    pub(crate) fn refused_query(db: &'a Db, problem: KeyProblem) -> Self {
        let mut stream = Self::new(db, None, crate::hooks::load::<I::Model>);
        stream.refused_hash = Some(problem);
        stream
    }
}

impl<'a, I: Index> ReadStream<'a, I, ScanOp, I::Model> {
    pub(crate) fn new_scan(db: &'a Db) -> Self {
        Self::new(db, None, crate::hooks::load::<I::Model>)
    }
}

impl<'a, I: Index, O: Op, T> ReadStream<'a, I, O, T> {
    fn new(db: &'a Db, hash: Option<AttributeValue>, decode_item: fn(Item) -> Result<T>) -> Self {
        ReadStream {
            db,
            hash,
            range: None,
            filter: None,
            attributes: None,
            limit: None,
            page_size: None,
            start: None,
            reverse: false,
            recursive: false,
            consistent: false,
            segments: None,
            resume: None,
            lanes: Vec::new(),
            buffer: VecDeque::new(),
            halted: false,
            key_names: Self::key_names(),
            decode_item,
            refused_hash: None,
            _types: PhantomData,
        }
    }

    /// Evaluates at most `n` items, as DynamoDB's `Limit` does: items a filter drops
    /// count too. Without [`recursive`](Self::recursive) this is the one request's
    /// `Limit`; with it, pages are followed until `n` items were evaluated. On a segmented
    /// scan, each segment evaluates at most `n`.
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Asks for pages of at most `n` evaluated items (DynamoDB's `Limit` per request),
    /// whatever the overall [`limit`](Self::limit).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Starts after this key: the [`last`](Self::last) of an earlier read
    /// (DynamoDB's `ExclusiveStartKey`).
    pub fn start(mut self, last_key: Item) -> Self {
        self.restart();
        self.start = Some(last_key);
        self
    }

    /// Follows pages to the end (or to the [`limit`](Self::limit)); without it, one
    /// request is made.
    pub fn recursive(mut self) -> Self {
        self.recursive = true;
        self
    }

    /// Returns items in descending range key order. Queries only.
    pub fn reverse(mut self) -> Self
    where
        O: KeyOrdered,
    {
        self.restart();
        self.reverse = true;
        self
    }

    /// Reads with strong consistency (`true`) or eventual consistency (`false`, the
    /// default), as `ConsistentRead` in the SDK. Not on global indexes, which only read
    /// eventually consistently.
    pub fn consistent_read(mut self, consistent: bool) -> Self
    where
        I: ConsistentRead,
    {
        self.consistent = consistent;
        self
    }

    /// Keeps only the items for which `condition` holds (DynamoDB's `FilterExpression`,
    /// applied after items are evaluated, so they still count against
    /// [`limit`](Self::limit)). Several filters must all hold.
    pub fn filter(mut self, condition: Condition<I::Model>) -> Self {
        self.restart();
        self.filter = Some(match self.filter.take() {
            Some(filter) => filter & condition,
            None => condition,
        });
        self
    }

    /// Reads only these attributes (DynamoDB's `ProjectionExpression`): one path, a
    /// tuple of paths, or a list. Nested paths read only that part of a document. The key
    /// attributes are always read too, so the stream can resume. Decode such items with
    /// [`read_as`](Self::read_as), or into the model when the other fields have
    /// `#[serde(default)]`.
    pub fn specific_attributes(mut self, attributes: impl Attributes<I::Model>) -> Self {
        self.restart();
        let list = self.attributes.get_or_insert_with(AttributeList::default);
        attributes.add_to(list);
        self
    }

    /// Decodes items into `U` instead: a projection type with the attributes an index
    /// or [`specific_attributes`](Self::specific_attributes) returns.
    pub fn read_as<U: DeserializeOwned>(self) -> ReadStream<'a, I, O, U> {
        ReadStream {
            db: self.db,
            hash: self.hash,
            range: self.range,
            filter: self.filter,
            attributes: self.attributes,
            limit: self.limit,
            page_size: self.page_size,
            start: self.start,
            reverse: self.reverse,
            recursive: self.recursive,
            consistent: self.consistent,
            segments: self.segments,
            resume: self.resume,
            lanes: self.lanes,
            buffer: self.buffer,
            halted: self.halted,
            key_names: self.key_names,
            decode_item: from_item::<U>,
            refused_hash: self.refused_hash,
            _types: PhantomData,
        }
    }

    /// Splits a scan into `n` segments that run concurrently and merge into this one
    /// stream (a parallel scan). Each segment follows its own pages, so a segmented
    /// scan is recursive.
    pub fn segments(mut self, n: u32) -> Self
    where
        O: Segmented,
    {
        self.restart();
        self.segments = Some(n);
        self.recursive = true;
        self
    }

    /// Continues a read where the stream that made `cursor` stopped; see
    /// [`cursor`](Self::cursor). A cursor of another query, edited, or signed with
    /// another key makes the stream's first item [`Error::InvalidCursor`].
    pub fn resume(mut self, cursor: impl Into<String>) -> Self {
        self.restart();
        self.resume = Some(cursor.into());
        self
    }

    /// The key to continue from, to pass to [`start`](Self::start): after the last item
    /// this stream yielded (DynamoDB's `LastEvaluatedKey` once a page is consumed).
    /// `None` before the first page, and once the read reached the end. A segmented
    /// scan has one position per segment: use [`cursor`](Self::cursor).
    pub fn last(&self) -> Option<&Item> {
        match self.lanes.as_slice() {
            [lane] => match &lane.resume {
                Position::After(key) => Some(key),
                _ => None,
            },
            _ => None,
        }
    }

    /// An opaque, URL-safe string to continue this read later, from any handle with the
    /// same cursor key ([`DbBuilder::cursor_key`](crate::DbBuilder::cursor_key)), with
    /// [`resume`](Self::resume) on the same query. It is signed, and bound to the table,
    /// index, key condition, filter, projection, direction, start key and segments.
    ///
    /// `Ok(None)` when the read reached the end. The position is after the last item
    /// yielded, so nothing is skipped or repeated.
    pub fn cursor(&self) -> Result<Option<String>> {
        let key = cursor::signing_key(self.db)?;
        if let (true, Some(resume)) = (self.lanes.is_empty(), &self.resume) {
            // Not polled yet: it continues where the given cursor points.
            return Ok(Some(resume.clone()));
        }
        let positions: Vec<Position> = if self.lanes.is_empty() {
            (0..self.lane_count()).map(|_| Position::Start).collect()
        } else {
            self.lanes.iter().map(|l| l.resume.clone()).collect()
        };
        if positions.iter().all(|p| *p == Position::End) {
            return Ok(None);
        }
        Ok(Some(cursor::encode(&key, &self.fingerprint()?, &positions)))
    }

    /// The same read again: it continues from where this stream stopped (after the last
    /// item it yielded), or starts over when it had reached the end. `limit` counts
    /// afresh.
    pub fn again(mut self) -> Self {
        self.halted = false;
        if self.lanes.is_empty() {
            return self;
        }
        let finished = self.lanes.iter().all(|l| l.resume == Position::End);
        for lane in &mut self.lanes {
            let position = if finished { Position::Start } else { lane.resume.clone() };
            *lane = Lane::at(position);
        }
        self.buffer.clear();
        self
    }

    /// Forgets where the read is: an option that changes what is read starts it afresh.
    fn restart(&mut self) {
        self.lanes.clear();
        self.buffer.clear();
        self.halted = false;
    }

    fn lane_count(&self) -> usize {
        self.segments.unwrap_or(1).max(1) as usize
    }

    fn table(&self) -> String {
        self.db.table_name::<I::Model>()
    }

    /// Client-side checks of the options, before anything is sent.
    fn check(&self) -> Result<()> {
        if let Some(problem) = self.refused_hash {
            return Err(Error::InvalidKey {
                attribute: I::hash_key().name.to_owned(),
                problem,
            });
        }
        let invalid = |msg: &str| Err(Error::InvalidRequest(msg.to_owned()));
        if self.limit == Some(0) {
            return invalid("limit must be at least 1");
        }
        if self.page_size == Some(0) {
            return invalid("page_size must be at least 1");
        }
        match self.segments {
            Some(0) => return invalid("segments must be at least 1"),
            Some(n) if n > 1_000_000 => return invalid("DynamoDB allows at most 1,000,000 segments"),
            Some(n) if n > 1 && self.start.is_some() => {
                return invalid("`start` takes one key; continue a segmented scan with `cursor` and `resume`")
            }
            _ => {}
        }
        if let Some(hash) = &self.hash {
            check_key_attr(Some(hash), &I::hash_key(), MAX_HASH_KEY_SIZE)?;
        }
        if let (Some(range), Some(attr)) = (&self.range, I::range_key()) {
            let values: Vec<&AttributeValue> = match range {
                RangeOp::Compare(_, v) | RangeOp::BeginsWith(v) => vec![v],
                RangeOp::Between(a, b) => vec![a, b],
            };
            for v in values {
                check_key_attr(Some(v), &attr, MAX_RANGE_KEY_SIZE)?;
            }
        }
        Ok(())
    }

    /// The key attribute names an item of this read carries: the table's and the index's.
    fn key_names() -> Vec<&'static str> {
        let schema = I::Model::SCHEMA;
        let mut names = vec![schema.hash_key.name];
        names.extend(schema.range_key.map(|k| k.name));
        names.push(I::hash_key().name);
        names.extend(I::range_key().map(|k| k.name));
        let mut unique = Vec::with_capacity(names.len());
        for name in names {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        unique
    }

    /// The expressions of a request; `Placeholders` numbers them identically every time.
    fn render(&self, count: bool) -> Result<Rendered> {
        let mut ph = Placeholders::default();
        let key_condition = match &self.hash {
            Some(hash) => {
                let name = ph.name(I::hash_key().name);
                let value = ph.value(hash.clone());
                let mut text = format!("{name} = {value}");
                if let (Some(range), Some(attr)) = (&self.range, I::range_key()) {
                    let name = ph.name(attr.name);
                    let clause = match range {
                        RangeOp::Compare(op, v) => format!("{name} {op} {}", ph.value(v.clone())),
                        RangeOp::Between(a, b) => {
                            let (a, b) = (ph.value(a.clone()), ph.value(b.clone()));
                            format!("{name} BETWEEN {a} AND {b}")
                        }
                        RangeOp::BeginsWith(v) => format!("begins_with({name}, {})", ph.value(v.clone())),
                    };
                    text.push_str(" AND ");
                    text.push_str(&clause);
                }
                Some(text)
            }
            None => None,
        };
        let filter = match &self.filter {
            Some(filter) => Some(ph.condition(filter.clone())?),
            None => None,
        };
        let projection = match &self.attributes {
            Some(list) if !count => {
                let mut parts: Vec<String> = Vec::new();
                for segments in &list.0 {
                    let part = ph.path(segments)?;
                    if !parts.contains(&part) {
                        parts.push(part);
                    }
                }
                for key in self.key_names.iter().copied() {
                    let part = ph.name(key);
                    if !parts.contains(&part) {
                        parts.push(part);
                    }
                }
                Some(parts.join(", "))
            }
            _ => None,
        };
        let (names, values) = ph.into_maps();
        Ok(Rendered {
            key_condition,
            filter,
            projection,
            names,
            values,
        })
    }

    /// What a cursor is bound to.
    fn fingerprint(&self) -> Result<Fingerprint> {
        let rendered = self.render(false)?;
        let mut f = Fingerprint::default();
        f.text("op", if O::QUERY { "query" } else { "scan" });
        f.text("table", &self.table());
        f.text("index", I::schema().map_or("", |i| i.name));
        f.text("key", rendered.key_condition.as_deref().unwrap_or(""));
        f.text("filter", rendered.filter.as_deref().unwrap_or(""));
        f.text("projection", rendered.projection.as_deref().unwrap_or(""));
        let mut names: Vec<_> = rendered.names.unwrap_or_default().into_iter().collect();
        names.sort();
        for (placeholder, name) in names {
            f.text(&placeholder, &name);
        }
        let mut values: Vec<_> = rendered.values.unwrap_or_default().into_iter().collect();
        values.sort_by(|a, b| a.0.cmp(&b.0));
        for (placeholder, value) in &values {
            f.value(placeholder, value);
        }
        if let Some(start) = &self.start {
            f.value("start", &AttributeValue::M(start.clone()));
        }
        f.text("reverse", if self.reverse { "1" } else { "0" });
        f.text("segments", &self.lane_count().to_string());
        Ok(f)
    }

    /// Sets the lanes up on first use: from the cursor, or from the start.
    fn init(&mut self) -> Result<()> {
        if !self.lanes.is_empty() {
            return Ok(());
        }
        self.check()?;
        let positions = match &self.resume {
            Some(text) => {
                let key = cursor::signing_key(self.db)?;
                let positions = cursor::decode(&key, &self.fingerprint()?, text, self.lane_count())?;
                // A start key must be exactly this read's key attributes.
                let well_formed = positions.iter().all(|p| match p {
                    Position::After(item) => {
                        item.len() == self.key_names.len() && self.key_names.iter().all(|n| item.contains_key(*n))
                    }
                    _ => true,
                });
                if !well_formed {
                    return Err(Error::InvalidCursor(CursorProblem::OtherQuery));
                }
                positions
            }
            None => vec![Position::Start; self.lane_count()],
        };
        self.resume = None;
        self.lanes = positions.into_iter().map(Lane::at).collect();
        Ok(())
    }

    fn wants_page(&self, lane: &Lane<'_>) -> bool {
        let limit_left = self.limit.is_none_or(|l| lane.evaluated < l);
        lane.pending.is_none()
            && lane.buffered == 0
            && lane.position != Position::End
            && limit_left
            && (!lane.requested || self.recursive)
    }

    /// The request `Limit`: the page size, capped by what is left of `limit`.
    fn request_limit(&self, lane: &Lane<'_>) -> Option<i32> {
        let remaining = self.limit.map(|l| l.saturating_sub(lane.evaluated));
        let limit = match (remaining, self.page_size) {
            (Some(r), Some(p)) => Some(r.min(p)),
            (r, p) => r.or(p),
        };
        limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX))
    }

    fn start_key(&self, lane: &Lane<'_>) -> Option<Item> {
        match &lane.position {
            Position::Start => self.start.clone(),
            Position::After(key) => Some(key.clone()),
            Position::End => None,
        }
    }

    fn query_builder(&self, rendered: Rendered, lane: &Lane<'_>, count: bool) -> QueryInputBuilder {
        QueryInput::builder()
            .table_name(self.table())
            .set_index_name(I::schema().map(|i| i.name.to_owned()))
            .set_key_condition_expression(rendered.key_condition)
            .set_filter_expression(rendered.filter)
            .set_projection_expression(rendered.projection)
            .set_expression_attribute_names(rendered.names)
            .set_expression_attribute_values(rendered.values)
            .set_limit(self.request_limit(lane))
            .set_exclusive_start_key(self.start_key(lane))
            .scan_index_forward(!self.reverse)
            .set_consistent_read(self.consistent.then_some(true))
            .set_select(count.then_some(Select::Count))
            .set_return_consumed_capacity(self.db.capacity_mode())
    }

    fn scan_builder(&self, rendered: Rendered, lane_index: usize, lane: &Lane<'_>, count: bool) -> ScanInputBuilder {
        let total = self.lane_count();
        ScanInput::builder()
            .table_name(self.table())
            .set_index_name(I::schema().map(|i| i.name.to_owned()))
            .set_filter_expression(rendered.filter)
            .set_projection_expression(rendered.projection)
            .set_expression_attribute_names(rendered.names)
            .set_expression_attribute_values(rendered.values)
            .set_limit(self.request_limit(lane))
            .set_exclusive_start_key(self.start_key(lane))
            .set_consistent_read(self.consistent.then_some(true))
            .set_segment((total > 1).then_some(lane_index as i32))
            .set_total_segments((total > 1).then_some(total as i32))
            .set_select(count.then_some(Select::Count))
            .set_return_consumed_capacity(self.db.capacity_mode())
    }

    /// The request for the next page of one lane.
    fn request(&self, lane_index: usize, count: bool) -> Result<BoxFuture<'a, Result<Page>>> {
        let lane = &self.lanes[lane_index];
        let rendered = self.render(count)?;
        let db = self.db;
        let table = self.table();
        let index = I::schema().map_or("", |i| i.name);
        let error_table = table.clone();
        let (send, span): (BoxFuture<'a, Result<Page>>, tracing::Span) = if O::QUERY {
            let input = self.query_builder(rendered, lane, count);
            tracing::trace!(input = ?input, "query");
            let send = async move {
                let out = input.send_with(db.client()).await;
                out.map(|out| {
                    db.record_capacity(out.consumed_capacity());
                    Page::from(out)
                })
                .map_err(|e| Error::from_sdk(e, &error_table))
            };
            (Box::pin(send), op_span!("dynorm.query", "Query", table, count = count))
        } else {
            let input = self.scan_builder(rendered, lane_index, lane, count);
            tracing::trace!(input = ?input, "scan");
            let send = async move {
                let out = input.send_with(db.client()).await;
                out.map(|out| {
                    db.record_capacity(out.consumed_capacity());
                    Page::from(out)
                })
                .map_err(|e| Error::from_sdk(e, &error_table))
            };
            let span = op_span!("dynorm.scan", "Scan", table, count = count, segment = lane_index);
            (Box::pin(send), span)
        };
        if !index.is_empty() {
            span.record("index", index);
        }
        Ok(Box::pin(
            async move {
                db.prepare::<I::Model>(&table).await?;
                send.await
            }
            .instrument(span),
        ))
    }

    /// Takes a page into the lane's state; returns its items.
    fn absorb(&mut self, lane_index: usize, page: Page) -> (Vec<Item>, usize) {
        let lane = &mut self.lanes[lane_index];
        lane.requested = true;
        lane.evaluated += page.scanned;
        lane.position = match page.last {
            Some(key) => Position::After(key),
            None => Position::End,
        };
        lane.buffered += page.items.len();
        if page.items.is_empty() {
            lane.resume = lane.position.clone();
        }
        (page.items, page.count)
    }

    /// Counts the matching items (`Select = COUNT`): over one request, or every page
    /// when [`recursive`](Self::recursive), summed. Sends nothing else; items are not
    /// decoded.
    pub async fn count(mut self) -> Result<usize> {
        // A stream already polled counts from where it is: after the last item yielded.
        for lane in &mut self.lanes {
            *lane = Lane::at(lane.resume.clone());
        }
        self.buffer.clear();
        self.init()?;
        let mut total = 0;
        loop {
            let wanted: Vec<usize> = (0..self.lanes.len())
                .filter(|&i| self.wants_page(&self.lanes[i]))
                .take(MAX_IN_FLIGHT)
                .collect();
            if wanted.is_empty() {
                return Ok(total);
            }
            let requests = wanted
                .iter()
                .map(|&i| self.request(i, true))
                .collect::<Result<Vec<_>>>()?;
            let pages = futures::future::try_join_all(requests).await?;
            for (i, page) in wanted.into_iter().zip(pages) {
                total += self.absorb(i, page).1;
            }
        }
    }

    /// The lane of a first request, after the client-side checks.
    fn first_lane(&self) -> Result<Lane<'a>> {
        self.check()?;
        Ok(Lane::at(Position::Start))
    }
}

impl<'a, I: Index, T> ReadStream<'a, I, QueryOp, T> {
    /// Adds a condition on the range key, built by the closure from the typed range key:
    /// `.range(|k| k.between(1990, 1999))`, `.range(|k| k.begins_with("2024-"))`.
    pub fn range(mut self, condition: impl FnOnce(RangeKey<I>) -> KeyCondition<I>) -> Self
    where
        I::Range: RangeKeyType,
    {
        self.restart();
        self.range = Some(condition(RangeKey::new()).op);
        self
    }

    /// The `Query` input of a first request (from `start`, not from a `resume` cursor).
    /// Sends nothing.
    pub fn to_input(&self) -> Result<QueryInput> {
        let lane = self.first_lane()?;
        self.query_builder(self.render(false)?, &lane, false)
            .build()
            .map_err(build_error)
    }
}

impl<'a, I: Index, T> ReadStream<'a, I, ScanOp, T> {
    /// The `Scan` input of a first request (segment 0's, for a segmented scan; from
    /// `start`, not from a `resume` cursor). Sends nothing.
    pub fn to_input(&self) -> Result<ScanInput> {
        let lane = self.first_lane()?;
        self.scan_builder(self.render(false)?, 0, &lane, false)
            .build()
            .map_err(build_error)
    }
}

impl<'a, I: Index, O: Op, T: DeserializeOwned> ReadStream<'a, I, O, T> {
    /// Collects every item the stream yields. Without [`recursive`](Self::recursive),
    /// that is one page.
    pub async fn collect_all(self) -> Result<Vec<T>> {
        self.try_collect().await
    }

    fn decode(&self, item: Item) -> Result<T> {
        let index = I::schema();
        let projection = match (index.map(|i| i.projection), &self.attributes) {
            (_, Some(_)) => "specific attributes".to_owned(),
            (Some(Projection::KeysOnly), None) => "keys-only projection".to_owned(),
            (Some(Projection::Include(names)), None) => format!("projection of the keys and {}", names.join(", ")),
            _ => return (self.decode_item)(item),
        };
        (self.decode_item)(item).map_err(|err| match err {
            Error::Serialization(error) => Error::PartialItem {
                source_name: match index {
                    Some(i) => format!("index `{}` of table `{}`", i.name, self.table()),
                    None => format!("table `{}`", self.table()),
                },
                projection,
                target: std::any::type_name::<T>(),
                error,
            },
            other => other,
        })
    }
}

struct Rendered {
    key_condition: Option<String>,
    filter: Option<String>,
    projection: Option<String>,
    names: Option<crate::expr::render::Names>,
    values: Option<crate::expr::render::Values>,
}

impl<'a, I: Index, O: Op, T: DeserializeOwned> Stream for ReadStream<'a, I, O, T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            // Keep every lane busy: a lane whose items were all yielded asks for its
            // next page, while the others' items are still being consumed.
            let mut waiting = false;
            if !this.halted {
                if let Err(err) = this.init() {
                    return Poll::Ready(Some(Err(this.halt(err))));
                }
                let mut in_flight = this.lanes.iter().filter(|l| l.pending.is_some()).count();
                for i in 0..this.lanes.len() {
                    if in_flight >= MAX_IN_FLIGHT {
                        break;
                    }
                    if this.wants_page(&this.lanes[i]) {
                        match this.request(i, false) {
                            Ok(future) => this.lanes[i].pending = Some(future),
                            Err(err) => return Poll::Ready(Some(Err(this.halt(err)))),
                        }
                        in_flight += 1;
                    }
                }
                for i in 0..this.lanes.len() {
                    let Some(pending) = this.lanes[i].pending.as_mut() else {
                        continue;
                    };
                    match pending.as_mut().poll(cx) {
                        Poll::Pending => waiting = true,
                        Poll::Ready(result) => {
                            this.lanes[i].pending = None;
                            match result {
                                Ok(page) => {
                                    let (items, _) = this.absorb(i, page);
                                    this.buffer.extend(items.into_iter().map(|item| (i, item)));
                                }
                                Err(err) => return Poll::Ready(Some(Err(this.halt(err)))),
                            }
                        }
                    }
                }
            }
            if let Some((lane_index, item)) = this.buffer.pop_front() {
                let key_names = &this.key_names;
                let lane = &mut this.lanes[lane_index];
                lane.buffered -= 1;
                if lane.buffered == 0 {
                    lane.resume = lane.position.clone();
                } else if !overwrite_key(&mut lane.resume, key_names, &item) {
                    lane.resume = Position::After(
                        key_names
                            .iter()
                            .filter_map(|n| item.get(*n).map(|v| ((*n).to_owned(), v.clone())))
                            .collect(),
                    );
                }
                return Poll::Ready(Some(this.decode(item)));
            }
            if this.halted {
                return Poll::Ready(None);
            }
            if waiting {
                return Poll::Pending;
            }
            if !this.lanes.iter().any(|l| this.wants_page(l)) {
                return Poll::Ready(None);
            }
        }
    }
}

impl<I: Index, O: Op, T> ReadStream<'_, I, O, T> {
    /// Stops the stream after an error: requests in flight are dropped, and the lanes
    /// keep their positions, so `again` reads those pages again.
    fn halt(&mut self, err: Error) -> Error {
        self.halted = true;
        for lane in &mut self.lanes {
            lane.pending = None;
        }
        err
    }
}

/// Writes `item`'s key into the key held in `resume`, reusing its map and strings: the
/// position after each item yielded is kept without allocating per item. Returns
/// `false` when `resume` holds no key of these attributes, or `item` lacks one.
fn overwrite_key(resume: &mut Position, key_names: &[&'static str], item: &Item) -> bool {
    let Position::After(key) = resume else {
        return false;
    };
    if key.len() != key_names.len() {
        return false;
    }
    // On `false` the caller rebuilds the whole key, so a partial overwrite is harmless.
    for name in key_names {
        let (Some(slot), Some(value)) = (key.get_mut(*name), item.get(*name)) else {
            return false;
        };
        match (slot, value) {
            (AttributeValue::S(old), AttributeValue::S(new)) => old.clone_from(new),
            (AttributeValue::N(old), AttributeValue::N(new)) => old.clone_from(new),
            (slot, value) => *slot = value.clone(),
        }
    }
    true
}
