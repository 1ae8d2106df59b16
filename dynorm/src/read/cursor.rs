//! Cursors: a read's resume position, encoded as an opaque URL-safe string, signed with
//! the handle's key and bound to the query that made it.
//!
//! Layout before base64url: version byte, 16 bytes of the query's fingerprint, the lane
//! count and one position per lane (scan segments are lanes), then an HMAC-SHA256 tag
//! over everything before it.
//!
//! Cursors are signed, not encrypted: whoever holds one can read the key values in it
//! (the last key evaluated, which may be of an item a filter dropped).

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::plan::ReadPlan;
use crate::error::{CursorProblem, Error};
use crate::value::Item;

const VERSION: u8 = 1;
/// The shortest cursor key accepted.
pub(crate) const MIN_KEY_LEN: usize = 16;
/// Longer strings are not cursors of any read dynorm makes; refused before any work.
const MAX_CURSOR_LEN: usize = 1 << 20;
const FINGERPRINT_LEN: usize = 16;
const TAG_LEN: usize = 32;

/// Where one lane (the read, or one scan segment) resumes.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Position {
    /// From the read's own start.
    Start,
    /// After this key.
    After(Item),
    /// The lane is finished.
    End,
}

/// Digests a canonical description of a read into the fingerprint a cursor is bound to.
#[derive(Default)]
pub(crate) struct Fingerprint(Vec<u8>);

impl Fingerprint {
    pub(crate) fn text(&mut self, label: &str, text: &str) {
        self.0.extend_from_slice(label.as_bytes());
        put_bytes(&mut self.0, text.as_bytes());
    }

    pub(crate) fn value(&mut self, label: &str, value: &AttributeValue) {
        self.0.extend_from_slice(label.as_bytes());
        put_value(&mut self.0, value);
    }

    fn finish(&self) -> [u8; FINGERPRINT_LEN] {
        let digest = Sha256::digest(&self.0);
        let mut out = [0; FINGERPRINT_LEN];
        out.copy_from_slice(&digest[..FINGERPRINT_LEN]);
        out
    }
}

/// The key that signs cursors: derived from the handle's cursor key, so a secret used
/// elsewhere too never signs cursors directly.
pub(crate) fn signing_key(db: &crate::db::Db) -> Result<[u8; 32], Error> {
    let key = db.cursor_key().ok_or(Error::InvalidCursor(CursorProblem::NoKey))?;
    if key.len() < MIN_KEY_LEN {
        return Err(Error::InvalidCursor(CursorProblem::WeakKey));
    }
    Ok(mac(key)
        .chain_update(b"dynorm cursor v1")
        .finalize()
        .into_bytes()
        .into())
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot fail.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

/// Encodes and signs the lanes' positions.
pub(crate) fn encode(key: &[u8], fingerprint: &Fingerprint, lanes: &[Position]) -> String {
    let mut out = vec![VERSION];
    out.extend_from_slice(&fingerprint.finish());
    put_len(&mut out, lanes.len());
    for lane in lanes {
        match lane {
            Position::Start => out.push(0),
            Position::After(item) => {
                out.push(1);
                put_item(&mut out, item);
            }
            Position::End => out.push(2),
        }
    }
    let tag = mac(key).chain_update(&out).finalize().into_bytes();
    out.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(out)
}

/// Checks a cursor's signature and query, and returns its lanes' positions.
pub(crate) fn decode(
    key: &[u8],
    fingerprint: &Fingerprint,
    cursor: &str,
    lanes: usize,
) -> Result<Vec<Position>, Error> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(Error::InvalidCursor(CursorProblem::Malformed));
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| Error::InvalidCursor(CursorProblem::Malformed))?;
    if bytes.len() < 1 + FINGERPRINT_LEN + 4 + TAG_LEN {
        return Err(Error::InvalidCursor(CursorProblem::Malformed));
    }
    let (body, tag) = bytes.split_at(bytes.len() - TAG_LEN);
    mac(key)
        .chain_update(body)
        .verify_slice(tag)
        .map_err(|_| Error::InvalidCursor(CursorProblem::BadSignature))?;
    if body[0] != VERSION {
        return Err(Error::InvalidCursor(CursorProblem::Malformed));
    }
    if body[1..1 + FINGERPRINT_LEN] != fingerprint.finish() {
        return Err(Error::InvalidCursor(CursorProblem::OtherQuery));
    }
    let mut reader = Reader(&body[1 + FINGERPRINT_LEN..]);
    let parsed = (|| {
        let count = reader.len()?;
        if count != lanes {
            return None;
        }
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            out.push(match reader.byte()? {
                0 => Position::Start,
                1 => Position::After(reader.item()?),
                2 => Position::End,
                _ => return None,
            });
        }
        reader.0.is_empty().then_some(out)
    })();
    // A signed cursor that does not parse was made by another version of this layout.
    parsed.ok_or(Error::InvalidCursor(CursorProblem::OtherQuery))
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn put_item(out: &mut Vec<u8>, item: &Item) {
    let mut entries: Vec<_> = item.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    put_len(out, entries.len());
    for (name, value) in entries {
        put_bytes(out, name.as_bytes());
        put_value(out, value);
    }
}

