//! Table management from the model: create, delete, exists, wait. (`ensure_table`,
//! which also compares a table with its model, is in the `drift` module.)

use std::marker::PhantomData;
use std::time::Duration;

use tokio::time::Instant;

use aws_sdk_dynamodb::operation::create_table::builders::CreateTableInputBuilder;
use aws_sdk_dynamodb::operation::create_table::CreateTableInput;
use aws_sdk_dynamodb::operation::delete_table::DeleteTableInput;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType as SdkKeyType,
    LocalSecondaryIndex, Projection as SdkProjection, ProjectionType, ProvisionedThroughput, StreamSpecification,
    StreamViewType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_smithy_runtime_api::client::result::SdkError;
use tracing::Instrument;

use crate::ops::{build_error, into_future};
use crate::schema::{IndexSchema, KeyAttr, Projection, StreamView, TableSchema, Throughput};
use crate::{Db, Error, Result, TableDef};

/// Builds the `CreateTable` input for a schema: key schema, attribute definitions,
/// indexes and projections, billing or throughput, and stream.
pub fn create_table_input(schema: &TableSchema, table_name: &str) -> Result<CreateTableInput> {
    create_table_builder(schema, table_name)?.build().map_err(build_error)
}

fn create_table_builder(schema: &TableSchema, table_name: &str) -> Result<CreateTableInputBuilder> {
    let attribute_definitions = schema
        .key_attributes()
        .into_iter()
        .map(|a| {
            AttributeDefinition::builder()
                .attribute_name(a.name)
                .attribute_type(a.key_type.scalar_attribute_type())
                .build()
                .map_err(build_error)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut input = CreateTableInput::builder()
        .table_name(table_name)
        .set_attribute_definitions(Some(attribute_definitions))
        .set_key_schema(Some(key_schema(schema.hash_key, schema.range_key)?));
    input = match schema.throughput {
        Some(t) => input
            .billing_mode(BillingMode::Provisioned)
            .provisioned_throughput(provisioned(t)?),
        None => input.billing_mode(BillingMode::PayPerRequest),
    };
    for index in schema.global_indexes {
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .set_key_schema(Some(index_key_schema(index)?))
            .projection(projection(index));
        if let Some(t) = index.throughput.or(schema.throughput) {
            gsi = gsi.provisioned_throughput(provisioned(t)?);
        }
        input = input.global_secondary_indexes(gsi.build().map_err(build_error)?);
    }
    for index in schema.local_indexes {
        let lsi = LocalSecondaryIndex::builder()
            .index_name(index.name)
            .set_key_schema(Some(key_schema(index.hash_key, index.range_key)?))
            .projection(projection(index))
            .build()
            .map_err(build_error)?;
        input = input.local_secondary_indexes(lsi);
    }
    if let Some(view) = schema.stream {
        let view = match view {
            StreamView::KeysOnly => StreamViewType::KeysOnly,
            StreamView::NewImage => StreamViewType::NewImage,
            StreamView::OldImage => StreamViewType::OldImage,
            StreamView::NewAndOldImages => StreamViewType::NewAndOldImages,
        };
        input = input.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(view)
                .build()
                .map_err(build_error)?,
        );
    }
    let options = &schema.options;
    if options.deletion_protection == Some(true) {
        input = input.deletion_protection_enabled(true);
    }
    if let Some(class) = options.table_class {
        input = input.table_class(aws_sdk_dynamodb::types::TableClass::from(class.as_str()));
    }
    if let Some(sse) = sse_specification(options.encryption)? {
        input = input.sse_specification(sse);
    }
    for (key, value) in options.tags {
        input = input.tags(
            aws_sdk_dynamodb::types::Tag::builder()
                .key(*key)
                .value(*value)
                .build()
                .map_err(build_error)?,
        );
    }
    Ok(input)
}

/// The SSE specification of a table's encryption (`None` for DynamoDB's own key).
pub(crate) fn sse_specification(
    encryption: Option<crate::schema::Encryption>,
) -> Result<Option<aws_sdk_dynamodb::types::SseSpecification>> {
    use crate::schema::Encryption;
    use aws_sdk_dynamodb::types::{SseSpecification, SseType};
    Ok(match encryption {
        None | Some(Encryption::Owned) => None,
        Some(Encryption::AwsManaged) => Some(SseSpecification::builder().enabled(true).sse_type(SseType::Kms).build()),
        Some(Encryption::CustomerKey(key)) => Some(
            SseSpecification::builder()
                .enabled(true)
                .sse_type(SseType::Kms)
                .kms_master_key_id(key)
                .build(),
        ),
    })
}

/// Turns point-in-time recovery on or off. A service that does not know the operation
/// (DynamoDB Local) leaves it: a warning is logged, the table is not refused.
pub(crate) async fn set_point_in_time_recovery(db: &Db, table: &str, enabled: bool) -> Result<()> {
    let spec = aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
        .point_in_time_recovery_enabled(enabled)
        .build()
        .map_err(build_error)?;
    // Backups are often not available yet just after a table becomes ACTIVE.
    let start = Instant::now();
    let mut delay = Duration::from_millis(200);
    let sent = loop {
        let sent = db
            .client()
            .update_continuous_backups()
            .table_name(table)
            .point_in_time_recovery_specification(spec.clone())
            .send()
            .await;
        let unavailable = sent
            .as_ref()
            .err()
            .and_then(|e| e.as_service_error())
            .is_some_and(|e| e.is_continuous_backups_unavailable_exception());
        if !unavailable || start.elapsed() >= db.table_wait_timeout() {
            break sent;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    };
    match sent {
        Ok(_) => Ok(()),
        Err(e)
            if unsupported(
                e.as_service_error()
                    .and_then(|s| aws_sdk_dynamodb::error::ProvideErrorMetadata::code(s)),
            ) =>
        {
            tracing::warn!(
                table,
                "dynorm: this DynamoDB does not support continuous backups; point-in-time recovery left as it is"
            );
            Ok(())
        }
        Err(e) => Err(Error::from_sdk(e, table)),
    }
}

/// Whether an error code says the service does not know the operation (DynamoDB Local
/// answers tags and continuous backups so).
pub(crate) fn unsupported(code: Option<&str>) -> bool {
    matches!(code, Some("UnknownOperationException" | "UnrecognizedClientException"))
}

/// A global index's key schema: every partition attribute, then every sort attribute.
fn index_key_schema(index: &IndexSchema) -> Result<Vec<KeySchemaElement>> {
    let element = |attr: KeyAttr, key_type| {
        KeySchemaElement::builder()
            .attribute_name(attr.name)
            .key_type(key_type)
            .build()
            .map_err(build_error)
    };
    let hash = index.hash_keys().map(|a| element(a, SdkKeyType::Hash));
    let range = index.range_keys().map(|a| element(a, SdkKeyType::Range));
    hash.chain(range).collect()
}

fn key_schema(hash: KeyAttr, range: Option<KeyAttr>) -> Result<Vec<KeySchemaElement>> {
    let element = |attr: KeyAttr, key_type| {
        KeySchemaElement::builder()
            .attribute_name(attr.name)
            .key_type(key_type)
            .build()
            .map_err(build_error)
    };
    let mut out = vec![element(hash, SdkKeyType::Hash)?];
    if let Some(range) = range {
        out.push(element(range, SdkKeyType::Range)?);
    }
    Ok(out)
}

fn projection(index: &IndexSchema) -> SdkProjection {
    match index.projection {
        Projection::All => SdkProjection::builder().projection_type(ProjectionType::All).build(),
        Projection::KeysOnly => SdkProjection::builder()
            .projection_type(ProjectionType::KeysOnly)
            .build(),
        Projection::Include(names) => SdkProjection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(names.iter().map(|n| (*n).to_owned()).collect()))
            .build(),
    }
}

fn provisioned(t: Throughput) -> Result<ProvisionedThroughput> {
    ProvisionedThroughput::builder()
        .read_capacity_units(t.read)
        .write_capacity_units(t.write)
        .build()
        .map_err(build_error)
}

/// The table's status, or `None` when it does not exist.
pub(crate) async fn describe_status(db: &Db, table: &str) -> Result<Option<TableStatus>> {
    match db.read_client().describe_table().table_name(table).send().await {
        Ok(out) => Ok(Some(
            out.table.and_then(|t| t.table_status).unwrap_or(TableStatus::Active),
        )),
        Err(SdkError::ServiceError(e)) if matches!(e.err(), DescribeTableError::ResourceNotFoundException(_)) => {
            Ok(None)
        }
        Err(e) => Err(Error::from_sdk(e, table)),
    }
}

/// The table's description, or `None` when it does not exist.
pub(crate) async fn describe(db: &Db, table: &str) -> Result<Option<aws_sdk_dynamodb::types::TableDescription>> {
    match db.read_client().describe_table().table_name(table).send().await {
        Ok(out) => Ok(out.table),
        Err(SdkError::ServiceError(e)) if matches!(e.err(), DescribeTableError::ResourceNotFoundException(_)) => {
            Ok(None)
        }
        Err(e) => Err(Error::from_sdk(e, table)),
    }
}

/// Polls until the table is ACTIVE, failing on DELETING or a missing table.
pub(crate) async fn wait_active(db: &Db, table: &str, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(50);
    loop {
        match describe_status(db, table).await? {
            Some(TableStatus::Active) => return Ok(()),
            Some(TableStatus::Creating | TableStatus::Updating) => {}
            Some(other) => {
                return Err(Error::TableNotActive {
                    table: table.to_owned(),
                    status: other,
                })
            }
            None => {
                return Err(Error::TableNotFound {
                    table: table.to_owned(),
                })
            }
        }
        if start.elapsed() >= timeout {
            return Err(Error::WaitTimeout {
                table: table.to_owned(),
                wanted: TableStatus::Active,
                waited: start.elapsed(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// Turns on time to live for the model's `#[dynorm(ttl)]` attribute, unless it already is.
pub(crate) async fn enable_ttl(db: &Db, table: &str, attribute: &str) -> Result<()> {
    let current = db
        .read_client()
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| Error::from_sdk(e, table))?;
    let description = current.time_to_live_description;
    let status = description.as_ref().and_then(|d| d.time_to_live_status.clone());
    let enabled_on = description.as_ref().and_then(|d| d.attribute_name.as_deref());
    // Already on (for this attribute, or another one, which `ensure_table`'s comparison
    // reports), or on its way off (which DynamoDB must finish first): nothing to do here.
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling | TimeToLiveStatus::Disabling)
    ) || (enabled_on.is_some() && enabled_on != Some(attribute) && status.is_some())
    {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .map_err(build_error)?;
    db.client()
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(|e| Error::from_sdk_write(e, table, true))?;
    Ok(())
}

/// Creates a model's table. Made by `DynaModel::create_table`.
///
/// By default it waits until the table is ACTIVE, and fails with
/// [`Error::TableExists`] when the table is already there. A model with a
/// `#[dynorm(ttl)]` field gets time to live enabled on that attribute.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct CreateTable<'a, M: TableDef> {
    db: &'a Db,
    allow_existing: bool,
    wait: bool,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: TableDef> CreateTable<'a, M> {
    pub(crate) fn new(db: &'a Db) -> Self {
        CreateTable {
            db,
            allow_existing: false,
            wait: true,
            _model: PhantomData,
        }
    }

    /// Succeed when the table already exists (dynofunc's `allow_existing`).
    pub fn allow_existing(mut self, allow: bool) -> Self {
        self.allow_existing = allow;
        self
    }

    /// Wait until the table is ACTIVE before resolving (the default). A model with a
    /// time-to-live field always waits, since time to live can only be set on an
    /// ACTIVE table.
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }

    /// The `CreateTable` input this request sends. Makes no network call.
    pub fn to_input(&self) -> Result<CreateTableInput> {
        create_table_input(M::TABLE, &self.db.table_name::<M>())
    }

    /// Sends the request.
    pub async fn send(self) -> Result<()> {
        let table = self.db.table_name::<M>();
        crate::db::check_table_name(&table)?;
        let span = crate::observe::op_span!(INFO; "dynorm.create_table", "CreateTable", table);
        async move {
            // Table management goes through the caller's client, without dynorm's outcome
            // tracking: repeating a creation, a deletion or a TTL change leaves the same
            // table, so the answer to the last attempt is what counts.
            let created = create_table_builder(M::TABLE, &table)?
                .send_with(self.db.client())
                .await;
            match created {
                Ok(_) => {}
                Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {
                    // DynamoDB answers ResourceInUse for a table being deleted, too.
                    match describe_status(self.db, &table).await? {
                        Some(TableStatus::Deleting) => {
                            return Err(Error::TableNotActive {
                                table,
                                status: TableStatus::Deleting,
                            });
                        }
                        _ if !self.allow_existing => return Err(Error::TableExists { table }),
                        _ => {}
                    }
                }
                // A resend of a creation that was applied is refused: not harmless. With
                // `allow_existing`, whether the table is there now settles it.
                Err(e) => match Error::from_sdk_write(e, &table, false) {
                    err @ Error::OutcomeUnknown { .. } if self.allow_existing => {
                        match describe_status(self.db, &table).await? {
                            Some(TableStatus::Deleting) => {
                                return Err(Error::TableNotActive {
                                    table,
                                    status: TableStatus::Deleting,
                                });
                            }
                            Some(_) => {}
                            None => return Err(err),
                        }
                    }
                    other => return Err(other),
                },
            }
            let ttl = M::TABLE.ttl_attribute;
            // Time to live can only be set on an ACTIVE table, so a ttl model always waits.
            let settle = self.wait || ttl.is_some();
            if settle {
                wait_active(self.db, &table, self.db.table_wait_timeout()).await?;
            }
            if let Some(attribute) = ttl {
                enable_ttl(self.db, &table, attribute).await?;
            }
            if M::TABLE.options.point_in_time_recovery == Some(true) {
                if !settle {
                    wait_active(self.db, &table, self.db.table_wait_timeout()).await?;
                }
                set_point_in_time_recovery(self.db, &table, true).await?;
            }
            // Only a table that is fully set up, time to live included, counts as verified.
            if settle {
                self.db.mark_verified(&table);
            }
            Ok(())
        }
        .instrument(span)
        .await
    }
}

into_future!(CreateTable, (), crate::TableDef);

/// Deletes a model's table. Made by `DynaModel::delete_table`.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct DeleteTable<'a, M: TableDef> {
    db: &'a Db,
    allow_missing: bool,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: TableDef> DeleteTable<'a, M> {
    pub(crate) fn new(db: &'a Db) -> Self {
        DeleteTable {
            db,
            allow_missing: false,
            _model: PhantomData,
        }
    }

    /// Succeed when the table does not exist (by default that is
    /// [`Error::TableNotFound`]).
    pub fn allow_missing(mut self, allow: bool) -> Self {
        self.allow_missing = allow;
        self
    }

    /// The `DeleteTable` input this request sends. Makes no network call.
    pub fn to_input(&self) -> Result<DeleteTableInput> {
        DeleteTableInput::builder()
            .table_name(self.db.table_name::<M>())
            .build()
            .map_err(build_error)
    }

    /// Sends the request. Resolves once DynamoDB accepted the deletion.
    pub async fn send(self) -> Result<()> {
        let table = self.db.table_name::<M>();
        crate::db::check_table_name(&table)?;
        let span = crate::observe::op_span!(INFO; "dynorm.delete_table", "DeleteTable", table);
        async move {
            self.db.forget_verified(&table);
            match self.db.client().delete_table().table_name(&table).send().await {
                Ok(_) => Ok(()),
                Err(e) => match Error::from_sdk_write(e, &table, true) {
                    Error::TableNotFound { .. } if self.allow_missing => Ok(()),
                    other => Err(other),
                },
            }
        }
        .instrument(span)
        .await
    }
}

into_future!(DeleteTable, (), crate::TableDef);

/// Whether a model's table exists (in any status). Made by `DynaModel::table_exists`.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct TableExistence<'a, M: TableDef> {
    db: &'a Db,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: TableDef> TableExistence<'a, M> {
    pub(crate) fn new(db: &'a Db) -> Self {
        TableExistence {
            db,
            _model: PhantomData,
        }
    }

    /// Sends the request.
    pub async fn send(self) -> Result<bool> {
        let table = self.db.table_name::<M>();
        crate::db::check_table_name(&table)?;
        let span = crate::observe::op_span!(DEBUG; "dynorm.table_exists", "DescribeTable", table);
        Ok(describe_status(self.db, &table).instrument(span).await?.is_some())
    }
}

into_future!(TableExistence, bool, crate::TableDef);

/// Waits until a model's table is ACTIVE. Made by `DynaModel::wait_until_active`.
///
/// Fails with [`Error::TableNotActive`] when the table is being deleted,
/// [`Error::TableNotFound`] when it does not exist, and [`Error::WaitTimeout`] after the
/// timeout (the handle's `table_wait_timeout` by default).
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct WaitUntilActive<'a, M: TableDef> {
    db: &'a Db,
    timeout: Duration,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: TableDef> WaitUntilActive<'a, M> {
    pub(crate) fn new(db: &'a Db) -> Self {
        WaitUntilActive {
            db,
            timeout: db.table_wait_timeout(),
            _model: PhantomData,
        }
    }

    /// How long to wait.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Polls DescribeTable until the table is ACTIVE.
    pub async fn send(self) -> Result<()> {
        let table = self.db.table_name::<M>();
        crate::db::check_table_name(&table)?;
        let span = crate::observe::op_span!(DEBUG; "dynorm.wait_until_active", "DescribeTable", table);
        wait_active(self.db, &table, self.timeout).instrument(span).await
    }
}

into_future!(WaitUntilActive, (), crate::TableDef);
