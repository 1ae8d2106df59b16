//! Starting one DynamoDB Local per process, and making sure it dies with the process.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::Error;

/// How long a starting server has to answer HTTP.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How many free ports are tried when another process takes the one picked first.
const ATTEMPTS: usize = 3;

/// How many lines of the server's output an error shows.
const TAIL_LINES: usize = 40;

/// The DynamoDB Local server this process started (see [`server`]).
#[derive(Debug)]
pub struct LocalServer {
    endpoint: String,
    pid: u32,
    jar: PathBuf,
}

impl LocalServer {
    /// The server's URL, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The process id of the server's `java` process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The `DynamoDBLocal.jar` it runs.
    pub fn jar(&self) -> &Path {
        &self.jar
    }
}

/// The DynamoDB Local server of this process, started on first use and shared by every
/// later caller (every test of a test binary); `DYNAMODB_ENDPOINT` is not looked at (see
/// [`endpoint`](crate::endpoint) for that).
///
/// Starting it: find Java (`$JAVA_HOME/bin/java`, else `java` on `PATH`; 17 or newer),
/// find the jar ([`jar`](crate::jar), fetching it into the cache if needed), pick a free
/// port on 127.0.0.1, run `java -Djava.library.path=<jar dir>/DynamoDBLocal_lib -jar
/// DynamoDBLocal.jar -inMemory -sharedDb -disableTelemetry -port <port>`, and wait up to
/// [`START_TIMEOUT`] for it to answer HTTP. Callers that arrive meanwhile wait for the
/// same start. If starting fails, this call and every later one return that error.
///
/// The server never outlives the process. On Linux it is started with
/// `PR_SET_PDEATHSIG = SIGKILL` from a thread that lives as long as the process, so the
/// kernel kills it whenever the process ends: normal exit, a panic, or `SIGKILL`.
/// On other systems it is killed from an `atexit` handler, which runs on a normal exit
/// (including a test binary whose tests failed) but not when the process is killed.
///
/// ```no_run
/// let server = dynorm_local::server()?;
/// println!("DynamoDB Local (pid {}) at {}", server.pid(), server.endpoint());
/// assert_eq!(dynorm_local::server()?.pid(), server.pid()); // the same server
/// # Ok::<(), dynorm_local::Error>(())
/// ```
pub fn server() -> Result<&'static LocalServer, Error> {
    static SERVER: OnceLock<Result<LocalServer, Error>> = OnceLock::new();
    SERVER.get_or_init(start).as_ref().map_err(Clone::clone)
}

fn start() -> Result<LocalServer, Error> {
    let java = java_command();
    check_java(&java)?;
    let jar = crate::jar()?;
    let lib = jar.parent().unwrap_or(Path::new(".")).join("DynamoDBLocal_lib");
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match launch(&java, &jar, &lib)? {
            Launch::Ready(server) => return Ok(server),
            Launch::PortTaken(err) => last = Some(err),
        }
    }
    Err(last.expect("at least one attempt"))
}

/// `$JAVA_HOME/bin/java` when that exists, else `java` from `PATH`.
fn java_command() -> PathBuf {
    let exe = if cfg!(windows) { "java.exe" } else { "java" };
    std::env::var_os("JAVA_HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join("bin").join(exe))
        .filter(|java| java.is_file())
        .unwrap_or_else(|| PathBuf::from(exe))
}

fn check_java(java: &Path) -> Result<(), Error> {
    let not_found = |reason: String| Error::JavaNotFound {
        java: java.to_owned(),
        reason,
    };
    let out = Command::new(java)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| not_found(e.to_string()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    if !out.status.success() {
        return Err(not_found(format!("`-version` failed: {}", text.trim())));
    }
    match java_major(&text) {
        Some(found) if found < 17 => Err(Error::JavaTooOld {
            java: java.to_owned(),
            found,
        }),
        // A vendor's banner this does not understand: let the server try.
        _ => Ok(()),
    }
}

/// The major version in `java -version` output: `version "17.0.15"` is 17, the old
/// scheme's `version "1.8.0_402"` is 8.
fn java_major(version_output: &str) -> Option<u32> {
    let rest = &version_output[version_output.find("version \"")? + "version \"".len()..];
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

enum Launch {
    Ready(LocalServer),
    /// Another process took the port between picking and binding it.
    PortTaken(Error),
}

fn launch(java: &Path, jar: &Path, lib: &Path) -> Result<Launch, Error> {
    let port = free_port()?;
    let mut library_path = OsString::from("-Djava.library.path=");
    library_path.push(lib);
    let mut command = Command::new(java);
    command
        .arg(library_path)
        .arg("-jar")
        .arg(jar)
        .args(["-inMemory", "-sharedDb", "-disableTelemetry", "-port"])
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(command).map_err(|e| Error::JavaNotFound {
        java: java.to_owned(),
        reason: e.to_string(),
    })?;
    let output = Output::capture(&mut child);
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Error::io("checking on DynamoDB Local", e))?
        {
            let tail = output.tail();
            let exited = Error::ServerExited {
                status: status.to_string(),
                output: tail.clone(),
            };
            return if tail.contains("Address already in use") || tail.contains("BindException") {
                Ok(Launch::PortTaken(exited))
            } else {
                Err(exited)
            };
        }
        // Our server must still run after the answer: if the port was taken, Java exits
        // and the answer came from someone else's server (the next turn sees the exit).
        if answers(port) {
            thread::sleep(Duration::from_millis(200));
            if matches!(child.try_wait(), Ok(None)) {
                let pid = child.id();
                keep(child);
                return Ok(Launch::Ready(LocalServer {
                    endpoint: format!("http://127.0.0.1:{port}"),
                    pid,
                    jar: jar.to_owned(),
                }));
            }
            continue;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::StartTimeout {
                seconds: START_TIMEOUT.as_secs(),
                output: output.tail(),
            });
        }
        thread::sleep(Duration::from_millis(250));
    }
}

fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Error::io("picking a free port on 127.0.0.1", e))
}

/// Whether anything answers HTTP on the port. Any answer counts: DynamoDB Local replies
/// to an unsigned request with an error body.
fn answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n\
         Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    let mut start = [0u8; 5];
    stream.write_all(request.as_bytes()).is_ok() && stream.read_exact(&mut start).is_ok() && &start == b"HTTP/"
}

/// The last lines the server wrote to stdout and stderr. The pipes are drained for as
/// long as the server runs, so it never blocks on a full pipe.
struct Output {
    lines: Arc<Mutex<VecDeque<String>>>,
    readers: Vec<JoinHandle<()>>,
}

impl Output {
    fn capture(child: &mut Child) -> Output {
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let mut readers = Vec::new();
        let pipes: [Option<Box<dyn Read + Send>>; 2] = [
            child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
            child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>),
        ];
        for pipe in pipes.into_iter().flatten() {
            let lines = Arc::clone(&lines);
            let reader = thread::Builder::new()
                .name("dynorm-local-output".into())
                .spawn(move || {
                    let mut pipe = BufReader::new(pipe);
                    let mut line = Vec::new();
                    while matches!(pipe.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                        let mut lines = lines.lock().unwrap_or_else(PoisonError::into_inner);
                        if lines.len() == TAIL_LINES {
                            lines.pop_front();
                        }
                        lines.push_back(String::from_utf8_lossy(&line).trim_end().to_owned());
                        line.clear();
                    }
                });
            // Without a reader the output is only missing from error messages.
            if let Ok(reader) = reader {
                readers.push(reader);
            }
        }
        Output { lines, readers }
    }

    /// The output so far; after the server exited, all of it (waiting briefly for the
    /// readers to reach the end of the pipes).
    fn tail(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.is_empty() {
            "(no output)".to_owned()
        } else {
            lines.iter().cloned().collect::<Vec<_>>().join("\n")
        }
    }
}

/// Servers that run, for the `atexit` handler to kill.
static RUNNING: Mutex<Vec<Child>> = Mutex::new(Vec::new());

/// Keeps a started server until the process exits, and makes sure it then dies.
fn keep(child: Child) {
    static AT_EXIT: OnceLock<()> = OnceLock::new();
    AT_EXIT.get_or_init(|| {
        // SAFETY: registers a handler that takes no arguments and does not unwind.
        // Should registering fail, Linux still has the death signal; elsewhere the
        // server then lives on after the process.
        unsafe { libc::atexit(kill_running) };
    });
    RUNNING.lock().unwrap_or_else(PoisonError::into_inner).push(child);
}

/// Kills the servers this process started: the `atexit` handler.
extern "C" fn kill_running() {
    // Never wait for the lock at exit: whoever holds it may be gone.
    let mut running = match RUNNING.try_lock() {
        Ok(running) => running,
        Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    for child in running.iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Starts the server as a child that the kernel kills (`SIGKILL`) when its parent dies.
///
/// The "parent" of `PR_SET_PDEATHSIG` is the thread that forked, not the process: a
/// server forked from a test's thread would be killed when that test ends. So every
/// server is forked from one thread that lives until the process exits: it waits for
/// requests on a channel whose sender sits in a static and is never dropped.
#[cfg(target_os = "linux")]
fn spawn(command: Command) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc;

    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: Mutex<Option<mpsc::Sender<Request>>> = Mutex::new(None);

    let mut spawner = SPAWNER.lock().unwrap_or_else(PoisonError::into_inner);
    if spawner.is_none() {
        let (requests, incoming) = mpsc::channel::<Request>();
        thread::Builder::new()
            .name("dynorm-local-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let parent = std::process::id() as libc::pid_t;
                    // SAFETY: the closure runs in the forked child before exec and only
                    // makes async-signal-safe system calls.
                    unsafe {
                        command.pre_exec(move || {
                            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) == -1 {
                                return Err(std::io::Error::last_os_error());
                            }
                            // The parent died between fork and prctl: no signal will come.
                            if libc::getppid() != parent {
                                libc::_exit(1);
                            }
                            Ok(())
                        });
                    }
                    let _ = reply.send(command.spawn());
                }
            })?;
        *spawner = Some(requests);
    }
    let (reply, answer) = mpsc::channel();
    let sent = spawner
        .as_ref()
        .map(|requests| requests.send((command, reply)).is_ok())
        .unwrap_or(false);
    drop(spawner);
    let gone = || std::io::Error::other("the dynorm-local spawner thread is gone");
    if !sent {
        return Err(gone());
    }
    answer.recv().map_err(|_| gone())?
}

/// Starts the server as a plain child; [`keep`]'s `atexit` handler kills it.
#[cfg(not(target_os = "linux"))]
fn spawn(mut command: Command) -> std::io::Result<Child> {
    command.spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_are_read_in_both_schemes() {
        assert_eq!(
            java_major("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment"),
            Some(17)
        );
        assert_eq!(java_major("java version \"1.8.0_402\""), Some(8));
        assert_eq!(java_major("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(java_major("openjdk version \"25-ea\""), Some(25));
        assert_eq!(java_major("something else"), None);
    }

    #[test]
    fn a_closed_port_does_not_answer() {
        let port = free_port().unwrap();
        assert!(!answers(port));
    }
}
