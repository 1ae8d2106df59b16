//! The typed surface of a read: [`ReadStream`], generic over what is read (`I`), query
//! or scan (`Op`) and what items decode into (`T`). Each option and result forwards to
//! the non-generic plan and lanes; only decoding knows `T`.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::scan::ScanInput;
use aws_sdk_dynamodb::types::AttributeValue;
use futures::{Stream, TryStreamExt};
use serde::de::DeserializeOwned;

use super::attributes::{AttributeList, Attributes};
use super::cursor::{self, Position};
use super::index::{ConsistentRead, Index, KeyCondition, RangeKey, RangeKeyType};
use super::lanes::Lanes;
use super::op::{KeyOrdered, Op, QueryOp, ScanOp, Segmented};
use super::plan::{ReadPlan, Source};
use crate::db::Db;
use crate::error::{build_error, Error, KeyProblem, Result};
use crate::expr::Condition;
use crate::model::decode_projection;
use crate::model::Model;
use crate::schema::Projection;
use crate::value::Item;

/// A query: items of one hash key, in range key order. See [`ReadStream`].
pub type Query<'a, I, T = <I as Index>::Model> = ReadStream<'a, I, QueryOp, T>;

/// A scan: every item of the table or index. See [`ReadStream`].
pub type Scan<'a, I, T = <I as Index>::Model> = ReadStream<'a, I, ScanOp, T>;

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
///   (queries), [`recursive`](Self::recursive), [`consistent_read`](Self::consistent_read) (not on
///   global indexes), [`specific_attributes`](Self::specific_attributes),
///   [`filter`](Self::filter), [`segments`](Self::segments) (scans), and
///   [`range`](Self::range) for a query's range key condition.
/// * Results: the stream itself (`Item = Result<T>`), [`collect_all`](Self::collect_all),
///   [`collect_remaining`](Self::collect_remaining) (which keeps the stream and its
///   position), [`count`](Self::count), [`last`](Self::last), [`again`](Self::again), and
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
    plan: ReadPlan<'a>,
    lanes: Lanes<'a>,
    /// Decodes an item: with the model's load hooks, or into a projection type.
    decode_item: fn(Item) -> Result<T>,
    _types: Types<I, Op, T>,
}

/// The stream's type parameters, owned by nothing: it is `Send` and `Sync` whatever they are.
type Types<I, Op, T> = PhantomData<fn() -> (I, Op, T)>;

impl<I: Index, O, T> Unpin for ReadStream<'_, I, O, T> {}

