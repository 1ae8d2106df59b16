//! A unit-test double for code that uses dynorm (feature `test-util`): a [`Db`] whose
//! requests never leave the process, answered by canned responses, with a record of
//! every request the code under test made.
//!
//! For **unit tests** of application code: what a handler asked DynamoDB for, and how
//! it behaves when DynamoDB answers something particular (a throttle, a conditional
//! failure, an item of an old shape). Responses are [`aws_smithy_mocks`] rules, built
//! with [`mock!`](crate::testing::mock); requests are recorded by an SDK interceptor on
//! the handle, with their typed SDK inputs. **Integration tests** belong against a real
//! DynamoDB Local (see the `dynorm-local` crate): a double only answers what its rules
//! say, so it cannot tell whether a request would have worked.
//!
//! ```
//! use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
//! use aws_sdk_dynamodb::types::AttributeValue;
//! use aws_sdk_dynamodb::Client;
//! use dynorm::testing::{mock, MockDynamo, RuleMode};
//! use dynorm::DynaModel;
//!
//! #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate, Debug)]
//! #[table(name = "books", hash_key = "isbn")]
//! struct Book {
//!     isbn: String,
//!     title: String,
//! }
//!
//! // The code under test.
//! async fn title_of(db: &dynorm::Db, isbn: &str) -> dynorm::Result<Option<String>> {
//!     Ok(Book::get(db, isbn).await?.map(|b| b.title))
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let get = mock!(Client::get_item).then_output(|| {
//!     GetItemOutput::builder()
//!         .item("isbn", AttributeValue::S("1".into()))
//!         .item("title", AttributeValue::S("Dune".into()))
//!         .build()
//! });
//! let dynamo = MockDynamo::new(RuleMode::MatchAny, &[&get]);
//!
//! assert_eq!(title_of(dynamo.db(), "1").await.unwrap().as_deref(), Some("Dune"));
//! assert_eq!(dynamo.operations(), ["GetItem"]);
//! let sent = dynamo.requests()[0].input::<GetItemInput>().unwrap().clone();
//! assert_eq!(sent.table_name(), Some("books"));
//! assert_eq!(sent.key().unwrap()["isbn"], AttributeValue::S("1".into()));
//! # });
//! ```

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

pub use aws_smithy_mocks::{mock, Rule, RuleMode};

use crate::db::Db;

/// A [`Db`] answered by canned responses, recording every request.
///
/// Every request goes to the rules given (in `RuleMode::Sequential`, one after another;
/// in `RuleMode::MatchAny`, the first rule for the request's operation whose matcher
/// accepts it); a request no rule answers fails. Table management (`ensure_table`,
/// `create_table`) sends requests like any other operation: give them rules too.
#[derive(Clone)]
pub struct MockDynamo {
    db: Db,
    recorder: Recorder,
}

impl fmt::Debug for MockDynamo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockDynamo")
            .field("requests", &self.operations())
            .finish_non_exhaustive()
    }
}

impl MockDynamo {
    /// A handle answered by `rules`.
    pub fn new(mode: RuleMode, rules: &[&Rule]) -> Self {
        let mut responses = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(mode);
        for rule in rules {
            responses = responses.with_rule(rule);
        }
        let recorder = Recorder::default();
        let config = aws_sdk_dynamodb::Config::builder()
            .with_test_defaults_v2()
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(recorder.clone())
            .interceptor(responses)
            .build();
        let db = Db::from_client(aws_sdk_dynamodb::Client::from_conf(config));
        MockDynamo { db, recorder }
    }

    /// The handle to give the code under test.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Every request made so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.recorder.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The operation names of the requests made so far (`GetItem`, `Query`, ...).
    pub fn operations(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.operation).collect()
    }

    /// Forgets the requests recorded so far.
    pub fn clear(&self) {
        self.recorder.0.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }
}

/// One request the code under test made: its operation and its SDK input.
#[derive(Clone)]
pub struct Request {
    /// DynamoDB's name of the operation, such as `PutItem`.
    pub operation: String,
    input: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// The SDK input sent, as its type (`GetItemInput`, `QueryInput`, ...); `None` for
    /// another type.
    pub fn input<T: Any>(&self) -> Option<&T> {
        self.input.downcast_ref()
    }
}

/// The interceptor that records requests.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Request>>>);

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Recorder")
    }
}

/// Clones the typed input of each operation dynorm sends.
macro_rules! typed_input {
    ($input:expr, $($name:literal => $module:ident :: $ty:ident),* $(,)?) => {{
        let input = $input;
        $(
            if let Some(typed) = input.downcast_ref::<aws_sdk_dynamodb::operation::$module::$ty>() {
                return Some(($name, Arc::new(typed.clone()) as Arc<dyn Any + Send + Sync>));
            }
        )*
        None
    }};
}

/// The operation name and a copy of the typed input of the operations dynorm sends.
fn typed(
    input: &aws_smithy_runtime_api::client::interceptors::context::Input,
) -> Option<(&'static str, Arc<dyn Any + Send + Sync>)> {
    typed_input!(
        input,
        "GetItem" => get_item::GetItemInput,
        "PutItem" => put_item::PutItemInput,
        "UpdateItem" => update_item::UpdateItemInput,
        "DeleteItem" => delete_item::DeleteItemInput,
        "Query" => query::QueryInput,
        "Scan" => scan::ScanInput,
        "BatchGetItem" => batch_get_item::BatchGetItemInput,
        "BatchWriteItem" => batch_write_item::BatchWriteItemInput,
        "TransactWriteItems" => transact_write_items::TransactWriteItemsInput,
        "TransactGetItems" => transact_get_items::TransactGetItemsInput,
        "DescribeTable" => describe_table::DescribeTableInput,
        "CreateTable" => create_table::CreateTableInput,
        "DeleteTable" => delete_table::DeleteTableInput,
        "UpdateTable" => update_table::UpdateTableInput,
        "UpdateTimeToLive" => update_time_to_live::UpdateTimeToLiveInput,
        "DescribeTimeToLive" => describe_time_to_live::DescribeTimeToLiveInput,
        "ListTables" => list_tables::ListTablesInput,
    )
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "dynorm::testing::Recorder"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (operation, input) = match typed(context.input()) {
            Some((name, input)) => (name.to_owned(), input),
            // An operation dynorm does not send (through `Db::client`): named by the SDK.
            None => (
                cfg.load::<Metadata>().map_or("unknown", |m| m.name()).to_owned(),
                Arc::new(()) as Arc<dyn Any + Send + Sync>,
            ),
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Request { operation, input });
        Ok(())
    }
}
