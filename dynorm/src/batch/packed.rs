//! The copy of a batch write request that is kept while the request is out.
//!
//! The SDK takes a request's writes by value, and a request that fails (or outlives the
//! batch's deadline) must still be able to say which items it did not write, and be sent
//! again. A deep copy of 25 items costs a dozen allocations per item, about a tenth of
//! the client's work on a batch write; the writes are instead packed into one buffer
//! (each value's kind, lengths and bytes), which is a walk and a `memcpy`, and unpacked
//! only when the request did not succeed.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};

use crate::Item;

/// A batch write request's writes, packed; or, when a value could not be packed (a kind
/// of value the SDK knows and this module does not), a plain copy.
pub(crate) enum Packed {
    Bytes(Vec<u8>),
    Copied(HashMap<String, Vec<WriteRequest>>),
}

const PUT: u8 = 0;
const DELETE: u8 = 1;

const S: u8 = 0;
const N: u8 = 1;
const B: u8 = 2;
const BOOL: u8 = 3;
const NULL: u8 = 4;
const M: u8 = 5;
const L: u8 = 6;
const SS: u8 = 7;
const NS: u8 = 8;
const BS: u8 = 9;

impl Packed {
    /// Packs the writes of one request.
    pub(crate) fn of(pending: &HashMap<String, Vec<WriteRequest>>) -> Packed {
        let mut out = Vec::with_capacity(4096);
        let mut packable = true;
        put_len(&mut out, pending.len());
        for (table, requests) in pending {
            put_bytes(&mut out, table.as_bytes());
            put_len(&mut out, requests.len());
            for request in requests {
                match (&request.put_request, &request.delete_request) {
                    (Some(put), None) => {
                        out.push(PUT);
                        packable &= put_item(&mut out, &put.item);
                    }
                    (None, Some(delete)) => {
                        out.push(DELETE);
                        packable &= put_item(&mut out, &delete.key);
                    }
                    // Not a request dynorm makes: copied as it is.
                    _ => packable = false,
                }
            }
        }
        if packable {
            Packed::Bytes(out)
        } else {
            Packed::Copied(pending.clone())
        }
    }