impl<I: Index, O: Op, T> fmt::Debug for ReadStream<'_, I, O, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(if O::QUERY { "Query" } else { "Scan" })
            .field("table", &self.plan.source.table.name)
            .field("index", &self.plan.source.index.map(|i| i.name))
            .field("limit", &self.plan.limit)
            .field("recursive", &self.plan.recursive)
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
        stream.plan.refused_hash = Some(problem);
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
        let source = Source {
            table: <I::Model as Model>::SCHEMA,
            index: I::schema(),
            query: O::QUERY,
            prepare: crate::drift::prepare::<I::Model>,
        };
        ReadStream {
            plan: ReadPlan::new(db, source, hash),
            lanes: Lanes::default(),
            decode_item,
            _types: PhantomData,
        }
    }

    /// Evaluates at most `n` items, as DynamoDB's `Limit` does: items a filter drops
    /// count too. Without [`recursive`](Self::recursive) this is the one request's
    /// `Limit`; with it, pages are followed until `n` items were evaluated. On a segmented
    /// scan, each segment evaluates at most `n`.
    pub fn limit(mut self, n: usize) -> Self {
        self.plan.limit = Some(n);
        self
    }

    /// Asks for pages of at most `n` evaluated items (DynamoDB's `Limit` per request),
    /// whatever the overall [`limit`](Self::limit).
    pub fn page_size(mut self, n: usize) -> Self {
        self.plan.page_size = Some(n);
        self
    }

    /// Starts after this key: the [`last`](Self::last) of an earlier read
    /// (DynamoDB's `ExclusiveStartKey`).
    pub fn start(mut self, last_key: Item) -> Self {
        self.lanes.restart();
        self.plan.start = Some(last_key);
        self
    }

    /// Follows pages to the end (or to the [`limit`](Self::limit)); without it, one
    /// request is made.
    pub fn recursive(mut self) -> Self {
        self.plan.recursive = true;
        self
    }

    /// Returns items in descending range key order. Queries only.
    pub fn reverse(mut self) -> Self
    where
        O: KeyOrdered,
    {
        self.lanes.restart();
        self.plan.reverse = true;
        self
    }

    /// Reads with strong consistency (`true`) or eventual consistency (`false`, the
    /// default), as `ConsistentRead` in the SDK. Not on global indexes, which only read
    /// eventually consistently.
    pub fn consistent_read(mut self, consistent: bool) -> Self
    where
        I: ConsistentRead,
    {
        self.plan.consistent = consistent;
        self
    }

    /// Keeps only the items for which `condition` holds (DynamoDB's `FilterExpression`,
    /// applied after items are evaluated, so they still count against
    /// [`limit`](Self::limit)). Several filters must all hold.
    pub fn filter(mut self, condition: Condition<I::Model>) -> Self {
        self.lanes.restart();
        let condition = condition.erase();
        self.plan.filter = Some(match self.plan.filter.take() {
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
        self.lanes.restart();
        let list = self.plan.attributes.get_or_insert_with(AttributeList::default);
        attributes.add_to(list);
        self
    }

    /// Decodes items into `U` instead: a projection type with the attributes an index
    /// or [`specific_attributes`](Self::specific_attributes) returns.
    pub fn read_as<U: DeserializeOwned>(self) -> ReadStream<'a, I, O, U> {
        let partial_index = self
            .plan
            .source
            .index
            .is_some_and(|i| i.projection != crate::schema::Projection::All);
        if partial_index {
            self.decode_with(crate::model::decode_index_projection::<I::Model, U>)
        } else {
            self.decode_with(decode_projection::<I::Model, U>)
        }
    }

    /// The same read, its items decoded by `decode_item` (a collection's dispatch).
    pub(crate) fn decode_with<U>(self, decode_item: fn(Item) -> Result<U>) -> ReadStream<'a, I, O, U> {
        ReadStream {
            plan: self.plan,
            lanes: self.lanes,
            decode_item,
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
        self.lanes.restart();
        self.plan.segments = Some(n);
        self.plan.recursive = true;
        self
    }

    /// Continues a read where the stream that made `cursor` stopped; see
    /// [`cursor`](Self::cursor). A cursor of another query, edited, or signed with
    /// another key makes the stream's first item [`Error::InvalidCursor`].
    pub fn resume(mut self, cursor: impl Into<String>) -> Self {
        self.lanes.restart();
        self.plan.resume = Some(cursor.into());
        self
    }

    /// The key to continue from, to pass to [`start`](Self::start): after the last item
    /// this stream yielded (DynamoDB's `LastEvaluatedKey` once a page is consumed).
    /// `None` before the first page, and once the read reached the end. A segmented
    /// scan has one position per segment: use [`cursor`](Self::cursor).
    pub fn last(&self) -> Option<&Item> {
        self.lanes.last()
    }

    /// An opaque, URL-safe string to continue this read later, from any handle with the
    /// same cursor key (`DbBuilder::cursor_key`), with [`resume`](Self::resume) on the
    /// same query. It is signed, and bound to the table, index, key condition, filter,
    /// projection, direction, start key and segments.
    ///
    /// `Ok(None)` when the read reached the end. The position is after the last item
    /// yielded, so nothing is skipped or repeated.
    pub fn cursor(&self) -> Result<Option<String>> {
        let key = cursor::signing_key(self.plan.db)?;
        let positions = match (self.lanes.positions(), &self.plan.resume) {
            (Some(positions), _) => positions,
            // Not polled yet: it continues where the given cursor points.
            (None, Some(resume)) => return Ok(Some(resume.clone())),
            (None, None) => vec![Position::Start; self.plan.lane_count()],
        };
        if positions.iter().all(|p| *p == Position::End) {
            return Ok(None);
        }
        Ok(Some(cursor::encode(
            &key,
            &cursor::fingerprint(&self.plan)?,
            &positions,
        )))
    }

    /// The same read again: it continues from where this stream stopped (after the last
    /// item it yielded), or starts over when it had reached the end. `limit` counts
    /// afresh.
    pub fn again(mut self) -> Self {
        self.lanes.again();
        self
    }

    /// Counts the matching items (`Select = COUNT`): over one request, or every page
    /// when [`recursive`](Self::recursive), summed. Sends nothing else; items are not
    /// decoded.
    pub async fn count(self) -> Result<usize> {
        // A stream already polled counts from where it is: after the last item yielded.
        self.lanes.count(self.plan).await
    }
}

