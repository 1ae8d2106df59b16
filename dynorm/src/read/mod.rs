//! Queries and scans: lazy read streams (DynamORM's ReadIterator) over a table or one of its
//! indexes.
//!
//! By concern: `op` (query or scan, as types), `index` (what is read, and range key
//! conditions), `attributes` (projections), `stream` (the typed [`ReadStream`] surface
//! and decoding), `plan` (the non-generic options, checks and requests), `lanes` (the
//! page state machine), and `cursor` (resume positions and what they are bound to).

mod attributes;
pub(crate) mod cursor;
mod index;
mod lanes;
mod op;
mod plan;
mod stream;

pub use attributes::{AttributeList, Attributes};
pub(crate) use index::RangeOp;
pub use index::{ConsistentRead, Index, KeyCondition, NoRange, PrefixKey, RangeKey, RangeKeyType, Table};
pub use op::{KeyOrdered, QueryOp, ScanOp, Segmented};
pub use stream::{Query, ReadStream, Scan};
