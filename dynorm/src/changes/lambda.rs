//! Records from the DynamoDB events AWS Lambda hands a handler, and the partial batch
//! failure response that makes Lambda retry from the first record a handler failed.

use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use super::{is_ttl, kind_of, Record};
use crate::{Item, Result};

impl TryFrom<&EventRecord> for Record {
    type Error = crate::Error;

    fn try_from(record: &EventRecord) -> Result<Self> {
        let change = &record.change;
        let image = |item: &serde_dynamo::Item| {
            let item: Item = item.clone().into();
            (!item.is_empty()).then_some(item)
        };
        let millis = change.approximate_creation_date_time.timestamp_millis();
        Ok(Record {
            event_id: record.event_id.clone(),
            kind: kind_of(&record.event_name)?,
            sequence_number: change.sequence_number.clone(),
            keys: change.keys.clone().into(),
            new_image: image(&change.new_image),
            old_image: image(&change.old_image),
            view: change
                .stream_view_type
                .as_ref()
                .and_then(|v| serde_json::to_value(v).ok())
                .and_then(|v| v.as_str().and_then(super::view_of)),
            expired: record
                .user_identity
                .as_ref()
                .is_some_and(|u| is_ttl(&u.type_, &u.principal_id)),
            created: (millis > 0).then(|| SystemTime::UNIX_EPOCH + Duration::from_millis(millis as u64)),
        })
    }
}

/// The records of a Lambda DynamoDB event, in order. A record with an unknown event
/// name is an error.
pub fn records(event: &Event) -> Result<Vec<Record>> {
    event.records.iter().map(Record::try_from).collect()
}

/// The partial batch failure response for the records a handler failed (the function's
/// event source mapping needs `ReportBatchItemFailures`): Lambda retries the batch from
/// the first of them, by sequence number. An empty list reports the batch done.
pub fn batch_failures<'r>(failed: impl IntoIterator<Item = &'r Record>) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|record| {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = record.sequence_number.clone();
            failure
        })
        .collect();
    response
}

/// Runs `handler` on the event's records in order, and answers Lambda's partial batch
/// failure response: at the first record that fails (its handler errs, or the event
/// cannot be read), processing stops, and that record is reported, so Lambda retries
/// from it and the records after it are not processed out of order.
///
/// ```no_run
/// use dynorm::aws_lambda_events::event::dynamodb::Event;
/// use dynorm::aws_lambda_events::event::streams::DynamoDbEventResponse;
/// use dynorm::changes::{handle_event, Change};
/// # use dynorm::DynaModel;
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate, Debug)]
/// # #[table(name = "orders", hash_key = "id")]
/// # struct Order { id: String, total: u32 }
///
/// async fn handler(event: Event) -> DynamoDbEventResponse {
///     handle_event(&event, |record| async move {
///         match record.decode::<Order>()? {
///             Change::Inserted { new: Some(order), .. } => println!("new order {}", order.id),
///             Change::Removed { expired: true, .. } => println!("an order expired"),
///             _ => {}
///         }
///         Ok::<_, dynorm::BoxError>(())
///     })
///     .await
/// }
/// ```
pub async fn handle_event<F, Fut, E>(event: &Event, mut handler: F) -> DynamoDbEventResponse
where
    F: FnMut(Record) -> Fut,
    Fut: Future<Output = std::result::Result<(), E>>,
    E: std::fmt::Display,
{
    for raw in &event.records {
        let record = match Record::try_from(raw) {
            Ok(record) => record,
            Err(err) => {
                tracing::warn!(event_id = %raw.event_id, error = %err, "dynorm: unreadable stream record");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = raw.change.sequence_number.clone();
                let mut response = DynamoDbEventResponse::default();
                response.batch_item_failures = vec![failure];
                return response;
            }
        };
        let failed = record.clone();
        if let Err(err) = handler(record).await {
            tracing::warn!(event_id = %failed.event_id, error = %err, "dynorm: stream record handler failed");
            return batch_failures([&failed]);
        }
    }
    DynamoDbEventResponse::default()
}