impl<I: Index, T> ReadStream<'_, I, QueryOp, T> {
    /// Sets the range key condition (an entity's sort key prefix or bounds).
    pub(crate) fn set_range(mut self, op: super::index::RangeOp) -> Self {
        self.lanes.restart();
        self.plan.range = Some(op);
        self.plan.refused_range = None;
        self.plan.sort_equalities.clear();
        self.plan.range_attr = None;
        self
    }

    /// Sets a multi-attribute sort condition: equalities on the leading sort attributes,
    /// then `op` on `attr`.
    pub(crate) fn set_native_sort(
        mut self,
        equalities: Vec<(crate::schema::KeyAttr, AttributeValue)>,
        attr: crate::schema::KeyAttr,
        op: super::index::RangeOp,
    ) -> Self {
        self.lanes.restart();
        self.plan.range = Some(op);
        self.plan.refused_range = None;
        self.plan.sort_equalities = equalities;
        self.plan.range_attr = Some(attr);
        self
    }

    /// Adds equalities on further partition attributes (a multi-attribute key).
    pub(crate) fn with_key_equalities(mut self, equalities: Vec<(crate::schema::KeyAttr, AttributeValue)>) -> Self {
        self.plan.key_equalities = equalities;
        self
    }

    /// Refuses the read for a sort key condition whose value was refused: polled,
    /// counted or turned into an input, it fails with [`Error::InvalidKey`] on the range
    /// key attribute, and sends nothing.
    pub(crate) fn refuse_range(mut self, problem: KeyProblem) -> Self {
        self.lanes.restart();
        self.plan.refused_range = Some(problem);
        self
    }

    /// Adds a condition on the range key, built by the closure from the typed range key:
    /// `.range(|k| k.between(1990, 1999))`, `.range(|k| k.begins_with("2024-"))`.
    pub fn range(mut self, condition: impl FnOnce(RangeKey<I>) -> KeyCondition<I>) -> Self
    where
        I::Range: RangeKeyType,
    {
        self.lanes.restart();
        self.plan.range = Some(condition(RangeKey::new()).op);
        self
    }

    /// The `Query` input of a first request (from `start`, not from a `resume` cursor).
    /// Sends nothing.
    pub fn to_input(&self) -> Result<QueryInput> {
        let page = Lanes::first_request(&self.plan)?;
        self.plan
            .query_input(self.plan.render(false)?, &page)
            .build()
            .map_err(build_error)
    }
}

impl<I: Index, T> ReadStream<'_, I, ScanOp, T> {
    /// The `Scan` input of a first request (segment 0's, for a segmented scan; from
    /// `start`, not from a `resume` cursor). Sends nothing.
    pub fn to_input(&self) -> Result<ScanInput> {
        let page = Lanes::first_request(&self.plan)?;
        self.plan
            .scan_input(self.plan.render(false)?, &page)
            .build()
            .map_err(build_error)
    }
}

impl<I: Index, O: Op, T> ReadStream<'_, I, O, T> {
    /// Collects every item the stream yields. Without [`recursive`](Self::recursive),
    /// that is one page. The stream is consumed; to read its position afterwards, use
    /// [`collect_remaining`](Self::collect_remaining).
    pub async fn collect_all(self) -> Result<Vec<T>> {
        self.try_collect().await
    }

    /// Collects every item the stream yields from where it is, and keeps the stream:
    /// afterwards [`last`](Self::last) and [`cursor`](Self::cursor) are after the last
    /// item collected (`None` once the read reached the end), and
    /// [`again`](Self::again) reads on from there. Without
    /// [`recursive`](Self::recursive), that is (the rest of) one page: the way to serve
    /// a read page by page.
    ///
    /// It stops at the first error and returns it; the items collected before the error
    /// are dropped while the stream's position stays after them. To keep every item
    /// across errors, poll the stream itself (`try_next`) instead.
    ///
    /// ```no_run
    /// # use dynorm::{Db, DynaModel};
    /// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
    /// # #[table(name = "books", hash_key = "shelf", range_key = "isbn")]
    /// # struct Book { shelf: String, isbn: String }
    /// # async fn run(db: Db) -> dynorm::Result<()> {
    /// let mut page = Book::query(&db, "shelf-1").limit(20);
    /// let books: Vec<Book> = page.collect_remaining().await?;
    /// let next = page.last().cloned(); // `start(next)` reads the next page; `None` at the end
    /// let token = page.cursor()?; // or hand out an opaque cursor (with a cursor key)
    /// let more: Vec<Book> = page.again().collect_all().await?; // or go on at once
    /// # Ok(()) }
    /// ```
    pub async fn collect_remaining(&mut self) -> Result<Vec<T>> {
        TryStreamExt::try_collect(&mut *self).await
    }
}

impl<I: Index, O: Op, T> Stream for ReadStream<'_, I, O, T> {
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.lanes.poll_item(&mut this.plan, cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Ready(Some(Err(err))) => Poll::Ready(Some(Err(err))),
            Poll::Ready(Some(Ok(item))) => {
                let decoded = (this.decode_item)(item);
                Poll::Ready(Some(
                    decoded.map_err(|err| partial_item(&this.plan, std::any::type_name::<T>(), err)),
                ))
            }
        }
    }
}

/// A decoding error of an item read with a partial projection (a KEYS_ONLY or INCLUDE
/// index, or `specific_attributes`) says so, and how to read such items.
fn partial_item(plan: &ReadPlan<'_>, target: &'static str, err: Error) -> Error {
    let index = plan.source.index;
    let projection = match (index.map(|i| i.projection), &plan.attributes) {
        (_, Some(_)) => "specific attributes".to_owned(),
        (Some(Projection::KeysOnly), None) => "keys-only projection".to_owned(),
        (Some(Projection::Include(names)), None) => format!("projection of the keys and {}", names.join(", ")),
        _ => return err,
    };
    match err {
        Error::Decode { error, .. } => Error::PartialItem {
            source_name: match index {
                Some(i) => format!("index `{}` of table `{}`", i.name, plan.table()),
                None => format!("table `{}`", plan.table()),
            },
            projection,
            target,
            error,
        },
        other => other,
    }
}
