//! What the SDK may resend: a write that may have been applied is resent only when a
//! repeat is harmless.
//!
//! The SDK's standard retry resends a request after an attempt timeout, a broken
//! connection or a server error (5xx). For a read, or a write that a repeat cannot change
//! (a put of the same item, a SET of the same values), that is what a caller wants. For an
//! increment, a `list_append` or a conditional write it is not: the first attempt may
//! have been applied, so a repeat counts twice, or fails its own condition and reports an
//! error for a write that happened. Such writes go through a twin of the handle's client
//! whose retry stops at the first attempt that may have been applied; the call then ends
//! with [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown). Throttling and refused
//! connections, which apply nothing, are still retried.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};

use crate::error::never_sent;

/// Forbids a retry that the other classifiers asked for when the failed attempt may have
/// been applied. It runs after the SDK's own classifiers.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NoResendOfAppliedWrites;

impl NoResendOfAppliedWrites {
    /// Whether the attempt that failed may have been applied by DynamoDB.
    fn may_have_applied(ctx: &InterceptorContext) -> bool {
        let Some(Err(err)) = ctx.output_or_error() else {
            return false;
        };
        if let Some(connector) = err.as_connector_error() {
            // Failures to connect, sign or resolve an identity send nothing.
            return (connector.is_io() || connector.is_timeout()) && !never_sent(connector);
        }
        if err.is_timeout_error() || err.is_response_error() {
            return true;
        }
        // An answer: a server error does not say the write was not applied; throttling
        // and other client errors (4xx) say it was refused.
        ctx.response().is_some_and(|r| r.status().is_server_error())
    }
}

impl ClassifyRetry for NoResendOfAppliedWrites {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        match previous {
            RetryAction::RetryIndicated(_) if Self::may_have_applied(ctx) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "dynorm: no resend of a write that may have been applied"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After every classifier the SDK installs, so it sees their verdict.
        RetryClassifierPriority::run_after(RetryClassifierPriority::run_after(
            RetryClassifierPriority::transient_error_classifier(),
        ))
    }
}

/// The client that sends writes a repeat could change: the same client, connections and
/// interceptors, with [`NoResendOfAppliedWrites`] added to its retry.
pub(crate) fn once_only_client(client: &aws_sdk_dynamodb::Client) -> aws_sdk_dynamodb::Client {
    let config = client
        .config()
        .to_builder()
        .retry_classifier(NoResendOfAppliedWrites)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
