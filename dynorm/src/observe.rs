//! Observability: the capacity meter, and the one `tracing` span each operation opens.
//!
//! Every operation runs in a DEBUG span named `dynorm.<operation>` (`dynorm.get_item`,
//! `dynorm.query`, `dynorm.batch_write_item`, ...; table management opens INFO spans)
//! whose fields follow the OpenTelemetry semantic conventions for DynamoDB clients, so a
//! `tracing-opentelemetry` layer exports them as any instrumented AWS SDK would:
//!
//! | field | value |
//! |---|---|
//! | `otel.name` | `<operation> <table>`, such as `GetItem books` (the span's name in OpenTelemetry) |
//! | `otel.kind` | `client` |
//! | `db.system.name` | `aws.dynamodb` |
//! | `db.operation.name`, `rpc.method` | DynamoDB's name of the request, such as `GetItem` |
//! | `rpc.system`, `rpc.service` | `aws-api`, `DynamoDB` |
//! | `aws.dynamodb.table_names` | the full table name (the tables of a batch or transaction, comma-separated) |
//! | `aws.dynamodb.index_name` | the index of a query or scan |
//! | `aws.dynamodb.consistent_read` | on gets, queries and scans |
//! | `aws.dynamodb.limit` | the `Limit` of a query or scan page |
//! | `aws.dynamodb.projection` | the `ProjectionExpression` (placeholders only, no values) |
//! | `aws.dynamodb.segment`, `aws.dynamodb.total_segments` | on a segmented scan |
//! | `aws.dynamodb.count`, `aws.dynamodb.scanned_count` | the answer of a query or scan page |
//! | `aws.dynamodb.consumed_capacity` | the `ConsumedCapacity` answered, as JSON, when a [`CapacityMeter`] asks for it |
//!
//! dynorm's own fields, where no convention exists, keep their names: `unique` (a
//! `put_unique`), `writes`, `keys`, `items` and `requests` (batches and transactions),
//! `select_count` (a `Select = COUNT` page). Attribute values (keys, items, expression
//! values) are only ever logged at TRACE.

use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::types::{Capacity, ConsumedCapacity, ReturnConsumedCapacity};

/// Opens an operation's span, with the fields every operation's span has (the
/// OpenTelemetry conventions for DynamoDB; the ones a request does not have stay empty).
/// DEBUG, or the level given first (`op_span!(INFO; "dynorm.create_table", ..)`, as
/// table management opens its spans).
macro_rules! op_span {
    ($name:literal, $($rest:tt)*) => {
        $crate::observe::op_span!(DEBUG; $name, $($rest)*)
    };
    ($level:ident; $name:literal, $op:literal, $table:expr $(, $($field:ident).+ = $value:expr)* $(,)?) => {{
        let table = &$table;
        ::tracing::span!(
            ::tracing::Level::$level,
            $name,
            otel.name = %::std::format_args!("{} {}", $op, table),
            otel.kind = "client",
            db.system.name = "aws.dynamodb",
            db.operation.name = $op,
            rpc.system = "aws-api",
            rpc.service = "DynamoDB",
            rpc.method = $op,
            aws.dynamodb.table_names = %table,
            aws.dynamodb.index_name = ::tracing::field::Empty,
            aws.dynamodb.consistent_read = ::tracing::field::Empty,
            aws.dynamodb.limit = ::tracing::field::Empty,
            aws.dynamodb.projection = ::tracing::field::Empty,
            aws.dynamodb.segment = ::tracing::field::Empty,
            aws.dynamodb.total_segments = ::tracing::field::Empty,
            aws.dynamodb.count = ::tracing::field::Empty,
            aws.dynamodb.scanned_count = ::tracing::field::Empty,
            aws.dynamodb.consumed_capacity = ::tracing::field::Empty
            $(, $($field).+ = $value)*
        )
    }};
}
pub(crate) use op_span;

