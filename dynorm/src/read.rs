//! The read stream (DynamORM's ReadIterator): a lazy `Stream` of models over Query or
//! Scan pages. Work in progress: the engine and the table-level query and scan; typed
//! index handles, projections, parallel scan segments and cursors come next.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::scan::ScanInput;
use aws_sdk_dynamodb::types::{AttributeValue, Select};
use futures::future::BoxFuture;
use futures::Stream;

use crate::expr::render::Placeholders;
use crate::expr::Condition;
use crate::item::from_item;
use crate::{Db, DynaModel, Error, Item, Result};

/// One page as the stream needs it.
struct Page {
    items: Vec<Item>,
    last: Option<Item>,
    scanned: usize,
    count: usize,
}

/// What a read sends: a query (with its key condition) or a scan.
#[derive(Clone)]
enum Source {
    Query {
        key_condition: String,
        placeholders_seed: Vec<(String, AttributeValue)>,
        hash_name: String,
        range_name: Option<String>,
    },
    Scan,
}

/// The options shared by a query and a scan.
pub(crate) struct ReadOptions<M> {
    pub index: Option<&'static str>,
    pub limit: Option<usize>,
    pub page_size: Option<i32>,
    pub start: Option<Item>,
    pub reverse: bool,
    pub recursive: bool,
    pub consistent: bool,
    pub filter: Option<Condition<M>>,
}

impl<M> Default for ReadOptions<M> {
    fn default() -> Self {
        ReadOptions {
            index: None,
            limit: None,
            page_size: None,
            start: None,
            reverse: false,
            recursive: false,
            consistent: false,
            filter: None,
        }
    }
}

/// A lazy stream of models read by a query or a scan. Nothing is sent until it is polled.
///
/// Without `recursive`, one request is made (as DynamORM's ReadIterator does); with it,
/// pages are followed to the end, or until `limit` items have been evaluated.
pub struct ReadStream<'a, M: DynaModel> {
    db: &'a Db,
    table: String,
    source: Source,
    options: ReadOptions<M>,
    /// Items of the current page not yet yielded.
    buffer: VecDeque<Item>,
    pending: Option<BoxFuture<'a, Result<Page>>>,
    /// The last evaluated key of the latest page; `None` when the read reached the end.
    last: Option<Item>,
    /// Whether a request has been made.
    started: bool,
    /// Items DynamoDB evaluated so far, against `limit`.
    evaluated: usize,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: DynaModel> ReadStream<'a, M> {
    /// The last evaluated key of the latest page, to resume from with `start`. `None`
    /// before the first page, and after the read reached the end.
    pub fn last(&self) -> Option<&Item> {
        self.last.as_ref()
    }

    fn request(&self, select_count: bool) -> Result<BoxFuture<'a, Result<Page>>> {
        let mut placeholders = Placeholders::default();
        let filter = match &self.options.filter {
            Some(filter) => Some(placeholders.condition(filter.clone())?),
            None => None,
        };
        let remaining = self.options.limit.map(|l| l.saturating_sub(self.evaluated));
        let limit = match (remaining, self.options.page_size) {
            (Some(r), Some(p)) => Some(r.min(p as usize)),
            (Some(r), None) => Some(r),
            (None, p) => p.map(|p| p as usize),
        };
        let limit = limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX));
        let select = select_count.then_some(Select::Count);
        let client = self.db.client().clone();
        let table = self.table.clone();
        let start = if self.started {
            self.last.clone()
        } else {
            self.options.start.clone()
        };
        match &self.source {
            Source::Query {
                key_condition,
                placeholders_seed,
                ..
            } => {
                let _ = placeholders_seed;
                let (names, values) = placeholders.into_maps();
                let input = QueryInput::builder()
                    .table_name(&table)
                    .set_index_name(self.options.index.map(str::to_owned))
                    .key_condition_expression(key_condition)
                    .set_filter_expression(filter)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .set_limit(limit)
                    .set_exclusive_start_key(start)
                    .scan_index_forward(!self.options.reverse)
                    .consistent_read(self.options.consistent)
                    .set_select(select);
                Ok(Box::pin(async move {
                    let out = input.send_with(&client).await.map_err(|e| Error::from_sdk(e, &table))?;
                    Ok(Page {
                        scanned: out.scanned_count.max(0) as usize,
                        count: out.count.max(0) as usize,
                        items: out.items.unwrap_or_default(),
                        last: out.last_evaluated_key,
                    })
                }))
            }
            Source::Scan => {
                let (names, values) = placeholders.into_maps();
                let input = ScanInput::builder()
                    .table_name(&table)
                    .set_index_name(self.options.index.map(str::to_owned))
                    .set_filter_expression(filter)
                    .set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
                    .set_limit(limit)
                    .set_exclusive_start_key(start)
                    .consistent_read(self.options.consistent)
                    .set_select(select);
                Ok(Box::pin(async move {
                    let out = input.send_with(&client).await.map_err(|e| Error::from_sdk(e, &table))?;
                    Ok(Page {
                        scanned: out.scanned_count.max(0) as usize,
                        count: out.count.max(0) as usize,
                        items: out.items.unwrap_or_default(),
                        last: out.last_evaluated_key,
                    })
                }))
            }
        }
    }

    /// Whether another page should be fetched.
    fn wants_page(&self) -> bool {
        let limit_left = self.options.limit.is_none_or(|l| self.evaluated < l);
        !self.started || (self.options.recursive && self.last.is_some() && limit_left)
    }
}

impl<'a, M: DynaModel> Stream for ReadStream<'a, M> {
    type Item = Result<M>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(item) = this.buffer.pop_front() {
                return Poll::Ready(Some(from_item(item)));
            }
            if let Some(pending) = this.pending.as_mut() {
                let page = match pending.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(page) => page,
                };
                this.pending = None;
                match page {
                    Ok(page) => {
                        this.started = true;
                        this.evaluated += page.scanned;
                        let _ = page.count;
                        this.last = page.last;
                        this.buffer.extend(page.items);
                        continue;
                    }
                    Err(err) => {
                        // Stop after an error: a retry is the caller's, from `last()`.
                        this.started = true;
                        this.options.recursive = false;
                        return Poll::Ready(Some(Err(err)));
                    }
                }
            }
            if !this.wants_page() {
                return Poll::Ready(None);
            }
            match this.request(false) {
                Ok(future) => this.pending = Some(future),
                Err(err) => {
                    this.started = true;
                    this.options.recursive = false;
                    return Poll::Ready(Some(Err(err)));
                }
            }
        }
    }
}
