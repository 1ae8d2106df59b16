//! Typed change streams: DynamoDB Streams records decoded into the change of a model
//! (or of a collection's entities), from the events AWS Lambda hands a handler
//! (feature `lambda`) or from the records of `aws-sdk-dynamodbstreams` (feature
//! `streams`, with a [`StreamReader`] that walks a stream's shards and checkpoints).
//!
//! A [`Record`] is the source-neutral form of one stream record; decode it with
//! [`Record::decode`] into a [`Change`] of a model, or with
//! [`Record::decode_collection`] into a change of a collection enum (single-table
//! design: records dispatch on the type attribute). Images pass through the model's
//! migrations and load hooks, as every read does.
//!
//! ```
//! use dynorm::changes::{Change, ChangeKind, Record};
//! # use dynorm::DynaModel;
//! # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate, Debug)]
//! # #[table(name = "orders", hash_key = "id")]
//! # struct Order { id: String, total: u32 }
//! # fn demo(record: Record) -> dynorm::Result<()> {
//! match record.decode::<Order>()? {
//!     Change::Inserted { new: Some(order), .. } => println!("new order {}", order.id),
//!     Change::Modified { old, new, .. } => println!("{old:?} became {new:?}"),
//!     Change::Removed { expired: true, .. } => println!("an order expired (TTL)"),
//!     Change::Removed { keys, .. } => println!("deleted: {keys:?}"),
//!     Change::Inserted { keys, new: None } => println!("inserted (keys only): {keys:?}"),
//! }
//! # Ok(()) }
//! ```

#[cfg(feature = "lambda")]
mod lambda;
#[cfg(feature = "streams")]
mod reader;

use std::time::SystemTime;

#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub use lambda::{batch_failures, handle_event, records};
#[cfg(feature = "streams")]
#[cfg_attr(docsrs, doc(cfg(feature = "streams")))]
pub use reader::{local_streams_client, Batch, StreamReader};

use crate::entity::Collection;
use crate::schema::StreamView;
use crate::{Item, Model, Result};

/// What happened to the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// `INSERT`: a new item.
    Insert,
    /// `MODIFY`: an item changed.
    Modify,
    /// `REMOVE`: an item was deleted, by a user or by time to live.
    Remove,
}

/// One stream record, whatever it came from: a Lambda event, the DynamoDB Streams API,
/// or built by hand (a recorded event in a test).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The record's unique id.
    pub event_id: String,
    /// Insert, modify or remove.
    pub kind: ChangeKind,
    /// The record's sequence number in its shard; what a Lambda partial batch failure
    /// names.
    pub sequence_number: Option<String>,
    /// The key attributes of the item.
    pub keys: Item,
    /// The item after the change, when the stream view holds it.
    pub new_image: Option<Item>,
    /// The item before the change, when the stream view holds it.
    pub old_image: Option<Item>,
    /// What the stream records, when the record says.
    pub view: Option<StreamView>,
    /// The removal was DynamoDB's time to live, not a user's delete.
    pub expired: bool,
    /// When the change was made, about.
    pub created: Option<SystemTime>,
}

/// A typed change of an item: of a model `T`, or of a collection's entity.
///
/// Images are `None` where the stream view does not hold them (`KEYS_ONLY`, or the old
/// image of a `NEW_IMAGE` stream); `keys` are always there.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    /// A new item.
    Inserted {
        /// The item's key attributes.
        keys: Item,
        /// The new item.
        new: Option<T>,
    },
    /// An item changed.
    Modified {
        /// The item's key attributes.
        keys: Item,
        /// The item before.
        old: Option<T>,
        /// The item after.
        new: Option<T>,
    },
    /// An item was removed.
    Removed {
        /// The item's key attributes.
        keys: Item,
        /// The item as it was.
        old: Option<T>,
        /// Removed by time to live (DynamoDB's own delete), not by a user.
        expired: bool,
    },
}

impl<T> Change<T> {
    /// The key attributes of the changed item.
    pub fn keys(&self) -> &Item {
        match self {
            Change::Inserted { keys, .. } | Change::Modified { keys, .. } | Change::Removed { keys, .. } => keys,
        }
    }

