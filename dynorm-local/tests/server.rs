//! The shared server starts, answers DynamoDB requests, and is started once per process.

use std::collections::HashSet;

#[tokio::test]
async fn the_server_starts_and_answers_list_tables() {
    let server = dynorm_local::server().expect("DynamoDB Local starts");
    assert!(
        server.endpoint().starts_with("http://127.0.0.1:"),
        "{}",
        server.endpoint()
    );
    assert!(server.jar().ends_with("DynamoDBLocal.jar"));
    let client = dynorm::Db::local_client(server.endpoint());
    let tables = client.list_tables().send().await.expect("ListTables answers");
    // Any list will do: other tests of this binary create tables on the same server.
    let _ = tables.table_names();
}

#[test]
fn every_caller_shares_one_server() {
    let servers: Vec<(u32, String)> = std::thread::scope(|s| {
        let callers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let server = dynorm_local::server().expect("DynamoDB Local starts");
                    (server.pid(), server.endpoint().to_owned())
                })
            })
            .collect();
        callers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let distinct: HashSet<_> = servers.iter().collect();
    assert_eq!(distinct.len(), 1, "{servers:?}");
    let again = dynorm_local::server().unwrap();
    assert_eq!((again.pid(), again.endpoint().to_owned()), servers[0]);
}

#[test]
fn endpoint_is_the_variable_or_the_shared_server() {
    let endpoint = dynorm_local::endpoint().expect("an endpoint");
    match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(set) if !set.trim().is_empty() => assert_eq!(endpoint, set),
        _ => assert_eq!(endpoint, dynorm_local::server().unwrap().endpoint()),
    }
    assert_eq!(
        dynorm_local::endpoint().unwrap(),
        endpoint,
        "a second call gives the same endpoint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_works_from_an_async_test_through_dynorm() {
    let db = dynorm::Db::local(dynorm_local::endpoint().expect("an endpoint"));
    db.client().list_tables().send().await.expect("ListTables answers");
}

#[cfg(target_os = "linux")]
#[test]
fn the_server_is_dynamodb_local_in_memory_on_its_port() {
    let server = dynorm_local::server().unwrap();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid())).expect("the server runs");
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let port = server.endpoint().rsplit(':').next().unwrap();
    assert!(args.iter().any(|a| a.ends_with("DynamoDBLocal.jar")), "{args:?}");
    assert!(args.iter().any(|a| a == "-inMemory"), "{args:?}");
    assert!(args.windows(2).any(|w| w[0] == "-port" && w[1] == port), "{args:?}");
    // The parent is this process: the server is ours, not one started elsewhere.
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let ppid = status.lines().find_map(|l| l.strip_prefix("PPid:")).unwrap().trim();
    assert_eq!(ppid, std::process::id().to_string());
}
