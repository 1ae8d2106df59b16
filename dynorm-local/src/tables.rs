//! A table prefix of one test's own, and dropping that test's tables afterwards.

use std::ops::Deref;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::Client;
use dynorm::Db;

use crate::Error;

/// The longest part of a prefix taken from the test's name (DynamoDB allows 255
/// characters in a table name).
const MAX_NAME: usize = 100;

/// A table-name prefix no other test uses: `test` (with characters DynamoDB does not
/// allow in a table name replaced by `-`), the process id, a counter and the clock, so
/// tests can share one server, in parallel and across test binaries.
///
/// ```
/// let a = dynorm_local::unique_prefix("crud::get");
/// let b = dynorm_local::unique_prefix("crud::get");
/// assert!(a.starts_with("crud--get-"));
/// assert!(a.ends_with('-'));
/// assert_ne!(a, b);
/// ```
pub fn unique_prefix(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name: String = test
        .chars()
        .take(MAX_NAME)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{name}-{}-{n}-{nanos}-", std::process::id())
}

/// One test's tables: a [`Db`] on DynamoDB Local with a [`unique_prefix`] of the test's
/// own, and, when dropped, the deletion of every table whose name starts with that
/// prefix.
///
/// It dereferences to the [`Db`], so it goes wherever a `&Db` does. Dropping works in
/// sync tests and inside a Tokio runtime alike (of either flavor): the tables are deleted
/// from a short-lived thread with a runtime and client of its own, which the drop waits
/// for. A failure there is printed to stderr, never a panic. [`TestTables::cleanup`]
/// deletes them from async code instead and reports what happened.
///
/// ```no_run
/// use dynorm::DynaModel;
/// use serde::{Deserialize, Serialize};
/// use validator::Validate;
///
/// #[derive(DynaModel, Serialize, Deserialize, Validate)]
/// #[table(name = "books", hash_key = "isbn")]
/// struct Book {
///     isbn: String,
///     title: String,
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let db = dynorm_local::TestTables::new("books_round_trip")?;
/// Book::create_table(&db).await?;
/// Book { isbn: "978-0441013593".into(), title: "Dune".into() }.put(&db).await?;
/// assert_eq!(Book::get(&db, "978-0441013593").await?.unwrap().title, "Dune");
/// # Ok(())
/// # }
/// // `db` drops here, and with it the `books_round_trip-…-books` table.
/// ```
#[derive(Debug)]
pub struct TestTables {
    db: Db,
    endpoint: String,
    prefix: String,
    cleaned: bool,
}

impl TestTables {
    /// Tables for the test named `test` on [`endpoint`](crate::endpoint): the server at
    /// `DYNAMODB_ENDPOINT`, else this process's own DynamoDB Local, started if needed.
    pub fn new(test: &str) -> Result<TestTables, Error> {
        Ok(TestTables::at(crate::endpoint()?, test))
    }

    /// Tables for the test named `test` on the DynamoDB (Local) at `endpoint`, through
    /// [`Db::local`]. For a handle with your own client configuration, build it with
    /// `Db::builder(client).table_prefix(tables.prefix())`: this value still drops the
    /// tables.
    pub fn at(endpoint: impl Into<String>, test: &str) -> TestTables {
        let endpoint = endpoint.into();
        let prefix = unique_prefix(test);
        TestTables {
            db: Db::local(endpoint.clone()).with_table_prefix(prefix.clone()),
            endpoint,
            prefix,
            cleaned: false,
        }
    }

    /// The handle, with the test's table prefix.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The test's table prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The endpoint the tables are on.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Deletes the test's tables now, from async code, and returns their names; dropping
    /// the value afterwards does nothing more.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), dynorm_local::Error> {
    /// let db = dynorm_local::TestTables::new("reports")?;
    /// // ... create tables and use them ...
    /// let dropped = db.cleanup().await?;
    /// println!("dropped {dropped:?}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn cleanup(mut self) -> Result<Vec<String>, Error> {
        self.cleaned = true;
        delete_tables(self.db.client(), &self.prefix).await
    }
}

impl Deref for TestTables {
    type Target = Db;

    fn deref(&self) -> &Db {
        &self.db
    }
}

impl Drop for TestTables {
    fn drop(&mut self) {
        if self.cleaned {
            return;
        }
        let endpoint = self.endpoint.clone();
        let prefix = self.prefix.clone();
        // A thread of its own, with its own runtime and client: the drop may run inside a
        // runtime (where blocking on another is refused), and a pooled connection of the
        // test's client may be driven by the very runtime this drop blocks.
        let worker = std::thread::Builder::new()
            .name("dynorm-local-cleanup".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::io("starting a runtime to drop a test's tables", e))?;
                let client = Db::local_client(endpoint);
                runtime.block_on(delete_tables(&client, &prefix))
            });
        let outcome = match worker {
            Ok(worker) => worker.join().unwrap_or_else(|_| {
                Err(Error::Cleanup {
                    prefix: self.prefix.clone(),
                    message: "the cleanup thread panicked".to_owned(),
                })
            }),
            Err(e) => Err(Error::io("starting a thread to drop a test's tables", e)),
        };
        if let Err(e) = outcome {
            eprintln!("dynorm-local: {e}");
        }
    }
}

/// Deletes every table whose name starts with `prefix`, and returns their names.
async fn delete_tables(client: &Client, prefix: &str) -> Result<Vec<String>, Error> {
    let fail = |action: &str, e: &dyn std::fmt::Display| Error::Cleanup {
        prefix: prefix.to_owned(),
        message: format!("{action}: {e}"),
    };
    let mut names = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .list_tables()
            .set_exclusive_start_table_name(start)
            .send()
            .await
            .map_err(|e| fail("ListTables", &DisplayErrorContext(e)))?;
        names.extend(page.table_names().iter().filter(|n| n.starts_with(prefix)).cloned());
        start = page.last_evaluated_table_name;
        if start.is_none() {
            break;
        }
    }
    for name in &names {
        if let Err(e) = client.delete_table().table_name(name).send().await {
            let gone = e
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception());
            if !gone {
                return Err(fail(&format!("DeleteTable {name}"), &DisplayErrorContext(e)));
            }
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_valid_table_names() {
        let prefix = unique_prefix("a test/with spaces::and ünïcode");
        assert!(prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')));
        assert!(prefix.starts_with("a-test-with-spaces--and--n-code-"), "{prefix}");
        assert!(unique_prefix(&"x".repeat(1000)).len() < 200);
    }
}
