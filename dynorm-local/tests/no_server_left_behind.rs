//! No server left behind: a test binary that started DynamoDB Local takes it along when it
//! ends, whether its tests pass, panic, or it is killed with SIGKILL.
//!
//! Each test runs twice: as the parent (an ordinary run), it re-executes this test binary
//! with `--exact <its own name>` and `DYNORM_LOCAL_CHILD` set; as that child, it starts
//! the server, prints the server's PID and then ends the way the test is about. The
//! parent then checks that the PID is gone.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "DYNORM_LOCAL_CHILD";
const PID_LINE: &str = "dynorm-local-server-pid=";

fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// In the child: start the server (from a thread that ends right away, so the server
/// must outlive the thread that started it), check it runs, and tell the parent its PID.
fn child_starts_the_server() -> u32 {
    let pid = std::thread::spawn(|| dynorm_local::server().expect("DynamoDB Local starts").pid())
        .join()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(is_server(pid), "the server runs after the thread that started it ended");
    assert_eq!(
        dynorm_local::endpoint().unwrap(),
        dynorm_local::server().unwrap().endpoint(),
        "without DYNAMODB_ENDPOINT, endpoint() is the shared server"
    );
    // On a line of its own: the harness has written `test <name> ... ` without a newline.
    println!("\n{PID_LINE}{pid}");
    pid
}

/// In the parent: runs this binary's test `test` as the child.
fn spawn_child(test: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("DYNAMODB_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs again")
}

/// The server PID the child printed, and the rest of its stdout, read to the end on a
/// thread of its own.
fn read_pid(child: &mut Child) -> (u32, std::thread::JoinHandle<String>) {
    let mut stdout: BufReader<ChildStdout> = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("the child printed no server PID.\nstdout:\n{seen}\nstderr:\n{stderr}");
        }
        if let Some(at) = line.find(PID_LINE) {
            let pid = line[at + PID_LINE.len()..].trim().parse().unwrap();
            let rest = std::thread::spawn(move || {
                let mut rest = String::new();
                let _ = stdout.read_to_string(&mut rest);
                rest
            });
            return (pid, rest);
        }
        seen.push_str(&line);
    }
}

/// Whether `pid` is a running (not zombie) DynamoDB Local.
fn is_server(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name, which may hold spaces.
    let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    state != Some('Z') && String::from_utf8_lossy(&cmdline).contains("DynamoDBLocal")
}

fn assert_gone(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while is_server(pid) {
        assert!(
            Instant::now() < deadline,
            "DynamoDB Local (pid {pid}) outlived the test process"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_server_stops_when_the_test_binary_exits_normally() {
    if in_child() {
        child_starts_the_server();
        return;
    }
    let mut child = spawn_child("the_server_stops_when_the_test_binary_exits_normally");
    let (pid, rest) = read_pid(&mut child);
    let out = child.wait_with_output().unwrap();
    let rest = rest.join().unwrap();
    assert!(
        out.status.success(),
        "{}\n{rest}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(rest.contains("1 passed"), "{rest}");
    assert_gone(pid);
}

#[test]
fn the_server_stops_when_a_test_panics() {
    if in_child() {
        child_starts_the_server();
        panic!("the child's test panics on purpose");
    }
    let mut child = spawn_child("the_server_stops_when_a_test_panics");
    let (pid, rest) = read_pid(&mut child);
    let out = child.wait_with_output().unwrap();
    let rest = rest.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(101),
        "a failed test run: {}\n{rest}\n{stderr}",
        out.status
    );
    assert!(stderr.contains("panics on purpose"), "{stderr}");
    assert_gone(pid);
}

#[test]
fn the_server_stops_when_the_test_binary_is_killed() {
    if in_child() {
        child_starts_the_server();
        // Wait to be killed (but not forever, should the parent fail first).
        std::thread::sleep(Duration::from_secs(120));
        panic!("the child was not killed");
    }
    let mut child = spawn_child("the_server_stops_when_the_test_binary_is_killed");
    let (pid, _rest) = read_pid(&mut child);
    assert!(is_server(pid), "the server runs while the child does");
    child.kill().unwrap(); // SIGKILL: no unwinding, no atexit handler
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status}");
    assert_gone(pid);
}
