//! Tests of the encoder (`encode.rs`), through the item functions above it: here so that
//! the encoder imports nothing from the layer above.

use std::collections::HashMap;

use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant};
use serde::ser::{SerializeTuple, SerializeTupleStruct, SerializeTupleVariant};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::ser::Serializer;

use crate::encode::to_attribute_value;
use crate::item::{check_expression_value, expression_error, to_item};
use crate::schema::Shape;
use crate::value::{Item, ValueError, ValueProblem};
use crate::Error;
use serde::Serialize;

type Result<T> = crate::Result<T>;

fn to_value<T: Serialize + ?Sized>(value: &T, depth: usize) -> std::result::Result<AttributeValue, ValueError> {
    to_attribute_value(value, depth, Shape::Plain)
}

/// One level of a nested test value, in each form serde_dynamo writes as `L` or `M`,
/// and the wrappers that add no level.
#[derive(Clone, Copy, Debug)]
enum Form {
    Seq,
    Tuple,
    TupleStruct,
    Map,
    /// A map whose key and value are serialized apart (as `#[serde(flatten)]` does).
    SplitMap,
    IntKeyMap,
    Struct,
    NewtypeVariant,
    TupleVariant,
    StructVariant,
    Some,
    Newtype,
}

const SHAPES: [Form; 12] = [
    Form::Seq,
    Form::Tuple,
    Form::TupleStruct,
    Form::Map,
    Form::SplitMap,
    Form::IntKeyMap,
    Form::Struct,
    Form::NewtypeVariant,
    Form::TupleVariant,
    Form::StructVariant,
    Form::Some,
    Form::Newtype,
];

/// What the innermost level holds.
#[derive(Clone, Copy, Debug)]
enum Leaf {
    Text,
    EmptyList,
    StringSet,
    Null,
}

/// A value `levels` levels deep, made level by level while it is serialized (so any
/// depth costs no memory and no drop): level `i` has the shape `shapes[i % len]`.
#[derive(Clone, Copy)]
struct Nest {
    shapes: &'static [Form],
    levels: usize,
    leaf: Leaf,
}

impl Serialize for Nest {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.levels == 0 {
            return match self.leaf {
                Leaf::Text => s.serialize_str("leaf"),
                Leaf::EmptyList => s.serialize_seq(Some(0))?.end(),
                Leaf::StringSet => serde_dynamo::string_set::serialize(&["a", "b"], s),
                Leaf::Null => s.serialize_none(),
            };
        }
        let child = Nest {
            levels: self.levels - 1,
            ..*self
        };
        match self.shapes[self.levels % self.shapes.len()] {
            Form::Seq => {
                let mut seq = s.serialize_seq(Some(2))?;
                seq.serialize_element(&0)?;
                seq.serialize_element(&child)?;
                seq.end()
            }
            Form::Tuple => {
                let mut tuple = s.serialize_tuple(3)?;
                tuple.serialize_element("x")?;
                tuple.serialize_element("y")?;
                tuple.serialize_element(&child)?;
                tuple.end()
            }
            Form::TupleStruct => {
                let mut tuple = s.serialize_tuple_struct("Pair", 2)?;
                tuple.serialize_field(&child)?;
                tuple.serialize_field(&true)?;
                tuple.end()
            }
            Form::Map => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("k", &child)?;
                map.end()
            }
            Form::SplitMap => {
                let mut map = s.serialize_map(None)?;
                map.serialize_key("s")?;
                map.serialize_value(&child)?;
                map.end()
            }
            Form::IntKeyMap => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(&7u8, &child)?;
                map.end()
            }
            Form::Struct => {
                let mut st = s.serialize_struct("Node", 2)?;
                st.serialize_field("n", &1)?;
                st.serialize_field("child", &child)?;
                st.end()
            }
            Form::NewtypeVariant => s.serialize_newtype_variant("E", 0, "New", &child),
            Form::TupleVariant => {
                let mut tv = s.serialize_tuple_variant("E", 1, "Tup", 1)?;
                tv.serialize_field(&child)?;
                tv.end()
            }
            Form::StructVariant => {
                let mut sv = s.serialize_struct_variant("E", 2, "Rec", 1)?;
                sv.serialize_field("inner", &child)?;
                sv.end()
            }
            Form::Some => s.serialize_some(&child),
            Form::Newtype => s.serialize_newtype_struct("Wrapper", &child),
        }
    }
}

