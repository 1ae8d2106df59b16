//! `ensure_table`: a model's table made ready before use — created when missing, waited
//! for when CREATING, and compared with the model, its differences reported or the safe
//! ones applied — and the preparation every operation runs first.

use std::marker::PhantomData;

use aws_sdk_dynamodb::types::TableStatus;
use tracing::Instrument;

use crate::db::check_table_name;
use crate::ops::into_future;
use crate::table::{describe, enable_ttl, wait_active, CreateTable};
use crate::{Db, Error, Result, TableDef};

/// Makes sure a model's table exists and can be used. Made by `DynaModel::ensure_table`.
///
/// A missing table is created from the model and waited for. A table that is CREATING
/// is accepted and waited for; one that is DELETING (or archived) fails with
/// [`Error::TableNotActive`]. For a model with a `#[dynorm(ttl)]` field, time to live is
/// enabled on an existing table that lacks it.
///
/// An existing table is compared with the model (as `plan_table`): one that differs
/// (a missing index, another key, billing, stream) fails with [`Error::TableDrift`],
/// which holds the plan, rather than passing until a query fails. With
/// [`apply_safe_changes(true)`](Self::apply_safe_changes) the steps that destroy
/// nothing (creating an index, billing, capacity, stream) are applied instead, each
/// waited for; a destructive difference still fails. The handle remembers a verified
/// table, so later calls on the same handle make no request at all.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct EnsureTable<'a, M: TableDef> {
    db: &'a Db,
    apply_safe: bool,
    /// Compare an existing table with the model (not when an operation auto-creates).
    compare: bool,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: TableDef> EnsureTable<'a, M> {
    pub(crate) fn new(db: &'a Db) -> Self {
        EnsureTable {
            db,
            apply_safe: false,
            compare: true,
            _model: PhantomData,
        }
    }

    /// Applies the differences that destroy nothing (a new index, billing, capacity,
    /// stream) instead of failing with [`Error::TableDrift`].
    pub fn apply_safe_changes(mut self, apply: bool) -> Self {
        self.apply_safe = apply;
        self
    }

    /// Checks, and creates the table when it is missing.
    pub async fn send(self) -> Result<()> {
        let table = self.db.table_name::<M>();
        crate::db::check_table_name(&table)?;
        if self.db.is_verified(&table) {
            return Ok(());
        }
        let span = crate::observe::op_span!(INFO; "dynorm.ensure_table", "CreateTable", table);
        async move {
            let described = describe(self.db, &table).await?;
            let status = described
                .as_ref()
                .map(|t| t.table_status.clone().unwrap_or(TableStatus::Active));
            let mut live = described;
            match status {
                Some(TableStatus::Active | TableStatus::Updating) => {}
                Some(TableStatus::Creating) => {
                    wait_active(self.db, &table, self.db.table_wait_timeout()).await?;
                    live = describe(self.db, &table).await?;
                }
                Some(other) => {
                    return Err(Error::TableNotActive { table, status: other });
                }
                None => {
                    return CreateTable::<M>::new(self.db)
                        .allow_existing(true)
                        .wait(true)
                        .send()
                        .await;
                }
            }
            // A table made elsewhere, or whose time-to-live setup failed, gets it now.
            if let Some(attribute) = M::TABLE.ttl_attribute {
                enable_ttl(self.db, &table, attribute).await?;
            }
            let plan = match self.compare {
                true => super::plan_with(self.db, M::TABLE, table.clone(), live).await?,
                false => super::TablePlan {
                    table: table.clone(),
                    steps: Vec::new(),
                },
            };
            if !plan.is_empty() {
                let safe = !plan.is_destructive()
                    && !plan
                        .steps
                        .iter()
                        .any(|s| matches!(s, super::PlanStep::TableKeyDiffers { .. }));
                if !(self.apply_safe && safe) {
                    return Err(Error::TableDrift {
                        table,
                        plan: Box::new(plan),
                    });
                }
                super::ApplyTable::<M>::new(self.db).apply_plan(plan).await?;
            }
            self.db.mark_verified(&table);
            Ok(())
        }
        .instrument(span)
        .await
    }
}

into_future!(EnsureTable, (), crate::TableDef);

impl Db {
    /// Runs before every item operation: checks the table name, and creates the table
    /// on first use when the handle was built with `auto_create_tables(true)`.
    pub(crate) async fn prepare<M: TableDef>(&self, table: &str) -> Result<()> {
        check_table_name(table)?;
        if self.auto_create_tables() && !self.is_verified(table) {
            // Auto-creation makes the table exist; comparing it with the model is for
            // `ensure_table` and `plan_table`, so a drifted table does not fail every
            // operation (and send the comparison's requests) on first use.
            let ensure = {
                let mut ensure = EnsureTable::<M>::new(self);
                ensure.compare = false;
                std::future::IntoFuture::into_future(ensure)
            };
            ensure.await?;
        }
        Ok(())
    }
}

/// Makes sure a model's table is ready (created on first use when the handle
/// auto-creates tables): the one step of an operation that needs the model's type, kept
/// as a function pointer so that the engine around it is not generic.
pub(crate) type Prepare = for<'d> fn(&'d Db) -> futures::future::BoxFuture<'d, Result<()>>;

pub(crate) fn prepare<M: TableDef>(db: &Db) -> futures::future::BoxFuture<'_, Result<()>> {
    Box::pin(async move { db.prepare::<M>(&db.table_name::<M>()).await })
}
