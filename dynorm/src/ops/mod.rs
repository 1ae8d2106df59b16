//! Item operations: get (and get-many), put (and put-unique, save), update and delete.
//!
//! Each operation is a `#[must_use]` builder. Chain its options, then `.await` it or call
//! `.send()`; `.to_input()` returns the SDK input it would send, without a network call.

mod delete;
mod get;
mod get_many;
pub(crate) mod guard;
mod put;
pub(crate) mod update;

pub use delete::DeleteItem;
#[doc(hidden)]
pub use get::write_back;
pub use get::{GetItem, GetTracked};
pub use get_many::GetMany;
pub use put::{Put, PutItem, Save, SaveItem, WriteInput, WriteTarget};
pub use update::{ByKey, OnInstance, ReturnValues, UpdateItem, UpdateTarget};

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::{Error, Item, Model};
use guard::Guard;

pub(crate) use crate::error::build_error;

/// Implements `IntoFuture` for a builder with an `async fn send(self)`.
/// `into_future!(Builder, Output)` for `Builder<'a, M>`; `into_future!(Builder<Target>,
/// Output)` for a builder whose target type `Target<'a, M>` decides its output.
macro_rules! into_future {
    ($builder:ident, $output:ty) => {
        $crate::ops::into_future!($builder, $output, $crate::Model);
    };
    ($builder:ident, $output:ty, $bound:path) => {
        impl<'a, M: $bound> ::std::future::IntoFuture for $builder<'a, M> {
            type Output = $crate::Result<$output>;
            type IntoFuture = ::futures::future::BoxFuture<'a, $crate::Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
    ($builder:ident<$target:ident>, $output:ty) => {
        impl<'a, M: $crate::Model> ::std::future::IntoFuture for $builder<'a, M, $target<'a, M>> {
            type Output = $crate::Result<$output>;
            type IntoFuture = ::futures::future::BoxFuture<'a, $crate::Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
}
pub(crate) use into_future;

/// A failed single-item write: its condition did not hold (with the item DynamoDB
/// returned), or another error.
pub(crate) enum WriteFailure {
    Condition(Option<Item>),
    Other(Error),
}

impl WriteFailure {
    pub(crate) fn into_error<M: Model>(self, table: &str, guard: &Guard<M>) -> Error {
        match self {
            WriteFailure::Condition(item) => guard.failure(table.to_owned(), item),
            WriteFailure::Other(err) => err,
        }
    }
}

/// The SDK errors of writes that take a condition.
pub(crate) trait ConditionalError: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static {
    fn is_condition_failure(&self) -> bool;
    fn into_item(self) -> Option<Item>;
}

macro_rules! conditional_error {
    ($error:ident) => {
        impl ConditionalError for $error {
            fn is_condition_failure(&self) -> bool {
                matches!(self, $error::ConditionalCheckFailedException(_))
            }
            fn into_item(self) -> Option<Item> {
                match self {
                    $error::ConditionalCheckFailedException(inner) => inner.item,
                    _ => None,
                }
            }
        }
    };
}
conditional_error!(PutItemError);
conditional_error!(UpdateItemError);
conditional_error!(DeleteItemError);

/// Sorts an SDK error into a failed condition or another error. `idempotent` says
/// whether a repeat of the write is harmless, for [`Error::OutcomeUnknown`].
pub(crate) fn write_failure<E: ConditionalError>(
    err: SdkError<E, HttpResponse>,
    table: &str,
    idempotent: bool,
) -> WriteFailure {
    match err {
        SdkError::ServiceError(ctx) if ctx.err().is_condition_failure() => {
            WriteFailure::Condition(ctx.into_err().into_item())
        }
        other => WriteFailure::Other(Error::from_sdk_write(other, table, idempotent)),
    }
}

/// Refreshes an instance from the item stored by its write (running the load hooks),
/// keeping the relationships it had loaded. On failure the instance is left as it was.
pub(crate) fn refresh<M: Model>(target: &mut M, item: Item) -> crate::Result<()> {
    let mut fresh: M = crate::hooks::load(item)?;
    fresh.take_relations(target);
    *target = fresh;
    Ok(())
}

/// What follows a write that was applied: any error it raises says the write happened
/// ([`Error::Applied`]).
pub(crate) fn after_write<T>(table: &str, result: crate::Result<T>) -> crate::Result<T> {
    result.map_err(|err| Error::Applied {
        table: table.to_owned(),
        source: Box::new(err),
    })
}
