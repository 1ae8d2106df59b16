//! The plan of a read: what is read (static schema data), its options, their checks,
//! and the requests they make. Not generic: one copy serves every model, index and
//! target type.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::query::builders::QueryInputBuilder;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::scan::builders::ScanInputBuilder;
use aws_sdk_dynamodb::operation::scan::ScanInput;
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, Select};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use futures::future::BoxFuture;
use tracing::Instrument;

use super::attributes::AttributeList;
use super::index::RangeOp;
use crate::db::Db;
use crate::drift::Prepare;
use crate::error::{Error, KeyProblem, Result};
use crate::expr::render::{Names, Placeholders, Values};
use crate::expr::Condition;
use crate::item::check_key_attr;
use crate::observe::op_span;
use crate::schema::{IndexSchema, KeyAttr, TableSchema};
use crate::value::{Item, MAX_HASH_KEY_SIZE, MAX_RANGE_KEY_SIZE};

/// What a read reads, as static data: the table, the index if any, query or scan, and
/// how to make sure the table is there.
#[derive(Clone, Copy)]
pub(crate) struct Source {
    pub(crate) table: &'static TableSchema,
    pub(crate) index: Option<&'static IndexSchema>,
    pub(crate) query: bool,
    pub(crate) prepare: Prepare,
}

impl Source {
    /// The hash key attribute of what is read.
    pub(crate) fn hash_key(&self) -> KeyAttr {
        self.index.map_or(self.table.hash_key, |i| i.hash_key)
    }

    /// The range key attribute of what is read, if any.
    pub(crate) fn range_key(&self) -> Option<KeyAttr> {
        match self.index {
            Some(index) => index.range_key,
            None => self.table.range_key,
        }
    }

    /// The key attribute names an item of this read carries: the table's and the index's.
    fn key_names(&self) -> Vec<&'static str> {
        let mut unique: Vec<&'static str> = Vec::with_capacity(4);
        let index = [Some(self.hash_key().name), self.range_key().map(|k| k.name)];
        let more = self
            .index
            .into_iter()
            .flat_map(|i| i.more_hash_keys.iter().chain(i.more_range_keys))
            .map(|k| k.name);
        for name in self.table.key_names().chain(index.into_iter().flatten()).chain(more) {
            if !unique.contains(&name) {
                unique.push(name);
            }
        }
        unique
    }
}

/// One page as the stream needs it.
pub(crate) struct Page {
    pub(crate) items: Vec<Item>,
    pub(crate) last: Option<Item>,
    pub(crate) scanned: usize,
    pub(crate) count: usize,
    consumed: Option<ConsumedCapacity>,
}

/// A page from a query's or a scan's output (their fields have the same names).
macro_rules! page_from {
    ($($output:ty),*) => {$(
        impl From<$output> for Page {
            fn from(out: $output) -> Self {
                Page {
                    scanned: out.scanned_count.max(0) as usize,
                    count: out.count.max(0) as usize,
                    items: out.items.unwrap_or_default(),
                    last: out.last_evaluated_key,
                    consumed: out.consumed_capacity,
                }
            }
        }
    )*};
}
page_from!(
    aws_sdk_dynamodb::operation::query::QueryOutput,
    aws_sdk_dynamodb::operation::scan::ScanOutput
);

/// Sends one query or scan request; the page it answers, its capacity recorded.
fn fetch<'a, O, E>(
    db: &'a Db,
    table: String,
    send: impl std::future::Future<Output = std::result::Result<O, SdkError<E, HttpResponse>>> + Send + 'a,
) -> BoxFuture<'a, Result<Page>>
where
    O: Into<Page>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    Box::pin(async move {
        let mut ticket = db.ticket(crate::budget::Spend::Read).await;
        let page: Page = send
            .await
            .map(Into::into)
            .map_err(|e| ticket.fail(Error::from_sdk(e, &table)))?;
        ticket.settle(page.consumed.iter());
        let span = tracing::Span::current();
        span.record("aws.dynamodb.count", page.count as i64);
        span.record("aws.dynamodb.scanned_count", page.scanned as i64);
        db.record_capacity(page.consumed.iter());
        Ok(page)
    })
}

