//! Single-item operations: get, put (and put-unique, save) and delete.
//!
//! Each operation is a `#[must_use]` builder. Chain its options, then `.await` it or call
//! `.send()`; `.to_input()` returns the SDK input it would send, without a network call.

mod delete;
mod get;
mod put;

pub use delete::DeleteItem;
pub use get::GetItem;
pub use put::{PutItem, SaveItem};

use crate::Error;

/// The SDK's input builders only fail when a required field is missing, which dynorm
/// always sets; this keeps such a failure typed rather than a panic.
pub(crate) fn build_error(err: aws_sdk_dynamodb::error::BuildError) -> Error {
    Error::Service {
        code: None,
        message: err.to_string(),
        source: Box::new(err),
    }
}

/// Implements `IntoFuture` for a builder with an `async fn send(self)`.
macro_rules! into_future {
    ($builder:ident, $output:ty) => {
        impl<'a, M: $crate::DynaModel> ::std::future::IntoFuture for $builder<'a, M> {
            type Output = $crate::Result<$output>;
            type IntoFuture = ::futures::future::BoxFuture<'a, $crate::Result<$output>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(self.send())
            }
        }
    };
}
pub(crate) use into_future;
