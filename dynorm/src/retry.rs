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

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    Error as OperationError, FinalizerInterceptorContextMut, FinalizerInterceptorContextRef, InterceptorContext, Output,
};
use aws_smithy_runtime_api::client::interceptors::{dyn_dispatch_hint, Intercept, SharedInterceptor};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::error::{never_sent, SentWithoutAnswer};

/// Whether an attempt that ended with `result` may have been applied by DynamoDB.
/// `sent` says whether its request was handed to the connection (the orchestrator takes
/// it out of the context to send it): an attempt that failed before that applied nothing.
fn attempt_may_have_applied(
    sent: bool,
    result: Option<Result<&Output, &OrchestratorError<OperationError>>>,
    response: Option<&HttpResponse>,
) -> bool {
    let Some(Err(err)) = result else {
        return false;
    };
    if !sent {
        return false;
    }
    if let Some(connector) = err.as_connector_error() {
        // A refused connection or an unresolvable name sent nothing; any other failure
        // of a request handed to the connection (reset, closed before the answer,
        // incomplete response, read timeout) may follow its arrival.
        return !never_sent(connector);
    }
    if err.is_operation_error() {
        // DynamoDB answered: a client error (4xx, throttling included) refused the
        // write; a server error does not say it was not applied.
        return response.is_some_and(|r| r.status().is_server_error());
    }
    // Timeouts and answers that could not be read.
    err.is_timeout_error() || err.is_response_error() || err.is_interceptor_error()
}

/// Forbids a retry that the other classifiers asked for when the failed attempt may have
/// been applied. It runs after the SDK's own classifiers.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NoResendOfAppliedWrites;

impl ClassifyRetry for NoResendOfAppliedWrites {
    fn classify_retry(&self, _ctx: &InterceptorContext) -> RetryAction {
        RetryAction::NoActionIndicated
    }

    fn classify_retry_v2(&self, ctx: &InterceptorContext, previous: &RetryAction) -> RetryAction {
        match previous {
            RetryAction::RetryIndicated(_)
                if attempt_may_have_applied(ctx.request().is_none(), ctx.output_or_error(), ctx.response()) =>
            {
                RetryAction::RetryForbidden
            }
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

/// The clients of a handle's writes: `client` with [`OutcomeTracker`], and its twin that
/// also has [`NoResendOfAppliedWrites`], for writes a repeat could change. Both share the
/// connections and the caller's interceptors.
///
/// The tracker is registered as permanent and declares the two hooks it implements, so
/// the SDK calls it twice a request and looks nothing up for it in the request's
/// configuration: a write pays no measurable cost for it.
pub(crate) fn handle_clients(
    client: &aws_sdk_dynamodb::Client,
) -> (aws_sdk_dynamodb::Client, aws_sdk_dynamodb::Client) {
    let mut tracked = client.config().to_builder();
    tracked.push_interceptor(SharedInterceptor::permanent(OutcomeTracker));
    let once_only = tracked.clone().retry_classifier(NoResendOfAppliedWrites);
    (
        aws_sdk_dynamodb::Client::from_conf(tracked.build()),
        aws_sdk_dynamodb::Client::from_conf(once_only.build()),
    )
}

/// Remembers, for one request, whether any of its attempts may have been applied, and
/// when the request fails in the end, says so in its error: a write whose first attempt
/// got no answer and whose resend was then throttled or refused a connection must not be
/// reported as "not applied". dynorm maps an error carrying [`SentWithoutAnswer`] to
/// [`Error::OutcomeUnknown`](crate::error::Error::OutcomeUnknown).
#[derive(Debug)]
pub(crate) struct OutcomeTracker;

/// Set in a request's configuration once one of its attempts may have been applied.
#[derive(Debug, Clone, Copy)]
struct MayHaveApplied;

impl Storable for MayHaveApplied {
    type Storer = StoreReplace<Self>;
}

/// The operations that write. Reads keep their own final error: an attempt of a read
/// applies nothing.
const WRITES: &[&str] = &[
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "CreateTable",
    "DeleteTable",
    "UpdateTable",
    "UpdateTimeToLive",
];

#[dyn_dispatch_hint]
impl Intercept for OutcomeTracker {
    fn name(&self) -> &'static str {
        "dynorm: track whether a write may have been applied"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let sent = context.request().is_none();
        if attempt_may_have_applied(sent, context.output_or_error(), context.response()) {
            cfg.interceptor_state().store_put(MayHaveApplied);
        }
        Ok(())
    }

    fn modify_before_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let write = cfg.load::<Metadata>().is_some_and(|m| WRITES.contains(&m.name()));
        if !write || cfg.load::<MayHaveApplied>().is_none() {
            return Ok(());
        }
        if let Some(Err(last)) = context.output_or_error_mut() {
            let error = std::mem::replace(last, OrchestratorError::other("replaced"));
            *last = OrchestratorError::other(SentWithoutAnswer(Box::new(error)));
        }
        Ok(())
    }
}
