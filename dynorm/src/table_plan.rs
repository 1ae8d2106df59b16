//! A table plan's data (made and applied by the `drift` module): its steps and the report they
//! make. Plain data at the bottom layer, so that errors can carry a plan.

use std::fmt;

/// What differs between a live table and its model: the steps that would make the table
/// match, in the order they would be applied. Empty when the table matches.
///
/// ```no_run
/// # use dynorm::{Db, DynaModel};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let plan = Book::plan_table(&db).await?;
/// if !plan.is_empty() {
///     println!("{plan}");
///     // table `books`: 1 change
///     //   + create global index `by-author` (hash `author` S, range `published` N; projection ALL)
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TablePlan {
    /// The full table name, prefix included.
    pub table: String,
    /// The steps, in order.
    pub steps: Vec<PlanStep>,
}

/// One difference between a live table and its model.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PlanStep {
    /// The table does not exist: create it from the model.
    CreateTable,
    /// The table's own key schema differs: only a new table can change it (destructive).
    TableKeyDiffers {
        /// The live key, as `hash` or `hash, range`, with attribute types.
        live: String,
        /// The model's key.
        model: String,
    },
    /// The model has a global index the table lacks.
    CreateIndex {
        /// The index name.
        name: String,
        /// Its keys and projection, for the report.
        definition: String,
    },
    /// The table has a global index the model does not declare (destructive).
    DeleteIndex {
        /// The index name.
        name: String,
    },
    /// A global index whose key schema or projection differs: deleted and created again
    /// (destructive: it is unavailable until rebuilt).
    ReplaceIndex {
        /// The index name.
        name: String,
        /// The live definition.
        live: String,
        /// The model's definition.
        model: String,
    },
    /// A local index differs or is missing: local indexes exist only from the table's
    /// creation, so only a new table can change them (destructive).
    LocalIndexDiffers {
        /// The index name.
        name: String,
    },
    /// The billing mode changes (`PAY_PER_REQUEST` or `PROVISIONED`).
    Billing {
        /// The live mode.
        live: String,
        /// The model's mode.
        model: String,
    },
    /// The provisioned capacity of the table, or of one of its global indexes, changes.
    Throughput {
        /// The index, or `None` for the table.
        index: Option<String>,
        /// The live read and write units.
        live: (i64, i64),
        /// The model's read and write units.
        model: (i64, i64),
    },
    /// The stream changes: its view type, or `None` for no stream.
    Stream {
        /// The live view type.
        live: Option<String>,
        /// The model's view type.
        model: Option<String>,
    },
    /// Time to live changes: the attribute it is enabled on, or `None`.
    TimeToLive {
        /// The live attribute.
        live: Option<String>,
        /// The model's attribute.
        model: Option<String>,
    },
    /// Deletion protection is turned on or off.
    DeletionProtection {
        /// Whether it is on now.
        live: bool,
        /// Whether the model wants it.
        model: bool,
    },
    /// The table class changes (`STANDARD`, `STANDARD_INFREQUENT_ACCESS`).
    TableClass {
        /// The live class.
        live: String,
        /// The model's class.
        model: String,
    },
    /// Server-side encryption changes: `owned` (DynamoDB's key), `kms` (the AWS managed
    /// key or a customer key), with the key where the model names one.
    Encryption {
        /// The live encryption.
        live: String,
        /// The model's.
        model: String,
    },
    /// Declared tags to add or change (tags the model does not declare are left alone).
    Tags {
        /// The tags to set, key and value.
        set: Vec<(String, String)>,
    },
    /// Point-in-time recovery is turned on or off.
    PointInTimeRecovery {
        /// Whether it is on now.
        live: bool,
        /// Whether the model wants it.
        model: bool,
    },
}

impl PlanStep {
    /// Whether the step deletes data or makes it unavailable while it runs (deleting or
    /// rebuilding an index, changing what only a new table can change).
    pub fn is_destructive(&self) -> bool {
        match self {
            PlanStep::TableKeyDiffers { .. }
            | PlanStep::DeleteIndex { .. }
            | PlanStep::ReplaceIndex { .. }
            | PlanStep::LocalIndexDiffers { .. } => true,
            // Turning a stream off or changing its view breaks its consumers; turning off
            // time to live, deletion protection or backups, or DynamoDB-owned encryption
            // over a KMS key, weakens the table.
            PlanStep::Stream { live: Some(_), .. } => true,
            PlanStep::TimeToLive { live: Some(_), .. } => true,
            PlanStep::DeletionProtection { model: false, .. } => true,
            PlanStep::PointInTimeRecovery { model: false, .. } => true,
            PlanStep::Encryption { model, .. } => model == "owned",
            _ => false,
        }
    }
}

impl TablePlan {
    /// Whether the table matches the model.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether any step is destructive.
    pub fn is_destructive(&self) -> bool {
        self.steps.iter().any(PlanStep::is_destructive)
    }
}

impl fmt::Display for PlanStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = |v: &Option<String>| v.clone().unwrap_or_else(|| "off".to_owned());
        match self {
            PlanStep::CreateTable => f.write_str("+ create the table"),
            PlanStep::TableKeyDiffers { live, model } => {
                write!(f, "! table key is {live}, the model's is {model}: needs a new table")
            }
            PlanStep::CreateIndex { name, definition } => write!(f, "+ create global index `{name}` ({definition})"),
            PlanStep::DeleteIndex { name } => write!(f, "- delete global index `{name}`"),
            PlanStep::ReplaceIndex { name, live, model } => {
                write!(f, "~ replace global index `{name}`: ({live}) -> ({model})")
            }
            PlanStep::LocalIndexDiffers { name } => {
                write!(f, "! local index `{name}` differs: needs a new table")
            }
            PlanStep::Billing { live, model } => write!(f, "~ billing: {live} -> {model}"),
            PlanStep::Throughput { index, live, model } => {
                let of = index.as_ref().map_or("table".to_owned(), |i| format!("index `{i}`"));
                write!(
                    f,
                    "~ {of} capacity: {} read / {} write -> {} read / {} write",
                    live.0, live.1, model.0, model.1
                )
            }
            PlanStep::Stream { live, model } => write!(f, "~ stream: {} -> {}", off(live), off(model)),
            PlanStep::TimeToLive { live, model } => {
                write!(f, "~ time to live: {} -> {}", off(live), off(model))
            }
            PlanStep::DeletionProtection { live, model } => {
                let on = |b: &bool| if *b { "on" } else { "off" };
                write!(f, "~ deletion protection: {} -> {}", on(live), on(model))
            }
            PlanStep::TableClass { live, model } => write!(f, "~ table class: {live} -> {model}"),
            PlanStep::Encryption { live, model } => write!(f, "~ encryption: {live} -> {model}"),
            PlanStep::Tags { set } => {
                let tags: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "~ tags: set {}", tags.join(", "))
            }
            PlanStep::PointInTimeRecovery { live, model } => {
                let on = |b: &bool| if *b { "on" } else { "off" };
                write!(f, "~ point-in-time recovery: {} -> {}", on(live), on(model))
            }
        }?;
        if self.is_destructive() {
            f.write_str(" [destructive]")?;
        }
        Ok(())
    }
}

impl fmt::Display for TablePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.steps.len() {
            0 => write!(f, "table `{}` matches the model", self.table),
            n => {
                write!(f, "table `{}`: {n} change{}", self.table, if n == 1 { "" } else { "s" })?;
                for step in &self.steps {
                    write!(f, "\n  {step}")?;
                }
                Ok(())
            }
        }
    }
}