#[derive(Serialize)]
struct Root<T> {
    id: &'static str,
    a: T,
}

/// What DynamoDB (and dynorm before this adapter) says of the item: serde_dynamo's
/// whole tree, then each attribute checked as `check_item` checks it.
fn reference<T: Serialize>(value: &T) -> Result<Item> {
    let item: Item = serde_dynamo::to_item(value)?;
    for (name, value) in &item {
        check_expression_value(name, 1, value)?;
    }
    Ok(item)
}

fn too_deep_path(result: Result<Item>) -> Option<String> {
    match result {
        Err(Error::InvalidItem {
            path,
            problem: ValueProblem::TooDeep,
        }) => Some(path),
        Err(other) => panic!("unexpected error: {other:?}"),
        Ok(_) => None,
    }
}

#[test]
fn rejects_exactly_what_the_item_check_rejects() {
    let mixed: &'static [Form] = &SHAPES;
    let mut shape_lists: Vec<&'static [Form]> = SHAPES.iter().map(std::slice::from_ref).collect();
    shape_lists.push(mixed);
    shape_lists.push(&[Form::Some, Form::Seq, Form::Newtype, Form::StructVariant]);
    let mut rejected = 0;
    for shapes in shape_lists {
        for leaf in [Leaf::Text, Leaf::EmptyList, Leaf::StringSet, Leaf::Null] {
            for levels in 0..=70 {
                let root = Root {
                    id: "x",
                    a: Nest { shapes, levels, leaf },
                };
                let case = format!("{shapes:?} {leaf:?} {levels}");
                let ours = to_item(&root);
                let expected = reference(&root);
                if let (Ok(ours), Ok(expected)) = (&ours, &expected) {
                    assert_eq!(ours, expected, "{case}");
                }
                let path = too_deep_path(ours);
                assert_eq!(path, too_deep_path(expected), "{case}");
                rejected += usize::from(path.is_some());

                // One value at level 1, as an update or condition value is encoded.
                let value = to_value(&root.a, 1);
                let expected = check_expression_value("a", 1, &serde_dynamo::to_attribute_value(root.a).unwrap());
                match (value, expected) {
                    (Ok(_), Ok(())) => {}
                    (Err(err), Err(Error::InvalidItem { path, .. })) => match expression_error("a", err) {
                        Error::InvalidItem {
                            path: ours,
                            problem: ValueProblem::TooDeep,
                        } => assert_eq!(ours, path, "{case}"),
                        other => panic!("{case}: {other:?}"),
                    },
                    (value, expected) => panic!("{case}: {value:?} / {expected:?}"),
                }
            }
        }
    }
    assert!(rejected > 500, "only {rejected} cases were too deep");
}

#[test]
fn thirty_one_nested_lists_fit_in_an_attribute_and_thirty_two_do_not() {
    let lists = |levels| Root {
        id: "x",
        a: Nest {
            shapes: &[Form::Seq],
            levels,
            leaf: Leaf::Text,
        },
    };
    // `a` is level 1, so its 31st nested list is at level 31.
    assert!(to_item(&lists(31)).is_ok());
    let path = too_deep_path(to_item(&lists(32))).expect("too deep");
    assert_eq!(path, format!("a{}", "[1]".repeat(31)));

    // A set is no list: one may sit at level 32.
    let set = Root {
        id: "x",
        a: Nest {
            shapes: &[Form::Seq],
            levels: 31,
            leaf: Leaf::StringSet,
        },
    };
    assert!(to_item(&set).is_ok());
    let empty = Root {
        id: "x",
        a: Nest {
            shapes: &[Form::Seq],
            levels: 31,
            leaf: Leaf::EmptyList,
        },
    };
    assert!(too_deep_path(to_item(&empty)).is_some());

    // Values at a nested path start deeper.
    let value = Nest {
        shapes: &[Form::Seq],
        levels: 29,
        leaf: Leaf::Text,
    };
    assert!(to_value(&value, 3).is_ok());
    let err = to_value(&value, 4).unwrap_err();
    assert_eq!(
        err.clone().finish("").to_string(),
        format!("at `{}`: nested deeper than DynamoDB's 32 levels", "[1]".repeat(28))
    );
    let err = to_value(&value, 32).unwrap_err();
    assert_eq!(
        err.clone().finish("").to_string(),
        "nested deeper than DynamoDB's 32 levels"
    );
    assert!(matches!(
        expression_error("a.b", err),
        Error::InvalidItem { path, problem: ValueProblem::TooDeep } if path == "a.b"
    ));
}

