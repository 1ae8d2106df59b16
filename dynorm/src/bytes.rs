//! Store a `Vec<u8>` as a DynamoDB binary (`B`) attribute instead of a list of numbers,
//! in types that are not models.
//!
//! A model's `Vec<u8>`, `[u8; N]` and `bytes::Bytes` fields (and those of its
//! `Document`s) are stored as binary already. serde alone writes `Vec<u8>` as a
//! sequence; use this module with serde's `with` where serde alone decides, such as a
//! struct converted with [`to_item`](crate::to_item), or inside a type of your own:
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! #[derive(Serialize, Deserialize)]
//! struct Chunk {
//!     #[serde(with = "dynorm::bytes")]
//!     digest: Vec<u8>,
//! }
//! let item = dynorm::to_item(&Chunk { digest: vec![1, 2] }).unwrap();
//! assert!(item["digest"].is_b());
//! ```

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserializer, Serializer};

/// Serializes bytes as a binary value.
pub fn serialize<T: AsRef<[u8]> + ?Sized, S: Serializer>(bytes: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes.as_ref())
}

/// Deserializes a binary value (or, for items written before, a list of numbers).
pub fn deserialize<'de, T: From<Vec<u8>>, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_byte_buf(BytesVisitor).map(T::from)
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("binary data")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}
