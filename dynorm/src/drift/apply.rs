//! Applying a table's plan: one `UpdateTable` (or `UpdateTimeToLive`) per step, in the
//! plan's order, each waited for until the table and its indexes are ACTIVE and no
//! index is backfilling. Destructive steps run only when the caller allows them; what
//! only a new table can change is never applied.

use std::marker::PhantomData;
use std::time::Duration;

use aws_sdk_dynamodb::operation::create_table::CreateTableInput;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndexUpdate, IndexStatus, ProvisionedThroughput, StreamSpecification, TableStatus,
    TimeToLiveSpecification, UpdateGlobalSecondaryIndexAction,
};
use tokio::time::Instant;

use super::{plan, PlanStep, TablePlan};
use crate::ops::{build_error, into_future};
use crate::table::create_table_input;
use crate::{Db, Error, Result, TableDef};

/// How long `apply` waits for one step by default: an index backfill on a large table
/// can take longer; set [`ApplyTable::step_timeout`].
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(600);

/// Brings a live table to its model or declaration, one safe step at a time. Made by
/// `DynaModel::apply_table` and `DynaTable::apply_table`.
///
/// It plans first (as `plan_table`), then runs the steps in order. DynamoDB takes one
/// index creation or deletion per `UpdateTable` and refuses changes while an index is
/// being created, so each step is waited for (the table and every index ACTIVE, no
/// backfill running), polling `DescribeTable`, with progress as `tracing` events.
///
/// - Destructive steps (deleting or replacing an index) run only with
///   [`allow_destructive(true)`](Self::allow_destructive); otherwise the plan is refused
///   before anything is changed, with [`Error::PlanRefused`].
/// - What only a new table can change (the table's key, a local index) is always
///   refused the same way.
/// - A step that fails leaves [`Error::PlanIncomplete`], holding the steps applied and
///   the plan of what is left.
///
/// Resolves to the plan it applied (empty when the table already matched).
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct ApplyTable<'a, M: TableDef> {
    db: &'a Db,
    destructive: bool,
    step_timeout: Duration,
    poll: Duration,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: TableDef> ApplyTable<'a, M> {
    pub(crate) fn new(db: &'a Db) -> Self {
        ApplyTable {
            db,
            destructive: false,
            step_timeout: DEFAULT_STEP_TIMEOUT,
            poll: Duration::from_millis(500),
            _model: PhantomData,
        }
    }

    /// Runs the destructive steps too: deleting an index the model no longer declares,
    /// replacing one whose key or projection changed (it is unavailable until rebuilt).
    pub fn allow_destructive(mut self, allow: bool) -> Self {
        self.destructive = allow;
        self
    }

    /// How long to wait for each step (an index backfill, a billing change) before
    /// failing with [`Error::PlanIncomplete`] around [`Error::WaitTimeout`].
    pub fn step_timeout(mut self, timeout: Duration) -> Self {
        self.step_timeout = timeout;
        self
    }

    /// How often to poll the table while waiting (500 ms by default).
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll = every.max(Duration::from_millis(10));
        self
    }

    /// Plans, then applies the plan.
    pub async fn send(self) -> Result<TablePlan> {
        let table = self.db.table_name::<M>();
        let plan = plan(self.db, M::TABLE, table.clone()).await?;
        self.apply(plan).await
    }

    /// Applies a plan made for this model's table.
    pub(crate) async fn apply_plan(self, plan: TablePlan) -> Result<TablePlan> {
        self.apply(plan).await
    }

    async fn apply(self, plan: TablePlan) -> Result<TablePlan> {
        if let Some(reason) = refusal(&plan, self.destructive) {
            return Err(Error::PlanRefused {
                plan: Box::new(plan),
                reason,
            });
        }
        let desired = create_table_input(M::TABLE, &plan.table)?;
        let mut applied = Vec::with_capacity(plan.steps.len());
        let mut left = plan.steps.clone().into_iter();
        while let Some(step) = left.next() {
            tracing::info!(table = %plan.table, step = %step, "dynorm: applying a table plan step");
            if let Err(source) = self.step(&plan.table, &desired, &step).await {
                let mut remaining: Vec<PlanStep> = vec![step];
                remaining.extend(left);
                return Err(Error::PlanIncomplete {
                    table: plan.table.clone(),
                    applied,
                    remaining: Box::new(TablePlan {
                        table: plan.table,
                        steps: remaining,
                    }),
                    source: Box::new(source),
                });
            }
            applied.push(step);
        }
        Ok(TablePlan {
            table: plan.table,
            steps: applied,
        })
    }

    async fn step(&self, table: &str, desired: &CreateTableInput, step: &PlanStep) -> Result<()> {
        let client = self.db.client();
        let update = || client.update_table().table_name(table);
        let send_error = |e| Error::from_sdk(e, table);
        match step {
            PlanStep::CreateTable => {
                crate::table::CreateTable::<M>::new(self.db).send().await?;
                return Ok(());
            }
            PlanStep::CreateIndex { name, .. } | PlanStep::ReplaceIndex { name, .. } => {
                if matches!(step, PlanStep::ReplaceIndex { .. }) {
                    update()
                        .global_secondary_index_updates(delete_index(name)?)
                        .send()
                        .await
                        .map_err(send_error)?;
                    self.wait(table, Some(name), Wanted::Gone).await?;
                }
                let (action, definitions) = create_index(desired, name)?;
                update()
                    .set_attribute_definitions(Some(definitions))
                    .global_secondary_index_updates(action)
                    .send()
                    .await
                    .map_err(send_error)?;
                self.wait(table, Some(name), Wanted::Active).await?;
                return Ok(());
            }
            PlanStep::DeleteIndex { name } => {
                update()
                    .global_secondary_index_updates(delete_index(name)?)
                    .send()
                    .await
                    .map_err(send_error)?;
                self.wait(table, Some(name), Wanted::Gone).await?;
                return Ok(());
            }
            PlanStep::Billing { model, .. } => {
                let mut request = update();
                if model == "PAY_PER_REQUEST" {
                    request = request.billing_mode(BillingMode::PayPerRequest);
                } else {
                    request = request
                        .billing_mode(BillingMode::Provisioned)
                        .set_provisioned_throughput(desired.provisioned_throughput().cloned());
                    // Every index live now needs its own capacity on a provisioned table:
                    // the model's for its index, the table's for any other.
                    let live = client
                        .describe_table()
                        .table_name(table)
                        .send()
                        .await
                        .map_err(|e| Error::from_sdk(e, table))?;
                    let live_indexes = live
                        .table
                        .map(|t| t.global_secondary_indexes.unwrap_or_default())
                        .unwrap_or_default();
                    for index in live_indexes.iter().filter_map(|i| i.index_name()) {
                        let wanted = desired
                            .global_secondary_indexes()
                            .iter()
                            .find(|g| g.index_name() == index)
                            .and_then(|g| g.provisioned_throughput())
                            .or(desired.provisioned_throughput());
                        if let Some(t) = wanted {
                            request = request.global_secondary_index_updates(update_index(index, t)?);
                        }
                    }
                }
                request.send().await.map_err(send_error)?;
            }
            PlanStep::Throughput { index: None, model, .. } => {
                update()
                    .provisioned_throughput(throughput(*model)?)
                    .send()
                    .await
                    .map_err(send_error)?;
            }
            PlanStep::Throughput {
                index: Some(name),
                model,
                ..
            } => {
                update()
                    .global_secondary_index_updates(update_index(name, &throughput(*model)?)?)
                    .send()
                    .await
                    .map_err(send_error)?;
            }
            PlanStep::Stream { live, model } => {
                // A stream's view type cannot change in place: it is turned off first.
                if live.is_some() {
                    let off = StreamSpecification::builder()
                        .stream_enabled(false)
                        .build()
                        .map_err(build_error)?;
                    update().stream_specification(off).send().await.map_err(send_error)?;
                    self.wait(table, None, Wanted::Active).await?;
                }
                if model.is_some() {
                    update()
                        .set_stream_specification(desired.stream_specification().cloned())
                        .send()
                        .await
                        .map_err(send_error)?;
                }
            }
            PlanStep::TimeToLive { live, model } => {
                let spec = |attribute: &str, enabled: bool| {
                    TimeToLiveSpecification::builder()
                        .attribute_name(attribute)
                        .enabled(enabled)
                        .build()
                        .map_err(build_error)
                };
                if let Some(attribute) = live {
                    client
                        .update_time_to_live()
                        .table_name(table)
                        .time_to_live_specification(spec(attribute, false)?)
                        .send()
                        .await
                        .map_err(|e| Error::from_sdk(e, table))?;
                }
                if let Some(attribute) = model {
                    client
                        .update_time_to_live()
                        .table_name(table)
                        .time_to_live_specification(spec(attribute, true)?)
                        .send()
                        .await
                        .map_err(|e| Error::from_sdk(e, table))?;
                }
            }
            PlanStep::DeletionProtection { model, .. } => {
                update()
                    .deletion_protection_enabled(*model)
                    .send()
                    .await
                    .map_err(send_error)?;
            }
            PlanStep::TableClass { model, .. } => {
                update()
                    .table_class(aws_sdk_dynamodb::types::TableClass::from(model.as_str()))
                    .send()
                    .await
                    .map_err(send_error)?;
            }
            PlanStep::Encryption { .. } => {
                let sse = crate::table::sse_specification(M::TABLE.options.encryption)?.unwrap_or_else(|| {
                    aws_sdk_dynamodb::types::SseSpecification::builder()
                        .enabled(false)
                        .build()
                });
                update().sse_specification(sse).send().await.map_err(send_error)?;
            }
            PlanStep::Tags { set } => {
                let described = client
                    .describe_table()
                    .table_name(table)
                    .send()
                    .await
                    .map_err(|e| Error::from_sdk(e, table))?;
                let arn = described.table.and_then(|t| t.table_arn).unwrap_or_default();
                let mut request = client.tag_resource().resource_arn(arn);
                for (key, value) in set {
                    request = request.tags(
                        aws_sdk_dynamodb::types::Tag::builder()
                            .key(key)
                            .value(value)
                            .build()
                            .map_err(build_error)?,
                    );
                }
                request.send().await.map_err(|e| Error::from_sdk(e, table))?;
                return Ok(());
            }
            PlanStep::PointInTimeRecovery { model, .. } => {
                crate::table::set_point_in_time_recovery(self.db, table, *model).await?;
                return Ok(());
            }
            PlanStep::TableKeyDiffers { .. } | PlanStep::LocalIndexDiffers { .. } => {
                // Refused before the first step.
                return Err(Error::InvalidRequest(format!("`{step}` needs a new table")));
            }
        }
        self.wait(table, None, Wanted::Active).await
    }

    /// Polls until the table is ACTIVE and `index` is ACTIVE and not backfilling (or
    /// gone), within the step timeout.
    async fn wait(&self, table: &str, index: Option<&str>, wanted: Wanted) -> Result<()> {
        let start = Instant::now();
        // DescribeTable is eventually consistent: right after an update it can still
        // show the table as it was, ACTIVE. The first look is one interval later.
        tokio::time::sleep(self.poll).await;
        loop {
            let described = self
                .db
                .client()
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| Error::from_sdk(e, table))?;
            let Some(live) = described.table else {
                return Err(Error::TableNotFound {
                    table: table.to_owned(),
                });
            };
            let table_active = live.table_status.as_ref().is_none_or(|s| s == &TableStatus::Active);
            let indexes = live.global_secondary_indexes();
            let busy = indexes.iter().any(|i| {
                i.index_status.as_ref().is_some_and(|s| s != &IndexStatus::Active) || i.backfilling == Some(true)
            });
            let target = index.map(|name| indexes.iter().find(|i| i.index_name() == Some(name)));
            let done = match (wanted, target) {
                (_, None) => table_active && !busy,
                (Wanted::Active, Some(found)) => table_active && !busy && found.is_some(),
                (Wanted::Gone, Some(found)) => table_active && found.is_none() && !busy,
            };
            if done {
                return Ok(());
            }
            let waited = start.elapsed();
            tracing::debug!(
                table,
                index,
                waited_ms = waited.as_millis() as u64,
                "dynorm: waiting for a table plan step"
            );
            if waited >= self.step_timeout {
                return Err(Error::WaitTimeout {
                    table: table.to_owned(),
                    wanted: TableStatus::Active,
                    waited,
                });
            }
            tokio::time::sleep(self.poll).await;
        }
    }
}