    /// The item after the change, if the record holds it.
    pub fn new_item(&self) -> Option<&T> {
        match self {
            Change::Inserted { new, .. } | Change::Modified { new, .. } => new.as_ref(),
            Change::Removed { .. } => None,
        }
    }

    /// The item before the change, if the record holds it.
    pub fn old_item(&self) -> Option<&T> {
        match self {
            Change::Modified { old, .. } | Change::Removed { old, .. } => old.as_ref(),
            Change::Inserted { .. } => None,
        }
    }

    /// Insert, modify or remove.
    pub fn kind(&self) -> ChangeKind {
        match self {
            Change::Inserted { .. } => ChangeKind::Insert,
            Change::Modified { .. } => ChangeKind::Modify,
            Change::Removed { .. } => ChangeKind::Remove,
        }
    }

    /// Whether time to live removed the item.
    pub fn is_expiry(&self) -> bool {
        matches!(self, Change::Removed { expired: true, .. })
    }
}

impl Record {
    /// The change as a change of the model `M`: its images migrated, decoded and given
    /// to its load hooks. An image that does not decode is an error (for an entity of a
    /// single-table design, an item of another entity is [`Error::WrongEntity`]: decode
    /// such streams with [`decode_collection`](Self::decode_collection)).
    pub fn decode<M: Model>(&self) -> Result<Change<M>> {
        self.decode_with(crate::hooks::load::<M>)
    }

    /// The change as a change of a collection's entity: each image decoded into the
    /// variant of its type.
    pub fn decode_collection<C: Collection>(&self) -> Result<Change<C>> {
        self.decode_with(C::decode)
    }

    /// The change, each image decoded by `decode`.
    pub fn decode_with<T>(&self, decode: impl Fn(Item) -> Result<T>) -> Result<Change<T>> {
        let image = |image: &Option<Item>| image.clone().map(&decode).transpose();
        let keys = self.keys.clone();
        Ok(match self.kind {
            ChangeKind::Insert => Change::Inserted {
                keys,
                new: image(&self.new_image)?,
            },
            ChangeKind::Modify => Change::Modified {
                keys,
                old: image(&self.old_image)?,
                new: image(&self.new_image)?,
            },
            ChangeKind::Remove => Change::Removed {
                keys,
                old: image(&self.old_image)?,
                expired: self.expired,
            },
        })
    }

    /// The entity type an image of the record holds in `type_attribute` (`_type` for
    /// a `DynaTable` without its own).
    pub fn entity_type(&self, type_attribute: &str) -> Option<&str> {
        [&self.new_image, &self.old_image]
            .into_iter()
            .flatten()
            .find_map(|image| match image.get(type_attribute) {
                Some(aws_sdk_dynamodb::types::AttributeValue::S(t)) => Some(t.as_str()),
                _ => None,
            })
    }
}

/// The kind of a record from its event name.
#[cfg(any(feature = "lambda", feature = "streams"))]
pub(crate) fn kind_of(event_name: &str) -> Result<ChangeKind> {
    match event_name {
        "INSERT" => Ok(ChangeKind::Insert),
        "MODIFY" => Ok(ChangeKind::Modify),
        "REMOVE" => Ok(ChangeKind::Remove),
        other => Err(crate::Error::InvalidRequest(format!(
            "unknown stream event name `{other}` (INSERT, MODIFY or REMOVE)"
        ))),
    }
}

/// The stream view from its name.
#[cfg(any(feature = "lambda", feature = "streams"))]
pub(crate) fn view_of(name: &str) -> Option<StreamView> {
    match name {
        "KEYS_ONLY" => Some(StreamView::KeysOnly),
        "NEW_IMAGE" => Some(StreamView::NewImage),
        "OLD_IMAGE" => Some(StreamView::OldImage),
        "NEW_AND_OLD_IMAGES" => Some(StreamView::NewAndOldImages),
        _ => None,
    }
}

/// Whether a record's user identity is DynamoDB's time to live.
#[cfg(any(feature = "lambda", feature = "streams"))]
pub(crate) fn is_ttl(kind: &str, principal: &str) -> bool {
    kind == "Service" && principal == "dynamodb.amazonaws.com"
}
