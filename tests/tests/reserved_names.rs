//! The derive refuses an index whose method would shadow a verb of `DynaModel`; its list
//! of reserved names (`RESERVED_METHODS` in the derive's `naming.rs`) must hold every verb
//! the runtime trait declares, and nothing else but the constructors it names on purpose.

const VERBS: &str = include_str!("../../dynorm/src/verbs.rs");
const NAMING: &str = include_str!("../../dynorm-derive/src/naming.rs");

/// Names the list reserves that are no verbs: common constructors.
const CONSTRUCTORS: &[&str] = &["new", "default"];

/// Lines of Rust source without comment lines.
fn code_lines(source: &str) -> impl Iterator<Item = &str> {
    source.lines().map(str::trim).filter(|line| !line.starts_with("//"))
}

/// The `fn` names declared directly inside `pub trait {name}`'s braces.
fn trait_fns(source: &str, name: &str) -> Vec<String> {
    let header = format!("pub trait {name}");
    let lines = code_lines(source).skip_while(|line| !line.starts_with(&header));
    let mut fns = Vec::new();
    let mut depth = 0usize;
    let mut opened = false;
    for line in lines {
        if depth == 1 {
            let mut words = line.split_whitespace();
            if words.by_ref().any(|word| word == "fn") {
                if let Some(word) = words.next() {
                    let end = word.find(['(', '<']).unwrap_or(word.len());
                    fns.push(word[..end].to_owned());
                }
            }
        }
        for c in line.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        if opened && depth == 0 {
            return fns;
        }
    }
    panic!("no closed `{header} {{ .. }}` found");
}

/// The string literals of `pub const {name}: &[&str] = &[ .. ];`.
fn const_list(source: &str, name: &str) -> Vec<String> {
    let header = format!("pub const {name}");
    let lines = code_lines(source).skip_while(|line| !line.starts_with(&header));
    let mut names = Vec::new();
    for line in lines {
        names.extend(line.split('"').skip(1).step_by(2).map(str::to_owned));
        if line.ends_with("];") {
            return names;
        }
    }
    panic!("no `{header}: &[&str] = &[ .. ];` found");
}

#[test]
fn reserved_method_names_follow_the_dyna_model_trait() {
    let verbs = trait_fns(VERBS, "DynaModel");
    let reserved = const_list(NAMING, "RESERVED_METHODS");
    assert!(verbs.len() >= 10, "too few verbs read from verbs.rs: {verbs:?}");
    assert!(verbs.iter().any(|v| v == "get") && verbs.iter().any(|v| v == "query"));

    let missing: Vec<&String> = verbs.iter().filter(|v| !reserved.contains(v)).collect();
    assert!(
        missing.is_empty(),
        "DynaModel verbs missing from RESERVED_METHODS in dynorm-derive/src/naming.rs: {missing:?}"
    );

    let stale: Vec<&String> = reserved
        .iter()
        .filter(|name| !verbs.contains(name) && !CONSTRUCTORS.contains(&name.as_str()))
        .collect();
    assert!(
        stale.is_empty(),
        "RESERVED_METHODS names what is neither a DynaModel verb nor a constructor: {stale:?}"
    );

    let mut sorted = reserved.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        reserved.len(),
        "RESERVED_METHODS repeats a name: {reserved:?}"
    );
}

#[test]
fn the_scan_reads_nested_bodies_and_comments_correctly() {
    let source = r#"
/// pub trait DynaModel { fn not_this() }
pub trait DynaModel: Model {
    /// ```
    /// fn in_a_doc_example() {}
    /// ```
    fn schema() -> &'static TableSchema {
        fn nested() {}
        Self::SCHEMA
    }

    fn put<'a>(&'a self, db: &'a Db) -> PutItem<'a, Self>;
    async fn objects(db: &Db) -> Manager<'_, Self> {
        Manager::new(db)
    }
}

fn after_the_trait() {}
"#;
    assert_eq!(trait_fns(source, "DynaModel"), ["schema", "put", "objects"]);
    let list =
        "pub const RESERVED_METHODS: &[&str] = &[\n    // `a` comment \"x\"\n    \"a\",\n    \"b\", \"c\",\n];\n";
    assert_eq!(const_list(list, "RESERVED_METHODS"), ["a", "b", "c"]);
}
