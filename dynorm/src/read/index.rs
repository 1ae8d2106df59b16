//! What a query or scan reads: the table or one of its indexes, as a type, and the typed
//! conditions on a range key.

use std::fmt;
use std::marker::PhantomData;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::key::{KeyPart, PrimaryKey};
use crate::schema::{IndexSchema, KeyAttr};
use crate::{KeyAttribute, Model};

/// The table of a model, or one of its secondary indexes, as a type: what a
/// [`Query`](crate::Query) or [`Scan`](crate::Scan) reads.
///
/// `Table<M>` is the table itself. The derive generates one zero-sized type per index,
/// with a constructor named after the index: `#[global_index(name = "by-author", ..)]`
/// on `Book` gives `Book::by_author()`, of type `BookByAuthorIndex`. Its methods
/// [`query`](Index::query) and [`scan`](Index::scan) start a read:
///
/// ```no_run
/// # use dynorm::{Db, DynaModel, Index};
/// # use futures::TryStreamExt;
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # #[global_index(name = "by-author", hash_key = "author", range_key = "published")]
/// # struct Book { isbn: String, author: String, published: u16 }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let sixties: Vec<Book> = Book::by_author()
///     .query(&db, "Frank Herbert")
///     .range(|published| published.between(1960, 1969))
///     .recursive()
///     .collect_all()
///     .await?;
/// # Ok(()) }
/// ```
pub trait Index: Send + Sync + 'static {
    /// The model stored in the table.
    type Model: Model;
    /// The type of the hash key (a [`KeyAttribute`]; the bound sits on
    /// [`query`](Index::query), so a model whose key type is wrong reports it once).
    type Hash: Send + Sync + 'static;
    /// The type of the range key; [`NoRange`] when there is none.
    type Range: Send + Sync + 'static;

    /// The index's schema; `None` for the table itself.
    fn schema() -> Option<&'static IndexSchema>;

    /// The hash key attribute.
    fn hash_key() -> KeyAttr {
        match Self::schema() {
            Some(index) => index.hash_key,
            None => Self::Model::SCHEMA.hash_key,
        }
    }

    /// The range key attribute, if any.
    fn range_key() -> Option<KeyAttr> {
        match Self::schema() {
            Some(index) => index.range_key,
            None => Self::Model::SCHEMA.range_key,
        }
    }

    /// Queries the items whose hash key is `hash`. Add a range key condition with
    /// [`range`](crate::ReadStream::range).
    fn query(self, db: &crate::Db, hash: impl KeyPart<Self::Hash>) -> crate::Query<'_, Self>
    where
        Self: Sized,
        Self::Hash: KeyAttribute,
    {
        crate::read::ReadStream::new_query(db, hash.into_key_part().to_attribute_value())
    }

    /// Scans every item.
    fn scan(self, db: &crate::Db) -> crate::Scan<'_, Self>
    where
        Self: Sized,
    {
        crate::read::ReadStream::new_scan(db)
    }
}

/// Implemented by what can be read with strong consistency: the table and its local
/// indexes. Global indexes are eventually consistent only.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a global secondary index, which cannot be read consistently",
    label = "DynamoDB only offers eventually consistent reads on a global index",
    note = "read the table, or a local index, for a strongly consistent read"
)]
pub trait ConsistentRead: Index {}

/// The table of the model `M`, as an [`Index`]. `DynaModel::query` and
/// `DynaModel::scan` read it.
pub struct Table<M>(PhantomData<fn() -> M>);

impl<M> Table<M> {
    /// The table of `M`.
    pub const fn new() -> Self {
        Table(PhantomData)
    }
}

impl<M> Default for Table<M> {
    fn default() -> Self {
        Table::new()
    }
}

impl<M> Clone for Table<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Table<M> {}

impl<M> fmt::Debug for Table<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Table")
    }
}

impl<M: Model> Index for Table<M> {
    type Model = M;
    type Hash = <M::Key as PrimaryKey>::Hash;
    type Range = <M::Key as PrimaryKey>::Range;