#[test]
fn paths_name_fields_variants_and_map_keys() {
    let path = |shapes: &'static [Form]| {
        let root = Root {
            id: "x",
            a: Nest {
                shapes,
                levels: 100,
                leaf: Leaf::Text,
            },
        };
        too_deep_path(to_item(&root)).expect("too deep")
    };
    assert_eq!(path(&[Form::Struct]), format!("a{}", ".child".repeat(31)));
    assert_eq!(path(&[Form::SplitMap]), format!("a{}", ".s".repeat(31)));
    assert_eq!(path(&[Form::IntKeyMap]), format!("a{}", ".7".repeat(31)));
    assert_eq!(path(&[Form::TupleVariant]), format!("a{}.Tup", ".Tup[0]".repeat(15)));
    assert_eq!(
        path(&[Form::StructVariant]),
        format!("a{}.Rec", ".Rec.inner".repeat(15))
    );
    assert_eq!(
        path(&[Form::NewtypeVariant, Form::Tuple]),
        format!("a{}.New", ".New[2]".repeat(15))
    );

    // A flattened map's keys are serialized apart from their values, even at the top.
    #[derive(Serialize)]
    struct Flat {
        id: &'static str,
        #[serde(flatten)]
        extra: HashMap<&'static str, Nest>,
    }
    let flat = Flat {
        id: "x",
        extra: HashMap::from([(
            "deep",
            Nest {
                shapes: &[Form::Map],
                levels: 40,
                leaf: Leaf::Text,
            },
        )]),
    };
    assert_eq!(too_deep_path(to_item(&flat)), Some(format!("deep{}", ".k".repeat(31))));
}

/// A linked list that drops itself without recursing.
#[derive(Serialize)]
struct Chain {
    child: Option<Box<Chain>>,
}

impl Chain {
    fn new(len: usize) -> Chain {
        let mut chain = Chain { child: None };
        for _ in 1..len {
            chain = Chain {
                child: Some(Box::new(chain)),
            };
        }
        chain
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        let mut next = self.child.take();
        while let Some(mut node) = next {
            next = node.child.take();
        }
    }
}

#[test]
fn a_value_100_000_levels_deep_is_rejected_without_recursing_into_it() {
    let root = Root {
        id: "x",
        a: Chain::new(100_000),
    };
    let path = too_deep_path(to_item(&root)).expect("too deep");
    assert_eq!(path, format!("a{}", ".child".repeat(31)));
    assert!(to_value(&root.a, 1).is_err());

    for shapes in [&SHAPES[..], &[Form::Seq], &[Form::SplitMap]] {
        let deep = Nest {
            shapes,
            levels: 100_000,
            leaf: Leaf::Text,
        };
        let root = Root { id: "x", a: deep };
        assert!(too_deep_path(to_item(&root)).is_some(), "{shapes:?}");
        let err = to_value(&deep, 1).unwrap_err();
        assert!(matches!(
            expression_error("a", err),
            Error::InvalidItem {
                problem: ValueProblem::TooDeep,
                ..
            }
        ));
    }
}