    /// The writes, as they were packed.
    pub(crate) fn unpack(self) -> HashMap<String, Vec<WriteRequest>> {
        match self {
            Packed::Copied(pending) => pending,
            Packed::Bytes(bytes) => {
                let mut reader = Reader { bytes: &bytes, at: 0 };
                match reader.writes() {
                    Some(writes) => writes,
                    // Only this module writes the buffer: it always reads back whole.
                    None => {
                        debug_assert!(false, "a packed batch request reads back");
                        tracing::error!("dynorm: a batch request's kept writes could not be read back");
                        HashMap::new()
                    }
                }
            }
        }
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Lengths within a request stay far below 4 GB (a request is at most 16 MB).
    out.extend_from_slice(&(len as u32).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Packs an item; `false` when one of its values cannot be packed.
fn put_item(out: &mut Vec<u8>, item: &Item) -> bool {
    put_len(out, item.len());
    let mut packable = true;
    for (name, value) in item {
        put_bytes(out, name.as_bytes());
        packable &= put_value(out, value);
    }
    packable
}

/// Packs a value. Items in a batch were checked, so values nest at most 32 levels.
fn put_value(out: &mut Vec<u8>, value: &AttributeValue) -> bool {
    let strings = |out: &mut Vec<u8>, kind: u8, values: &[String]| {
        out.push(kind);
        put_len(out, values.len());
        for v in values {
            put_bytes(out, v.as_bytes());
        }
    };
    match value {
        AttributeValue::S(s) => {
            out.push(S);
            put_bytes(out, s.as_bytes());
        }
        AttributeValue::N(n) => {
            out.push(N);
            put_bytes(out, n.as_bytes());
        }
        AttributeValue::B(b) => {
            out.push(B);
            put_bytes(out, b.as_ref());
        }
        AttributeValue::Bool(b) => out.extend_from_slice(&[BOOL, u8::from(*b)]),
        AttributeValue::Null(n) => out.extend_from_slice(&[NULL, u8::from(*n)]),
        AttributeValue::M(map) => {
            out.push(M);
            return put_item(out, map);
        }
        AttributeValue::L(list) => {
            out.push(L);
            put_len(out, list.len());
            // A value that cannot be packed discards the buffer: stopping there is fine.
            return list.iter().all(|v| put_value(out, v));
        }
        AttributeValue::Ss(v) => strings(out, SS, v),
        AttributeValue::Ns(v) => strings(out, NS, v),
        AttributeValue::Bs(v) => {
            out.push(BS);
            put_len(out, v.len());
            for b in v {
                put_bytes(out, b.as_ref());
            }
        }
        _ => return false,
    }
    true
}

/// Reads a packed buffer back; `None` only for a buffer this module did not write.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn len(&mut self) -> Option<usize> {
        let raw = self.bytes.get(self.at..self.at + 4)?;
        self.at += 4;
        Some(u32::from_le_bytes(raw.try_into().ok()?) as usize)
    }

    fn bytes(&mut self) -> Option<&[u8]> {
        let len = self.len()?;
        let out = self.bytes.get(self.at..self.at + len)?;
        self.at += len;
        Some(out)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }

    fn strings(&mut self) -> Option<Vec<String>> {
        (0..self.len()?).map(|_| self.string()).collect()
    }

    fn writes(&mut self) -> Option<HashMap<String, Vec<WriteRequest>>> {
        let tables = self.len()?;
        let mut out = HashMap::with_capacity(tables);
        for _ in 0..tables {
            let table = self.string()?;
            let count = self.len()?;
            let mut requests = Vec::with_capacity(count);
            for _ in 0..count {
                let kind = self.byte()?;
                let item = self.item()?;
                let request = match kind {
                    PUT => WriteRequest::builder()
                        .put_request(PutRequest::builder().set_item(Some(item)).build().ok()?)
                        .build(),
                    DELETE => WriteRequest::builder()
                        .delete_request(DeleteRequest::builder().set_key(Some(item)).build().ok()?)
                        .build(),
                    _ => return None,
                };
                requests.push(request);
            }
            out.insert(table, requests);
        }
        Some(out)
    }

    fn item(&mut self) -> Option<Item> {
        let len = self.len()?;
        let mut item = Item::with_capacity(len);
        for _ in 0..len {
            let name = self.string()?;
            let value = self.value()?;
            item.insert(name, value);
        }
        Some(item)
    }

    fn value(&mut self) -> Option<AttributeValue> {
        Some(match self.byte()? {
            S => AttributeValue::S(self.string()?),
            N => AttributeValue::N(self.string()?),
            B => AttributeValue::B(Blob::new(self.bytes()?)),
            BOOL => AttributeValue::Bool(self.byte()? != 0),
            NULL => AttributeValue::Null(self.byte()? != 0),
            M => AttributeValue::M(self.item()?),
            L => AttributeValue::L((0..self.len()?).map(|_| self.value()).collect::<Option<_>>()?),
            SS => AttributeValue::Ss(self.strings()?),
            NS => AttributeValue::Ns(self.strings()?),
            BS => AttributeValue::Bs(
                (0..self.len()?)
                    .map(|_| self.bytes().map(Blob::new))
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn writes_read_back_as_they_were() {
        let item: Item = [
            ("pk".to_owned(), s("a")),
            ("n".to_owned(), AttributeValue::N("-1.5e3".into())),
            ("b".to_owned(), AttributeValue::B(Blob::new(vec![0, 255]))),
            ("t".to_owned(), AttributeValue::Bool(true)),
            ("z".to_owned(), AttributeValue::Null(true)),
            (
                "m".to_owned(),
                AttributeValue::M(
                    [(
                        "é".to_owned(),
                        AttributeValue::L(vec![s(""), AttributeValue::Ns(vec!["1".into()])]),
                    )]
                    .into_iter()
                    .collect(),
                ),
            ),
            ("ss".to_owned(), AttributeValue::Ss(vec!["x".into(), "y".into()])),
            ("bs".to_owned(), AttributeValue::Bs(vec![Blob::new(b"q".to_vec())])),
        ]
        .into_iter()
        .collect();
        let key: Item = [("pk".to_owned(), s("gone"))].into_iter().collect();
        let put = WriteRequest::builder()
            .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
            .build();
        let delete = WriteRequest::builder()
            .delete_request(DeleteRequest::builder().set_key(Some(key)).build().unwrap())
            .build();
        let pending: HashMap<String, Vec<WriteRequest>> = [
            ("one".to_owned(), vec![put.clone(), delete.clone()]),
            ("two".to_owned(), vec![put]),
        ]
        .into_iter()
        .collect();
        let packed = Packed::of(&pending);
        assert!(matches!(packed, Packed::Bytes(_)));
        assert_eq!(packed.unpack(), pending);
    }
}