/// The expressions of a request.
pub(crate) struct Rendered {
    pub(crate) key_condition: Option<String>,
    pub(crate) filter: Option<String>,
    pub(crate) projection: Option<String>,
    pub(crate) names: Option<Names>,
    pub(crate) values: Option<Values>,
}

/// Where one request of a lane starts, and how many items it evaluates.
pub(crate) struct PageRequest {
    pub(crate) lane: usize,
    pub(crate) limit: Option<i32>,
    pub(crate) start: Option<Item>,
    /// `Select = COUNT`: only the number of matching items.
    pub(crate) count: bool,
}

/// Sets the options a query and a scan share on either SDK input builder (their setters
/// have the same names).
macro_rules! shared_options {
    ($builder:expr, $plan:expr, $rendered:expr, $page:expr) => {
        $builder
            .table_name($plan.table())
            .set_index_name($plan.source.index.map(|i| i.name.to_owned()))
            .set_filter_expression($rendered.filter)
            .set_projection_expression($rendered.projection)
            .set_expression_attribute_names($rendered.names)
            .set_expression_attribute_values($rendered.values)
            .set_limit($page.limit)
            .set_exclusive_start_key($page.start.clone())
            .set_consistent_read($plan.consistent.then_some(true))
            .set_select($page.count.then_some(Select::Count))
            .set_return_consumed_capacity($plan.db.capacity_mode())
    };
}

/// A read's source and options.
pub(crate) struct ReadPlan<'a> {
    pub(crate) db: &'a Db,
    pub(crate) source: Source,
    pub(crate) hash: Option<AttributeValue>,
    pub(crate) range: Option<RangeOp>,
    pub(crate) filter: Option<Condition<()>>,
    pub(crate) attributes: Option<AttributeList>,
    pub(crate) limit: Option<usize>,
    pub(crate) page_size: Option<usize>,
    pub(crate) start: Option<Item>,
    pub(crate) reverse: bool,
    pub(crate) recursive: bool,
    pub(crate) consistent: bool,
    pub(crate) segments: Option<u32>,
    pub(crate) resume: Option<String>,
    /// Why the hash key value was refused before the stream was made (a relationship's
    /// key template): the read fails with [`Error::InvalidKey`] and sends nothing.
    pub(crate) refused_hash: Option<KeyProblem>,
    /// Why a sort key condition's value was refused (an entity's sort template).
    pub(crate) refused_range: Option<KeyProblem>,
    /// Equalities on further key attributes, after the hash key's: the other partition
    /// attributes of a multi-attribute key, and its leading sort attributes.
    pub(crate) key_equalities: Vec<(KeyAttr, AttributeValue)>,
    /// Equalities on the leading sort attributes of a multi-attribute key, set with the
    /// range condition.
    pub(crate) sort_equalities: Vec<(KeyAttr, AttributeValue)>,
    /// The attribute `range` applies to, when not the range key (a later sort
    /// attribute of a multi-attribute key).
    pub(crate) range_attr: Option<KeyAttr>,
    /// The key attributes of an item, to resume after it.
    pub(crate) key_names: Vec<&'static str>,
}

impl<'a> ReadPlan<'a> {
    pub(crate) fn new(db: &'a Db, source: Source, hash: Option<AttributeValue>) -> Self {
        ReadPlan {
            db,
            key_names: source.key_names(),
            source,
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
            refused_hash: None,
            refused_range: None,
            key_equalities: Vec::new(),
            sort_equalities: Vec::new(),
            range_attr: None,
        }
    }

    pub(crate) fn lane_count(&self) -> usize {
        self.segments.unwrap_or(1).max(1) as usize
    }

    /// The full table name on the handle.
    pub(crate) fn table(&self) -> String {
        self.db.resolve_table_name(self.source.table.name)
    }