into_future!(ApplyTable, TablePlan, crate::TableDef);

#[derive(Clone, Copy)]
enum Wanted {
    Active,
    Gone,
}

/// Why a plan is refused as a whole, before any change: a step only a new table can
/// make, or a destructive step the caller did not allow.
fn refusal(plan: &TablePlan, destructive: bool) -> Option<String> {
    let blocked: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| matches!(s, PlanStep::TableKeyDiffers { .. } | PlanStep::LocalIndexDiffers { .. }))
        .map(ToString::to_string)
        .collect();
    if !blocked.is_empty() {
        return Some(format!("only a new table can apply: {}", blocked.join("; ")));
    }
    let destructive_steps: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.is_destructive())
        .map(ToString::to_string)
        .collect();
    if !destructive && !destructive_steps.is_empty() {
        return Some(format!(
            "destructive steps need `allow_destructive(true)`: {}",
            destructive_steps.join("; ")
        ));
    }
    None
}

fn throughput((read, write): (i64, i64)) -> Result<ProvisionedThroughput> {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .map_err(build_error)
}

fn delete_index(name: &str) -> Result<GlobalSecondaryIndexUpdate> {
    let action = DeleteGlobalSecondaryIndexAction::builder()
        .index_name(name)
        .build()
        .map_err(build_error)?;
    Ok(GlobalSecondaryIndexUpdate::builder().delete(action).build())
}