    fn schema() -> Option<&'static IndexSchema> {
        None
    }
}

impl<M: Model> ConsistentRead for Table<M> {}

pub use crate::key::NoRange;

/// A range key type: one that is a [`KeyAttribute`]. [`NoRange`] is not, so a range
/// condition on a table or index without a range key does not compile.
#[diagnostic::on_unimplemented(
    message = "this table or index has no range key to put a condition on",
    label = "`range` needs a range key"
)]
pub trait RangeKeyType: KeyAttribute {}

impl<T: KeyAttribute> RangeKeyType for T {}

/// Range key types that `begins_with` applies to: strings and byte vectors, and
/// `#[derive(KeyAttribute)]` newtypes around them.
#[diagnostic::on_unimplemented(
    message = "`begins_with` needs a string or binary range key, not `{Self}`",
    label = "numbers have no prefix"
)]
pub trait PrefixKey: KeyAttribute {}

impl PrefixKey for String {}
impl PrefixKey for Vec<u8> {}
impl PrefixKey for std::borrow::Cow<'static, str> {}

/// The range key of the index `I`, given to the closure of
/// [`range`](crate::ReadStream::range): its methods make the [`KeyCondition`].
pub struct RangeKey<I: Index>(PhantomData<fn() -> I>);

/// A condition on the range key of the index `I`, made by [`RangeKey`]'s methods.
pub struct KeyCondition<I: Index> {
    pub(crate) op: RangeOp,
    _index: PhantomData<fn() -> I>,
}

impl<I: Index> Clone for KeyCondition<I> {
    fn clone(&self) -> Self {
        KeyCondition {
            op: self.op.clone(),
            _index: PhantomData,
        }
    }
}

impl<I: Index> fmt::Debug for KeyCondition<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.op, f)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RangeOp {
    Compare(&'static str, AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

impl<I: Index> RangeKey<I>
where
    I::Range: KeyAttribute,
{
    pub(crate) fn new() -> Self {
        RangeKey(PhantomData)
    }

    fn compare(op: &'static str, value: impl KeyPart<I::Range>) -> KeyCondition<I> {
        KeyCondition {
            op: RangeOp::Compare(op, value.into_key_part().to_attribute_value()),
            _index: PhantomData,
        }
    }

    /// The range key equals `value`.
    pub fn eq(self, value: impl KeyPart<I::Range>) -> KeyCondition<I> {
        Self::compare("=", value)
    }

    /// The range key is less than `value`.
    pub fn lt(self, value: impl KeyPart<I::Range>) -> KeyCondition<I> {
        Self::compare("<", value)
    }

    /// The range key is at most `value`.
    pub fn le(self, value: impl KeyPart<I::Range>) -> KeyCondition<I> {
        Self::compare("<=", value)
    }

    /// The range key is greater than `value`.
    pub fn gt(self, value: impl KeyPart<I::Range>) -> KeyCondition<I> {
        Self::compare(">", value)
    }

    /// The range key is at least `value`.
    pub fn ge(self, value: impl KeyPart<I::Range>) -> KeyCondition<I> {
        Self::compare(">=", value)
    }

    /// The range key is between `low` and `high`, both included.
    pub fn between(self, low: impl KeyPart<I::Range>, high: impl KeyPart<I::Range>) -> KeyCondition<I> {
        KeyCondition {
            op: RangeOp::Between(
                low.into_key_part().to_attribute_value(),
                high.into_key_part().to_attribute_value(),
            ),
            _index: PhantomData,
        }
    }

    /// The range key starts with `prefix`. Only for string and binary range keys.
    pub fn begins_with(self, prefix: impl KeyPart<I::Range>) -> KeyCondition<I>
    where
        I::Range: PrefixKey,
    {
        KeyCondition {
            op: RangeOp::BeginsWith(prefix.into_key_part().to_attribute_value()),
            _index: PhantomData,
        }
    }
}