#[test]
fn other_failures_are_encode_errors_with_their_path() {
    let map = HashMap::from([(vec![1u8], 1)]);
    let err = to_value(&map, 1).unwrap_err();
    assert_eq!(err.to_string(), "a map key must be a string");
    assert!(matches!(expression_error("m", err), Error::Encode { error, .. } if error.path == "m"));
    assert!(to_value(&HashMap::from([(Some(1), 1)]), 1).is_err());
    assert!(matches!(to_item(&1), Err(Error::Encode { .. })));
    #[derive(Serialize)]
    struct Keyed {
        id: &'static str,
        inner: HashMap<&'static str, HashMap<Vec<u8>, u8>>,
    }
    let keyed = Keyed {
        id: "x",
        inner: HashMap::from([("k", HashMap::from([(vec![1u8], 1)]))]),
    };
    match to_item(&keyed) {
        Err(Error::Encode { error, .. }) => assert_eq!(error.path, "inner.k"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        to_value(&(1, "two", None::<u8>), 1).unwrap(),
        serde_dynamo::to_attribute_value::<_, AttributeValue>((1, "two", None::<u8>)).unwrap()
    );
}

#[test]
fn wide_integers_fit_38_digits_or_are_refused() {
    let max38 = 10u128.pow(38) - 1;
    assert_eq!(to_value(&max38, 1).unwrap(), AttributeValue::N(max38.to_string()));
    assert_eq!(
        to_value(&-(max38 as i128), 1).unwrap(),
        AttributeValue::N(format!("-{max38}"))
    );
    let err = to_value(&(max38 + 1), 1).unwrap_err();
    assert_eq!(err.problem, Some(ValueProblem::TooManyDigits));
}

#[test]
fn floats_use_exponent_notation_where_plain_digits_are_too_many() {
    let n = |v: f64| match to_value(&v, 1).unwrap() {
        AttributeValue::N(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(n(0.1), "0.1");
    assert_eq!(n(123.5), "123.5");
    assert_eq!(n(1e40), "1E40");
    assert_eq!(n(1e-130), "1E-130");
    assert_eq!(n(-2.5e125), "-2.5E125");
    for v in [1e40, 1e-130, 1.2345678901234567e-10, f64::MAX / 1e200, 1.0 / 3.0] {
        assert_eq!(n(v).parse::<f64>().unwrap(), v);
        assert!(crate::value::number_problem(&n(v)).is_none() || v.abs() > 1e125, "{v}");
    }
    let f = match to_value(&f32::MAX, 1).unwrap() {
        AttributeValue::N(n) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(f, "3.4028235E38");
}

#[test]
fn shapes_store_sets_bytes_and_numbers() {
    #[derive(Serialize)]
    struct Shaped {
        tags: Vec<&'static str>,
        empty: Vec<&'static str>,
        counts: Vec<u8>,
        blobs: Vec<Vec<u8>>,
        data: Vec<u8>,
        digest: [u8; 4],
        amount: &'static str,
    }
    const FIELDS: &[crate::schema::FieldShape] = &[
        crate::schema::FieldShape {
            name: "tags",
            shape: Shape::Set { fill: true },
        },
        crate::schema::FieldShape {
            name: "empty",
            shape: Shape::Set { fill: true },
        },
        crate::schema::FieldShape {
            name: "counts",
            shape: Shape::Set { fill: true },
        },
        crate::schema::FieldShape {
            name: "blobs",
            shape: Shape::Set { fill: true },
        },
        crate::schema::FieldShape {
            name: "data",
            shape: Shape::Binary,
        },
        crate::schema::FieldShape {
            name: "digest",
            shape: Shape::Binary,
        },
        crate::schema::FieldShape {
            name: "amount",
            shape: Shape::Number,
        },
    ];
    let value = Shaped {
        tags: vec!["a", "b"],
        empty: vec![],
        counts: vec![1, 2],
        blobs: vec![vec![0], vec![1, 2]],
        data: vec![0, 255],
        digest: [1, 2, 3, 4],
        amount: "12.50",
    };
    let item = crate::encode::to_item(&value, Shape::Fields(FIELDS)).unwrap();
    assert_eq!(item["tags"], AttributeValue::Ss(vec!["a".into(), "b".into()]));
    assert!(!item.contains_key("empty"));
    assert_eq!(item["counts"], AttributeValue::Ns(vec!["1".into(), "2".into()]));
    assert_eq!(
        item["blobs"],
        AttributeValue::Bs(vec![Blob::new(vec![0]), Blob::new(vec![1, 2])])
    );
    assert_eq!(item["data"], AttributeValue::B(Blob::new(vec![0, 255])));
    assert_eq!(item["digest"], AttributeValue::B(Blob::new(vec![1, 2, 3, 4])));
    assert_eq!(item["amount"], AttributeValue::N("12.50".into()));

    let mixed = to_attribute_value(&(1, "a"), 1, Shape::Set { fill: false });
    assert!(mixed.is_err());
    let not_bytes = to_attribute_value(&vec![256u16], 1, Shape::Binary).unwrap_err();
    assert_eq!(not_bytes.finish("data").path, "data[0]");
}