fn update_index(name: &str, t: &ProvisionedThroughput) -> Result<GlobalSecondaryIndexUpdate> {
    let action = UpdateGlobalSecondaryIndexAction::builder()
        .index_name(name)
        .provisioned_throughput(t.clone())
        .build()
        .map_err(build_error)?;
    Ok(GlobalSecondaryIndexUpdate::builder().update(action).build())
}

/// The creation of the model's index `name`, and the definitions of the attributes its
/// keys use.
fn create_index(
    desired: &CreateTableInput,
    name: &str,
) -> Result<(GlobalSecondaryIndexUpdate, Vec<AttributeDefinition>)> {
    let Some(gsi) = desired
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == name)
    else {
        return Err(Error::InvalidRequest(format!(
            "the model declares no global index `{name}`"
        )));
    };
    let action = CreateGlobalSecondaryIndexAction::builder()
        .index_name(name)
        .set_key_schema(Some(gsi.key_schema().to_vec()))
        .set_projection(gsi.projection().cloned())
        .set_provisioned_throughput(gsi.provisioned_throughput().cloned())
        .build()
        .map_err(build_error)?;
    let used: Vec<&str> = gsi.key_schema().iter().map(|k| k.attribute_name()).collect();
    let definitions = desired
        .attribute_definitions()
        .iter()
        .filter(|d| used.contains(&d.attribute_name()))
        .cloned()
        .collect();
    Ok((
        GlobalSecondaryIndexUpdate::builder().create(action).build(),
        definitions,
    ))
}
