//! DynamoDB Local for integration tests, from plain `cargo test`.
//!
//! Add it as a dev-dependency and ask for an endpoint: [`endpoint`] returns
//! `DYNAMODB_ENDPOINT` when that is set, and otherwise starts one
//! [DynamoDB Local](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/DynamoDBLocal.html)
//! 3.3.0 for the whole test process (fetched from npm into a cache the first time) and
//! returns its URL. [`TestTables`] gives each test a [`dynorm::Db`] with a table prefix of
//! its own and drops the test's tables afterwards.
//!
//! ```no_run
//! use dynorm::DynaModel;
//! use serde::{Deserialize, Serialize};
//! use validator::Validate;
//!
//! #[derive(DynaModel, Serialize, Deserialize, Validate)]
//! #[table(name = "books", hash_key = "isbn")]
//! struct Book {
//!     isbn: String,
//!     title: String,
//! }
//!
//! // In tests/books.rs, this would be a `#[tokio::test] async fn`.
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = dynorm_local::TestTables::new("books_round_trip")?;
//! Book::create_table(&db).await?;
//! Book { isbn: "1".into(), title: "Dune".into() }.put(&db).await?;
//! assert_eq!(Book::get(&db, "1").await?.unwrap().title, "Dune");
//! # Ok(())
//! # }
//! ```
//!
//! # What it needs
//!
//! * Java 17 or newer (`$JAVA_HOME/bin/java`, else `java` on `PATH`), for example
//!   `sudo apt-get install openjdk-17-jre-headless`.
//! * The server: `$DYNAMODB_LOCAL_JAR` naming a `DynamoDBLocal.jar` (with its
//!   `DynamoDBLocal_lib` next to it), or the cache ([`cache_dir`]: `$DYNORM_CACHE_DIR`,
//!   else `$XDG_CACHE_HOME/dynorm` or `~/.cache/dynorm`), which is filled on first use with
//!   `npm pack` of [`NPM_PACKAGE`] (so npm then, and `tar`). dynorm's
//!   `scripts/dynamodb-local` uses the same cache.
//!
//! None of it is needed when `DYNAMODB_ENDPOINT` points at a running server.
//!
//! # The server never outlives the test process
//!
//! On Linux the server is started with `PR_SET_PDEATHSIG = SIGKILL` from a thread that
//! lives as long as the process, so the kernel kills it when the test binary ends in any
//! way: all tests passed, some failed or panicked, or the binary was killed with
//! `SIGKILL`. It is also killed from an `atexit` handler. On other systems only the
//! `atexit` handler stops it: on a normal exit (passed or failed tests), but not when the
//! process is killed.
//!
//! # Environment
//!
//! | Variable | Meaning |
//! |---|---|
//! | `DYNAMODB_ENDPOINT` | Use this server; start none. |
//! | `DYNAMODB_LOCAL_JAR` | Run this `DynamoDBLocal.jar` instead of the cached one. |
//! | `DYNORM_CACHE_DIR` | The cache directory (default `$XDG_CACHE_HOME/dynorm` or `~/.cache/dynorm`). |
//! | `JAVA_HOME` | The Java to run it with (`$JAVA_HOME/bin/java`). |

#![warn(missing_docs)]

mod error;
mod jar;
mod server;
mod tables;

pub use error::Error;
pub use jar::{cache_dir, jar, CACHE_DIR_VAR, DYNAMODB_LOCAL_VERSION, JAR_VAR, NPM_PACKAGE};
pub use server::{server, LocalServer, START_TIMEOUT};
pub use tables::{unique_prefix, TestTables};

/// The environment variable naming a running DynamoDB (Local) to use instead of starting
/// one.
pub const ENDPOINT_VAR: &str = "DYNAMODB_ENDPOINT";

/// The DynamoDB Local endpoint for this test process: `$DYNAMODB_ENDPOINT` when it is set
/// (and not empty), else the URL of this process's own server, started on the first call
/// (see [`server`]) and shared by every later one.
///
/// It blocks while the server starts (a few seconds; up to [`START_TIMEOUT`]), and is
/// fine to call from sync tests and from async ones.
///
/// ```no_run
/// let endpoint = dynorm_local::endpoint()?;
/// let db = dynorm::Db::local(&endpoint).with_table_prefix(dynorm_local::unique_prefix("my_test"));
/// # Ok::<(), dynorm_local::Error>(())
/// ```
pub fn endpoint() -> Result<String, Error> {
    match std::env::var(ENDPOINT_VAR) {
        Ok(endpoint) if !endpoint.trim().is_empty() => Ok(endpoint),
        _ => server().map(|server| server.endpoint().to_owned()),
    }
}