    /// Client-side checks of the options, before anything is sent.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(problem) = self.refused_hash {
            return Err(Error::InvalidKey {
                attribute: self.source.hash_key().name.to_owned(),
                problem,
            });
        }
        if let Some(problem) = self.refused_range {
            return Err(Error::InvalidKey {
                attribute: self.source.range_key().map_or("", |k| k.name).to_owned(),
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
            check_key_attr(Some(hash), &self.source.hash_key(), MAX_HASH_KEY_SIZE)?;
        }
        for (attr, value) in self.key_equalities.iter().chain(&self.sort_equalities) {
            check_key_attr(Some(value), attr, MAX_HASH_KEY_SIZE)?;
        }
        if let (Some(range), Some(attr)) = (&self.range, self.range_attr.or(self.source.range_key())) {
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

    /// The expressions of a request; `Placeholders` numbers them identically every time.
    pub(crate) fn render(&self, count: bool) -> Result<Rendered> {
        let mut ph = Placeholders::default();
        let key_condition = match &self.hash {
            Some(hash) => {
                let name = ph.name(self.source.hash_key().name);
                let value = ph.value(hash.clone());
                let mut text = format!("{name} = {value}");
                for (attr, value) in self.key_equalities.iter().chain(&self.sort_equalities) {
                    let name = ph.name(attr.name);
                    let value = ph.value(value.clone());
                    text.push_str(&format!(" AND {name} = {value}"));
                }
                if let (Some(range), Some(attr)) = (&self.range, self.range_attr.or(self.source.range_key())) {
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
                // An entity's items are checked by their type attribute when decoded.
                // An item at an older schema version is migrated before it is decoded.
                let type_attribute = self.source.table.entity.map(|e| e.type_attribute);
                let version_attribute = self.source.table.schema_version.map(|v| v.attribute);
                for key in self
                    .key_names
                    .iter()
                    .copied()
                    .chain(type_attribute)
                    .chain(version_attribute)
                {
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

    pub(crate) fn query_input(&self, rendered: Rendered, page: &PageRequest) -> QueryInputBuilder {
        let key_condition = rendered.key_condition.clone();
        shared_options!(QueryInput::builder(), self, rendered, page)
            .set_key_condition_expression(key_condition)
            .scan_index_forward(!self.reverse)
    }

    pub(crate) fn scan_input(&self, rendered: Rendered, page: &PageRequest) -> ScanInputBuilder {
        let total = self.lane_count();
        shared_options!(ScanInput::builder(), self, rendered, page)
            .set_segment((total > 1).then_some(page.lane as i32))
            .set_total_segments((total > 1).then_some(total as i32))
    }

    /// The request for one page.
    pub(crate) fn request(&self, page: PageRequest) -> Result<BoxFuture<'a, Result<Page>>> {
        let rendered = self.render(page.count)?;
        let db = self.db;
        let table = self.table();
        let index = self.source.index.map_or("", |i| i.name);
        let projection = rendered.projection.clone();
        let limit = page.limit;
        let error_table = table.clone();
        let (send, span): (BoxFuture<'a, Result<Page>>, tracing::Span) = if self.source.query {
            let input = self.query_input(rendered, &page);
            tracing::trace!(input = ?input, "query");
            let span = op_span!("dynorm.query", "Query", table, select_count = page.count);
            (fetch(db, error_table, input.send_with(db.read_client())), span)
        } else {
            let input = self.scan_input(rendered, &page);
            tracing::trace!(input = ?input, "scan");
            let span = op_span!("dynorm.scan", "Scan", table, select_count = page.count);
            let total = self.lane_count();
            if total > 1 {
                span.record("aws.dynamodb.segment", page.lane as i64);
                span.record("aws.dynamodb.total_segments", total as i64);
            }
            (fetch(db, error_table, input.send_with(db.read_client())), span)
        };
        if !index.is_empty() {
            span.record("aws.dynamodb.index_name", index);
        }
        span.record("aws.dynamodb.consistent_read", self.consistent);
        if let Some(limit) = limit {
            span.record("aws.dynamodb.limit", i64::from(limit));
        }
        if let Some(projection) = &projection {
            span.record("aws.dynamodb.projection", projection.as_str());
        }
        let prepare = self.source.prepare;
        Ok(Box::pin(
            async move {
                prepare(db).await?;
                send.await
            }
            .instrument(span),
        ))
    }
}
