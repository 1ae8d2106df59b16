//! A capacity budget: a read and a write rate in capacity units per second that
//! requests stay within, shared by every handle and backfill it is given to.
//!
//! Each rate is a token bucket fed by the consumed capacity DynamoDB reports. A request
//! waits until its bucket is not in debt, reserves what requests of its kind have cost
//! on average, and settles the reservation with what the response says it consumed. A
//! throttled request halves the rate of its kind for a while; the rate recovers as
//! requests succeed.
//!
//! ```no_run
//! # async fn run(db: dynorm::Db) {
//! use dynorm::CapacityBudget;
//!
//! // At most 100 read and 50 write units per second, for everything sent through `db`.
//! let budget = CapacityBudget::new(100.0, 50.0);
//! let db = db.with_capacity_budget(&budget);
//! # }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::ConsumedCapacity;

/// What a request spends: read or write capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spend {
    Read,
    Write,
}

/// A read and a write rate, in capacity units per second, that the requests of every
/// handle (see [`Db::with_capacity_budget`](crate::Db::with_capacity_budget)) and
/// backfill it is given to stay within together. Cloning it shares it.
#[derive(Clone)]
pub struct CapacityBudget {
    inner: Arc<Buckets>,
}

struct Buckets {
    read: Mutex<Bucket>,
    write: Mutex<Bucket>,
}

struct Bucket {
    /// Units per second; `f64::INFINITY` for no limit.
    rate: f64,
    /// Units available now; negative while in debt.
    tokens: f64,
    last: Instant,
    /// The share of `rate` in force, below 1 after throttling.
    factor: f64,
    /// The average cost of a request, what the next one reserves.
    average: f64,
    /// Units consumed, as reported, since the budget was made.
    consumed: f64,
    /// Requests settled.
    requests: u64,
}

/// The most a bucket holds, in seconds of its rate: a budget idle for a while lets
/// this much through at once, no more.
const BURST_SECONDS: f64 = 0.25;

impl Bucket {
    fn new(rate: f64) -> Self {
        Bucket {
            rate,
            tokens: 0.0,
            last: Instant::now(),
            factor: 1.0,
            average: 1.0,
            consumed: 0.0,
            requests: 0,
        }
    }

    fn effective(&self) -> f64 {
        self.rate * self.factor
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        let rate = self.effective();
        self.tokens = (self.tokens + elapsed * rate).min(rate * BURST_SECONDS);
    }

    /// Reserves the average cost when the bucket is not in debt; otherwise how long
    /// until it is not.
    fn try_reserve(&mut self, now: Instant) -> Result<f64, Duration> {
        if !self.rate.is_finite() {
            return Ok(0.0);
        }
        self.refill(now);
        if self.tokens >= 0.0 {
            let reserved = self.average;
            self.tokens -= reserved;
            Ok(reserved)
        } else {
            let wait = -self.tokens / self.effective().max(f64::MIN_POSITIVE);
            Err(Duration::from_secs_f64(wait.clamp(0.001, 60.0)))
        }
    }

    fn settle(&mut self, reserved: f64, actual: f64) {
        self.consumed += actual;
        self.requests += 1;
        if self.rate.is_finite() {
            self.tokens += reserved - actual;
            // A moving average over about the last 20 requests.
            self.average += (actual - self.average) / 20.0;
            self.factor = (self.factor + 0.02).min(1.0);
        }
    }
}

impl CapacityBudget {
    /// A budget of `read` read units and `write` write units per second. A rate that
    /// is not a positive number means no limit for that kind.
    pub fn new(read: f64, write: f64) -> Self {
        let rate = |r: f64| if r.is_finite() && r > 0.0 { r } else { f64::INFINITY };
        CapacityBudget {
            inner: Arc::new(Buckets {
                read: Mutex::new(Bucket::new(rate(read))),
                write: Mutex::new(Bucket::new(rate(write))),
            }),
        }
    }

    /// A budget of read units per second only.
    pub fn reads(read: f64) -> Self {
        Self::new(read, f64::INFINITY)
    }

    /// A budget of write units per second only.
    pub fn writes(write: f64) -> Self {
        Self::new(f64::INFINITY, write)
    }