/// Adds up the capacity DynamoDB reports as consumed by the requests of a [`Db`](crate::Db)
/// handle.
///
/// Attach a meter with [`Db::with_capacity_meter`](crate::Db::with_capacity_meter): every
/// request made through that handle then asks DynamoDB for its consumed capacity
/// (`ReturnConsumedCapacity`) and adds it here: single-item operations, each page of a
/// query or scan, each batch request (retries included) and transactions. Clones share
/// the same totals, so one meter can follow a whole request handler.
///
/// ```no_run
/// # use dynorm::{CapacityMeter, Db, DynaModel};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let meter = CapacityMeter::new();
/// let metered = db.with_capacity_meter(&meter);
/// Book::get(&metered, "0-7475-3269-9").await?;
/// println!("{} read units over {} requests", meter.read_units(), meter.requests());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct CapacityMeter {
    mode: ReturnConsumedCapacity,
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    requests: usize,
    tables: Vec<ConsumedCapacity>,
}

impl Default for CapacityMeter {
    fn default() -> Self {
        CapacityMeter::new()
    }
}

impl CapacityMeter {
    /// A meter of the capacity consumed per table (`ReturnConsumedCapacity::Total`).
    pub fn new() -> Self {
        CapacityMeter {
            mode: ReturnConsumedCapacity::Total,
            state: Arc::default(),
        }
    }

    /// A meter that also breaks the capacity down by table and index
    /// (`ReturnConsumedCapacity::Indexes`).
    pub fn with_indexes() -> Self {
        CapacityMeter {
            mode: ReturnConsumedCapacity::Indexes,
            ..CapacityMeter::new()
        }
    }

    /// What the meter asks DynamoDB to return.
    pub fn mode(&self) -> &ReturnConsumedCapacity {
        &self.mode
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The capacity units consumed in all, reads and writes.
    pub fn total(&self) -> f64 {
        self.state().tables.iter().filter_map(|c| c.capacity_units).sum()
    }

    /// The read capacity units consumed (reported by DynamoDB for the reads of a
    /// transaction, and with [`with_indexes`](Self::with_indexes); otherwise the units of
    /// reads are in [`total`](Self::total) only).
    pub fn read_units(&self) -> f64 {
        self.state().tables.iter().filter_map(|c| c.read_capacity_units).sum()
    }

    /// The write capacity units consumed (see [`read_units`](Self::read_units)).
    pub fn write_units(&self) -> f64 {
        self.state().tables.iter().filter_map(|c| c.write_capacity_units).sum()
    }

    /// The responses that reported consumed capacity.
    pub fn requests(&self) -> usize {
        self.state().requests
    }

    /// The capacity consumed, summed per table (and per index, with
    /// [`with_indexes`](Self::with_indexes)), in the order the tables were first seen.
    pub fn by_table(&self) -> Vec<ConsumedCapacity> {
        self.state().tables.clone()
    }

    /// The capacity units consumed on one table (its full name, prefix included).
    pub fn table_units(&self, table: &str) -> f64 {
        self.state()
            .tables
            .iter()
            .filter(|c| c.table_name.as_deref() == Some(table))
            .filter_map(|c| c.capacity_units)
            .sum()
    }

    /// Starts counting again from zero.
    pub fn reset(&self) {
        *self.state() = State::default();
    }

    /// Adds what one response reported; returns its capacity units.
    pub(crate) fn record<'c>(&self, consumed: impl IntoIterator<Item = &'c ConsumedCapacity>) -> f64 {
        let mut units = 0.0;
        let mut state = self.state();
        state.requests += 1;
        for c in consumed {
            units += c.capacity_units.unwrap_or(0.0);
            match state.tables.iter_mut().find(|t| t.table_name == c.table_name) {
                Some(sum) => *sum = add(sum, c),
                None => state.tables.push(c.clone()),
            }
        }
        units
    }
}

fn sum(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    }
}

fn add_capacity(a: Option<&Capacity>, b: Option<&Capacity>) -> Option<Capacity> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(
            Capacity::builder()
                .set_capacity_units(sum(a.and_then(|c| c.capacity_units), b.and_then(|c| c.capacity_units)))
                .set_read_capacity_units(sum(
                    a.and_then(|c| c.read_capacity_units),
                    b.and_then(|c| c.read_capacity_units),
                ))
                .set_write_capacity_units(sum(
                    a.and_then(|c| c.write_capacity_units),
                    b.and_then(|c| c.write_capacity_units),
                ))
                .build(),
        ),
    }
}

