//! What kind of read a stream is: a query or a scan, as types, and the options each
//! allows.

/// Marks a [`ReadStream`](super::ReadStream) made by a query.
#[derive(Debug, Clone, Copy)]
pub enum QueryOp {}

/// Marks a [`ReadStream`](super::ReadStream) made by a scan.
#[derive(Debug, Clone, Copy)]
pub enum ScanOp {}

pub(crate) mod sealed {
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
pub(crate) use sealed::Op;

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