    fn bucket(&self, kind: Spend) -> std::sync::MutexGuard<'_, Bucket> {
        let bucket = match kind {
            Spend::Read => &self.inner.read,
            Spend::Write => &self.inner.write,
        };
        bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The read rate in force, in units per second (lower than declared while the
    /// budget recovers from throttling).
    pub fn read_rate(&self) -> f64 {
        self.bucket(Spend::Read).effective()
    }

    /// The write rate in force, in units per second.
    pub fn write_rate(&self) -> f64 {
        self.bucket(Spend::Write).effective()
    }

    /// Read units consumed through this budget, as DynamoDB reported them.
    pub fn read_units(&self) -> f64 {
        self.bucket(Spend::Read).consumed
    }

    /// Write units consumed through this budget, as DynamoDB reported them.
    pub fn write_units(&self) -> f64 {
        self.bucket(Spend::Write).consumed
    }

    /// Waits until a request of `kind` may be sent, and reserves its expected cost.
    pub(crate) async fn acquire(&self, kind: Spend) -> Ticket {
        loop {
            let result = self.bucket(kind).try_reserve(Instant::now());
            match result {
                Ok(reserved) => {
                    return Ticket {
                        budget: Some(self.clone()),
                        kind,
                        reserved,
                    }
                }
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Halves the rate of `kind` for a while: DynamoDB throttled a request.
    pub(crate) fn slow_down(&self, kind: Spend) {
        let mut bucket = self.bucket(kind);
        bucket.factor = (bucket.factor * 0.5).max(0.05);
        tracing::debug!(kind = ?kind, rate = bucket.effective(), "dynorm: throttled; the capacity budget slows down");
    }
}

impl fmt::Debug for CapacityBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (read, write) = (self.bucket(Spend::Read).rate, self.bucket(Spend::Write).rate);
        f.debug_struct("CapacityBudget")
            .field("read", &read)
            .field("write", &write)
            .finish_non_exhaustive()
    }
}

/// A request's reservation on a budget, settled with what its response consumed. A
/// ticket dropped unsettled (the request failed) gives its reservation back.
#[must_use]
pub(crate) struct Ticket {
    budget: Option<CapacityBudget>,
    kind: Spend,
    reserved: f64,
}

impl Ticket {
    /// The ticket of a handle without a budget.
    pub(crate) fn none() -> Self {
        Ticket {
            budget: None,
            kind: Spend::Read,
            reserved: 0.0,
        }
    }

    /// Settles the reservation with the capacity a response reports.
    pub(crate) fn settle<'c>(&mut self, consumed: impl IntoIterator<Item = &'c ConsumedCapacity>) {
        if let Some(budget) = self.budget.take() {
            let actual: f64 = consumed.into_iter().filter_map(|c| c.capacity_units()).sum();
            budget.bucket(self.kind).settle(self.reserved, actual);
        }
    }

    /// Settles a request whose consumed capacity is not known (a failed condition):
    /// what was reserved is taken as its cost.
    pub(crate) fn settle_none(&mut self) {
        if let Some(budget) = self.budget.take() {
            let reserved = self.reserved;
            budget.bucket(self.kind).settle(reserved, reserved);
        }
    }

    /// Gives the reservation back after a failed request, slowing the budget down when
    /// it was throttled; hands the error on.
    pub(crate) fn fail(&mut self, err: crate::Error) -> crate::Error {
        if matches!(err, crate::Error::Throttled { .. }) {
            self.throttled();
        }
        err
    }

    /// Reports that the request was throttled.
    pub(crate) fn throttled(&mut self) {
        if let Some(budget) = self.budget.take() {
            budget.bucket(self.kind).tokens += self.reserved;
            budget.slow_down(self.kind);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(budget) = self.budget.take() {
            budget.bucket(self.kind).tokens += self.reserved;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumption_stays_within_the_rate_over_time() {
        let mut bucket = Bucket::new(100.0);
        let start = bucket.last;
        let mut now = start;
        let mut spent = 0.0;
        // Requests of 7 units, sent whenever the bucket allows, over 10 simulated seconds.
        while now < start + Duration::from_secs(10) {
            match bucket.try_reserve(now) {
                Ok(reserved) => {
                    bucket.settle(reserved, 7.0);
                    spent += 7.0;
                }
                Err(wait) => now += wait,
            }
        }
        let rate = spent / 10.0;
        assert!((90.0..=105.0).contains(&rate), "{rate}");
    }

    #[test]
    fn throttling_halves_the_rate_and_success_restores_it() {
        let budget = CapacityBudget::new(100.0, 10.0);
        budget.slow_down(Spend::Read);
        assert_eq!(budget.read_rate(), 50.0);
        for _ in 0..30 {
            budget.bucket(Spend::Read).settle(0.0, 0.0);
        }
        assert_eq!(budget.read_rate(), 100.0);
        assert_eq!(budget.write_rate(), 10.0);
    }
}
