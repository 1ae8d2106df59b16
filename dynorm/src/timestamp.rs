//! Values for `#[dynorm(created_at)]` and `#[dynorm(updated_at)]` fields.

use std::time::SystemTime;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use serde::Serialize;

/// A type that can hold a write's time: `#[dynorm(created_at)]` and
/// `#[dynorm(updated_at)]` fields must implement it.
///
/// - integers (`u64`, `i64`) hold epoch seconds;
/// - `String` holds an RFC 3339 UTC timestamp with millisecond precision
///   (`2026-11-21T10:15:30.123Z`), which sorts as text in time order;
/// - `Option<T>` holds `Some` of the above.
///
/// For another representation, implement it on a newtype.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold a write time",
    label = "created_at and updated_at fields must implement `dynorm::Timestamp`",
    note = "use u64 or i64 (epoch seconds), String (RFC 3339), or an Option of one"
)]
pub trait Timestamp: Serialize {
    /// The value for the current time.
    fn now() -> Self;
}

fn epoch_millis() -> i128 {
    match SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    }
}

impl Timestamp for u64 {
    fn now() -> Self {
        u64::try_from(epoch_millis() / 1000).unwrap_or(0)
    }
}

impl Timestamp for i64 {
    fn now() -> Self {
        i64::try_from(epoch_millis().div_euclid(1000)).unwrap_or(0)
    }
}

impl Timestamp for String {
    fn now() -> Self {
        let millis = i64::try_from(epoch_millis()).unwrap_or(0);
        // Millisecond precision always, so the strings sort in time order.
        let time = DateTime::from_millis(millis);
        let text = time.fmt(Format::DateTime).unwrap_or_default();
        match text.strip_suffix('Z') {
            Some(base) => {
                let seconds = base.split('.').next().unwrap_or(base);
                format!("{seconds}.{:03}Z", millis.rem_euclid(1000))
            }
            None => text,
        }
    }
}

impl<T: Timestamp> Timestamp for Option<T> {
    fn now() -> Self {
        Some(T::now())
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

    #[test]
    fn string_timestamps_have_fixed_width() {
        let now = String::now();
        assert_eq!(now.len(), "2026-11-21T10:15:30.123Z".len(), "{now}");
        assert!(now.ends_with('Z'));
        assert!(u64::now() > 1_700_000_000);
    }
}
