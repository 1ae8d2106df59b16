//! Compile-fail tests for `#[derive(DynaModel)]`: every rejected input has a snapshot of
//! the error the user sees. Regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test -p dynorm-tests --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