/// A canonical encoding of any attribute value: map entries are sorted, so equal values
/// encode equally.
fn put_value(out: &mut Vec<u8>, value: &AttributeValue) {
    let strings = |out: &mut Vec<u8>, tag: u8, values: &[String]| {
        out.push(tag);
        put_len(out, values.len());
        for v in values {
            put_bytes(out, v.as_bytes());
        }
    };
    match value {
        AttributeValue::S(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
        AttributeValue::N(n) => {
            out.push(2);
            put_bytes(out, n.as_bytes());
        }
        AttributeValue::B(b) => {
            out.push(3);
            put_bytes(out, b.as_ref());
        }
        AttributeValue::Bool(b) => out.extend_from_slice(&[4, u8::from(*b)]),
        AttributeValue::Null(_) => out.push(5),
        AttributeValue::L(list) => {
            out.push(6);
            put_len(out, list.len());
            for v in list {
                put_value(out, v);
            }
        }
        AttributeValue::M(map) => {
            out.push(7);
            put_item(out, map);
        }
        AttributeValue::Ss(values) => strings(out, 8, values),
        AttributeValue::Ns(values) => strings(out, 9, values),
        AttributeValue::Bs(values) => {
            out.push(10);
            put_len(out, values.len());
            for v in values {
                put_bytes(out, v.as_ref());
            }
        }
        _ => out.push(0),
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn len(&mut self) -> Option<usize> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_be_bytes(*head) as usize)
    }

    fn bytes(&mut self) -> Option<&[u8]> {
        let len = self.len()?;
        if self.0.len() < len {
            return None;
        }
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        Some(head)
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }

    fn item(&mut self) -> Option<Item> {
        let count = self.len()?;
        let mut item = Item::with_capacity(count.min(64));
        for _ in 0..count {
            let name = self.string()?;
            item.insert(name, self.value()?);
        }
        Some(item)
    }

    /// Keys are strings, numbers and binaries: the only values a position holds.
    fn value(&mut self) -> Option<AttributeValue> {
        match self.byte()? {
            1 => Some(AttributeValue::S(self.string()?)),
            2 => Some(AttributeValue::N(self.string()?)),
            3 => Some(AttributeValue::B(Blob::new(self.bytes()?.to_vec()))),
            _ => None,
        }
    }
}

/// What a cursor of `plan` is bound to: the table, index, key condition, filter,
/// projection, direction, start key and segments.
pub(crate) fn fingerprint(plan: &ReadPlan<'_>) -> Result<Fingerprint, Error> {
    let rendered = plan.render(false)?;
    let mut f = Fingerprint::default();
    f.text("op", if plan.source.query { "query" } else { "scan" });
    f.text("table", &plan.table());
    f.text("index", plan.source.index.map_or("", |i| i.name));
    f.text("key", rendered.key_condition.as_deref().unwrap_or(""));
    f.text("filter", rendered.filter.as_deref().unwrap_or(""));
    f.text("projection", rendered.projection.as_deref().unwrap_or(""));
    let mut names: Vec<_> = rendered.names.unwrap_or_default().into_iter().collect();
    names.sort();
    for (placeholder, name) in names {
        f.text(&placeholder, &name);
    }
    let mut values: Vec<_> = rendered.values.unwrap_or_default().into_iter().collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    for (placeholder, value) in &values {
        f.value(placeholder, value);
    }
    if let Some(start) = &plan.start {
        f.value("start", &AttributeValue::M(start.clone()));
    }
    f.text("reverse", if plan.reverse { "1" } else { "0" });
    f.text("segments", &plan.lane_count().to_string());
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item::from([
            ("id".to_owned(), AttributeValue::S("a/b?c".into())),
            ("n".to_owned(), AttributeValue::N("42".into())),
            ("b".to_owned(), AttributeValue::B(Blob::new(vec![0, 255]))),
        ])
    }

    fn query(text: &str) -> Fingerprint {
        let mut f = Fingerprint::default();
        f.text("key", text);
        f
    }

    #[test]
    fn round_trips_and_is_url_safe() {
        let lanes = vec![Position::After(item()), Position::End, Position::Start];
        let cursor = encode(b"secret", &query("q"), &lanes);
        assert!(cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(decode(b"secret", &query("q"), &cursor, 3).unwrap(), lanes);
    }

    #[test]
    fn rejects_other_query_other_key_and_any_flipped_byte() {
        let cursor = encode(b"secret", &query("q"), &[Position::After(item())]);
        let problem = |r: Result<Vec<Position>, Error>| match r {
            Err(Error::InvalidCursor(p)) => p,
            other => panic!("expected a cursor error, got {other:?}"),
        };
        assert_eq!(
            problem(decode(b"secret", &query("other"), &cursor, 1)),
            CursorProblem::OtherQuery
        );
        assert_eq!(
            problem(decode(b"other", &query("q"), &cursor, 1)),
            CursorProblem::BadSignature
        );
        let raw = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
        for i in 0..raw.len() {
            let mut edited = raw.clone();
            edited[i] ^= 1;
            let edited = URL_SAFE_NO_PAD.encode(edited);
            assert_eq!(
                problem(decode(b"secret", &query("q"), &edited, 1)),
                CursorProblem::BadSignature
            );
        }
        assert_eq!(
            problem(decode(b"secret", &query("q"), "not a cursor!", 1)),
            CursorProblem::Malformed
        );
    }
}