type PerIndex = Option<std::collections::HashMap<String, Capacity>>;

fn add_indexes(a: &PerIndex, b: &PerIndex) -> PerIndex {
    match (a, b) {
        (None, None) => None,
        (a, b) => {
            let mut out = a.clone().unwrap_or_default();
            for (name, capacity) in b.iter().flatten() {
                let merged = add_capacity(out.get(name), Some(capacity));
                out.insert(name.clone(), merged.unwrap_or_else(|| capacity.clone()));
            }
            Some(out)
        }
    }
}

fn add(a: &ConsumedCapacity, b: &ConsumedCapacity) -> ConsumedCapacity {
    ConsumedCapacity::builder()
        .set_table_name(a.table_name.clone())
        .set_capacity_units(sum(a.capacity_units, b.capacity_units))
        .set_read_capacity_units(sum(a.read_capacity_units, b.read_capacity_units))
        .set_write_capacity_units(sum(a.write_capacity_units, b.write_capacity_units))
        .set_table(add_capacity(a.table.as_ref(), b.table.as_ref()))
        .set_local_secondary_indexes(add_indexes(&a.local_secondary_indexes, &b.local_secondary_indexes))
        .set_global_secondary_indexes(add_indexes(&a.global_secondary_indexes, &b.global_secondary_indexes))
        .build()
}

/// The `ConsumedCapacity` of a response as the conventions record it: a JSON array of
/// one object per entry, with DynamoDB's field names.
pub(crate) fn capacity_json<'c>(consumed: impl IntoIterator<Item = &'c ConsumedCapacity>) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("[");
    for (i, c) in consumed.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        let mut first = true;
        let mut field = |out: &mut String, name: &str, value: String| {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "\"{name}\":{value}");
        };
        if let Some(table) = c.table_name() {
            field(&mut out, "TableName", json_string(table));
        }
        for (name, units) in [
            ("CapacityUnits", c.capacity_units()),
            ("ReadCapacityUnits", c.read_capacity_units()),
            ("WriteCapacityUnits", c.write_capacity_units()),
        ] {
            if let Some(units) = units {
                field(&mut out, name, units.to_string());
            }
        }
        out.push('}');
    }
    out.push(']');
    out
}

/// A string as JSON.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumed(table: &str, units: f64, index: Option<(&str, f64)>) -> ConsumedCapacity {
        let mut c = ConsumedCapacity::builder().table_name(table).capacity_units(units);
        if let Some((name, u)) = index {
            c = c.global_secondary_indexes(name, Capacity::builder().capacity_units(u).build());
        }
        c.build()
    }

    #[test]
    fn sums_per_table_and_index() {
        let meter = CapacityMeter::with_indexes();
        meter.record(&[consumed("a", 1.0, Some(("by-x", 0.5)))]);
        meter.record(&[consumed("a", 2.0, Some(("by-x", 1.5))), consumed("b", 4.0, None)]);
        assert_eq!(meter.requests(), 2);
        assert_eq!(meter.total(), 7.0);
        assert_eq!(meter.table_units("a"), 3.0);
        let tables = meter.by_table();
        assert_eq!(tables.len(), 2);
        let gsi = tables[0].global_secondary_indexes.as_ref().unwrap();
        assert_eq!(gsi["by-x"].capacity_units, Some(2.0));
        let clone = meter.clone();
        clone.reset();
        assert_eq!((meter.total(), meter.requests()), (0.0, 0));
    }

    #[test]
    fn capacity_is_recorded_as_dynamodb_json() {
        let consumed = ConsumedCapacity::builder()
            .table_name("a\"b")
            .capacity_units(1.5)
            .build();
        assert_eq!(
            super::capacity_json([&consumed]),
            r#"[{"TableName":"a\"b","CapacityUnits":1.5}]"#
        );
        assert_eq!(super::capacity_json([]), "[]");
    }
}
